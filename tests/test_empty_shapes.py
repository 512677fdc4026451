"""Empty shapes are legal shapefile records: a record of the layer's shape type with no parts
or points (ArcGIS writes them, with NaN bounds, for features whose geometry was deleted; for a
point, NaN coordinates). GDAL reads them as null or empty geometries and ogr2ogr loads the
file; so do we, counting them with the null geometries. Garbage is still refused, and the
layer published before stays as it was."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import psycopg
import pytest

from geoservice.errors import SourceError
from loaders.descriptor import descriptor_for_file
from loaders.pipeline import load

POLYGON_Z, POLYLINE_Z, POINT_Z = 15, 13, 11
SQUARE = [[(22.0, 40.0, 1.0), (22.1, 40.0, 2.0), (22.1, 40.1, 3.0), (22.0, 40.0, 1.0)]]
LINE = [[(22.0, 40.0, 1.0), (22.1, 40.0, 2.0)]]
EMPTY = None  # an empty shape of the layer's type
WGS84 = (
    'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
    'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
)


def _content(shape_type: int, shape, lie_points: int | None = None) -> bytes:
    if shape_type == POINT_Z:
        x, y, z = shape if shape is not None else (math.nan, math.nan, math.nan)
        return struct.pack("<i4d", POINT_Z, x, y, z, 0.0)
    parts = shape or []
    points = [p for part in parts for p in part]
    box = (
        (min(p[0] for p in points), min(p[1] for p in points),
         max(p[0] for p in points), max(p[1] for p in points))
        if points else (math.nan,) * 4
    )  # fmt: skip
    count = len(points) if lie_points is None else lie_points
    out = struct.pack("<i4d2i", shape_type, *box, len(parts), count)
    start = 0
    for part in parts:
        out += struct.pack("<i", start)
        start += len(part)
    out += b"".join(struct.pack("<2d", x, y) for x, y, _ in points)
    zs = [p[2] for p in points] or [math.nan]
    out += struct.pack("<2d", min(zs), max(zs)) + b"".join(struct.pack("<d", p[2]) for p in points)
    out += struct.pack("<2d", 0.0, 0.0) + b"".join(struct.pack("<d", 0.0) for _ in points)
    return out


def _header(shape_type: int, words: int) -> bytes:
    bbox = (20.0, 38.0, 24.0, 41.0, 0.0, 100.0, 0.0, 0.0)
    return struct.pack(">7i", 9994, 0, 0, 0, 0, 0, words) + struct.pack(
        "<2i8d", 1000, shape_type, *bbox
    )


def write_shapefile(path: Path, shape_type: int, shapes: list, lie: int | None = None) -> Path:
    """The .shp, .shx, .dbf (one text field), .prj and .cpg, byte by byte (shapefile spec);
    `lie`: the record at that index claims a million points it does not hold."""
    records, index, offset = b"", b"", 50
    for number, shape in enumerate(shapes, 1):
        content = _content(shape_type, shape, 1_000_000 if number - 1 == lie else None)
        records += struct.pack(">2i", number, len(content) // 2) + content
        index += struct.pack(">2i", offset, len(content) // 2)
        offset += 4 + len(content) // 2
    path.with_suffix(".shp").write_bytes(_header(shape_type, 50 + len(records) // 2) + records)
    path.with_suffix(".shx").write_bytes(_header(shape_type, 50 + len(index) // 2) + index)
    names = [f"feature {i}" for i in range(len(shapes))]
    dbf = struct.pack("<B3BIHH20x", 3, 126, 12, 3, len(names), 65, 21)
    dbf += b"name".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([20, 0]) + b"\0" * 14 + b"\r"
    dbf += b"".join(b" " + n.encode().ljust(20) for n in names) + b"\x1a"
    path.with_suffix(".dbf").write_bytes(dbf)
    path.with_suffix(".prj").write_text(WGS84)
    path.with_suffix(".cpg").write_text("UTF-8")
    return path.with_suffix(".shp")


def _published(settings, collection_id: str) -> list[tuple[str, bool]]:
    with psycopg.connect(settings.dsn) as conn:
        return conn.execute(
            f'SELECT name, geom IS NULL FROM data."{collection_id}" ORDER BY name'
        ).fetchall()


@pytest.mark.parametrize(
    ("shape_type", "good"),
    [(POLYGON_Z, SQUARE), (POLYLINE_Z, LINE), (POINT_Z, (22.0, 40.0, 5.0))],
    ids=["PolygonZ", "PolyLineZ", "PointZ"],
)
def test_empty_shapes_load_and_are_counted_with_the_null_ones(settings, tmp_path, shape_type, good):
    path = write_shapefile(tmp_path / "edited.shp", shape_type, [good, EMPTY, good, EMPTY])
    collection_id = f"empty-shapes-{shape_type}"
    report = load(settings, descriptor_for_file(path, collection_id, licence="CC0-1.0"))
    rows = _published(settings, collection_id)
    assert [null for _, null in rows] == [False, True, False, True]
    assert any("2 feature(s) have no geometry" in str(w) for w in report.warnings), report.warnings


def test_garbage_is_still_refused_and_the_published_layer_stays(settings, tmp_path):
    good = write_shapefile(tmp_path / "good.shp", POLYGON_Z, [SQUARE, EMPTY, SQUARE])
    load(settings, descriptor_for_file(good, "empty-shapes-then-garbage", licence="CC0-1.0"))
    before = _published(settings, "empty-shapes-then-garbage")
    bad = write_shapefile(tmp_path / "bad.shp", POLYGON_Z, [SQUARE, EMPTY, SQUARE], lie=2)
    with pytest.raises(SourceError, match="cannot be decoded"):
        load(settings, descriptor_for_file(bad, "empty-shapes-then-garbage", licence="CC0-1.0"))
    assert _published(settings, "empty-shapes-then-garbage") == before
