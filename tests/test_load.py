"""Loading into a real PostGIS: every accepted sample reads back as the source holds it, and
failures leave what is published untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import psycopg
import pyogrio
import pytest
from conftest import licence_keys
from lxml import etree

from geoservice.errors import ConfigError, EncodingError, LoadError
from geoservice.store import db, registry
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load


def descriptor(collection_id: str, path: Path, **source) -> object:
    return parse_descriptor(
        {
            "id": collection_id,
            "title": collection_id,
            "source": {"path": str(path), **source},
            **licence_keys(path),
        }
    )


def published_rows(settings, collection_id: str, column: str | None = None) -> list:
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        if column is None:
            return conn.execute(f'SELECT count(*) FROM data."{record.table_name}"').fetchall()
        name = next(f["name"] for f in record.fields if f["original"] == column)
        rows = conn.execute(f'SELECT "{name}" FROM data."{record.table_name}"').fetchall()
        return [r[0] for r in rows]


def count(settings, collection_id: str) -> int:
    return published_rows(settings, collection_id)[0][0]


def kml_simple_data(path: Path, name: str) -> list[str]:
    elements = etree.parse(str(path)).iter("{http://www.opengis.net/kml/2.2}SimpleData")
    return [e.text for e in elements if e.get("name") == name]


# Each sample: how to load it, and the truth read independently of our loaders.
SAMPLES = {
    "01": ("01_thessaloniki_municipalities/thessaloniki.geojson", {}, "name_greek", None),
    "02": ("02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.shp", {}, "NAME_GR", "cp1253"),
    "05": ("05_thessaloniki_bus_stops/stops.geojson", {}, None, None),
    "06": ("06_greek_settlements_kml/3-villages.kml", {}, "Όνομα", "kml"),
    "07": ("07_thessaloniki_prefecture_bare_feature/48.json", {}, "Name", None),
    "11": (
        "11_auth_seismic_stations_txt/regd.sta",
        {
            "format": "delimited",
            "delimiter": "whitespace",
            "header": False,
            "columns": ["code", "lat", "lon"],
            "x_field": "lon",
            "y_field": "lat",
            "crs": "EPSG:4326",
        },
        "code",
        "sta",
    ),
    "14": ("14_dutch_addresses_epsg28992_gpkg/dutch_addresses_28992.gpkg", {}, None, None),
    "15": ("15_naturalearth_lowres_pyogrio_fixture/naturalearth_lowres.shp", {}, "name", None),
}


def truth(path: Path, column: str | None, how: str | None) -> tuple[int, list | None]:
    if how == "kml":
        values = kml_simple_data(path, column)
        return len(values), values
    if how == "sta":
        text = path.read_text().splitlines()
        lines = [ln.split() for ln in text if ln and not ln.startswith("#")]
        return len(lines), [ln[0] for ln in lines]
    if path.suffix == ".json" and '"Feature"' in path.read_text()[:200]:
        feature = json.loads(path.read_text())
        return 1, [feature["properties"][column]]
    frame = pyogrio.read_dataframe(path, encoding=how, read_geometry=False)
    return len(frame), (list(frame[column]) if column else None)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_accepted_sample_reads_back_as_the_source(settings, shared_data, sample):
    relative, source, column, how = SAMPLES[sample]
    path = shared_data / relative
    collection_id = f"sample-{sample}"
    report = load(settings, descriptor(collection_id, path, **source))
    expected_count, expected_values = truth(path, column, how)
    assert report.feature_count == expected_count
    assert count(settings, collection_id) == expected_count
    if expected_values is not None:
        assert sorted(published_rows(settings, collection_id, column)) == sorted(expected_values)


def test_the_cp1253_shapefile_is_detected_and_reported(settings, shared_data):
    report = load(settings, descriptor("nomoi-detect", shared_data / SAMPLES["02"][0]))
    assert report.encoding == "cp1253"
    assert report.source_crs == "EPSG:2100"
    assert "Ν. ΠΙΕΡΙΑΣ" in published_rows(settings, "nomoi-detect", "NAME_GR")


def test_lossy_text_is_refused_unless_accepted(settings, shared_data):
    path = shared_data / "12_greece_ferries_osm_lossy_encoding/greece_ferries.shp"
    with pytest.raises(EncodingError, match=r"\?"):
        load(settings, descriptor("ferries", path))
    with db.connect(settings) as conn, pytest.raises(Exception, match="no published"):
        registry.get_collection(conn, "ferries")
    report = load(settings, descriptor("ferries", path, allow_lossy_text=True))
    assert report.feature_count == 608
    assert any("?" in w for w in report.warnings)


def test_a_raster_is_refused_clearly(settings, shared_data):
    with pytest.raises(LoadError, match="N40E022.hgt"):
        load(settings, descriptor("dem", shared_data / "08_srtm3_dem_thessaloniki/N40E022.hgt"))


@pytest.fixture
def published_shapefile(settings, shared_data, tmp_path) -> tuple[str, Path]:
    folder = tmp_path / "layer"
    shutil.copytree(shared_data / "15_naturalearth_lowres_pyogrio_fixture", folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    collection_id = "countries-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:8]
    load(settings, descriptor(collection_id, folder / "naturalearth_lowres.shp"))
    assert count(settings, collection_id) == 177
    return collection_id, folder / "naturalearth_lowres.shp"


def failed_loads(settings, collection_id: str) -> list[dict]:
    with db.connect(settings) as conn:
        return [r for r in registry.load_history(conn, collection_id) if r["status"] == "failed"]


def test_a_corrupt_file_leaves_the_published_layer_as_it_was(settings, published_shapefile):
    collection_id, shp = published_shapefile
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) // 3])  # truncated mid-record
    with pytest.raises(LoadError) as failure:
        load(settings, descriptor(collection_id, shp))
    assert "Traceback" not in str(failure.value)
    assert count(settings, collection_id) == 177
    assert failed_loads(settings, collection_id)[0]["error"]


def test_a_missing_dbf_leaves_the_published_layer_as_it_was(settings, published_shapefile):
    collection_id, shp = published_shapefile
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(LoadError, match=r"\.dbf"):
        load(settings, descriptor(collection_id, shp))
    assert count(settings, collection_id) == 177


def test_an_unknown_crs_leaves_the_published_layer_as_it_was(settings, published_shapefile):
    collection_id, shp = published_shapefile
    with pytest.raises(LoadError, match="EPSG:999999"):
        load(settings, descriptor(collection_id, shp, crs="EPSG:999999"))
    assert count(settings, collection_id) == 177


def test_a_failure_after_staging_leaves_the_published_layer(settings, published_shapefile):
    """The temporal field is checked after the rows are copied and indexed: the staging
    table exists when the load fails, and must go without touching the published one."""
    collection_id, shp = published_shapefile
    bad = parse_descriptor(
        {
            "id": collection_id,
            "title": "x",
            "source": {"path": str(shp)},
            **licence_keys(shp),
            "temporal_field": "name",
        }
    )
    with pytest.raises(LoadError, match="not a date"):
        load(settings, bad)
    assert count(settings, collection_id) == 177
    with db.connect(settings) as conn:
        leftovers = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'"
        ).fetchone()[0]
    assert leftovers == 0


def test_a_type_override_that_does_not_fit_fails_clearly(settings, published_shapefile):
    collection_id, shp = published_shapefile
    bad = parse_descriptor(
        {
            "id": collection_id,
            "title": "x",
            "source": {"path": str(shp)},
            **licence_keys(shp),
            "fields": {"types": {"name": "integer"}},
        }
    )
    with pytest.raises(LoadError, match="name"):
        load(settings, bad)
    assert count(settings, collection_id) == 177


def test_each_load_is_recorded_with_its_checksum(settings, published_shapefile):
    collection_id, shp = published_shapefile
    digest = hashlib.sha256()
    for part in sorted(p for p in shp.parent.iterdir() if p.stem == shp.stem):
        digest.update(part.read_bytes())
    with db.connect(settings) as conn:
        last = registry.load_history(conn, collection_id)[0]
    assert last["status"] == "published" and last["feature_count"] == 177
    assert last["source_checksum"] == digest.hexdigest()
    assert len(last["bbox"]) == 4


def test_leftovers_of_a_killed_load_are_cleaned_by_the_next(settings, published_shapefile):
    collection_id, shp = published_shapefile
    from geoservice.store.tables import staging_name

    leftover = staging_name(collection_id, 999999)
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE staging."{leftover}" (x int)')
    load(settings, descriptor(collection_id, shp))
    with db.connect(settings) as conn:
        exists = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging' AND tablename = %s",
            (leftover,),
        ).fetchone()[0]
    assert exists == 0


def test_two_loads_of_one_layer_at_once_are_serialised(settings, published_shapefile):
    collection_id, shp = published_shapefile
    errors: list[BaseException] = []

    def run() -> None:
        try:
            load(settings, descriptor(collection_id, shp))
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert count(settings, collection_id) == 177


def test_the_server_sees_loads_and_removals_without_a_restart(settings, shared_data):
    from geoservice.server.app import create_app
    from loaders.writer import remove_collection

    client = create_app(settings, refresh_seconds=0).test_client()
    assert client.get("/collections/live-reload").status_code == 404
    load(settings, descriptor("live-reload", shared_data / SAMPLES["01"][0]))
    body = client.get("/collections/live-reload/items").get_json()
    assert body["numberMatched"] == 11
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, "live-reload")
    assert client.get("/collections/live-reload/items").status_code == 404


def test_readers_never_see_a_half_swapped_table(settings, shared_data):
    """While a layer is reloaded repeatedly, every read sees the whole layer."""
    path = shared_data / SAMPLES["02"][0]
    load(settings, descriptor("swap-check", path))
    stop = threading.Event()
    seen: list[int] = []
    problems: list[BaseException] = []

    def reader() -> None:
        with psycopg.connect(settings.dsn, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    row = conn.execute('SELECT count(*) FROM data."swap-check"').fetchone()
                    seen.append(row[0])
                except psycopg.errors.UndefinedTable as err:
                    problems.append(err)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            load(settings, descriptor("swap-check", path))
    finally:
        stop.set()
        thread.join(30)
    assert problems == [] and seen and set(seen) == {55}


def test_values_round_trip_exactly(settings, tmp_path):
    """Empty strings stay empty, missing values become NULL, types survive the COPY."""
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [22.9, 40.6]},
         "properties": {"text": 'Ά, "quoted"\nline', "n": 1, "x": 1.5, "ok": True,
                        "day": "2024-02-29", "tags": ["α", "β"]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [22.95, 40.65]},
         "properties": {"text": "", "n": None, "x": None, "ok": None, "day": None,
                        "tags": None}},
        {"type": "Feature", "geometry": None,
         "properties": {"text": None, "n": -7, "x": -0.25, "ok": False, "day": "1999-12-31",
                        "tags": []}},
    ]  # fmt: skip
    path = tmp_path / "values.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    report = load(settings, descriptor("round-trip", path))
    assert report.feature_count == 3 and report.null_geometries == 1
    with db.connect(settings) as conn:
        rows = conn.execute(
            'SELECT "text", n, x, ok, day::text, tags::text, geom IS NULL '
            'FROM data."round-trip" ORDER BY fid'
        ).fetchall()
    assert rows[0][:5] == ('Ά, "quoted"\nline', 1, 1.5, True, "2024-02-29")
    assert json.loads(rows[0][5]) == ["α", "β"]
    assert rows[1][:6] == ("", None, None, None, None, None)
    assert rows[2][:5] == (None, -7, -0.25, False, "1999-12-31") and rows[2][6] is True


def test_declared_filter_fields_are_indexed(settings, shared_data):
    path = shared_data / SAMPLES["02"][0]
    indexed = parse_descriptor(
        {"id": "indexed", "title": "x", "source": {"path": str(path)}, **licence_keys(path),
         "fields": {"index": ["NAME_GR", "POP"]}}
    )  # fmt: skip
    load(settings, indexed)
    with db.connect(settings) as conn:
        definitions = [
            row[0]
            for row in conn.execute(
                "SELECT indexdef FROM pg_indexes "
                "WHERE schemaname = 'data' AND tablename = 'indexed'"
            )
        ]
    # (field, key): a filtered page in key order reads one range of the index
    assert any("(name_gr, fid)" in d for d in definitions)
    assert any("(pop, fid)" in d for d in definitions)
    unknown = parse_descriptor(
        {"id": "indexed", "title": "x", "source": {"path": str(path)}, **licence_keys(path),
         "fields": {"index": ["NO_SUCH"]}}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="fields.index"):
        load(settings, unknown)


def test_heavy_geometries_get_their_geojson_precomputed(settings, demo_collections):
    with db.connect(settings) as conn:
        polygons = registry.get_collection(conn, "prefectures")
        points = registry.get_collection(conn, "settlements")
        same = conn.execute(
            "SELECT bool_and(geom_json = ST_AsGeoJSON(geom, 7, 0)) FROM data.prefectures"
        ).fetchone()[0]
    assert polygons.geojson_column == "geom_json" and points.geojson_column is None
    assert same


def test_big_features_are_paged_a_row_each_with_the_same_page(settings, demo_collections):
    from geoservice.server.features.store import BIG_FEATURE_VERTICES, FeatureStore, Layer, Query
    from geoservice.server.pygeoapi_config import collection_resource

    with db.connect(settings) as conn:
        prefectures = registry.get_collection(conn, "prefectures")
        points = registry.get_collection(conn, "settlements")
    assert prefectures.mean_vertices >= BIG_FEATURE_VERTICES > points.mean_vertices
    provider = collection_resource(settings, prefectures)["providers"][0]
    big = Layer.from_provider(provider)
    small = Layer.from_provider({**provider, "mean_vertices": None})
    assert big.row_per_feature and not small.row_per_feature
    store = FeatureStore(settings.dsn)
    pages = [(Query(), 10, 0), (Query(), 100, 50), (Query(bbox=[0, 0, 1, 1]), 5, 0)]
    for query, limit, offset in pages:
        one_row, row_each = (store.page(layer, query, limit, offset) for layer in (small, big))
        assert (row_each.returned, row_each.last_key) == (one_row.returned, one_row.last_key)
        assert json.loads(row_each.features_json) == json.loads(one_row.features_json)
    assert store.page(big, Query(), 10, 0).returned == 10
