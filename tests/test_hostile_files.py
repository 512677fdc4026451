"""Broken and hostile source files: each is refused with one clear line, and the layer
published before stays exactly as it was (same rows, same table, nothing left in staging)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from conftest import licence_keys

from geoservice.cli import main
from geoservice.errors import LoadError
from geoservice.store import db, registry
from loaders import prepare
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.readers import archives
from loaders.writer import remove_collection

POINTS = [(22.94, 40.64), (22.98, 40.69), (22.95, 40.60)]


def descriptor(collection_id: str, path: Path, **source: object) -> object:
    return parse_descriptor(
        {
            "id": collection_id,
            "title": collection_id,
            "source": {"path": str(path), **source},
            **licence_keys(path),
        }
    )


def good_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]}, geometry=[shapely.Point(p) for p in POINTS], crs="EPSG:4326"
    )


def write_shapefile(folder: Path, stem: str = "layer") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    good_frame().to_file(folder / f"{stem}.shp", engine="pyogrio")
    return folder / f"{stem}.shp"


def snapshot(settings, collection_id: str) -> tuple:
    """What is published: table, count, a digest of every row, and the catalogue's timestamp."""
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        rows = conn.execute(
            f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
            f'FROM data."{record.table_name}" t'
        ).fetchone()
    return record.table_name, record.feature_count, record.updated_at, *rows


def staging_tables(settings) -> list[str]:
    with db.connect(settings) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'staging'")
        return [r[0] for r in rows]


@pytest.fixture(autouse=True, scope="module")
def remove_what_was_published(settings):
    """The layers these tests publish go again: the catalogue tests count what is there."""
    yield
    with db.connect(settings, autocommit=True) as conn:
        ids = [r.id for r in registry.list_collections(conn) if r.id.startswith("hostile-")]
        for collection_id in ids:
            remove_collection(conn, collection_id)


@pytest.fixture
def published(settings, tmp_path) -> str:
    """A good version of a layer, published first: every bad load below must leave it be."""
    path = tmp_path / "good" / "layer.geojson"
    path.parent.mkdir()
    good_frame().to_file(path, engine="pyogrio")
    collection_id = "hostile-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:8]
    load(settings, descriptor(collection_id, path))
    return collection_id


@pytest.fixture
def refused(settings, published, tmp_path):
    """Load `path` over the published layer; return the error's message, after checking it
    is one line without a traceback, that nothing changed, and that nothing was extracted."""

    def check(path: Path, match: str, **source: object) -> str:
        before = snapshot(settings, published)
        files = sorted(tmp_path.rglob("*"))
        with pytest.raises(LoadError, match=match) as failure:
            load(settings, descriptor(published, path, **source))
        message = str(failure.value)
        assert "Traceback" not in message and len(message.splitlines()) == 1
        assert snapshot(settings, published) == before
        assert staging_tables(settings) == []
        assert sorted(tmp_path.rglob("*")) == files  # nothing extracted, nothing written
        with db.connect(settings) as conn:
            last = registry.load_history(conn, published)[0]
        assert last["status"] == "failed" and last["error"] == message
        return message

    return check


# --- archives: zip bombs ------------------------------------------------------------------


def zip_with(path: Path, shapefile: Path | None = None, **members: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if shapefile is not None:
            for part in shapefile.parent.glob(shapefile.stem + ".*"):
                archive.write(part, part.name)
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of `size` zero bytes, streamed: it packs to about a thousandth of that."""
    block = bytes(1 << 20)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as stream:
        for _ in range(size // len(block)):
            stream.write(block)


def test_a_zip_bomb_member_is_refused_by_its_ratio(refused, tmp_path):
    shp = write_shapefile(tmp_path / "src")
    path = zip_with(tmp_path / "bomb.zip", shp)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "padding.bin", 64 << 20)
    message = refused(path, r"bomb\.zip: the member 'padding\.bin' unpacks to [\d,]+ times")
    assert "zip bomb" in message


def test_a_kmz_bomb_is_refused(refused, tmp_path):
    path = tmp_path / "bomb.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros_member(archive, "doc.kml", 64 << 20)
    refused(path, r"bomb\.kmz: the member 'doc\.kml' unpacks to .* \(a zip bomb\?\)")


@pytest.mark.parametrize(
    "driver, suffix, sheet",
    [("XLSX", "xlsx", "xl/worksheets/sheet1.xml"), ("ODS", "ods", "content.xml")],
)
def test_a_spreadsheet_bomb_is_refused(refused, tmp_path, driver, suffix, sheet):
    """An XLSX or ODS is a zip archive: its sheet can unpack to gigabytes of XML (here a good
    sheet padded with blanks, which GDAL would read through, and load)."""
    source = tmp_path / "src" / f"good.{suffix}"
    source.parent.mkdir()
    table = gpd.GeoDataFrame({"Όνομα": ["Θέρμη"], "x": [22.94], "y": [40.64]})
    table.to_file(source, driver=driver, engine="pyogrio")
    path = tmp_path / f"bomb.{suffix}"
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(path, "w") as archive:
        for info in good.infolist():
            if info.filename == sheet:
                head, rest = good.read(info).split(b"?>", 1)
                packed = zipfile.ZipInfo(sheet)
                packed.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(packed, "w", force_zip64=True) as stream:
                    stream.write(head + b"?>")
                    for _ in range(64):
                        stream.write(b" " * (1 << 20))
                    stream.write(rest)
            else:
                archive.writestr(info, good.read(info))
    message = refused(path, rf"bomb\.{suffix}: the member '{sheet}' unpacks to .* times")
    assert "zip bomb" in message


def test_an_archive_bigger_than_the_limit_unpacked_is_refused(refused, tmp_path, monkeypatch):
    monkeypatch.setattr(archives, "MAX_ARCHIVE_BYTES", 1 << 20)
    shp = write_shapefile(tmp_path / "src")
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # ratio 1: only the total
        for part in shp.parent.iterdir():
            archive.write(part, part.name)
        archive.writestr("notes.txt", b"x" * (2 << 20))
    refused(path, r"big\.zip unpacks to [\d,]+ bytes, more than the 1,048,576 allowed")


# --- archives: members named outside the archive -----------------------------------------


@pytest.mark.parametrize(
    "member",
    ["../../etc/x.shp", "/etc/x.shp", "data/../../x.shp", "..\\..\\x.shp", "C:/temp/x.shp"],
)
def test_a_member_outside_the_archive_is_refused(refused, tmp_path, member):
    shp = write_shapefile(tmp_path / "src")
    path = tmp_path / "escape.zip"
    stem = member[: -len(".shp")]
    with zipfile.ZipFile(path, "w") as archive:
        for part in shp.parent.iterdir():
            # ZipInfo keeps the name as given (ZipFile.write would strip a leading "/").
            archive.writestr(zipfile.ZipInfo(stem + part.suffix), part.read_bytes())
    message = refused(path, r"escape\.zip: the member .* points outside the archive")
    assert f"the member {repr(stem)[:-1]}." in message  # as named, e.g. '../../etc/x.shx'


def test_a_symbolic_link_member_is_refused(refused, tmp_path):
    shp = write_shapefile(tmp_path / "src")
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in shp.parent.iterdir():
            if part.suffix != ".shp":
                archive.write(part, part.name)
        link = zipfile.ZipInfo("layer.shp")
        link.external_attr = 0o120777 << 16  # S_IFLNK: unzip would create a symlink
        archive.writestr(link, "/etc/passwd")
    refused(path, r"link\.zip: the member 'layer\.shp' is a symbolic link")


def test_a_kmz_member_outside_the_archive_is_refused(refused, tmp_path):
    path = tmp_path / "escape.kmz"
    kml = tmp_path / "src" / "doc.kml"
    kml.parent.mkdir()
    good_frame().to_file(kml, engine="pyogrio", driver="KML")
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(kml, "doc.kml")
        archive.writestr("../../../tmp/evil.kml", kml.read_bytes())
    refused(path, r"escape\.kmz: the member '\.\./\.\./\.\./tmp/evil\.kml' points outside")


# --- coordinates that are not numbers, or not on the globe --------------------------------


@pytest.mark.parametrize(
    "text, source",
    [
        ("x,y,name\n22.9,40.6,a\ninf,40.6,b\n", {"crs": "EPSG:4326"}),
        ("x,y,name\n22.9,40.6,a\n22.9,-Infinity,b\n", {"crs": "EPSG:4326"}),
        ('wkt,name\n"POINT (22.9 40.6)",a\n"POINT (inf 1)",b\n', {"crs": "EPSG:4326"}),
        ('wkt,name\n"POINT (22.9 40.6)",a\n"LINESTRING (1 1, nan 2)",b\n', {"crs": "EPSG:2100"}),
    ],
    ids=["csv-inf", "csv-minus-infinity", "wkt-inf", "wkt-nan"],
)
def test_non_finite_coordinates_are_refused(refused, tmp_path, text, source):
    path = tmp_path / "points.csv"
    path.write_text(text)
    message = refused(
        path, r"1 feature\(s\) have coordinates that are not finite numbers", **source
    )
    assert "e.g. feature 2" in message


def test_a_geojson_number_too_big_for_a_double_is_refused(refused, tmp_path):
    """1e400 is inf as a double: the GeoJSON driver refuses to parse it, the sequence driver
    reads it as inf. Neither may reach PostGIS, and neither may publish an empty layer."""
    features = [
        {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": c}}
        for c in ([22.9, 40.6], "__BIG__")
    ]
    collection = json.dumps({"type": "FeatureCollection", "features": features})
    path = tmp_path / "big.geojson"
    path.write_text(collection.replace('"__BIG__"', "[1e400, 40.6]"))
    refused(path, r"big\.geojson is not valid GeoJSON .*1e400")
    sequence = tmp_path / "big.geojsonl"
    sequence.write_text(
        "\n".join(json.dumps(f) for f in features).replace('"__BIG__"', "[1e400, 1]")
    )
    refused(sequence, r"not finite numbers \(inf or NaN\), e\.g\. feature 2: x inf, y 1")


def test_a_nan_height_is_still_no_data(settings, tmp_path):
    path = tmp_path / "heights.csv"
    path.write_text('wkt,name\n"POINT Z (22.9 40.6 nan)",a\n"POINT Z (22.9 40.7 12.5)",b\n')
    report = load(settings, descriptor("hostile-nan-z", path, crs="EPSG:4326"))
    assert report.feature_count == 2


@pytest.mark.parametrize(
    "coordinates, source, match",
    [
        (
            [22.9, 500],
            {},
            r"not degrees, but the CRS is OGC:CRS84 \(e\.g\. feature 2: x 22\.9, y 500\)",
        ),
        ([400, 40], {}, r"not degrees, but the CRS is OGC:CRS84 \(e\.g\. feature 2: x 400, y 40\)"),
        ([1e12, 1e12], {"crs": "EPSG:2100"}, r"cannot be transformed from EPSG:2100 .*x 1e\+12"),
        ([-5e7, 9e7], {"crs": "EPSG:2100"}, r"cannot be transformed from EPSG:2100 .*x -5e\+07"),
    ],
    ids=["lat-500", "lon-400", "greek-grid-1e12", "greek-grid-far"],
)
def test_coordinates_off_the_globe_are_refused(refused, tmp_path, coordinates, source, match):
    first = [410_530.0, 4_498_060.0] if source else [22.9, 40.6]
    features = [
        {"type": "Feature", "properties": {"n": i}, "geometry": {"type": "Point", "coordinates": c}}
        for i, c in enumerate([first, coordinates])
    ]
    path = tmp_path / "far.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    message = refused(path, match, **source)
    assert message.startswith("1 feature(s)") and "`source.crs`" in message


# --- gigantic geometries ------------------------------------------------------------------


def line_features(*lengths: int) -> str:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i},
            "geometry": {
                "type": "LineString",
                "coordinates": [[22 + k * 1e-5, 40.0] for k in range(length)],
            },
        }
        for i, length in enumerate(lengths)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


def test_a_geometry_with_too_many_vertices_is_refused(refused, tmp_path, monkeypatch):
    monkeypatch.setattr(prepare, "MAX_VERTICES", 1000)
    path = tmp_path / "huge.geojson"
    path.write_text(line_features(10, 1001, 20))
    refused(path, r"feature 2 has 1,001 vertices, more than the 1,000 one geometry may have")


def test_the_vertex_limit_is_per_geometry_not_per_layer(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(prepare, "MAX_VERTICES", 1000)
    path = tmp_path / "long.geojson"
    path.write_text(line_features(900, 900, 900))
    assert load(settings, descriptor("hostile-long-lines", path)).feature_count == 3


# --- corrupt files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, message",
    [
        ("cut.gpkg", r"cut\.gpkg is truncated: its header says [\d,]+ bytes, the file has [\d,]+"),
        ("cut.geojson", r"cut\.geojson is not valid GeoJSON \(cut short or corrupt\?\)"),
    ],
)
def test_a_file_cut_in_the_middle_is_refused(refused, tmp_path, name, message):
    path = tmp_path / name
    good_frame().to_file(path, engine="pyogrio")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused(path, message)


def test_a_shapefile_with_garbage_records_is_refused(refused, tmp_path):
    shp = write_shapefile(tmp_path / "src")
    data = shp.read_bytes()
    shp.write_bytes(data[:100] + bytes(range(256)) * ((len(data) - 100) // 256 + 1))
    refused(shp, r"layer\.shp is corrupt: \d+ record\(s\) hold no valid shape, e\.g\. record 1")


def test_a_shape_gdal_cannot_decode_is_refused_not_nulled(refused, tmp_path):
    """Garbage inside a record (its point count) reads as a null geometry: a lost feature."""
    folder = tmp_path / "src"
    folder.mkdir()
    lines = [shapely.LineString([(22, 40), (23, 41)]), shapely.LineString([(22, 41), (23, 40)])]
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=lines, crs="EPSG:4326").to_file(folder / "l.shp")
    shp = bytearray((folder / "l.shp").read_bytes())
    second = int.from_bytes((folder / "l.shx").read_bytes()[108:112], "big") * 2
    shp[second + 8 + 36 + 4 : second + 8 + 36 + 8] = b"\xff\xff\xff\x7f"  # numPoints
    (folder / "l.shp").write_bytes(bytes(shp))
    refused(
        folder / "l.shp",
        r"l\.shp is corrupt: 1 shape\(s\) cannot be decoded \(garbage bytes\?\), e\.g\. feature 2",
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".kmz", ".csv", ".fgb"])
def test_an_empty_file_is_refused(refused, tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    refused(path, rf"empty\{suffix} is empty \(0 bytes\)")


@pytest.mark.parametrize(
    "suffix, kind", [(".geojson", "geojson"), (".gpkg", "geopackage"), (".csv", "delimited")]
)
def test_an_image_with_a_data_extension_is_refused(refused, tmp_path, suffix, kind):
    path = tmp_path / f"photo{suffix}"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    refused(path, rf"photo\{suffix} is a PNG image, not a {kind} file \(wrong file extension\?\)")


def test_a_zip_with_a_shapefile_but_no_shp_is_refused(refused, tmp_path):
    shp = write_shapefile(tmp_path / "src")
    path = tmp_path / "parts.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for ext in (".dbf", ".shx"):
            archive.write(shp.with_suffix(ext), "layer" + ext)
    refused(path, r"parts\.zip holds no file of a supported format \(layer\.dbf, layer\.shx\); "
            r"a shapefile's \.shp is missing")  # fmt: skip


def test_the_command_line_prints_one_line(settings, published, tmp_path):
    path = tmp_path / "escape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../x.geojson", good_frame().to_json())
    result = CliRunner().invoke(
        main,
        ["load", str(path), "--id", published, "--licence", "CC0-1.0"],
        env={"DATABASE_URL": settings.dsn},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "escape.zip: the member '../x.geojson' points outside the archive" in result.output
