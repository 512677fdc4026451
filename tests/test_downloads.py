"""File downloads are converted a batch at a time (bounded memory): every batch arrives."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geoservice.server.features import downloads


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "csv", "kml"])
def test_every_batch_is_written(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(downloads, "BATCH", 3)  # 10 features: batches of 3, 3, 3, 1
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [400_000 + i, 4_500_000 + i]},
            "properties": {"n": i, "name": f"Θέρμη {i}"},
        }
        for i in range(10)
    ]
    chunks = iter([json.dumps({"type": "FeatureCollection", "features": features}).encode()])
    path = downloads._convert(chunks, tmp_path, "layer", downloads.FORMATS[fmt], 2100)
    if fmt == "shp":
        with zipfile.ZipFile(path) as zipped:
            assert zipped.read("layer.cpg") == b"UTF-8"
        path = f"/vsizip/{path}"
    frame = pyogrio.read_dataframe(f"CSV:{path}" if fmt == "csv" else path)
    assert sorted(int(v) for v in frame["n"]) == list(range(10))
    assert "Θέρμη 9" in set(frame["Name" if fmt == "kml" else "name"])  # KML's own name
    if fmt in ("gpkg", "shp"):
        assert frame.crs.to_epsg() == 2100


def test_an_empty_layer_is_an_empty_file(tmp_path):
    chunks = iter([b'{"type":"FeatureCollection","features":[]}'])
    path = downloads._convert(chunks, tmp_path, "layer", downloads.FORMATS["gpkg"], 4326)
    assert len(pyogrio.read_dataframe(path)) == 0


# -- the portal's route: a HEAD converts nothing, an aborted GET leaves nothing behind ------

DOWNLOAD = "/portal/datasets/municipalities/download"


@pytest.fixture
def temporary(monkeypatch, tmp_path):
    """The temporary folders the downloads make, counted in a temp dir of this test's own (other
    test runs on the machine make theirs in the system one); the conversions, counted."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(downloads, "CHUNK", 4096)  # files of several chunks
    converted = []
    convert = downloads._convert

    def counted(*args, **kwargs):
        converted.append(args[3].driver)
        return convert(*args, **kwargs)

    monkeypatch.setattr(downloads, "_convert", counted)

    def folders() -> list[str]:
        return sorted(p.name for p in Path(tempfile.gettempdir()).glob("geoservice-download-*"))

    return folders, converted


@pytest.mark.parametrize("fmt", ["shp", "gpkg", "csv", "kml"])
def test_a_head_converts_nothing_and_leaves_nothing(client, temporary, fmt):
    folders, converted = temporary
    assert folders() == []
    response = client.head(DOWNLOAD, query_string={"format": fmt})
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["Content-Type"] == downloads.FORMATS[fmt].media_type
    assert "attachment" in response.headers["Content-Disposition"]
    response.close()
    assert (converted, folders()) == ([], [])  # nothing converted, nothing left


def test_a_head_refuses_what_a_get_refuses(client, temporary):
    folders, converted = temporary
    assert client.head(DOWNLOAD, query_string={"format": "dxf"}).status_code == 400
    assert client.head(DOWNLOAD, query_string={"format": "shp", "crs": "3857"}).status_code == 400
    assert client.head(DOWNLOAD.replace("municipalities", "nosuch")).status_code == 404
    assert converted == [] and folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_get_aborted_after_the_first_chunk_removes_its_folder(client, temporary, fmt):
    """The client goes away mid-file: the WSGI server closes the response iterator, and the
    converted layer goes with it."""
    folders, converted = temporary
    response = client.get(DOWNLOAD, query_string={"format": fmt}, buffered=False)
    assert response.status_code == 200
    assert converted == [downloads.FORMATS[fmt].driver]
    assert len(folders()) == 1  # the converted layer, being sent
    assert int(response.headers["Content-Length"]) > 2 * downloads.CHUNK  # an abort mid-file
    assert len(next(iter(response.response))) == downloads.CHUNK
    response.close()
    assert folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_get_closed_before_its_first_chunk_removes_its_folder(client, temporary, fmt):
    """The server closes the body before reading any of it (the test client always reads the
    first chunk, so the WSGI app is called directly here)."""
    from werkzeug.test import EnvironBuilder

    folders, converted = temporary
    environ = EnvironBuilder(path=DOWNLOAD, query_string={"format": fmt}).get_environ()
    statuses = []
    body = client.application(
        environ, lambda status, headers, exc_info=None: statuses.append(status)
    )
    assert statuses == ["200 OK"] and converted == [downloads.FORMATS[fmt].driver]
    assert len(folders()) == 1
    body.close()
    assert folders() == []


@pytest.mark.parametrize("fmt", ["shp", "gpkg"])
def test_a_complete_get_removes_its_folder(client, temporary, fmt):
    folders, _ = temporary
    response = client.get(DOWNLOAD, query_string={"format": fmt})
    assert response.status_code == 200
    assert len(response.get_data()) == int(response.headers["Content-Length"])
    response.close()
    assert folders() == []


# -- CSV for Excel: a byte order mark, X/Y columns; GeoPackages GDAL 3.6 opens -------------

POINTS = "/portal/datasets/settlements/download"  # 5,900 points with Greek names
BOM = b"\xef\xbb\xbf"


def _csv(client, **query: str) -> bytes:
    response = client.get(POINTS, query_string={"format": "csv", **query})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data()


def test_a_csv_for_excel_starts_with_a_byte_order_mark(client):
    """Excel reads a CSV without a BOM in the system's code page: Greek comes out garbled."""
    plain, marked = _csv(client), _csv(client, bom="true")
    assert not plain.startswith(BOM)
    assert marked.startswith(BOM) and marked[len(BOM) :] == plain  # nothing else changes
    rows = list(csv.DictReader(io.StringIO(marked.decode("utf-8-sig"))))
    assert "WKT" in rows[0]  # the first column's name, not "\ufeffWKT"
    assert len(rows) == 5900 and "Νέα Παλάτια" in {r["name"] for r in rows}


@pytest.mark.parametrize("crs", ["2100", "4326"])
def test_a_point_layer_as_csv_has_x_and_y_beside_the_wkt(client, tmp_path, crs):
    data = _csv(client, geometry="wkt-xy", crs=crs)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0])[:3] == ["WKT", "X", "Y"]
    for row in rows:
        point = shapely.from_wkt(row["WKT"])
        assert (float(row["X"]), float(row["Y"])) == (point.x, point.y)
    first = next(r for r in rows if r["name"] == "Νέα Παλάτια")
    x, y = float(first["X"]), float(first["Y"])
    if crs == "4326":  # lon, lat as in the source (the API's 7 decimals: 1 cm)
        assert (x, y) == pytest.approx((23.795096557825062, 38.31998390402817), abs=1e-7)
    else:  # EPSG:2100 metres, as PROJ puts the point
        expected = Transformer.from_crs(4326, 2100, always_xy=True).transform(
            23.795096557825062, 38.31998390402817
        )
        assert (x, y) == pytest.approx(expected, abs=0.02)
    # GDAL's CSV driver builds the points from the columns it is told to read.
    path = tmp_path / "points.csv"
    path.write_bytes(data)
    frame = pyogrio.read_dataframe(
        path, X_POSSIBLE_NAMES="X", Y_POSSIBLE_NAMES="Y", KEEP_GEOM_COLUMNS="NO"
    )
    assert len(frame) == 5900
    assert frame.geometry.iloc[0].equals(shapely.from_wkt(rows[0]["WKT"]))


def test_a_point_layer_as_csv_with_x_and_y_instead_of_the_wkt(client, tmp_path):
    data = _csv(client, geometry="xy", bom="yes", crs="2100")
    assert data.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:2] == ["X", "Y"] and "WKT" not in rows[0]
    path = tmp_path / "points.csv"
    path.write_bytes(data)
    result = subprocess.run(
        ["/usr/bin/ogrinfo", "-al", "-so", "-oo", "X_POSSIBLE_NAMES=X", "-oo",
         "Y_POSSIBLE_NAMES=Y", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Geometry: Point" in result.stdout and "Feature Count: 5900" in result.stdout
    assert "name: String" in result.stdout  # the BOM is no part of the first column's name


def test_a_property_named_x_keeps_its_name(tmp_path):
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.5, 2.5]},
         "properties": {"x": "του χρήστη", "n": 1}},
        {"type": "Feature", "geometry": None, "properties": {"x": "χωρίς σημείο", "n": 2}},
    ]  # fmt: skip
    chunks = iter([json.dumps({"type": "FeatureCollection", "features": features}).encode()])
    fmt = dataclasses.replace(downloads.FORMATS["csv"], xy=True)
    path = downloads._convert(chunks, tmp_path, "layer", fmt, 4326)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [(r["_X"], r["_Y"], r["x"]) for r in rows] == [
        ("1.5", "2.5", "του χρήστη"),
        ("", "", "χωρίς σημείο"),  # no geometry: empty, not nan
    ]


@pytest.mark.parametrize(
    "path, query, named",
    [
        (POINTS, {"format": "csv", "bom": "maybe"}, "bom"),
        (POINTS, {"format": "csv", "geometry": "latlon"}, "geometry"),
        (POINTS, {"format": "gpkg", "bom": "true"}, "bom"),
        (POINTS, {"format": "shp", "geometry": "xy"}, "geometry"),
        (DOWNLOAD, {"format": "csv", "geometry": "xy"}, "geometry"),  # polygons
        (DOWNLOAD, {"format": "csv", "geometry": "wkt-xy"}, "geometry"),
    ],
)
def test_csv_choices_that_cannot_apply_are_a_400_naming_them(client, path, query, named):
    for method in (client.get, client.head):
        response = method(path, query_string=query)
        assert response.status_code == 400
    description = client.get(path, query_string=query).get_json()["description"]
    assert description.startswith(named), description


def test_the_csv_choices_are_in_the_openapi_document(client):
    document = client.get("/openapi?f=json").get_json()
    operation = document["paths"]["/portal/datasets/{datasetId}/download"]["get"]
    declared = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert declared["bom"] == {"type": "boolean", "default": False}
    assert declared["geometry"]["enum"] == ["wkt", "wkt-xy", "xy"]
    assert "text/csv; charset=utf-8" in operation["responses"]["200"]["content"]


@pytest.mark.parametrize("dataset, count", [("municipalities", None), ("settlements", 5900)])
def test_a_geopackage_opens_in_debian_gdal_without_a_warning(client, tmp_path, dataset, count):
    """Debian 12's GDAL (3.6, as in QGIS 3.28 LTR there) warns about GeoPackage 1.4, which GDAL
    3.7 and later write by default: "may only be partially supported"."""
    response = client.get(f"/portal/datasets/{dataset}/download", query_string={"format": "gpkg"})
    assert response.status_code == 200
    path = tmp_path / f"{dataset}.gpkg"
    path.write_bytes(response.get_data())
    expected = (
        count or client.get(f"/collections/{dataset}/items?limit=1").get_json()["numberMatched"]
    )
    result = subprocess.run(
        ["/usr/bin/ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True
    )
    assert "Warning" not in result.stderr and "Warning" not in result.stdout, result.stderr
    assert f"Feature Count: {expected}" in result.stdout


def test_the_form_defaults_change_nothing_for_other_formats(client):
    """The portal's form sends geometry=wkt (its select's default) whatever the format."""
    response = client.get(POINTS, query_string={"format": "gpkg", "geometry": "wkt", "bom": "no"})
    assert response.status_code == 200
    assert response.get_data().startswith(b"SQLite format 3\x00")


def test_the_portal_form_offers_the_csv_options(client):
    points = client.get("/portal/datasets/settlements?lang=en").get_data(as_text=True)
    polygons = client.get("/portal/datasets/municipalities?lang=en").get_data(as_text=True)
    for page in (points, polygons):
        assert 'id="csv-options"' in page and 'name="bom" value="true"' in page
    assert 'name="geometry"' in points and 'value="wkt-xy"' in points
    assert 'name="geometry"' not in polygons  # X/Y columns are for points only


def test_the_form_sends_the_csv_options_with_a_csv_only(live_server, tmp_path):
    """In a browser: the options are disabled (not sent) unless the format is CSV."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "no Chromium: apt-get install chromium"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(accept_downloads=True).new_page()
        page.goto(f"{live_server}/portal/datasets/settlements?lang=en")
        bom = page.locator("#download-bom")
        sync_api.expect(bom).to_be_disabled()  # GeoJSON, the first format
        page.select_option("#format", "csv")
        sync_api.expect(bom).to_be_enabled()
        bom.check()
        page.select_option("#download-geometry", "xy")
        with page.expect_download() as download:
            page.click("#download-button")
        data = Path(download.value.path()).read_bytes()
        assert data.startswith(BOM + b"X,Y,") and b"WKT" not in data[:100]
        page.select_option("#format", "gpkg")  # the box stays ticked, but is not sent
        sync_api.expect(bom).to_be_disabled()
        with page.expect_download() as download:
            page.click("#download-button")
        assert Path(download.value.path()).read_bytes().startswith(b"SQLite format 3\x00")
        browser.close()
