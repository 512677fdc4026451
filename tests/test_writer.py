"""loaders.writer's encodings checked against the slow, obvious ones, on real PostGIS."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow as pa
import pytest
import shapely

from geoservice import db
from loaders import writer
from loaders.descriptor import parse_descriptor
from loaders.prepare import prepare
from loaders.readers import read_source


def _obvious_hex(geoms: np.ndarray, has_z: bool) -> pa.Array:
    wkb = shapely.to_wkb(
        shapely.set_srid(geoms, 4326), include_srid=True, output_dimension=3 if has_z else 2
    )
    return pa.array([None if b is None else b.hex() for b in wkb], type=pa.string())


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
def test_hex_ewkb_is_the_obvious_one(case):
    geoms, has_z = cases[case]
    assert writer._hex_ewkb(geoms, has_z).equals(_obvious_hex(geoms, has_z))


def test_hex_ewkb_reads_back_in_postgis(settings):
    geoms = np.array([shapely.Point(23.1, 40.6), None, shapely.box(22, 40, 23, 41)], dtype=object)
    texts = writer._hex_ewkb(geoms, False).to_pylist()
    with db.connect(settings) as conn:
        back = [
            conn.execute("SELECT ST_AsText(%s::geometry), ST_SRID(%s::geometry)", (t, t)).fetchone()
            for t in texts
        ]
    assert back[0] == ("POINT(23.1 40.6)", 4326) and back[1] == (None, None)
    assert shapely.from_wkt(back[2][0]).equals(geoms[2])


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
    table = writer.staging_name("anchors-test", 1)
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
