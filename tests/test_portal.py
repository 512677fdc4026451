"""The data portal in a real browser: Debian's headless Chromium driven by Playwright against
`geoservice serve` (live_server), with axe-core checking every page for WCAG 2.1 A/AA.

The catalogue holds the demo collections plus generated records (200 in all) while these tests
run (the load-time budget itself is measured by bench/portal_load.py). Requests to other hosts
than the server (the base-map tiles) are refused, as on a machine without internet: the pages
must still work.
`PORTAL_SCREENSHOTS=docs` saves a screenshot of each page (the README's pictures).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pyogrio
import pytest
import requests

from geoservice.server.records import search as catalogue_search
from geoservice.settings import PROJECT_ROOT
from geoservice.store.records import Entry
from loaders import catalogue as index

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]'")
expect = playwright_api.expect  # waits without eval (the pages' CSP forbids it)

# GEOSERVICE_CHROMIUM names the browser; else the first on PATH (Debian: chromium).
CHROMIUM = (
    os.environ.get("GEOSERVICE_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE = PROJECT_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CATALOGUE_SIZE = 200
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")
THESSALONIKI = "22.85,40.55,23.05,40.70"
CRETE = "24.0,35.0,26.0,35.6"
DEPARTMENTS = [
    ("Διεύθυνση Καθαριότητας", "Cleaning Directorate"),
    ("Διεύθυνση Πρασίνου", "Parks Directorate"),
    ("Διεύθυνση Κυκλοφορίας", "Traffic Directorate"),
]
THEMES = ["tn", "us", "lc", "hy"]


@pytest.fixture(scope="module")
def catalogue_of_200(settings, demo_collections) -> Iterator[list[str]]:
    """Generated records around Thessaloniki up to CATALOGUE_SIZE, removed afterwards.

    Written with the catalogue's own publish(); the catalogue version is bumped as a load
    does, so servers forget counts they remembered for the smaller catalogue."""
    now = datetime.now(UTC)
    with psycopg.connect(settings.dsn, autocommit=False) as conn:
        present = catalogue_search.run(conn, catalogue_search.Search(limit=1)).matched
        ids = [f"generated-{n:03d}" for n in range(CATALOGUE_SIZE - present)]
        for n, record_id in enumerate(ids):
            el, en = DEPARTMENTS[n % len(DEPARTMENTS)]
            x, y = 22.90 + (n % 10) * 0.01, 40.58 + (n // 10) * 0.004
            index.publish(
                conn,
                Entry(
                    id=record_id,
                    kind="dataset",
                    title={"el": f"Δημοτικό σύνολο {n}", "en": f"Municipal dataset {n}"},
                    description={"el": "Παραγόμενη εγγραφή δοκιμής.", "en": "A generated record."},
                    keywords={"el": ["δοκιμή"], "en": ["test"]},
                    licence="CC-BY-4.0",
                    contact={"department": {"el": el, "en": en}},
                    inspire_theme=THEMES[n % len(THEMES)],
                    bbox=[x, y, x + 0.01, y + 0.01],
                    geometry_type="Point" if n % 2 else "MultiPolygon",
                    feature_count=n * 10,
                    updated=(now - timedelta(days=n * 4)).isoformat(),
                    update_frequency="monthly" if n % 3 == 0 else "asNeeded",
                ),
            )
        conn.execute("SELECT nextval('geoservice.catalogue_version')")
        conn.commit()
    yield ids
    with psycopg.connect(settings.dsn) as conn:
        for record_id in ids:
            index.remove(conn, record_id)
        conn.execute("SELECT nextval('geoservice.catalogue_version')")


@pytest.fixture(scope="module")
def browser(live_server) -> Iterator[object]:
    """Chromium that resolves no host but the server's: the internet is unreachable."""
    if not CHROMIUM or not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium ({CHROMIUM or 'chromium, chromium-browser not on PATH'}): apt-get install"
            " chromium (scripts/setup.sh test), or set GEOSERVICE_CHROMIUM to its path"
        )
    offline = f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {urlparse(live_server).hostname}"
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, offline]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def portal(browser, live_server, catalogue_of_200) -> Iterator[object]:
    """A fresh browser page (no cookies)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.outside = []  # what the page asked of other hosts
    page.errors = []
    server = urlparse(live_server).netloc
    page.on(
        "request",
        lambda r: None if urlparse(r.url).netloc == server else page.outside.append(r.url),
    )
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.base = live_server
    yield page
    context.close()


def assert_accessible(page, name: str, screenshot: bool = True) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation; the page threw no script error; the only
    outside requests were base-map tiles."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: tags})).violations.map(v => "
        "({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html.slice(0, 200))}))",
        AXE_TAGS,
    )
    assert violations == [], f"{name}: {violations}"
    assert page.errors == [], f"{name}: script errors {page.errors}"
    assert all("tile.openstreetmap.org" in url for url in page.outside), page.outside
    if SCREENSHOTS and screenshot:
        folder = PROJECT_ROOT / SCREENSHOTS
        folder.mkdir(exist_ok=True)
        height = min(page.evaluate("() => document.body.scrollHeight"), 2200)
        page.screenshot(
            path=str(folder / f"portal-{name}.png"),
            full_page=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": height},
        )


def result_ids(page) -> list[str]:
    return page.locator("li.result").evaluate_all("items => items.map(i => i.dataset.id)")


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


# -- home: search ----------------------------------------------------------------------


def test_home_page_is_greek_by_default_and_accessible(portal):
    portal.goto(portal.base + "/portal/")
    assert portal.locator("html").get_attribute("lang") == "el"
    assert portal.get_by_role("heading", level=1).inner_text() == "Βρείτε δεδομένα της πόλης"
    assert f"{CATALOGUE_SIZE} σύνολα δεδομένων" in portal.locator("#result-count").inner_text()
    assert portal.locator("li.result").count() == 10
    assert portal.locator("li.result svg.mini-extent rect.extent").count() == 10
    departments = portal.locator("ul.facet[data-facet='department']").inner_text()
    assert "Διεύθυνση Χωρικού Σχεδιασμού" in departments
    assert "Spatial Planning Directorate" not in departments
    assert_accessible(portal, "home")


def test_search_by_words(portal):
    portal.goto(portal.base + "/portal/")
    portal.get_by_label("Λέξεις αναζήτησης").fill("σεισμολογικοι σταθμοι")
    portal.keyboard.press("Enter")
    portal.wait_for_url(re.compile(r"q="))
    assert result_ids(portal) == ["seismic-stations"]
    portal.get_by_role("link", name="Σεισμολογικοί σταθμοί του ελληνικού δικτύου").click()
    portal.wait_for_url(re.compile(r"/portal/datasets/seismic-stations"))


def test_search_by_facet(portal):
    portal.goto(portal.base + "/portal/?q=Ελλάδας")
    before = set(result_ids(portal))
    assert {"prefectures", "settlements"} <= before
    portal.locator("ul.facet[data-facet='theme']").get_by_role("link", name="Τοπωνύμια").click()
    portal.wait_for_url(re.compile(r"theme=gn"))
    assert result_ids(portal) == ["settlements"]
    assert query_of(portal)["q"] == ["Ελλάδας"]  # the words are kept
    assert_accessible(portal, "home-facet")
    # the active filter is listed and removable
    portal.locator(".active-filters a").first.click()
    assert set(result_ids(portal)) == before


def extents(page) -> dict[str, list[float]]:
    """The listed results and their extents."""
    return page.locator("li.result[data-bbox]").evaluate_all(
        "items => Object.fromEntries(items.map("
        "i => [i.dataset.id, i.dataset.bbox.split(',').map(Number)]))"
    )


def overlapping(found: dict[str, list[float]], area: list[float]) -> set[str]:
    return {
        rid
        for rid, (w, s, e, n) in found.items()
        if w <= area[2] and e >= area[0] and s <= area[3] and n >= area[1]
    }


def test_search_by_drawn_area(portal):
    portal.goto(portal.base + "/portal/?q=δήμοι,νομός")
    before = extents(portal)
    assert {"municipalities", "prefectures", "thessaloniki-prefecture"} <= set(before)
    portal.locator(".leaflet-draw-draw-rectangle").click()
    box = portal.locator("#search-map").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    portal.mouse.move(x, y)
    portal.mouse.down()
    portal.mouse.move(x + 80, y + 60, steps=5)
    portal.mouse.up()
    portal.wait_for_url(re.compile(r"bbox="))
    drawn = [float(v) for v in query_of(portal)["bbox"][0].split(",")]
    west, south, east, north = drawn
    assert 22.7 < west < east < 23.2 and 40.5 < south < north < 40.8  # around the city
    assert query_of(portal)["q"] == ["δήμοι,νομός"]
    assert set(result_ids(portal)) == overlapping(before, drawn)
    assert "municipalities" in result_ids(portal)
    # the drawn area is kept on the map and in the coordinates field
    assert (
        portal.get_by_label(re.compile("Συντεταγμένες")).input_value()
        == query_of(portal)["bbox"][0]
    )
    assert_accessible(portal, "home-area")


def test_search_by_panned_map_area(portal):
    """Keyboard only: "This area" searches the map's view; the arrow keys pan it first."""

    def this_area(pans: int) -> list[float]:
        portal.goto(portal.base + "/portal/?q=δήμοι,νομός")
        search_map = portal.locator("#search-map")
        search_map.focus()
        for _ in range(pans):
            search_map.press("ArrowLeft")  # the view moves west
        portal.wait_for_timeout(400)
        portal.get_by_role("button", name="Αυτή η περιοχή").press("Enter")
        portal.wait_for_url(re.compile(r"bbox="))
        return [float(v) for v in query_of(portal)["bbox"][0].split(",")]

    portal.goto(portal.base + "/portal/?q=δήμοι,νομός")
    before = extents(portal)
    first = this_area(0)
    assert first[0] < 22.85 and first[2] > 23.05  # the first view covers the city
    panned = this_area(4)
    assert panned[0] < first[0] - 0.05 and panned[2] < first[2] - 0.05  # moved west
    assert abs((panned[2] - panned[0]) - (first[2] - first[0])) < 0.01  # same zoom
    assert abs(panned[1] - first[1]) < 0.01
    assert set(result_ids(portal)) == overlapping(before, panned)
    assert query_of(portal)["q"] == ["δήμοι,νομός"]


def test_search_by_area_without_the_map(portal):
    """Keyboard only: coordinates typed, or a municipality chosen from the list."""
    portal.goto(portal.base + "/portal/?q=δήμοι,νομός")
    before = extents(portal)
    portal.get_by_label(re.compile("Συντεταγμένες")).fill(CRETE)
    portal.get_by_label(re.compile("Συντεταγμένες")).press("Enter")
    portal.wait_for_url(re.compile(r"bbox="))
    found = set(result_ids(portal))
    assert found == overlapping(before, [float(v) for v in CRETE.split(",")])
    assert "prefectures" in found and "municipalities" not in found  # Crete is far away

    portal.goto(portal.base + "/portal/?q=δήμοι,νομός")
    chooser = portal.get_by_label("Δήμος ή περιοχή")
    assert chooser.locator("option").count() == 12  # anywhere + the 11 municipalities
    chooser.focus()
    with portal.expect_navigation():
        chooser.select_option(label="Καλαμαριάς")
    assert query_of(portal)["place"][0].startswith("municipalities:")
    assert "thessaloniki-prefecture" in result_ids(portal)
    assert "Καλαμαριάς" in portal.locator("#place option:checked").inner_text()


def test_bad_area_is_one_line_error(portal):
    response = portal.goto(portal.base + "/portal/?bbox=1,2,3")
    assert response.status == 400
    assert portal.get_by_role("alert").inner_text().startswith("bbox takes 4 numbers")
    assert "Traceback" not in portal.content()
    assert_accessible(portal, "home-error", screenshot=False)


# -- dataset page ------------------------------------------------------------------------


def test_dataset_page_points_are_clustered_and_table_pages_and_sorts(portal):
    portal.goto(portal.base + "/portal/datasets/settlements")
    assert portal.get_by_role("heading", level=1).inner_text() == "Οικισμοί της Ελλάδας"
    portal.locator(".marker-cluster").first.wait_for()
    assert re.search(r"1000 / 5900", portal.locator("#map-status").inner_text())
    rows = portal.locator("#attribute-table tbody tr")
    rows.first.wait_for()
    assert rows.count() == 20
    assert portal.locator("#table-status").inner_text() == "Γραμμές 1–20 από 5900"
    portal.locator("#table-next").click()
    expect(portal.locator("#table-status")).to_have_text("Γραμμές 21–40 από 5900")
    header = portal.locator("#attribute-table th[data-field='onoma']")
    header.get_by_role("button").click()
    expect(portal.locator("#table-status")).to_have_text("Γραμμές 1–20 από 5900")
    assert header.get_attribute("aria-sort") == "ascending"
    column = portal.locator("#attribute-table tbody td:nth-child(3)").all_inner_texts()
    assert column == sorted(column) and column[0].startswith("Ά")  # Greek order
    assert_accessible(portal, "dataset-points")


def test_dataset_page_polygons_have_popups_and_metadata(portal):
    portal.goto(portal.base + "/portal/datasets/municipalities")
    polygons = portal.locator("#preview-map path.leaflet-interactive")
    expect(polygons).to_have_count(11)
    polygons.first.click(force=True)
    popup = portal.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Όνομα" in popup.inner_text()  # the field's label (tests/test_portal_edges.py)
    text = portal.locator("main").inner_text()
    for expected in ("Διεύθυνση Χωρικού Σχεδιασμού", "CC-BY-4.0", "geodata.gov.gr", "δημοσιεύτηκε"):
        assert expected in text
    assert portal.locator("#qgis-url").inner_text() == portal.base
    href = portal.get_by_role("link", name="Τα στοιχεία (GeoJSON)").get_attribute("href")
    assert requests.get(href, timeout=10).json()["numberMatched"] == 11
    assert_accessible(portal, "dataset-polygons")


def test_unknown_dataset_is_404_page(portal):
    response = portal.goto(portal.base + "/portal/datasets/no-such-thing")
    assert response.status == 404
    assert portal.get_by_role("heading", level=1).inner_text() == "Δεν βρέθηκε"
    assert_accessible(portal, "not-found", screenshot=False)


def test_maps_work_when_the_basemap_is_unreachable(portal, settings):
    """The tile server (server.map.url) is asked, does not answer (the test browser resolves
    no other host): the features are drawn on the map's plain background, nothing breaks."""
    from geoservice.server.pygeoapi_config import base_config

    tiles = urlparse(base_config(settings)["server"]["map"]["url"]).netloc
    portal.goto(portal.base + "/portal/datasets/municipalities")
    expect(portal.locator("#preview-map path.leaflet-interactive")).to_have_count(11)
    expect(portal.locator("#map-status")).to_contain_text("11 / 11")
    assert any(urlparse(url).netloc == tiles for url in portal.outside)  # configured, tried
    assert portal.locator("#preview-map img.leaflet-tile-loaded").count() == 0
    background = portal.locator("#preview-map").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("", "rgba(0, 0, 0, 0)")  # a plain background, not a hole
    portal.goto(portal.base + "/portal/")
    expect(portal.locator("#search-map .leaflet-interactive").first).to_be_attached()
    assert portal.errors == []


# -- downloads -------------------------------------------------------------------------


def test_download_zipped_shapefile_in_greek_grid_opens_in_gdal(portal, tmp_path):
    portal.goto(portal.base + "/portal/datasets/municipalities")
    portal.get_by_label("Μορφή").select_option("shp")
    portal.get_by_label("Σύστημα συντεταγμένων").select_option("2100")
    with portal.expect_download() as download:
        portal.get_by_role("button", name="Λήψη αρχείου").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "municipalities-shp.zip"
    with zipfile.ZipFile(path) as zipped:
        assert zipped.read("municipalities.cpg") == b"UTF-8"
    frame = pyogrio.read_dataframe(f"/vsizip/{path}")
    assert len(frame) == 11 and frame.crs.to_epsg() == 2100
    assert "Καλαμαριάς" in set(frame["name_greek"])
    west, south, east, north = frame.total_bounds
    assert 380_000 < west < east < 440_000 and 4_460_000 < south < north < 4_520_000


def test_download_the_area_on_the_map(portal, tmp_path):
    portal.goto(portal.base + "/portal/datasets/settlements")
    portal.locator(".marker-cluster").first.wait_for()
    for _ in range(3):
        portal.get_by_role("button", name="Zoom in").click()
        portal.wait_for_timeout(350)
    portal.get_by_label("Μόνο η περιοχή που φαίνεται στον χάρτη").check()
    bbox = portal.locator("#download-bbox").input_value()
    assert len(bbox.split(",")) == 4
    portal.get_by_label("Μορφή").select_option("gpkg")
    with portal.expect_download() as download:
        portal.get_by_role("button", name="Λήψη αρχείου").click()
    path = tmp_path / "settlements.gpkg"
    download.value.save_as(path)
    frame = pyogrio.read_dataframe(path)
    west, south, east, north = map(float, bbox.split(","))
    assert 0 < len(frame) < 5900
    xs, ys = frame.geometry.x, frame.geometry.y
    assert xs.between(west, east).all() and ys.between(south, north).all()


@pytest.mark.parametrize(
    ("fmt", "crs", "driver_path", "epsg"),
    [
        ("geojson", "4326", "{}", 4326),
        ("geojson", "2100", "{}", 2100),
        ("csv", "4326", "CSV:{}", None),
        ("gpkg", "2100", "{}", 2100),
        ("kml", "2100", "{}", 4326),  # KML is always WGS84
    ],
)
def test_every_download_format_opens_in_gdal(live_server, tmp_path, fmt, crs, driver_path, epsg):
    response = requests.get(
        f"{live_server}/portal/datasets/municipalities/download",
        params={"format": fmt, "crs": crs},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    filename = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"])[1]
    path = tmp_path / filename
    path.write_bytes(response.content)
    frame = pyogrio.read_dataframe(driver_path.format(path))
    assert len(frame) == 11
    if epsg:
        assert frame.crs.to_epsg() == epsg
    names = frame["name_greek"] if "name_greek" in frame else frame["Name"]
    assert "Καλαμαριάς" in set(names)


def test_download_mistakes_are_400_with_one_line(live_server):
    for params, message in (
        ({"format": "xls"}, "format: 'xls' is not offered"),
        ({"crs": "3857"}, "crs: '3857' is not offered"),
        ({"format": "csv", "bbox": "1,2"}, "bbox takes 4 numbers"),
    ):
        response = requests.get(
            f"{live_server}/portal/datasets/municipalities/download", params=params, timeout=10
        )
        assert response.status_code == 400
        assert response.json()["description"].startswith(message)


# -- language, dashboard, speed -----------------------------------------------------------


def test_language_switch_is_remembered(portal):
    portal.goto(portal.base + "/portal/datasets/municipalities")
    portal.get_by_role("link", name="English").click()
    portal.wait_for_url(re.compile(r"lang=en"))
    assert portal.locator("html").get_attribute("lang") == "en"
    heading = "Municipalities of the Thessaloniki urban area"
    assert portal.get_by_role("heading", level=1).inner_text() == heading
    assert_accessible(portal, "dataset-english")
    portal.goto(portal.base + "/portal/")  # no lang parameter: the cookie remembers
    assert portal.get_by_role("heading", level=1).inner_text() == "Find the city's data"
    assert portal.locator("html").get_attribute("lang") == "en"
    portal.get_by_role("link", name="Ελληνικά").click()
    portal.goto(portal.base + "/portal/dashboard")
    assert portal.locator("html").get_attribute("lang") == "el"


def test_dashboard(portal, catalogue_of_200):
    portal.goto(portal.base + "/portal/dashboard")
    departments = portal.locator("#per-department").inner_text()
    assert re.search(r"Διεύθυνση Χωρικού Σχεδιασμού\t[3-9]", departments)
    assert "Διεύθυνση Καθαριότητας" in departments
    assert "Cleaning Directorate" not in departments  # one language at a time
    assert "Τοπωνύμια" in portal.locator("#per-theme").inner_text()
    stale = portal.locator("#freshness tr.table-warning")
    # generated: monthly ones older than 32 days are overdue (n % 3 == 0 and n * 4 > 32)
    expected = sum(1 for n in range(len(catalogue_of_200)) if n % 3 == 0 and n * 4 > 32)
    # and the demo's air quality measurements: updated daily elsewhere, but when it last was is
    # unknown (its descriptor does not say; the time it was catalogued is no such date): a
    # warning too, saying so, neither stale nor up to date
    assert stale.count() == expected + 1
    undated = stale.filter(has=portal.locator('a[href$="/air-quality-measurements"]'))
    assert "Άγνωστη ημερομηνία" in undated.inner_text()
    assert "Ληξιπρόθεσμο" not in undated.inner_text()
    assert "1 άγνωστης ημερομηνίας" in portal.locator("#summary").inner_text()
    loads = portal.locator("#recent-loads tbody tr")
    assert loads.count() > 0
    recent = portal.locator("#recent-loads").inner_text()
    assert "cp1253" in recent  # a load's warning, in the page's language (loaders.notices)
    assert "το κείμενο διαβάστηκε ως cp1253" in recent and "text read as" not in recent
    # Catalogue growth counts every visible entry, month by month without gaps.
    growth = [row.split("\t") for row in portal.locator("#growth tbody tr").all_inner_texts()]
    months = [datetime.strptime(month, "%Y-%m") for month, _, _ in growth]
    assert len(months) > 12  # the generated records were updated over two years
    assert all(
        (b.year * 12 + b.month) - (a.year * 12 + a.month) == 1
        for a, b in zip(months, months[1:], strict=False)
    )
    assert int(growth[-1][2]) == CATALOGUE_SIZE
    assert sum(int(added) for _, added, _ in growth) == CATALOGUE_SIZE
    assert_accessible(portal, "dashboard")
    portal.goto(portal.base + "/portal/dashboard?lang=en")
    assert "Cleaning Directorate" in portal.locator("#per-department").inner_text()
    recent = portal.locator("#recent-loads").inner_text()
    assert "text read as cp1253" in recent and "διαβάστηκε" not in recent
    assert_accessible(portal, "dashboard-english", screenshot=False)


@pytest.mark.parametrize("path", ["/portal/", "/portal/datasets/settlements", "/portal/dashboard"])
def test_pages_load_with_200_records(portal, path):
    """With 200 records in the catalogue, each page loads (its load event fires) without a
    script error. How fast: bench/portal_load.py (the 1 s budget), not a test."""
    response = portal.goto(portal.base + path)
    assert response is not None and response.status == 200
    timing = portal.evaluate(
        "() => { const t = performance.getEntriesByType('navigation')[0];"
        " return {load: t.loadEventEnd}; }"
    )
    assert timing["load"] > 0
    assert portal.errors == []


# -- pygeoapi's own pages: the same look, Greek, accessible ---------------------------------

PYGEOAPI_PAGES = [
    "/",
    "/conformance",
    "/collections",
    "/collections/municipalities",
    "/collections/municipalities/items",
    "/collections/municipalities/queryables",
    "/collections/settlements/items/1",
    "/collections/catalogue",
    "/collections/catalogue/items",
    "/collections/catalogue/items/municipalities",
]


@pytest.mark.parametrize("path", PYGEOAPI_PAGES)
def test_pygeoapi_pages_share_the_look_and_are_accessible(portal, path):
    portal.goto(portal.base + path + ("&" if "?" in path else "?") + "lang=el")
    assert portal.locator("header.portal-header").count() == 1
    assert portal.locator("link[href$='/static/css/portal.css']").count() == 1
    assert portal.locator("html").get_attribute("lang") == "el"
    assert_accessible(portal, "api" + path.replace("/", "-").rstrip("-"))


def test_api_definition_page_is_accessible(portal):
    """pygeoapi's Swagger UI page (vendored; its contrast, nested links and unlabelled
    server list fixed in templates/openapi/swagger.html)."""
    portal.goto(portal.base + "/openapi?f=html")
    assert portal.locator("html").get_attribute("lang") == "el"
    portal.locator(".opblock-summary-control").first.wait_for()
    assert_accessible(portal, "api-openapi", screenshot=False)
    portal.locator(".opblock-summary-control").first.click()  # an operation, expanded
    portal.locator(".opblock-body").first.wait_for()
    assert_accessible(portal, "api-openapi-operation", screenshot=False)


def test_pygeoapi_pages_in_greek(portal, settings):
    from geoservice.server.pygeoapi_config import base_config

    assert Path(base_config(settings)["server"]["locale_dir"], "el", "LC_MESSAGES").is_dir()
    portal.goto(portal.base + "/?lang=el")
    assert portal.locator("html").get_attribute("dir") == "ltr"
    assert portal.get_by_role("heading", name="Συλλογές").count() == 1
    assert portal.get_by_role("link", name="Δείτε τις συλλογές αυτής της υπηρεσίας").count() == 1
    portal.get_by_role("link", name="English").click()
    assert portal.get_by_role("heading", name="Collections").count() == 1


def test_pygeoapi_pages_greek_by_default_and_remember_the_choice(portal, live_server):
    """A browser that prefers English (Playwright's Chromium sends en-US) still gets Greek
    first, on the portal and on pygeoapi's pages; a choice made on either is remembered on
    both. API clients keep their Accept-Language negotiation."""
    assert "en" in portal.evaluate("() => navigator.language")
    portal.goto(portal.base + "/collections")
    assert portal.locator("html").get_attribute("lang") == "el"
    portal.get_by_role("link", name="English").click()
    portal.wait_for_url(re.compile(r"lang=en"))
    portal.goto(portal.base + "/portal/")  # chosen on a pygeoapi page, kept in the portal
    assert portal.locator("html").get_attribute("lang") == "en"
    portal.get_by_role("link", name="API", exact=True).click()
    portal.get_by_role("link", name="View the collections in this service").click()
    assert portal.locator("html").get_attribute("lang") == "en"
    assert portal.get_by_role("heading", name="Data collections in this service").count() == 1
    portal.goto(portal.base + "/portal/?lang=el")
    portal.goto(portal.base + "/collections/municipalities")  # no lang: the cookie's Greek
    assert portal.locator("html").get_attribute("lang") == "el"
    english = requests.get(
        f"{live_server}/collections/municipalities",
        params={"f": "json"},
        headers={"Accept-Language": "en"},
        timeout=10,
    )
    assert english.headers["Content-Language"] == "en"
    assert english.json()["title"] == "Municipalities of the Thessaloniki urban area"


def test_downloads_select_features_as_the_items_api_does(client, tmp_path):
    """server/features/downloads.py takes the items API's parameters (a property filter, an OGC
    CRS URI), so /collections/{id}/download can offer the same formats."""
    from geoservice.server.features import downloads

    collection = client.application.extensions["geoservice"].current().collections["municipalities"]
    chunks, headers = downloads.response(
        collection,
        {"format": "gpkg", "crs": "http://www.opengis.net/def/crs/EPSG/0/2100", "cartodb_id": "63"},
    )
    path = tmp_path / "one.gpkg"
    path.write_bytes(b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks))
    frame = pyogrio.read_dataframe(path)
    assert list(frame["name_greek"]) == ["Αμπελοκήπων - Μενεμένης"]
    assert frame.crs.to_epsg() == 2100
    assert headers["Content-Disposition"] == 'attachment; filename="municipalities.gpkg"'


def test_a_catalogue_resource_without_features_has_its_links(portal):
    """A service or document record (no layer here): metadata and its own links, no map."""
    portal.goto(portal.base + "/portal/?q=WMS")
    portal.locator("li.result h3 a").first.click()
    portal.wait_for_url(re.compile(r"/portal/datasets/"))
    assert portal.locator("#preview-map").count() == 0
    assert portal.locator(".api-links a[href^='http']").count() >= 3
    assert_accessible(portal, "resource")


# -- access control: the portal shows nothing the caller may not see ------------------------

HIDDEN_ID = "portal-staff-layer"
HIDDEN_WORD = "kingfisherlayer"  # only the hidden layer's title has it


@pytest.fixture(scope="module")
def staff_key(settings, demo_collections) -> Iterator[str]:
    """An internal (staff-only) layer and a staff key, removed afterwards."""
    from geoservice.server import api_keys
    from geoservice.store import db
    from loaders.descriptor import parse_descriptor
    from loaders.pipeline import load
    from loaders.writer import remove_collection

    descriptor = {
        "id": HIDDEN_ID,
        "title": {"el": f"Εσωτερικό {HIDDEN_WORD}", "en": f"Internal {HIDDEN_WORD}"},
        "contact": {"department": {"el": "Κρυφή Διεύθυνση", "en": "Hidden Directorate"}},
        "inspire_theme": "hh",
        "update_frequency": "daily",
        "source": {"path": str(PROJECT_ROOT / "data" / "demo" / "municipalities.geojson")},
        "identifier": "cartodb_id",
        "access": "internal",
    }
    load(settings, parse_descriptor(descriptor))
    with db.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, "test-portal-staff", ["staff"], [])
    yield key
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, HIDDEN_ID)
        conn.execute("DELETE FROM geoservice.api_keys WHERE name = 'test-portal-staff'")


@pytest.mark.parametrize(
    "path",
    [
        f"/portal/?q={HIDDEN_WORD}",
        "/portal/?theme=hh",
        "/portal/",
        "/portal/dashboard",
        f"/portal/datasets/{HIDDEN_ID}",
        f"/portal/datasets/{HIDDEN_ID}/download?format=csv",
    ],
)
def test_portal_shows_no_collection_the_caller_may_not_see(client, staff_key, path):
    """Search results, facet counts, the dashboard (counts, freshness, recent loads, growth),
    the dataset page with its load history, and downloads: for an anonymous visitor the
    internal layer does not exist; with a staff key it is there."""
    anonymous = client.get(path)
    staff = client.get(path, headers={"Authorization": f"Bearer {staff_key}"})
    text = anonymous.get_data(as_text=True)
    for hint in (f"Εσωτερικό {HIDDEN_WORD}", f'/portal/datasets/{HIDDEN_ID}"', "Κρυφή Διεύθυνση"):
        assert hint not in text, (path, hint)
    if "/datasets/" in path:
        assert (anonymous.status_code, staff.status_code) == (404, 200)
        # hidden is indistinguishable from absent
        absent = client.get(path.replace(HIDDEN_ID, "no-such-layer"))
        assert text == absent.get_data(as_text=True).replace("no-such-layer", HIDDEN_ID)
    else:
        assert anonymous.status_code == staff.status_code == 200
    staff_text = staff.get_data(as_text=True)
    if path.startswith("/portal/?q="):
        assert "1 σύνολο δεδομένων" in staff_text and "0 σύνολα δεδομένων" in text
        assert f"Εσωτερικό {HIDDEN_WORD}" in staff_text
    if path == "/portal/dashboard":
        assert "Κρυφή Διεύθυνση" in staff_text  # per department
        assert staff_text.count(f'/portal/datasets/{HIDDEN_ID}"') >= 2  # freshness + loads
        assert "private" in staff.headers.get("Cache-Control", "")
    if path.endswith("/download?format=csv"):
        assert "Καλαμαριάς" in staff_text


# -- staff sign-in (server/session.py) ---------------------------------------------------------


def _session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == "geoservice_session"), None)


def test_staff_sign_in_shows_internal_layers_until_sign_out(portal, staff_key):
    """A browser cannot send `Authorization`: signed in through the portal's form, staff see
    the internal layer in search, on its page, on its map and in the API its map reads."""
    search = f"{portal.base}/portal/?q={HIDDEN_WORD}"
    portal.goto(search)
    assert HIDDEN_ID not in result_ids(portal)
    portal.get_by_role("link", name="Σύνδεση προσωπικού").click()
    portal.get_by_label("Κλειδί API ή διακριτικό").fill("gsk_abcdefgh_" + "x" * 43)
    portal.get_by_role("button", name="Σύνδεση").click()
    assert "δεν έγινε δεκτό" in portal.locator("#signin-error").inner_text()
    assert _session_cookie(portal) is None
    assert_accessible(portal, "signin-refused", screenshot=False)
    portal.get_by_label("Κλειδί API ή διακριτικό").fill(staff_key)
    portal.get_by_role("button", name="Σύνδεση").click()
    portal.wait_for_url(search)  # back where the visitor was
    assert HIDDEN_ID in result_ids(portal)
    assert "Συνδεδεμένος/η: test-portal-staff" in portal.locator("header").inner_text()
    cookie = _session_cookie(portal)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert_accessible(portal, "signed-in", screenshot=False)
    portal.goto(f"{portal.base}/portal/datasets/{HIDDEN_ID}")
    expect(portal.locator("#preview-map path.leaflet-interactive")).to_have_count(11)
    portal.locator("#attribute-table tbody tr").first.wait_for()
    # The API answers the cookie as it answers the key (past the feature lane too).
    items = portal.request.get(f"{portal.base}/collections/{HIDDEN_ID}/items?limit=2")
    assert items.status == 200 and len(items.json()["features"]) == 2
    assert "Cookie" in items.headers["vary"] and "no-store" in items.headers["cache-control"]
    public = portal.request.get(f"{portal.base}/collections/municipalities/items?limit=2")
    assert "no-store" in public.headers["cache-control"]  # a signed-in answer: not shared
    portal.get_by_role("button", name="Αποσύνδεση").click()
    portal.wait_for_url(f"{portal.base}/portal/datasets/{HIDDEN_ID}")
    assert portal.get_by_role("heading", level=1).inner_text() != f"Εσωτερικό {HIDDEN_WORD}"
    assert _session_cookie(portal) is None
    anonymous = portal.request.get(f"{portal.base}/collections/{HIDDEN_ID}/items?limit=2")
    assert anonymous.status == 404


def test_a_revoked_key_signs_its_holder_out(portal, staff_key, settings):
    from geoservice.server import api_keys
    from geoservice.server.auth import KEY_CACHE_SECONDS
    from geoservice.store import db

    with db.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, "test-portal-revoked", ["staff"], [])
    try:
        portal.goto(f"{portal.base}/portal/signin")
        portal.get_by_label("Κλειδί API ή διακριτικό").fill(key)
        portal.get_by_role("button", name="Σύνδεση").click()
        portal.goto(f"{portal.base}/portal/?q={HIDDEN_WORD}")
        assert HIDDEN_ID in result_ids(portal)
        with db.connect(settings, autocommit=True) as conn:
            api_keys.revoke(conn, "test-portal-revoked")
        time.sleep(KEY_CACHE_SECONDS + 0.5)  # each worker keeps a checked key this long
        portal.reload()
        assert HIDDEN_ID not in result_ids(portal)  # anonymous again, not an error page
        assert _session_cookie(portal) is None
        assert portal.get_by_role("link", name="Σύνδεση προσωπικού").count() == 1
    finally:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute("DELETE FROM geoservice.api_keys WHERE name = 'test-portal-revoked'")


def test_sign_in_is_refused_from_another_site(live_server, staff_key):
    """Only the portal's own form signs in: a page elsewhere cannot sign a visitor in."""
    posted = requests.post(
        f"{live_server}/portal/signin",
        data={"key": staff_key, "next": "https://elsewhere.example/"},
        headers={"Origin": "https://elsewhere.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 403 and "geoservice_session" not in posted.headers.get(
        "Set-Cookie", ""
    )
    ours = requests.post(
        f"{live_server}/portal/signin",
        data={"key": staff_key, "next": "https://elsewhere.example/"},
        headers={"Origin": live_server},
        allow_redirects=False,
        timeout=10,
    )
    assert ours.status_code == 303 and ours.headers["Location"].endswith("/portal/")
    # Over a stale cookie (a revoked key's) the new sign-in is the cookie the browser keeps.
    again = requests.post(
        f"{live_server}/portal/signin",
        data={"key": staff_key},
        headers={"Origin": live_server, "Cookie": "geoservice_session=gsk_stale"},
        allow_redirects=False,
        timeout=10,
    )
    cookies = again.raw.headers.getlist("Set-Cookie")
    assert again.status_code == 303 and len(cookies) == 1, cookies
    assert cookies[0].startswith(f"geoservice_session={staff_key};")
    assert (
        "HttpOnly" in ours.headers["Set-Cookie"] and "SameSite=Strict" in ours.headers["Set-Cookie"]
    )
