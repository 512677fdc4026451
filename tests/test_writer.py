"""loaders.writer's encodings checked against the slow, obvious ones, on real PostGIS."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoservice.store import db, tables
from loaders import writer
from loaders.descriptor import parse_descriptor
from loaders.model import FieldInfo, PreparedLayer
from loaders.prepare import prepare
from loaders.readers import read_source


def _obvious_ewkb(geoms: np.ndarray, has_z: bool) -> list:
    return list(
        shapely.to_wkb(
            shapely.set_srid(geoms, 4326), include_srid=True, output_dimension=3 if has_z else 2
        )
    )


rng = np.random.default_rng(7)
points = shapely.points(rng.uniform(19, 29, 500), rng.uniform(34, 42, 500)).astype(object)
points[[0, 250, 499]] = None
cases = {
    "points with gaps": (points, False),
    "points with z": (shapely.points(*rng.uniform(0, 1, (3, 50))), True),
    "only gaps": (np.array([None, None], dtype=object), False),
    "none at all": (np.array([], dtype=object), False),
    "mixed kinds": (
        np.array(
            [
                shapely.Point(1, 2),
                None,
                shapely.box(0, 0, 1, 1),
                shapely.LineString([(0, 0), (1, 1)]),
            ],
            dtype=object,
        ),
        False,
    ),
}


@pytest.mark.parametrize("case", cases)
def test_ewkb_is_the_obvious_one(case):
    geoms, has_z = cases[case]
    assert writer._ewkb(geoms, has_z).to_pylist() == _obvious_ewkb(geoms, has_z)


ATHENS = "Europe/Athens"  # clocks go back on 2024-10-27 at 04:00, forward on 2024-03-31 at 03:00
naive_times = pd.Series(
    pd.to_datetime(
        ["2024-07-01 12:00:00.1234567", "2024-10-27 03:30", "2024-03-31 03:30", None, "1900-01-01"],
        format="ISO8601",
    )
)
columns = {  # name: (type, values): every type, its edge cases and NULLs
    "i": ("integer", pd.Series([0, -1, 2**62, None, 7], dtype="Int64")),
    "x": ("number", pd.Series([1.5, -0.0, float("inf"), float("nan"), None])),
    "b": ("boolean", pd.Series([True, False, None, True, False], dtype="boolean")),
    "s": ("string", pd.Series(["Θεσσαλονίκη", "", None, 'a "q",\n\tb\\', "x" * 5000])),
    "d": (
        "date",
        pd.Series(
            [
                dt.date(2000, 1, 1),
                dt.date(1, 1, 1),
                None,
                dt.date(9999, 12, 31),
                dt.date(1999, 12, 31),
            ],
            dtype=object,
        ),
    ),  # fmt: skip
    "t": ("datetime", naive_times),
    "tz": (
        "datetime",
        pd.Series(
            pd.to_datetime(
                [
                    "2024-07-01T12:00:00+03:00",
                    "2024-01-01T00:00:00Z",
                    None,
                    "1970-01-01T00:00:00-05:30",
                    "2262-04-11T00:00:00Z",
                ],
                utc=True,
            )
        ),
    ),  # fmt: skip
    "mixed": (
        "datetime",
        pd.Series(
            [
                pd.Timestamp("2024-07-01 12:00", tz="UTC"),
                pd.Timestamp("2024-10-27 03:30"),
                None,
                pd.Timestamp("2024-07-01 12:00", tz="Asia/Tokyo"),
                dt.datetime(2024, 3, 31, 3, 30),
            ],
            dtype=object,
        ),
    ),  # fmt: skip
    "j": ("json", pd.Series([{"a": [1, "β"]}, [1, 2], "text", None, 3.5], dtype=object)),
}


def _as_text(value: object, kind: str) -> str | None:
    """A value as text, for PostgreSQL's input function (a date-time without a zone is then
    in the session's)."""
    if not isinstance(value, (dict, list)) and pd.isna(value):
        return None  # NaN too: a missing number in pandas is NULL
    return json.dumps(value, ensure_ascii=False) if kind == "json" else str(value)


def test_binary_copy_stores_what_postgresql_reads_from_text(settings):
    """Every field type through copy_rows (binary COPY) against the same values cast from
    text by PostgreSQL itself, in a session with daylight saving time; NULLs stay NULL."""
    geoms = np.array(
        [shapely.Point(23, 40), None, shapely.Point(22.5, 40.5), shapely.Point(0, 0), None],
        dtype=object,
    )
    frame = gpd.GeoDataFrame(
        {name: values for name, (_, values) in columns.items()},
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    )
    layer = PreparedLayer(
        frame=frame,
        fields=[FieldInfo(name, name, kind) for name, (kind, _) in columns.items()],
        geometry_type="Point",
        has_z=False,
        source_crs="EPSG:4326",
        source_srid=4326,
        source_bbox=None,
    )
    table = tables.staging_name("binary-copy-test", 1)
    with db.connect(settings, autocommit=True) as conn:
        db.ensure_schema(conn)
        conn.execute(f"SET TimeZone = '{ATHENS}'")
        writer.drop_leftover_staging(conn, "binary-copy-test")
        try:
            with conn.transaction():
                writer.create_staging(conn, table, layer, 1)
                assert writer.copy_rows(conn, table, layer) == 5
            names = ", ".join(columns)
            stored = conn.execute(
                f"SELECT {names}, ST_AsText(geom), ST_SRID(geom) "
                f'FROM staging."{table}" ORDER BY fid'
            ).fetchall()
            casts = ", ".join(f"%s::{writer.PG_TYPES[kind]}" for kind, _ in columns.values())
            for row, got in enumerate(stored):
                texts = [_as_text(values.iloc[row], kind) for kind, values in columns.values()]
                expected = conn.execute(f"SELECT {casts}", texts).fetchone()
                for name, want, have in zip(columns, expected, got, strict=False):
                    assert have == want, (name, row, have, want)
                point = geoms[row]
                assert got[-2:] == ((point.wkt.replace(" (", "("), 4326) if point else (None, None))
        finally:
            writer.drop_leftover_staging(conn, "binary-copy-test")


def test_page_anchors_sorted_here_are_postgresql_s(settings, tmp_path):
    ids = rng.permutation(np.arange(10, 10_010, 3))  # shuffled, with gaps
    features = [
        {"type": "Feature", "properties": {"code": int(i)},
         "geometry": {"type": "Point", "coordinates": [23.0, 40.0]}}
        for i in ids
    ]  # fmt: skip
    path = tmp_path / "shuffled.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    descriptor = parse_descriptor(
        {"id": "anchors-test", "title": "t", "source": {"path": str(path)}, "identifier": "code"}
    )
    layer = prepare(read_source(descriptor), descriptor)
    table = tables.staging_name("anchors-test", 1)
    with db.connect(settings, autocommit=True) as conn:
        db.ensure_schema(conn)
        writer.drop_leftover_staging(conn, "anchors-test")
        try:
            with conn.transaction():
                key, _ = writer.create_staging(conn, table, layer, writer.mean_vertices(layer))
                writer.copy_rows(conn, table, layer)
            here = writer.page_anchors(conn, table, key, layer, step=7)
            # The same layer with its key as text: the anchors come from PostgreSQL.
            as_text = [
                dataclasses.replace(f, type="string") if f.name == key else f for f in layer.fields
            ]
            sql_order = writer.page_anchors(
                conn, table, key, dataclasses.replace(layer, fields=as_text), step=7
            )
        finally:
            writer.drop_leftover_staging(conn, "anchors-test")
    assert here == sql_order == sorted(int(i) for i in ids)[::7]


def test_copy_chunks_cover_every_row_once_by_vertices(monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_VERTICES", 100)
    sizes = [1, 1, 40, 70, 250, 5, 5, 99, 1, 1]  # a feature bigger than a chunk among them
    geoms = np.array(
        [shapely.LineString([(i, 0) for i in range(max(n, 2))]) if n > 1 else None for n in sizes],
        dtype=object,
    )
    weights = np.maximum(shapely.get_num_coordinates(geoms), 1)
    chunks = list(writer._chunks(geoms))
    assert [a for a, _ in chunks] == [0] + [b for _, b in chunks[:-1]] and chunks[-1][1] == 10
    for start, stop in chunks:  # each chunk ends with the feature that crosses the mark
        assert weights[start : stop - 1].sum() < 100 or stop - start == 1
    assert len(chunks) > 1 and list(writer._chunks(geoms[:0])) == []


def test_published_geometries_are_stored_uncompressed(settings, demo_collections):
    with db.connect(settings) as conn:
        rows = conn.execute(
            "SELECT c.id, a.attstorage, (SELECT count(*) FROM geoservice.collections) "
            "FROM geoservice.collections c JOIN pg_attribute a "
            "ON a.attrelid = format('data.%I', c.table_name)::regclass "
            "AND a.attname IN ('geom', c.geojson_column)"
        ).fetchall()
    assert rows and {r[1] for r in rows} == {"e"}, rows  # e: EXTERNAL, m: the default MAIN
    assert len({r[0] for r in rows}) == rows[0][2]  # every collection's geometry


def test_the_embedded_cluster_preloads_postgis(settings):
    if not settings.embedded:
        pytest.skip("DATABASE_URL: the server is configured by its owner")
    with db.connect(settings) as conn:
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "postgis-3"
