"""prepare(): CRS, geometries, schema and identifiers, on real and synthetic data."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from geoservice.errors import ConfigError, CRSError, LoadError
from loaders.descriptor import Descriptor, parse_descriptor
from loaders.model import PreparedLayer
from loaders.prepare import column_names, prepare
from loaders.readers import RawLayer, read_source

ESRI_GREEK_GRID = (
    'PROJCS["GGRS_1987_Greek_Grid",GEOGCS["GCS_GGRS_1987",DATUM["D_GGRS_1987",'
    'SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",24.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)
ESRI_SWEREF99_TM = (
    'PROJCS["SWEREF99_TM",GEOGCS["GCS_SWEREF99",DATUM["D_SWEREF99",'
    'SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)
WHITE_TOWER_GGRS87 = (410_530.0, 4_498_060.0)  # Thessaloniki, ~22.948E 40.626N


def descriptor(path: Path | str = "unused.shp", **keys: object) -> Descriptor:
    source = keys.pop("source", {})
    return parse_descriptor(
        {"id": "test", "title": "Test", "source": {"path": str(path), **source}, **keys}
    )


def raw_layer(frame: gpd.GeoDataFrame, **extra: object) -> RawLayer:
    return RawLayer(
        frame=frame,
        crs=frame.crs,
        encoding=None,
        encoding_confidence=None,
        warnings=[],
        source_files=[],
        layer=None,
        **extra,  # type: ignore[arg-type]
    )


def run(frame: gpd.GeoDataFrame, **keys: object) -> PreparedLayer:
    return prepare(raw_layer(frame), descriptor(**keys))


def load(path: Path, **keys: object) -> PreparedLayer:
    desc = descriptor(path, **keys)
    return prepare(read_source(desc), desc)


def assert_contract(layer: PreparedLayer) -> None:
    assert list(layer.frame.columns) == [f.name for f in layer.fields] + ["geometry"]
    assert layer.frame.crs.to_epsg() == 4326


# --- real samples -------------------------------------------------------------------------


def test_thessaloniki_polygons_promoted_to_multi(shared_data: Path) -> None:
    path = shared_data / "01_thessaloniki_municipalities/thessaloniki.geojson"
    raw = read_source(descriptor(path))
    assert raw.frame.geom_type.value_counts().to_dict() == {"Polygon": 8, "MultiPolygon": 3}
    layer = prepare(raw, descriptor(path))
    assert_contract(layer)
    assert layer.geometry_type == "MultiPolygon"
    assert set(layer.frame.geom_type) == {"MultiPolygon"}
    assert (layer.source_crs, layer.source_srid) == ("OGC:CRS84", 4326)
    types = {f.name: f.type for f in layer.fields}
    assert types == {
        "name_greek": "string",
        "created_at": "datetime",
        "updated_at": "datetime",
        "cartodb_id": "integer",
        "name": "string",
    }


def test_nomoi_greek_grid_reprojected(shared_data: Path) -> None:
    layer = load(shared_data / "02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.shp", identifier="ESYE_ID")
    assert_contract(layer)
    assert (layer.source_crs, layer.source_srid) == ("EPSG:2100", 2100)
    assert layer.geometry_type == "MultiPolygon"
    assert layer.encoding == "cp1253"
    assert layer.id_field == "esye_id"
    esye = next(f for f in layer.fields if f.original == "ESYE_ID")
    assert (esye.name, esye.type) == ("esye_id", "string")
    assert layer.frame["esye_id"].iloc[0] == "61000000"
    assert layer.source_bbox is not None and layer.source_bbox[0] == pytest.approx(104024.93, abs=1)
    minx, miny, maxx, maxy = layer.frame.total_bounds
    assert 19 < minx < maxx < 30 and 34 < miny < maxy < 42  # Greece, lon/lat order
    assert layer.frame["name_gr"].iloc[0] == "Ν. ΠΙΕΡΙΑΣ"


def test_bus_stops_json_array_and_sparse_integer(shared_data: Path) -> None:
    layer = load(shared_data / "05_thessaloniki_bus_stops/stops.geojson")
    types = {f.name: f.type for f in layer.fields}
    assert types["arr"] == "json"
    assert types["metro"] == "integer"  # on 13 features only: nulls must not make it float
    assert types["colordark"] == "string"
    assert layer.frame["arr"].iloc[0] == ["01", "01A", "28"]
    assert isinstance(layer.frame["arr"].iloc[0], list)
    assert int(layer.frame["metro"].notna().sum()) == 13
    assert layer.frame["metro"].isna().sum() == 3666 - 13


def test_settlements_kml_fields(shared_data: Path) -> None:
    layer = load(shared_data / "06_greek_settlements_kml/3-villages.kml")
    assert [(f.name, f.original) for f in layer.fields] == [
        ("name", "name"),
        ("name_2", "Name"),
        ("onoma", "Όνομα"),
    ]
    assert layer.frame["onoma"].iloc[1] == "Σκάλα Ωρωπού"
    assert layer.frame["name_2"].iloc[1] == "Skala Vrvpoy"
    assert layer.geometry_type == "Point"


def test_dutch_house_numbers_stay_strings(shared_data: Path) -> None:
    layer = load(shared_data / "14_dutch_addresses_epsg28992_gpkg/dutch_addresses_28992.gpkg")
    assert (layer.source_crs, layer.source_srid) == ("EPSG:28992", 28992)
    fields = {f.name: f.type for f in layer.fields}
    assert fields["huisnummer"] == "string"
    assert layer.frame["huisnummer"].iloc[1] == "92"
    lon, lat = layer.frame.geometry.iloc[0].x, layer.frame.geometry.iloc[0].y
    assert 5 < lon < 7 and 51 < lat < 53


def test_seismic_stations_with_declared_crs(shared_data: Path) -> None:
    layer = load(
        shared_data / "11_auth_seismic_stations_txt/regd.sta",
        source={"header": False, "columns": ["code", "lat", "lon"], "crs": "4326"},
    )
    assert (layer.source_crs, len(layer.frame)) == ("EPSG:4326", 579)
    assert {f.name: f.type for f in layer.fields} == {
        "code": "string",
        "lat": "number",
        "lon": "number",
    }


# --- CRS ----------------------------------------------------------------------------------


def greek_grid_points(folder: Path, prj: str | None) -> Path:
    frame = gpd.GeoDataFrame(
        {"name": ["Λευκός Πύργος"]}, geometry=[shapely.Point(*WHITE_TOWER_GGRS87)]
    )
    path = folder / "points.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "crs was not provided": on purpose
        frame.to_file(path, engine="pyogrio")
    (folder / "points.prj").unlink(missing_ok=True)
    if prj is not None:
        (folder / "points.prj").write_text(prj)
    return path


@pytest.mark.parametrize(("prj", "srid"), [(ESRI_GREEK_GRID, 2100), (ESRI_SWEREF99_TM, 3006)])
def test_esri_prj_recognised(tmp_path: Path, prj: str, srid: int) -> None:
    layer = load(greek_grid_points(tmp_path, prj))
    assert (layer.source_crs, layer.source_srid) == (f"EPSG:{srid}", srid)
    assert layer.source_bbox == [*WHITE_TOWER_GGRS87, *WHITE_TOWER_GGRS87]
    if srid == 2100:
        point = layer.frame.geometry.iloc[0]
        assert point.x == pytest.approx(22.948, abs=0.01)
        assert point.y == pytest.approx(40.626, abs=0.01)


def test_layer_without_prj_refused_then_declared(tmp_path: Path) -> None:
    path = greek_grid_points(tmp_path, None)
    with pytest.raises(CRSError, match=r"declare it as `source.crs`.*--crs"):
        load(path)
    layer = load(path, source={"crs": "EPSG:2100"})
    assert layer.source_srid == 2100
    assert layer.frame.geometry.iloc[0].x == pytest.approx(22.948, abs=0.01)


@pytest.mark.parametrize("bad", ["EPSG:999999", "GGRS87-ish", "+proj=nonsense"])
def test_unknown_crs_string(tmp_path: Path, bad: str) -> None:
    with pytest.raises(CRSError, match=rf"unknown CRS '{bad.replace('+', '.')}'"):
        load(greek_grid_points(tmp_path, None), source={"crs": bad})


def test_override_beats_prj_and_degrees_are_checked(tmp_path: Path) -> None:
    path = greek_grid_points(tmp_path, ESRI_GREEK_GRID)
    with pytest.raises(CRSError, match=r"are not degrees, but the CRS is EPSG:4326"):
        load(path, source={"crs": "EPSG:4326"})


# --- geometries ---------------------------------------------------------------------------


def frame_of(geoms: list, crs: str | None = "EPSG:4326", **columns: list) -> gpd.GeoDataFrame:
    data = columns or {"n": list(range(len(geoms)))}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def test_bowtie_repaired_and_counted() -> None:
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    square = shapely.box(5, 5, 6, 6)
    assert not bowtie.is_valid
    layer = run(frame_of([bowtie, square]))
    assert layer.repaired_geometries == 1
    assert any("1 invalid geometry was repaired" in w for w in layer.warnings)
    assert layer.geometry_type == "MultiPolygon"
    assert shapely.is_valid(layer.frame.geometry.values).all()
    assert layer.frame.geometry.iloc[0].area == pytest.approx(2.0)


def test_bowtie_in_greek_grid_repaired_then_projected() -> None:
    # Validity is checked while the layer is projected: the repaired geometry is projected anew.
    x, y = 400_000, 4_500_000
    bowtie = shapely.Polygon([(x, y), (x + 2000, y + 2000), (x + 2000, y), (x, y + 2000), (x, y)])
    layer = run(frame_of([bowtie, shapely.box(x, y, x + 10, y + 10)], crs="EPSG:2100"))
    expected = shapely.transform(
        shapely.make_valid(bowtie), lambda a: np.column_stack(_greek_grid_to_wgs84(*a.T))
    )
    assert layer.repaired_geometries == 1 and shapely.is_valid(layer.frame.geometry.values).all()
    assert layer.frame.geometry.iloc[0].normalize().equals_exact(expected.normalize(), 1e-12)
    assert layer.source_bbox == [x, y, x + 2000, y + 2000]


def _greek_grid_to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple:
    from pyproj import Transformer

    return Transformer.from_crs(2100, 4326, always_xy=True).transform(x, y)


def test_repair_keeps_polygon_family() -> None:
    # A polygon with a dangling spike: make_valid gives polygon + line; we keep the polygon.
    spike = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0), (-3, -3), (0, 0)])
    layer = run(frame_of([spike]))
    geom = layer.frame.geometry.iloc[0]
    assert geom.geom_type in ("Polygon", "MultiPolygon")
    assert geom.area == pytest.approx(16.0)


def test_null_and_empty_geometries_kept() -> None:
    layer = run(frame_of([shapely.Point(1, 1), None, shapely.Point()]))
    assert len(layer.frame) == 3
    assert layer.null_geometries == 2
    assert layer.frame.geometry.isna().tolist() == [False, True, True]
    assert any("2 feature(s) have no geometry" in w for w in layer.warnings)


def test_z_sentinels_become_nan() -> None:
    points = [shapely.Point(1, 1, 120.5), shapely.Point(2, 2, -9999), shapely.Point(3, 3, -32768)]
    layer = run(frame_of(points))
    assert layer.has_z
    z = shapely.get_coordinates(layer.frame.geometry.values, include_z=True)[:, 2]
    assert z[0] == 120.5 and np.isnan(z[1:]).all()
    assert any("2 Z value(s) are no-data markers" in w for w in layer.warnings)


def test_all_sentinel_z_dropped() -> None:
    layer = run(frame_of([shapely.Point(1, 1, -9999), shapely.Point(2, 2, -3.4e38)]))
    assert not layer.has_z
    assert not layer.frame.geometry.has_z.any()
    assert any("Z dropped" in w for w in layer.warnings)


def test_mixed_kinds_become_geometry() -> None:
    layer = run(frame_of([shapely.Point(0, 0), shapely.box(0, 0, 1, 1)]))
    assert layer.geometry_type == "Geometry"
    assert any("mixes geometry types (Point, Polygon)" in w for w in layer.warnings)


def test_lines_promoted() -> None:
    line = shapely.LineString([(0, 0), (1, 1)])
    multi = shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 2), (3, 3)]])
    layer = run(frame_of([line, multi]))
    assert layer.geometry_type == "MultiLineString"
    assert layer.frame.geometry.iloc[0].equals(shapely.MultiLineString([line]))


def test_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    frame = gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:2100"))
    frame.to_file(path, engine="pyogrio", geometry_type="Point")
    layer = load(path)
    assert len(layer.frame) == 0
    assert layer.geometry_type == "Point"
    assert layer.source_bbox is None
    assert "the layer has no features" in layer.warnings
    assert_contract(layer)


# --- schema -------------------------------------------------------------------------------


def test_column_names() -> None:
    originals = ["Όνομα", "Name", "name", "geom", "fid", "2019 Πληθυσμός", "ΚΩΔ/ΚΟΣ", "x" * 80]
    assert column_names(originals) == [
        "onoma",
        "name",
        "name_2",
        "geom_src",
        "fid_src",
        "f_2019_plithysmos",
        "kod_kos",
        "x" * 63,
    ]


def synthetic() -> gpd.GeoDataFrame:
    return frame_of(
        [shapely.Point(22.9, 40.6), shapely.Point(23.0, 40.7), shapely.Point(23.1, 40.8)],
        code=["007", "012", "012"],
        pop=["1200", "35", "n/a"],
        ok=["yes", "no", "ναι"],
        year=[2019, 2020, 2021],
    )


def test_include_typo_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        run(synthetic(), fields={"include": ["code", "poop"]})
    assert "fields.include: unknown field 'poop'" in str(err.value)
    assert "code, pop, ok, year" in str(err.value)


def test_include_exclude_labels() -> None:
    layer = run(
        synthetic(),
        fields={
            "include": ["code", "year", "ok"],
            "exclude": ["ok"],
            "labels": {"year": {"el": "Έτος", "en": "Year"}},
        },
    )
    assert [f.name for f in layer.fields] == ["code", "year"]
    assert layer.fields[1].label == {"el": "Έτος", "en": "Year"}
    assert layer.fields[0].type == "string"
    assert layer.frame["code"].tolist() == ["007", "012", "012"]
    with pytest.raises(ConfigError, match="fields.labels: unknown field 'yaer'"):
        run(synthetic(), fields={"labels": {"yaer": {"el": "Έτος", "en": "Year"}}})


def test_type_override_and_bad_value() -> None:
    layer = run(synthetic(), fields={"types": {"ok": "boolean", "year": "string"}})
    assert layer.frame["ok"].tolist() == [True, False, True]
    assert layer.frame["year"].tolist() == ["2019", "2020", "2021"]
    with pytest.raises(LoadError, match=r"field 'pop', row 3: value 'n/a' is not a valid integer"):
        run(synthetic(), fields={"types": {"pop": "integer"}})


def test_identifier_checks() -> None:
    layer = run(synthetic(), identifier="year")
    assert layer.id_field == "year"
    with pytest.raises(LoadError, match=r"'code' is not unique: 2 features share 1 value.*'012'"):
        run(synthetic(), identifier="code")
    frame = synthetic()
    frame.loc[1, "pop"] = None
    with pytest.raises(LoadError, match=r"'pop' is empty in 1 feature\(s\) \(e.g. row 2\)"):
        run(frame, identifier="pop")
    with pytest.raises(ConfigError, match="identifier: unknown field 'nope'"):
        run(synthetic(), identifier="nope")


# --- speed --------------------------------------------------------------------------------


def test_a_million_points_are_prepared() -> None:
    """At scale (its time is measured by bench.load, not asserted here)."""
    n = 1_000_000
    rng = np.random.default_rng(7)
    x = rng.uniform(350_000, 450_000, n)
    y = rng.uniform(4_450_000, 4_550_000, n)
    frame = gpd.GeoDataFrame(
        {"code": np.char.add("K", np.arange(n).astype(str)).astype(object), "h": rng.random(n)},
        geometry=shapely.points(x, y),
        crs=CRS.from_epsg(2100),
    )
    layer = run(frame, identifier="code")
    assert len(layer.frame) == n and layer.geometry_type == "Point"
    assert 22 < layer.frame.geometry.iloc[0].x < 24


def test_declared_types_survive_nulls(tmp_path: Path) -> None:
    path = tmp_path / "typed.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":['
        '{"type":"Feature","properties":{"day":"2020-01-02","at":"2020-01-02T10:00:00Z",'
        '"flag":true,"n":5},"geometry":{"type":"Point","coordinates":[1,2]}},'
        '{"type":"Feature","properties":{"day":null,"at":null,"flag":null,"n":null},'
        '"geometry":{"type":"Point","coordinates":[3,4]}}]}',
        encoding="utf-8",
    )
    layer = load(path)
    assert {f.name: f.type for f in layer.fields} == {
        "day": "date",
        "at": "datetime",
        "flag": "boolean",
        "n": "integer",
    }
    first = layer.frame.iloc[0]
    assert str(first["day"]) == "2020-01-02" and bool(first["flag"]) and int(first["n"]) == 5
    assert layer.frame["day"].iloc[1] is None


def test_projection_split_across_threads_is_the_serial_one(monkeypatch) -> None:
    from pyproj import Transformer

    from loaders import crs as crs_module

    rng = np.random.default_rng(3)
    coords = np.column_stack([rng.uniform(1e5, 9e5, 1001), rng.uniform(3.8e6, 4.6e6, 1001)])
    serial = np.column_stack(Transformer.from_crs(2100, 4326, always_xy=True).transform(*coords.T))
    monkeypatch.setattr(crs_module, "PARALLEL_COORDINATES", 100)  # 1001 rows: all CPUs
    monkeypatch.setattr(crs_module.os, "cpu_count", lambda: 3)  # uneven parts, 2 threads
    assert np.array_equal(crs_module.to_wgs84(CRS.from_epsg(2100))(coords), serial)


def test_2d_and_3d_mixed_in_a_projected_crs() -> None:
    # shapely.transform(include_z=True) gave the 2D polygon NaN heights, and its rings then
    # "do not form a closed linestring" (NaN != NaN): 2D shapes are projected in 2D.
    x, y = WHITE_TOWER_GGRS87
    square = shapely.box(x, y, x + 100, y + 100)
    layer = run(frame_of([square, shapely.Point(x, y, 12.5)], crs="EPSG:2100"))
    polygon, point = layer.frame.geometry.iloc[0], layer.frame.geometry.iloc[1]
    assert layer.has_z and point.has_z and point.z == 12.5
    lon, lat = _greek_grid_to_wgs84(np.array([x]), np.array([y]))
    assert (point.x, point.y) == pytest.approx((lon[0], lat[0]), abs=1e-7)  # ~1 cm
    assert shapely.is_valid(polygon) and polygon.area > 0
    assert not np.isnan(shapely.get_coordinates(polygon)).any()
