"""Spreadsheets (XLSX, ODS) and CAD drawings (DXF), as a municipality keeps them: generated
here with GDAL's own writers, loaded through the real pipeline into PostGIS and read back
over the API, Greek text and all."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geoservice.errors import CRSError, LoadError
from geoservice.store import db, registry
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.prepare import column_names
from loaders.writer import remove_collection

# Three municipalities' town halls in EPSG:2100 (ΕΓΣΑ87), as a department's table lists them.
HALLS = pd.DataFrame(
    {
        "Όνομα": ["Καλαμαριά", "Θέρμη", "Πυλαία-Χορτιάτης"],
        "Χ": [412_000.5, 415_000.25, 413_500.0],  # Greek capitals chi and upsilon, as typed
        "Υ": [4_495_000.5, 4_492_000.0, 4_494_000.75],
        "Πληθυσμός": [91_279, 53_201, 70_110],
        "Κωδικός": ["007", "012", "100"],  # codes: text cells stay text
    }
)
TO_WGS84 = Transformer.from_crs(2100, 4326, always_xy=True)


def descriptor(collection_id: str, path: Path, **source: object) -> object:
    return parse_descriptor(
        {
            "id": collection_id,
            "title": {"el": "Δημαρχεία", "en": "Town halls"},
            "licence": "CC0-1.0",  # written by this test: ours to dedicate
            "source": {"path": str(path), **source},
        }
    )


@pytest.fixture(autouse=True, scope="module")
def remove_what_was_published(settings):
    """The layers these tests publish go again: the catalogue tests count what is there."""
    yield
    with db.connect(settings, autocommit=True) as conn:
        for record in registry.list_collections(conn):
            if record.id.startswith("sheet-"):
                remove_collection(conn, record.id)


def write_sheet(path: Path, table: pd.DataFrame, driver: str, sheet: str = "Δημαρχεία") -> Path:
    pyogrio.write_dataframe(gpd.GeoDataFrame(table), path, driver=driver, layer=sheet)
    return path


def features(client, collection_id: str) -> list[dict]:
    """The features over the API, their properties under the source's column names (the
    published ones are ASCII: "Όνομα" is "onoma", labelled with the original)."""
    response = client.get(f"/collections/{collection_id}/items?limit=100")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = response.get_json()["features"]
    queryables = client.get(f"/collections/{collection_id}/queryables?f=json").get_json()
    published = list(queryables["properties"])
    for feature in found:
        properties = feature["properties"]
        assert set(properties) <= set(published)
        feature["source"] = {
            original: properties.get(name)
            for original, name in ORIGINALS.items()
            if name in properties
        }
    return found


ORIGINALS = {
    name: column_names([name])[0]
    for name in ("Όνομα", "Πληθυσμός", "Κωδικός", "Τομέας", "Layer", "Text")
}


@pytest.mark.parametrize("driver, suffix", [("XLSX", "xlsx"), ("ODS", "ods")])
def test_a_spreadsheet_with_coordinate_columns(settings, client, tmp_path, driver, suffix):
    path = write_sheet(tmp_path / f"δημαρχεία.{suffix}", HALLS, driver)
    report = load(settings, descriptor(f"sheet-{suffix}", path, crs="EPSG:2100"))
    assert (report.feature_count, report.geometry_type) == (3, "Point")
    got = {f["source"]["Όνομα"]: f for f in features(client, f"sheet-{suffix}")}
    assert set(got) == set(HALLS["Όνομα"])  # Greek text survives, names and values
    for _, row in HALLS.iterrows():
        feature = got[row["Όνομα"]]
        lon, lat = TO_WGS84.transform(row["Χ"], row["Υ"])
        assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-6)
        # The cells' own types: a number stays a number, a code with leading zeros text.
        assert feature["source"]["Πληθυσμός"] == row["Πληθυσμός"]
        assert feature["source"]["Κωδικός"] == row["Κωδικός"]


def test_a_spreadsheet_with_a_wkt_column_and_a_named_sheet(settings, client, tmp_path):
    squares = pd.DataFrame(
        {
            "Τομέας": ["Άνω Πόλη", "Λαδάδικα"],
            "WKT": [shapely.box(22.95, 40.63, 22.96, 40.64).wkt, "POINT (22.94 40.64)"],
        }
    )
    path = write_sheet(tmp_path / "τομείς.xlsx", HALLS, "XLSX", sheet="Δημαρχεία")
    pyogrio.write_dataframe(
        gpd.GeoDataFrame(squares), path, driver="XLSX", layer="Τομείς", append=True
    )
    with pytest.raises(LoadError, match=r"holds 2 layers .*: name one as source.layer"):
        load(settings, descriptor("sheet-wkt", path, crs="EPSG:4326"))
    load(settings, descriptor("sheet-wkt", path, crs="EPSG:4326", layer="Τομείς"))
    got = {f["source"]["Τομέας"]: f["geometry"] for f in features(client, "sheet-wkt")}
    assert set(got) == {"Άνω Πόλη", "Λαδάδικα"}
    assert shapely.geometry.shape(got["Άνω Πόλη"]).equals(shapely.box(22.95, 40.63, 22.96, 40.64))
    assert got["Λαδάδικα"]["coordinates"] == [22.94, 40.64]


def test_a_spreadsheet_without_coordinates_names_its_columns(settings, tmp_path):
    path = write_sheet(tmp_path / "χωρίς.ods", HALLS.drop(columns=["Χ", "Υ"]), "ODS")
    with pytest.raises(LoadError, match=r"no coordinate columns found \(columns: Όνομα, "):
        load(settings, descriptor("sheet-none", path, crs="EPSG:2100"))


def test_a_renamed_old_excel_file_is_refused(settings, tmp_path):
    path = tmp_path / "παλιό.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an .xls (OLE2) header
    with pytest.raises(LoadError, match="an old Microsoft Office document, not a spreadsheet"):
        load(settings, descriptor("sheet-old", path, crs="EPSG:2100"))


def test_an_old_binary_excel_file_is_refused_with_what_to_do(settings, tmp_path):
    path = tmp_path / "παλιό.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(LoadError, match=r"παλιό\.xls is an old binary Excel file: save it as"):
        load(settings, descriptor("sheet-old", path, crs="EPSG:2100"))


def greek_drawing(tmp_path: Path) -> Path:
    """A drawing as Greek AutoCAD saves it: code page ANSI_1253 in the header, Greek layer
    names and a text entity (GDAL writes the geometries; the code page and the TEXT entity
    are written here: GDAL's DXF writer declares ANSI_1252 and writes no text entities)."""
    shapes = gpd.GeoDataFrame(
        {"Layer": ["Κτίρια", "Δρόμοι"]},
        geometry=[
            shapely.box(410_000, 4_497_000, 410_010, 4_497_010),
            shapely.LineString([(410_000, 4_497_000), (410_100, 4_497_100)]),
        ],
        crs="EPSG:2100",  # which the drawing will not keep
    )
    written = tmp_path / "gdal.dxf"
    pyogrio.write_dataframe(shapes, written, driver="DXF")
    text = written.read_text(encoding="utf-8").replace("ANSI_1252", "ANSI_1253")
    label = (
        "  0\nTEXT\n  5\n1F00\n100\nAcDbEntity\n  8\nΚείμενα\n100\nAcDbText\n"
        " 10\n410005.0\n 20\n4497005.0\n 30\n0.0\n 40\n2.5\n  1\nΛευκός Πύργος\n100\nAcDbText\n"
    )
    end = text.index("  0\nENDSEC", text.index("ENTITIES"))
    path = tmp_path / "σχέδιο.dxf"
    path.write_text(text[:end] + label + text[end:], encoding="cp1253", newline="\r\n")
    return path


def test_a_cad_drawing_needs_a_declared_crs(settings, client, tmp_path):
    path = greek_drawing(tmp_path)
    with pytest.raises(CRSError, match=r"σχέδιο\.dxf: a CAD drawing \(DXF\) does not say") as err:
        load(settings, descriptor("sheet-dxf", path))
    assert "source.crs" in str(err.value) and "--crs" in str(err.value)
    report = load(settings, descriptor("sheet-dxf", path, crs="EPSG:2100"))
    assert report.feature_count == 3
    got = {f["source"]["Layer"]: f for f in features(client, "sheet-dxf")}
    assert set(got) == {"Κτίρια", "Δρόμοι", "Κείμενα"}  # the code page honoured
    assert got["Κείμενα"]["source"]["Text"] == "Λευκός Πύργος"
    lon, lat = TO_WGS84.transform(410_005.0, 4_497_005.0)
    assert got["Κείμενα"]["geometry"]["coordinates"][:2] == pytest.approx([lon, lat], abs=1e-6)
    assert got["Δρόμοι"]["geometry"]["type"] in ("LineString", "MultiLineString")


def test_a_declared_encoding_wins_over_the_drawings_code_page(settings, client, tmp_path):
    """A drawing whose header names the wrong code page (ANSI_1252, as GDAL's own writer puts
    it) with Greek text in cp1253: the descriptor's source.encoding reads it right."""
    path = greek_drawing(tmp_path)
    data = path.read_bytes().replace(b"ANSI_1253", b"ANSI_1252")
    path.write_bytes(data)
    report = load(settings, descriptor("sheet-dxf-cp", path, crs="EPSG:2100", encoding="1253"))
    assert (report.encoding, report.encoding_confidence) == ("cp1253", 1.0)
    got = {f["source"]["Layer"] for f in features(client, "sheet-dxf-cp")}
    assert got == {"Κτίρια", "Δρόμοι", "Κείμενα"}
    with pytest.raises(LoadError, match="unknown text encoding 'klingon' in source.encoding"):
        load(settings, descriptor("sheet-dxf-cp", path, crs="EPSG:2100", encoding="klingon"))


def test_a_cad_drawing_on_the_command_line(settings, tmp_path):
    from click.testing import CliRunner

    from geoservice.cli import main

    path = greek_drawing(tmp_path)
    env = {"DATABASE_URL": settings.dsn}
    args = ["load", str(path), "--id", "sheet-cli-dxf", "--licence", "CC0-1.0"]
    refused = CliRunner().invoke(main, args, env=env)
    assert refused.exit_code != 0
    message = " ".join(refused.output.split())
    assert "a CAD drawing (DXF) does not say which coordinate reference system" in message
    assert "--crs" in message and "Traceback" not in refused.output
    loaded = CliRunner().invoke(main, [*args, "--crs", "EPSG:2100"], env=env)
    assert loaded.exit_code == 0, loaded.output
    assert "published sheet-cli-dxf: 3 features" in " ".join(loaded.output.split())
