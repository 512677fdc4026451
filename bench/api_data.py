"""Data for the API benchmark: deterministic synthetic layers, loaded through our pipeline.

The synthetic layers are generated once with a seeded numpy RNG, cached as FlatGeobuf files
under /tmp/geoservice-bench-api and loaded with `loaders.pipeline.load` into a dedicated
embedded cluster, exactly as `geoservice load` would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import shapely

from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store import db
from loaders.descriptor import Descriptor, parse_descriptor
from loaders.pipeline import load

WORK_DIR = Path("/tmp/geoservice-bench-api")
DB_PORT = 54359
GREECE = (19.5, 34.8, 29.5, 41.8)  # lon/lat bounds of the synthetic layers
NOMOI = PROJECT_ROOT / "data" / "demo" / "nomoi" / "nomoi_okxe.shp"  # the 55 prefectures
PLACES = ["Θεσσαλονίκη", "Αθήνα", "Πάτρα", "Ηράκλειο", "Λάρισα", "Βόλος", "Ioannina", "Kavala"]
POLYGON_VERTICES = 20


@dataclass(frozen=True)
class Sizes:
    points: int
    polygons: int


FULL = Sizes(points=1_000_000, polygons=50_000)
QUICK = Sizes(points=100_000, polygons=5_000)


def bench_settings() -> Settings:
    """The benchmark's own embedded cluster (never the project's .geoservice)."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(WORK_DIR, 0o755)
    return Settings(data_dir=WORK_DIR / "cluster", db_port=DB_PORT)


# -- synthetic layers ----------------------------------------------------------------


def _attributes(rng: np.random.Generator, n: int) -> dict[str, object]:
    codes = rng.integers(0, 1000, n)
    names = np.array(PLACES, dtype=object)[rng.integers(0, len(PLACES), n)]
    days = rng.integers(0, 3650, n)
    start = date(2015, 1, 1)
    return {
        "id": np.arange(1, n + 1, dtype=np.int64),
        "code": codes.astype(np.int32),
        "value": np.round(rng.uniform(0, 1000, n), 3),
        "name": [f"{p} {c}" for p, c in zip(names, codes, strict=True)],
        "obs_date": [start + timedelta(days=int(d)) for d in days],
    }


def make_points(n: int, seed: int = 20240601) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = GREECE
    x = rng.uniform(minx, maxx, n)
    y = rng.uniform(miny, maxy, n)
    return gpd.GeoDataFrame(_attributes(rng, n), geometry=shapely.points(x, y), crs=4326)


def make_polygons(n: int, seed: int = 20240602) -> gpd.GeoDataFrame:
    """Star-shaped (hence valid) polygons of POLYGON_VERTICES vertices, ~1-3 km across."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = GREECE
    cx = rng.uniform(minx + 0.05, maxx - 0.05, n)[:, None]
    cy = rng.uniform(miny + 0.05, maxy - 0.05, n)[:, None]
    angles = np.linspace(0, 2 * np.pi, POLYGON_VERTICES, endpoint=False)[None, :]
    radius = rng.uniform(0.005, 0.015, (n, POLYGON_VERTICES))
    ring = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], axis=-1)
    ring = np.concatenate([ring, ring[:, :1, :]], axis=1)  # close the rings
    geometry = shapely.polygons(ring)
    return gpd.GeoDataFrame(_attributes(rng, n), geometry=geometry, crs=4326)


def cached_layer(kind: str, n: int) -> Path:
    """The FlatGeobuf file for a synthetic layer, generated on first use."""
    path = WORK_DIR / f"{kind}_{n}.fgb"
    if not path.exists():
        frame = make_points(n) if kind == "points" else make_polygons(n)
        tmp = path.with_suffix(".tmp.fgb")
        frame.to_file(tmp, driver="FlatGeobuf", engine="pyogrio")
        tmp.rename(path)
    return path


# -- loading through our pipeline ------------------------------------------------------


def descriptors(sizes: Sizes) -> list[Descriptor]:
    def synthetic(cid: str, kind: str, n: int) -> Descriptor:
        return parse_descriptor(
            {
                "id": cid,
                "title": f"Benchmark {kind} ({n})",
                "source": {"path": str(cached_layer(kind, n))},
                "licence": "CC0-1.0",  # generated here: ours to dedicate
                "identifier": "id",
                # FlatGeobuf keeps the date as text; `code` is what the filter scenario queries,
                # declared for an index as a city would for a field its users filter on.
                "fields": {"types": {"obs_date": "date"}, "index": ["code"]},
            },
            origin=cid,
        )

    nomoi = parse_descriptor(
        {
            "id": "bench_nomoi",
            "title": "Νομοί (benchmark)",
            "source": {"path": str(NOMOI), "encoding": "cp1253"},
            "licence": "CC-BY-4.0",  # geodata.gov.gr, as the demo states it
            "identifier": "ESYE_ID",
        },
        origin="bench_nomoi",
    )
    return [
        synthetic("bench_points", "points", sizes.points),
        synthetic("bench_polygons", "polygons", sizes.polygons),
        nomoi,
    ]


def _published_count(settings: Settings, descriptor: Descriptor) -> int | None:
    """The published count, or None when the layer is missing or was loaded differently
    (another descriptor, or by a loader that did not yet note page anchors)."""
    with db.connect(settings) as conn:
        try:
            row = conn.execute(
                "SELECT feature_count, descriptor, "
                "page_anchors IS NOT NULL AND mean_vertices IS NOT NULL "
                "FROM geoservice.collections WHERE id = %s",
                (descriptor.id,),
            ).fetchone()
        except psycopg.Error:
            return None
    if row is None or row[1] != descriptor.public_dict() or not row[2]:
        return None
    return int(row[0])


def prepare_database(settings: Settings, sizes: Sizes, log=print) -> None:
    """Start the cluster and (re)load each layer unless it is already there at this size."""
    db.ensure_database(settings)
    expected = {"bench_points": sizes.points, "bench_polygons": sizes.polygons}
    for descriptor in descriptors(sizes):
        have = _published_count(settings, descriptor)
        want = expected.get(descriptor.id)
        if have is not None and (want is None or have == want):
            log(f"  {descriptor.id}: {have} features already loaded")
            continue
        report = load(settings, descriptor)
        log(f"  {descriptor.id}: loaded {report.feature_count} features in {report.seconds:.1f} s")
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
