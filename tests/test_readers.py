"""Readers: the real municipal samples, and one synthetic layer written to every format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoservice.errors import CRSError, EncodingError, LoadError, SourceError
from loaders.crs import resolve_crs
from loaders.descriptor import Descriptor, parse_descriptor
from loaders.readers import RawLayer, read_source


def descriptor(path: Path | str, base_dir: Path = Path("."), **source: object) -> Descriptor:
    return parse_descriptor(
        {"id": "test", "title": "Test", "source": {"path": str(path), **source}}, base_dir=base_dir
    )


def read(path: Path | str, **source: object) -> RawLayer:
    return read_source(descriptor(path, **source))


# --- real samples -------------------------------------------------------------------------

SAMPLES = [
    ("01_thessaloniki_municipalities/thessaloniki.geojson", {}, 11, "OGC:CRS84"),
    ("02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.shp", {}, 55, "EPSG:2100"),
    ("05_thessaloniki_bus_stops/stops.geojson", {}, 3666, "OGC:CRS84"),
    ("06_greek_settlements_kml/3-villages.kml", {}, 5900, "OGC:CRS84"),
    ("07_thessaloniki_prefecture_bare_feature/48.json", {}, 1, "OGC:CRS84"),
    (
        "11_auth_seismic_stations_txt/regd.sta",
        {
            "header": False,
            "delimiter": "whitespace",
            "columns": ["code", "lat", "lon"],
            "crs": "EPSG:4326",
        },  # fmt: skip
        579,  # 580 lines: one comment, 579 stations (two codes appear twice)
        "EPSG:4326",
    ),
    (
        "12_greece_ferries_osm_lossy_encoding/greece_ferries.shp",
        {"allow_lossy_text": True},
        608,
        "EPSG:4326",
    ),
    ("14_dutch_addresses_epsg28992_gpkg/dutch_addresses_28992.gpkg", {}, 2481, "EPSG:28992"),
    ("15_naturalearth_lowres_pyogrio_fixture/naturalearth_lowres.shp", {}, 177, "EPSG:4326"),
]


@pytest.mark.parametrize(("relpath", "source", "count", "crs"), SAMPLES, ids=lambda v: str(v)[:2])
def test_real_samples_count_and_crs(
    shared_data: Path, relpath: str, source: dict, count: int, crs: str
) -> None:
    raw = read(shared_data / relpath, **source)
    assert len(raw.frame) == count
    assert resolve_crs(raw.crs, source.get("crs"))[1] == crs
    assert raw.source_files and all(p.exists() for p in raw.source_files)


def test_nomoi_cp1253_without_cpg(shared_data: Path) -> None:
    folder = shared_data / "02_nomoi_okxe_epsg2100_cp1253"
    raw = read(folder / "nomoi_okxe.shp")
    assert raw.encoding == "cp1253"
    # The file has no Ά-type letter (0xA2 / 0xB6): nothing tells cp1253 from ISO-8859-7.
    dbf = (folder / "nomoi_okxe.dbf").read_bytes()
    assert b"\xa2" not in dbf[289:] and b"\xb6" not in dbf[289:]
    assert raw.encoding_confidence is not None and raw.encoding_confidence < 0.5
    about = [w for w in raw.warnings if "cp1253" in w]  # one warning, how to be sure in it
    assert len(about) == 1 and "tells cp1253 from ISO-8859-7" in about[0] and ".cpg" in about[0]
    names = raw.frame["NAME_GR"].tolist()
    assert names[0] == "Ν. ΠΙΕΡΙΑΣ"
    assert "Ν. ΑΧΑΪΑΣ" in names  # 0xDA, the same in both code pages
    assert "ΑΓΙΟ ΟΡΟΣ" in names
    assert raw.frame["EDRA"].iloc[0] == "ΚΑΤΕΡΙΝΗ"
    assert raw.frame["ESYE_ID"].iloc[0] == "61000000"  # a code: stays text
    assert {p.suffix for p in raw.source_files} == {".shp", ".shx", ".dbf", ".prj"}
    assert raw.field_types["POP"] == "int64"


def test_kml_schema_data_greek_field_and_name_clash(shared_data: Path) -> None:
    raw = read(shared_data / "06_greek_settlements_kml/3-villages.kml")
    frame = raw.frame
    assert list(frame.columns) == ["name", "Name", "Όνομα", "geometry"]
    first = frame.iloc[0]
    assert (first["name"], first["Name"], first["Όνομα"]) == (
        "Νέα Παλάτια",
        "Nea Palatia",
        "Νέα Παλάτια",
    )
    assert frame["Όνομα"].notna().all()
    assert any("'Name'" in w and "<name>" in w for w in raw.warnings)
    assert raw.layer == "oikismoi"  # the KML Folder
    x, y = frame.geometry.x, frame.geometry.y
    inside = (x >= 22.8) & (x <= 23.1) & (y >= 40.55) & (y <= 40.7)
    assert int(inside.sum()) == 21
    assert not frame.geometry.has_z.any()  # no altitude in the file


def test_bare_geojson_feature(shared_data: Path) -> None:
    raw = read(shared_data / "07_thessaloniki_prefecture_bare_feature/48.json")
    assert len(raw.frame) == 1
    geom = raw.frame.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon"
    assert shapely.get_num_coordinates(geom) == 3874
    assert raw.frame["Name"].iloc[0] == "Ν. ΘΕΣΣΑΛΟΝΙΚΗΣ"


def test_seismic_stations_headerless_text(shared_data: Path) -> None:
    raw = read(
        shared_data / "11_auth_seismic_stations_txt/regd.sta",
        header=False,
        delimiter="whitespace",
        x_field="3",
        y_field="2",
    )
    assert list(raw.frame.columns) == ["field_1", "field_2", "field_3", "geometry"]
    first = raw.frame.iloc[0]
    assert first["field_1"] == "AAMF"
    assert (first.geometry.x, first.geometry.y) == (22.0689, 37.1070)
    assert raw.crs is None  # the file does not say: prepare refuses unless declared
    assert raw.encoding == "ascii"


def test_raster_is_refused(shared_data: Path) -> None:
    with pytest.raises(SourceError, match=r"N40E022\.hgt is a raster"):
        read(shared_data / "08_srtm3_dem_thessaloniki/N40E022.hgt")


def test_lossy_ferries_refused_then_allowed(shared_data: Path) -> None:
    path = shared_data / "12_greece_ferries_osm_lossy_encoding/greece_ferries.shp"
    with pytest.raises(EncodingError) as err:
        read(path)
    message = str(err.value)
    assert "3541 letters were replaced by '?' in 206 values" in message
    assert "allow_lossy_text" in message
    raw = read(path, allow_lossy_text=True)
    assert any("published anyway" in w for w in raw.warnings)
    assert any(w.startswith("20 value(s) of field 'other_tags'") for w in raw.warnings)
    assert "Érétrie" in " ".join(raw.frame["other_tags"].dropna())  # Latin-1, read right


def test_dutch_gpkg_strings_stay_strings(shared_data: Path) -> None:
    raw = read(shared_data / "14_dutch_addresses_epsg28992_gpkg/dutch_addresses_28992.gpkg")
    assert raw.layer == "OGRGeoJSON"
    assert raw.crs is not None and raw.crs.to_epsg() == 28992
    assert raw.frame["huisnummer"].iloc[0] == "2"
    assert raw.encoding is None


# --- one synthetic layer, every format ----------------------------------------------------

NAMES = ["Άγιος Δημήτριος", "Ωραιόκαστρο", "Καλαμαριά"]


def base_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": NAMES,
            "code": ["007", "012", "100"],
            "count": [1, 2, 3],
            "value": [1.5, 2.25, -3.0],
        },
        geometry=[
            shapely.Point(22.94, 40.64),
            shapely.Point(22.98, 40.69),
            shapely.Point(22.95, 40.6),
        ],
        crs="EPSG:4326",
    )


def write_format(frame: gpd.GeoDataFrame, folder: Path, fmt: str) -> tuple[Path, dict]:
    """Write `frame` as `fmt`; return the path and the descriptor keys needed to read it."""
    if fmt == "zip":
        shp = folder / "layer.shp"
        frame.to_file(shp, engine="pyogrio", encoding="UTF-8")
        path = folder / "layer.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.glob("layer.*"):
                if part != path:
                    archive.write(part, f"data/{part.name}")
        return path, {}
    if fmt in ("csv", "xlsx", "ods"):
        path = folder / f"layer.{fmt}"
        table = pd.DataFrame(frame.drop(columns="geometry"))
        table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
        if fmt == "csv":
            table.to_csv(path, index=False)
        else:  # GDAL's spreadsheet writers
            pyogrio.write_dataframe(gpd.GeoDataFrame(table), path, driver=fmt.upper())
        return path, {"crs": "EPSG:4326"}
    path = folder / f"layer.{fmt}"
    driver = {"geojsonl": "GeoJSONSeq", "kml": "KML", "gml": "GML", "fgb": "FlatGeobuf"}
    frame.to_file(path, engine="pyogrio", driver=driver.get(fmt))
    return path, {}


FORMATS = ["shp", "zip", "gpkg", "geojson", "geojsonl", "fgb", "gml", "csv", "kml", "xlsx", "ods"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_the_same_layer(tmp_path: Path, fmt: str) -> None:
    path, extra = write_format(base_frame(), tmp_path, fmt)
    raw = read(path, **extra)
    frame = raw.frame.sort_values("code")  # FlatGeobuf's spatial index reorders features
    assert len(frame) == 3
    assert frame["name"].tolist() == NAMES
    assert frame["code"].tolist() == ["007", "012", "100"]  # codes are not numbers
    if fmt != "kml":  # GDAL's KML writer keeps no numeric types in SimpleField
        assert frame["count"].tolist() == [1, 2, 3]
        assert frame["value"].tolist() == [1.5, 2.25, -3.0]
    assert frame.geometry.iloc[1].equals_exact(shapely.Point(22.98, 40.69), 1e-9)
    crs, label, srid = resolve_crs(raw.crs, extra.get("crs"))
    assert srid == 4326 and label in ("EPSG:4326", "OGC:CRS84")


def test_zip_with_two_shapefiles_needs_a_layer(tmp_path: Path) -> None:
    frame = base_frame()
    frame.to_file(tmp_path / "a.shp", engine="pyogrio")
    frame.iloc[:1].to_file(tmp_path / "b.shp", engine="pyogrio")
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(tmp_path.glob("[ab].*")):
            archive.write(part, part.name)
    with pytest.raises(SourceError, match=r"holds 2 datasets \(a\.shp, b\.shp\)"):
        read(path)
    assert len(read(path, layer="b").frame) == 1


def test_zip_shapefile_without_dbf(tmp_path: Path) -> None:
    base_frame().to_file(tmp_path / "a.shp", engine="pyogrio")
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for ext in ("shp", "shx", "prj"):
            archive.write(tmp_path / f"a.{ext}", f"a.{ext}")
    with pytest.raises(SourceError, match=r"a\.zip: the zipped shapefile a\.shp has no \.dbf"):
        read(path)


def test_gpkg_several_layers(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    base_frame().to_file(path, layer="roads", engine="pyogrio")
    base_frame().iloc[:2].to_file(path, layer="stops", engine="pyogrio")
    with pytest.raises(SourceError, match=r"holds 2 layers \(roads, stops\)"):
        read(path)
    assert len(read(path, layer="stops").frame) == 2
    with pytest.raises(SourceError, match=r"no layer 'stopz'; its layers: roads, stops"):
        read(path, layer="stopz")


# --- refusals -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"source file not found: .*nothere\.shp"):
        read(tmp_path / "nothere.shp")


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "drawing.dwg"
    path.write_bytes(b"AC1032")
    with pytest.raises(SourceError, match=r"drawing\.dwg: unsupported file type '\.dwg'"):
        read(path)


@pytest.mark.parametrize("missing", [".dbf", ".shx"])
def test_shapefile_missing_part(tmp_path: Path, missing: str) -> None:
    base_frame().to_file(tmp_path / "a.shp", engine="pyogrio")
    (tmp_path / f"a{missing}").unlink()
    with pytest.raises(SourceError, match=rf"a\.shp: the shapefile is incomplete, a\{missing}"):
        read(tmp_path / "a.shp")


def test_corrupt_shapefile(tmp_path: Path) -> None:
    base_frame().to_file(tmp_path / "a.shp", engine="pyogrio")
    (tmp_path / "a.shp").write_bytes(b"this is not a shapefile at all" * 10)
    with pytest.raises(SourceError, match=r"a\.shp is not a valid shapefile"):
        read(tmp_path / "a.shp")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".fgb", ".kml"])
def test_corrupt_files_become_source_errors(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x01garbage{<" * 50)
    with pytest.raises(SourceError, match=rf"broken\{suffix}"):
        read(path)


# --- DBF encodings ------------------------------------------------------------------------


@pytest.mark.parametrize("codepage", ["cp1253", "iso-8859-7"])
def test_greek_dbf_codepages_told_apart(tmp_path: Path, codepage: str) -> None:
    frame = base_frame()
    frame["name"] = ["Άγιος Αθανάσιος", "Άνω Πόλη", "Έδεσσα"]
    path = tmp_path / "greek.shp"
    frame.to_file(path, engine="pyogrio", encoding=codepage.upper())
    (tmp_path / "greek.cpg").unlink(missing_ok=True)
    dbf = bytearray((tmp_path / "greek.dbf").read_bytes())
    dbf[29] = 0x57  # "ANSI": the header says nothing, as in real Greek files
    (tmp_path / "greek.dbf").write_bytes(bytes(dbf))
    raw = read(path)
    assert raw.encoding == codepage
    assert raw.encoding_confidence is not None and raw.encoding_confidence >= 0.8
    assert raw.frame["name"].tolist() == ["Άγιος Αθανάσιος", "Άνω Πόλη", "Έδεσσα"]


def test_cpg_and_override(tmp_path: Path) -> None:
    frame = base_frame()
    path = tmp_path / "greek.shp"
    frame.to_file(path, engine="pyogrio", encoding="ISO-8859-7")
    (tmp_path / "greek.cpg").write_text("ISO-8859-7")
    raw = read(path)
    assert (raw.encoding, raw.encoding_confidence) == ("iso-8859-7", 1.0)
    assert raw.frame["name"].tolist() == NAMES
    wrong = read(path, encoding="cp1253")  # the descriptor wins, even when wrong
    assert wrong.encoding == "cp1253"
    assert wrong.frame["name"].iloc[0] != NAMES[0]
    with pytest.raises(EncodingError, match="unknown text encoding 'klingon'"):
        read(path, encoding="klingon")


# --- delimited text -----------------------------------------------------------------------


def test_csv_semicolon_decimal_comma_greek_headers(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    text = (
        "κωδικός;όνομα;πλάτος;μήκος\n"
        "0012;Λευκός Πύργος;40,6264;22,9484\n"
        "0450;Ροτόντα;40,6333;22,9528\n"
    )
    path.write_bytes(text.encode("cp1253"))
    raw = read(path, crs="EPSG:4326")
    assert raw.encoding == "cp1253"
    assert raw.frame["κωδικός"].tolist() == ["0012", "0450"]
    assert raw.frame["όνομα"].tolist() == ["Λευκός Πύργος", "Ροτόντα"]
    assert raw.frame.geometry.iloc[0].equals(shapely.Point(22.9484, 40.6264))


def test_csv_wkt_column(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('id,wkt\n1,"LINESTRING (0 0, 1 1)"\n2,\n', encoding="utf-8")
    raw = read(path)
    assert list(raw.frame.columns) == ["id", "geometry"]
    assert raw.frame.geometry.iloc[0].length == pytest.approx(2**0.5)
    assert raw.frame.geometry.iloc[1] is None
    assert raw.frame["id"].tolist() == [1, 2]


def test_csv_bad_coordinate_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("# exported\nname,x,y\na,1,2\nb,3,north\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad\.csv, line 4: coordinate 'north' in column 'y'"):
        read(path)


def test_csv_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"no coordinate columns found \(columns: a, b\)"):
        read(path)


def test_geojson_text_sequence_with_json_suffix(tmp_path: Path) -> None:
    path = tmp_path / "seq.json"
    lines = [
        '{"type":"Feature","properties":{"n":1},"geometry":{"type":"Point","coordinates":[1,2]}}',
        '{"type":"Feature","properties":{"n":2},"geometry":{"type":"Point","coordinates":[3,4]}}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read(path)
    assert raw.frame["n"].tolist() == [1, 2]


def test_headerless_text_named_columns_and_crs_refusal(shared_data: Path) -> None:
    from loaders.prepare import prepare

    desc = descriptor(
        shared_data / "11_auth_seismic_stations_txt/regd.sta",
        header=False,
        columns=["code", "lat", "lon"],
    )
    raw = read_source(desc)
    assert raw.frame["code"].iloc[-1] == "ZUPA"
    assert np.isclose(raw.frame["lat"].iloc[-1], 41.4796)
    with pytest.raises(CRSError, match=r"source\.crs.*--crs.*EPSG:4326\?"):
        prepare(raw, desc)


def test_kml_folder_as_layer(shared_data: Path) -> None:
    path = shared_data / "06_greek_settlements_kml/3-villages.kml"
    assert len(read(path, layer="oikismoi").frame) == 5900
    with pytest.raises(SourceError, match=r"no folder 'villages'; its folders: oikismoi"):
        read(path, layer="villages")
