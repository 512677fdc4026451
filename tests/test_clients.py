"""Real clients over real HTTP: GDAL's OAPIF driver, OWSLib, and QGIS's OAPIF provider."""

from __future__ import annotations

import pyogrio
import pytest
from clients import ogr2ogr_export, ogr_read, ogrinfo_summary, qgis_available, qgis_open
from owslib.ogcapi.features import Features

from geoservice.settings import PROJECT_ROOT

pytestmark = pytest.mark.clients

CITY_BOX = (22.9, 40.6, 23.0, 40.7)  # central Thessaloniki: 7 of the 11 municipalities


def source_greek_names() -> set[str]:
    frame = pyogrio.read_dataframe(
        PROJECT_ROOT / "data/demo/municipalities.geojson", read_geometry=False
    )
    return set(frame["name_greek"])


def test_gdal_ogrinfo_reads_the_layer(live_server):
    summary = ogrinfo_summary(live_server, "municipalities")
    assert summary["feature_count"] == 11
    assert "name_greek" in summary["fields"]


def test_gdal_ogr2ogr_exports_a_rectangle_with_greek_text(live_server, tmp_path):
    out = ogr2ogr_export(live_server, "municipalities", tmp_path / "m.gpkg", spat=CITY_BOX)
    features = ogr_read(out)
    assert len(features) == 7
    names = {f["properties"]["name_greek"] for f in features}
    assert names <= source_greek_names() and "Θεσσαλονίκης" in names


def test_gdal_pages_through_a_bigger_layer(live_server, tmp_path):
    out = ogr2ogr_export(
        live_server, "settlements", tmp_path / "s.gpkg", extra_args=["-oo", "PAGE_SIZE=1000"]
    )
    assert len(ogr_read(out)) == 5900


def test_owslib_lists_queries_and_fetches(live_server):
    api = Features(live_server)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"municipalities", "prefectures", "settlements"} <= ids
    page = api.collection_items("municipalities", bbox=list(CITY_BOX), limit=100)
    assert page["numberMatched"] == 7 and len(page["features"]) == 7
    queryables = api.collection_queryables("prefectures")
    assert "geometry" in queryables["properties"]
    one = api.collection_item("municipalities", page["features"][0]["id"])
    assert one["id"] == page["features"][0]["id"]
    assert api.api()["openapi"].startswith("3.0")


@pytest.fixture(scope="module")
def qgis() -> None:
    if not qgis_available():
        pytest.fail("QGIS (python3-qgis) is not installed: run scripts/setup.sh test")


def test_qgis_loads_counts_and_reads_greek(live_server, qgis):
    layer = qgis_open(live_server, "municipalities")
    assert layer["valid"] and layer["feature_count"] == 11 and layer["features_read"] == 11
    names = {row["name_greek"] for row in layer["sample"]}
    assert names <= source_greek_names()
    # QGIS took its page size from the OpenAPI document's limit maximum (it caps it at 1000;
    # without that maximum it falls back to 100).
    assert layer["requests"][-1].endswith("items?limit=1000"), layer["requests"]


def test_qgis_restricted_to_a_rectangle_sends_bbox(live_server, qgis):
    layer = qgis_open(live_server, "municipalities", bbox=CITY_BOX)
    assert layer["features_read"] == 7
    assert any("bbox=" in url for url in layer["requests"])


def test_qgis_reads_the_greek_grid_layer_in_pages(live_server, qgis):
    layer = qgis_open(live_server, "prefectures", page_size=20)
    assert layer["valid"] and layer["feature_count"] == 55 and layer["features_read"] == 55
    assert sum("offset=" in url for url in layer["requests"]) >= 2  # followed next links


def test_the_date_header_follows_the_clock(live_server):
    """The served Date header is cached per second (server/serving.py): it must still move."""
    import email.utils
    import time
    import urllib.request

    def served_date() -> float:
        with urllib.request.urlopen(live_server + "/?f=json", timeout=10) as response:
            return email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()

    first = served_date()
    assert abs(first - time.time()) < 5
    time.sleep(2.1)
    assert served_date() - first >= 2


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("cartodb_id > 70", lambda p: p["cartodb_id"] > 70),
        ("name_greek LIKE 'Θ%'", lambda p: p["name_greek"].startswith("Θ")),
    ],
)
def test_gdal_sends_where_to_the_server(live_server, tmp_path, where, expected):
    """GDAL's OAPIF driver sends `-where` to the server as CQL only when the OpenAPI document
    offers filter-lang=cql-text (it never reads /conformance): its debug log shows the filter
    in the request, and the features it writes are the right ones."""
    import subprocess

    from clients import client_env

    out = tmp_path / "where.gpkg"
    run = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live_server}", "municipalities",
         "-where", where, "--config", "CPL_DEBUG", "ON"],
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=120,
        env=client_env(), stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    fetched = [line for line in run.stderr.splitlines() if "HTTP: Fetch(" in line]
    assert any("filter-lang=cql-text" in line and "&filter=" in line for line in fetched), fetched
    written = [f["properties"] for f in ogr_read(out)]
    everything = [f["properties"] for f in Features(live_server).collection_items(
        "municipalities", limit=100)["features"]]  # fmt: skip
    wanted = sorted(p["cartodb_id"] for p in everything if expected(p))
    assert wanted and sorted(p["cartodb_id"] for p in written) == wanted
