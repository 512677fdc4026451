"""The portal's rough edges (issue 14, section 7), each in a real browser (Debian's Chromium,
Playwright, axe-core: the fixtures of tests/test_portal.py) or over HTTP: the dashboard's
tables fit their page, load errors in the page's language, map popups with the fields'
labels, keyword facets in their own spelling, plural forms, a sort control, and a search of
the data's values that keeps each caller's access rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlparse

import lxml.html
import psycopg
import pytest
import test_portal as shared
from test_portal import assert_accessible, expect

from geoservice.errors import LoadError, SourceError
from geoservice.server.app import create_app
from geoservice.store import db, registry
from geoservice.store.records import Entry
from loaders import catalogue as index
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

# The browser, the 200-record catalogue and a fresh page: tests/test_portal.py's fixtures.
browser, catalogue_of_200, portal = shared.browser, shared.catalogue_of_200, shared.portal
staff_key = shared.staff_key  # a staff member's API key (and an internal layer of its own)

WIDTHS = (1280, 1000, 390)  # a laptop, a small one, a phone


def overflowing(page, selector: str) -> list[str]:
    """The cells of the tables under `selector` whose content is wider than the cell, and
    the scrolling boxes (the tables' wrappers, the page) wider than their view."""
    return page.evaluate(
        """(selector) => {
            const found = [];
            for (const cell of document.querySelectorAll(selector + ' td, ' + selector + ' th')) {
                if (cell.scrollWidth > cell.clientWidth + 1) {
                    found.push('cell: ' + cell.textContent.trim().slice(0, 60));
                }
            }
            for (const box of document.querySelectorAll('.table-responsive')) {
                if (box.scrollWidth > box.clientWidth + 1) { found.push('wrapper scrolls'); }
            }
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth + 1) { found.push('page scrolls'); }
            return found;
        }""",
        selector,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_dashboard_tables_fit_the_page(portal, width):
    portal.set_viewport_size({"width": width, "height": 900})
    portal.goto(portal.base + "/portal/dashboard")
    assert portal.locator("#recent-loads td.warnings li").count() > 0  # warnings are shown
    assert overflowing(portal, "main") == []
    assert_accessible(portal, f"dashboard-{width}", screenshot=False)
    # a dataset's load history (a failed load's error is its longest cell)
    portal.goto(portal.base + "/portal/datasets/municipalities?find=θερμ")
    assert portal.locator("table.history tbody tr").count() > 0
    assert overflowing(portal, "table.history") == []


@pytest.mark.parametrize(
    ("lang", "labels", "names"),
    [
        ("el", ["Όνομα", "Όνομα (λατινικά)", "Κωδικός"], ["name_greek", "cartodb_id"]),
        ("en", ["Name (Greek)", "Name", "Code"], ["name_greek", "cartodb_id"]),
    ],
)
def test_map_popups_show_the_tables_labels(portal, lang, labels, names):
    """collections/municipalities.yml labels its fields; the popup says what the table says."""
    portal.goto(portal.base + f"/portal/datasets/municipalities?lang={lang}")
    headings = portal.locator("#attribute-table thead th").all_inner_texts()
    polygons = portal.locator("#preview-map path.leaflet-interactive")
    expect(polygons).to_have_count(11)
    polygons.first.click(force=True)
    popup = portal.locator(".leaflet-popup-content")
    popup.wait_for()
    shown = popup.locator("th").all_inner_texts()
    assert sorted(shown) == sorted(labels)
    assert shown == [h for h in headings if h in shown]  # in the table's order
    assert not set(names) & set(shown)
    assert_accessible(portal, f"popup-{lang}", screenshot=False)


# -- over HTTP (the app in-process): facets, plural forms, sorting, searching the data ----------

PLAZA = "xylophoneplaza"  # only this module's records have it
SPELLINGS = ["Δημοτικά Πάρκα", "Δημοτικά Πάρκα", "ΔΗΜΟΤΙΚΑ ΠΑΡΚΑ"]


@contextmanager
def catalogued(settings, entries: list[Entry]) -> Iterator[list[str]]:
    """These records in the catalogue (a new catalogue version), removed afterwards."""
    with psycopg.connect(settings.dsn) as conn:
        for entry in entries:
            index.publish(conn, entry)
        conn.execute("SELECT nextval('geoservice.catalogue_version')")
    yield [entry.id for entry in entries]
    with psycopg.connect(settings.dsn) as conn:
        for entry in entries:
            index.remove(conn, entry.id)
        conn.execute("SELECT nextval('geoservice.catalogue_version')")


@pytest.fixture(scope="module")
def plazas(settings, demo_collections) -> Iterator[list[str]]:
    """Three records that spell one keyword two ways; the first alone has PLAZA + "1"."""
    entries = [
        Entry(
            id=f"edges-plaza-{n}",
            kind="dataset",
            title={"el": f"Πλατεία {PLAZA}{n + 1} {n}", "en": f"Square {PLAZA}{n + 1}"},
            description={"el": f"Εγγραφή {PLAZA}.", "en": f"A record {PLAZA}."},
            keywords={"el": [spelling], "en": ["city squares"]},
            licence="CC-BY-4.0",
            updated=(datetime.now(UTC) - timedelta(days=10 * n)).isoformat(),
            feature_count=[5, 50, 20][n],
        )
        for n, spelling in enumerate(SPELLINGS)
    ]
    with catalogued(settings, entries) as ids:
        yield ids


@pytest.fixture
def client(settings, plazas):
    """A client of its own (the portal remembers ?lang= in a cookie)."""
    return create_app(settings, refresh_seconds=0).test_client()


def page(client, path: str, **headers: str) -> lxml.html.HtmlElement:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return lxml.html.fromstring(response.get_data(as_text=True))


def facet(doc, name: str) -> dict[str, str]:
    """{shown value: its count} of a facet of the home page."""
    items = doc.xpath(f'//ul[@data-facet="{name}"]/li')
    return {li.xpath("string(a)").strip(): li.xpath("string(span)").strip() for li in items}


def test_keyword_facets_keep_their_accents_and_capitals(client, plazas):
    doc = page(client, f"/portal/?q={PLAZA}")
    keywords = facet(doc, "keyword")
    assert keywords.get("Δημοτικά Πάρκα") == "(3)", keywords  # the most common spelling
    assert not {"δημοτικα παρκα", "ΔΗΜΟΤΙΚΑ ΠΑΡΚΑ"} & set(keywords)
    # the demo layer's own keyword, not "νομοι"
    assert "νομοί" in facet(page(client, "/portal/?q=νομοί"), "keyword")
    link = doc.xpath('//ul[@data-facet="keyword"]/li/a[normalize-space()="Δημοτικά Πάρκα"]')[0]
    chosen = page(client, "/portal/" + link.get("href"))
    assert len(chosen.xpath('//li[contains(@class, "result")]')) == 3
    assert chosen.xpath('//ul[@data-facet="keyword"]/li/a[@aria-current="true"]/text()') == [
        "Δημοτικά Πάρκα"
    ]


SIGMA = "sigmafacet"


@pytest.fixture
def final_sigmas(settings, demo_collections) -> Iterator[list[str]]:
    """One keyword written in capitals (final Σ) and in lower case (final ς)."""
    entries = [
        Entry(
            id=f"edges-sigma-{n}",
            kind="dataset",
            title={"el": f"Εγγραφή {SIGMA} {n}", "en": f"{SIGMA} {n}"},
            description={"el": "Δοκιμή.", "en": "A test."},
            keywords={"el": [spelling], "en": [SIGMA]},
            licence="CC0-1.0",
        )
        for n, spelling in enumerate(("ΠΛΑΤΕΙΕΣ", "Πλατείες"))
    ]
    with catalogued(settings, entries) as ids:
        yield ids


def test_a_final_sigma_in_capitals_is_the_same_keyword(client, final_sigmas):
    # PostgreSQL's lower() makes "ΠΛΑΤΕΙΕΣ" "πλατειεσ" but keeps "Πλατείες" "πλατειες": the
    # catalogue's fold() takes ς to σ, so both are one facet, and either finds both.
    keywords = facet(page(client, f"/portal/?q={SIGMA}"), "keyword")
    shown = [k for k in keywords if k.lower().startswith("πλατ")]
    assert len(shown) == 1 and keywords[shown[0]] == "(2)", keywords  # one of its spellings
    for spelling in ("ΠΛΑΤΕΙΕΣ", "πλατειες", "πλατειεσ"):
        found = client.get(
            "/collections/catalogue/items", query_string={"keywords": spelling, "f": "json"}
        ).json
        assert sorted(f["id"] for f in found["features"]) == final_sigmas, spelling


def test_records_folded_before_are_folded_again(settings, final_sigmas):
    # A record written by the old fold() (ς kept): the schema update folds it again.
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE geoservice.records SET keywords = '{πλατειες, sigmafacet}', "
            "search = search || to_tsvector('simple', 'παλιος') WHERE id = %s",
            (final_sigmas[1],),
        )
        conn.execute("DELETE FROM geoservice.schema_version")  # as after an upgrade
        db.ensure_schema(conn)
        keywords, search = conn.execute(
            "SELECT keywords, search::text FROM geoservice.records WHERE id = %s",
            (final_sigmas[1],),
        ).fetchone()
    assert sorted(keywords) == ["sigmafacet", "πλατειεσ"]
    assert "'παλιοσ'" in search and "ς" not in search


@pytest.mark.parametrize(
    ("lang", "one", "many"),
    [("el", "1 σύνολο δεδομένων", "3 σύνολα δεδομένων"), ("en", "1 dataset", "3 datasets")],
)
def test_counts_use_plural_forms(client, plazas, lang, one, many):
    count = '//*[@id="result-count"]'
    single = page(client, f"/portal/?q={PLAZA}1&lang={lang}").xpath(f"string({count})")
    assert single.strip() == f"· {one}"
    assert page(client, f"/portal/?q={PLAZA}&lang={lang}").xpath(f"string({count})").strip() == (
        f"· {many}"
    )


def result_ids(doc) -> list[str]:
    return doc.xpath('//li[contains(@class, "result")]/@data-id')


@pytest.mark.parametrize(
    ("sort", "order"),
    [("features", [1, 2, 0]), ("newest", [0, 1, 2]), ("oldest", [2, 1, 0]), ("", None)],
)
def test_results_can_be_sorted_without_javascript(client, plazas, sort, order):
    doc = page(client, f"/portal/?q={PLAZA}&sort={sort}")
    if order is not None:
        assert result_ids(doc) == [plazas[n] for n in order]
    form = doc.get_element_by_id("sort-form")  # a plain GET form: no script needed
    assert form.get("method") == "get"
    assert form.xpath(".//input[@type='hidden']/@name") == ["q"]  # the search it sorts
    assert form.xpath(".//input[@name='q']/@value") == [PLAZA]
    select = doc.get_element_by_id("sort")
    assert doc.xpath('//label[@for="sort"]/text()') == ["Ταξινόμηση κατά"]
    assert select.xpath("option[@selected]/@value") == [sort]
    # the other links and forms keep the order: pages, facets, the search form
    assert doc.xpath('//form[@id="search-form"]//input[@name="sort"]/@value') == (
        [sort] if sort else []
    )
    if sort:
        link = doc.xpath('//ul[@data-facet="keyword"]/li/a/@href')[0]
        assert f"sort={sort}" in link


def test_an_unknown_sort_is_a_400_naming_it(client, plazas):
    response = client.get(f"/portal/?q={PLAZA}&sort=cheapest")
    assert response.status_code == 400
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    alert = doc.xpath('string(//*[@role="alert"])')
    assert alert.startswith("sort: 'cheapest' is not one of")


def test_sorting_in_the_browser_without_javascript(browser, live_server, plazas):
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(f"{live_server}/portal/?q={PLAZA}&lang=en")
        tab.get_by_label("Sort by").select_option("features")
        tab.get_by_role("button", name="Sort", exact=True).click()
        tab.wait_for_url("**sort=features**")
        assert parse_qs(urlparse(tab.url).query)["q"] == [PLAZA]
        ids = tab.locator("li.result").evaluate_all("items => items.map(i => i.dataset.id)")
        assert ids == [plazas[1], plazas[2], plazas[0]]
    finally:
        context.close()


def test_sort_control_is_accessible(portal, plazas):
    portal.goto(portal.base + f"/portal/?q={PLAZA}&sort=newest")
    assert_accessible(portal, "sorted", screenshot=False)
    portal.goto(portal.base + f"/portal/?q={PLAZA}&sort=newest&lang=en")
    assert portal.get_by_label("Sort by").input_value() == "newest"
    assert_accessible(portal, "sorted-english", screenshot=False)


# -- searching inside the data: the catalogue's value search, with the caller's rights --------


def points_layer(folder, layer_id: str, title: dict, streets: list[str], access: str) -> dict:
    """The descriptor of a layer of points (written into `folder`) named by `streets`."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": n, "street": street},
            "geometry": {"type": "Point", "coordinates": [22.94 + n / 100, 40.63]},
        }
        for n, street in enumerate(streets)
    ]
    source = folder / f"{layer_id}.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return {
        "id": layer_id,
        "title": title,
        "source": {"path": str(source)},
        "identifier": "id",
        "licence": "CC-BY-4.0",
        "access": access,
    }


HIDDEN_VALUE = "Ψαροπούλας"  # a street only the internal layer's features name


@pytest.fixture(scope="module")
def internal_values(settings, staff_key, tmp_path_factory) -> Iterator[str]:
    """An internal layer whose features name HIDDEN_VALUE (removed after), and a staff key."""
    streets = [f"Οδός {HIDDEN_VALUE}", "Οδός Τσιμισκή"]
    title = {"el": "Εσωτερικές οδοί", "en": "Internal streets"}
    folder = tmp_path_factory.mktemp("values")
    load(settings, parse_descriptor(points_layer(folder, VALUES_LAYER, title, streets, "internal")))
    yield staff_key
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, VALUES_LAYER)


VALUES_LAYER = "edges-internal-streets"


@pytest.mark.parametrize("typed", [HIDDEN_VALUE, "ψαροπουλας"])
def test_a_value_in_the_data_is_found_only_by_who_may_see_it(client, internal_values, typed):
    staff = {"Authorization": f"Bearer {internal_values}"}
    anonymous, staff_page = (
        page(client, f"/portal/?value={typed}"),
        page(client, f"/portal/?value={typed}", **staff),
    )
    assert result_ids(staff_page) == [VALUES_LAYER]
    assert staff_page.xpath('string(//*[@id="result-count"])').strip() == "· 1 σύνολο δεδομένων"
    assert result_ids(anonymous) == []
    assert anonymous.xpath('string(//*[@id="result-count"])').strip() == "· 0 σύνολα δεδομένων"
    assert VALUES_LAYER not in lxml.html.tostring(anonymous, encoding=str)
    # the value is kept in its field, and a public layer's value is found by anyone
    assert staff_page.get_element_by_id("value").get("value") == typed
    assert "municipalities" in result_ids(page(client, "/portal/?value=Καλαμαριάς"))


def test_the_value_field_is_accessible(portal, internal_values):
    portal.goto(portal.base + "/portal/?value=Καλαμαριάς")
    assert portal.get_by_label("Μια τιμή μέσα στα δεδομένα").input_value() == "Καλαμαριάς"
    assert "municipalities" in shared.result_ids(portal)
    assert_accessible(portal, "value-search", screenshot=False)


# -- a failed load's error in the page's language ----------------------------------------------

FAILING_LAYER = "edges-failed-reload"


@pytest.fixture(scope="module")
def failed_reload(settings, demo_collections, tmp_path_factory) -> Iterator[str]:
    """A public layer whose reload failed: its source file had gone. Removed afterwards."""
    title = {"el": "Σημεία που δεν ξαναφορτώθηκαν", "en": "Points not reloaded"}
    folder = tmp_path_factory.mktemp("failing")
    descriptor = points_layer(folder, FAILING_LAYER, title, ["Οδός Εγνατία"], "public")
    load(settings, parse_descriptor(descriptor))
    gone = folder / "gone.geojson"
    with pytest.raises(SourceError, match="source file not found"):
        load(settings, parse_descriptor({**descriptor, "source": {"path": str(gone)}}))
    yield str(gone)
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, FAILING_LAYER)


@pytest.mark.parametrize(
    ("lang", "wanted", "unwanted"),
    [
        ("el", "απέτυχε: το αρχείο πηγής δεν βρέθηκε: {path}", "source file not found"),
        ("en", "failed: source file not found: {path}", "δεν βρέθηκε"),
    ],
)
def test_a_load_error_reads_in_the_pages_language(client, failed_reload, lang, wanted, unwanted):
    wanted = wanted.format(path=failed_reload)
    dashboard = page(client, f"/portal/dashboard?lang={lang}")
    row = dashboard.xpath(
        f'//table[@id="recent-loads"]//tr[.//a[contains(@href, "/{FAILING_LAYER}")]]'
    )[0]
    status = row.xpath("string(td[3])")
    assert wanted in status and unwanted not in status
    history = page(client, f"/portal/datasets/{FAILING_LAYER}?lang={lang}")
    statuses = [
        td.text_content() for td in history.xpath('//table[contains(@class, "history")]//tr/td[2]')
    ]
    assert any(wanted in s for s in statuses), statuses
    assert not any(unwanted in s for s in statuses)


def test_a_failed_loads_error_is_kept_in_both_languages(settings, demo_collections, tmp_path):
    """The loader's refusals are Notices: the history keeps each language's text (a first
    load that fails has no page yet; its history row is what a later page shows)."""
    source = tmp_path / "twins.geojson"
    twins = [
        {"type": "Feature", "properties": {"code": 7}, "geometry": None},
        {"type": "Feature", "properties": {"code": 7}, "geometry": None},
    ]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": twins}))
    descriptor = {
        "id": "edges-twins",
        "title": {"el": "Δίδυμα", "en": "Twins"},
        "source": {"path": str(source)},
        "identifier": "code",
        "licence": "CC-BY-4.0",
    }
    with pytest.raises(LoadError, match="identifier 'code' is not unique"):
        load(settings, parse_descriptor(descriptor))
    with db.connect(settings, autocommit=True) as conn:
        row = registry.load_history(conn, "edges-twins", 1)[0]
        conn.execute("DELETE FROM geoservice.loads WHERE collection_id = 'edges-twins'")
    assert row["status"] == "failed"
    assert row["error"].startswith("identifier 'code' is not unique: 2 features share 1 value")
    assert row["error_texts"]["en"] == row["error"]
    assert row["error_texts"]["el"].startswith(
        "το αναγνωριστικό 'code' δεν είναι μοναδικό: 2 στοιχεία μοιράζονται 1 τιμή(ές)"
    )


# -- a dataset page's search of its features ---------------------------------------------------


def found(doc) -> list[str]:
    return [row.text_content() for row in doc.xpath('//table[@id="found-table"]/tbody/tr')]


@pytest.mark.parametrize("typed", ["καλαμαριας", "ΚΑΛΑΜΑΡΙΑΣ", "Καλαμαριάς", "αλαμαρ"])
def test_a_dataset_page_finds_its_features_by_their_words(client, typed):
    doc = page(client, f"/portal/datasets/municipalities?find={typed}")
    rows = found(doc)
    assert len(rows) == 1 and "Καλαμαριάς" in rows[0], rows
    count = doc.xpath('string(//*[@id="found-count"])')
    assert count.startswith(f"1 στοιχείο έχει «{typed}»"), count
    assert doc.get_element_by_id("find-words").get("value") == typed
    # the link gives the same features through the items API's filter
    api = doc.xpath('//*[@id="found-count"]/a/@href')[0]
    answer = client.get(api.replace("f=html", "f=json")).get_json()
    assert [f["properties"]["name_greek"] for f in answer["features"]] == ["Καλαμαριάς"]


def test_finding_features_in_english_and_with_like_characters(client):
    doc = page(client, "/portal/datasets/municipalities?find=a&lang=en")
    assert doc.xpath('string(//*[@id="found-count"])').startswith(
        "9 features have “a”"
    )  # 9 of 11 names
    for literal in ("%", "_", "\\"):  # LIKE's special characters are only characters
        doc = page(client, f"/portal/datasets/municipalities?find={quote(literal)}&lang=el")
        assert found(doc) == []
        assert doc.xpath('string(//*[@id="found-count"])').startswith("0 στοιχεία έχουν")
    response = client.get("/portal/datasets/municipalities?find=" + "α" * 101)
    assert response.status_code == 400
    assert "find: at most 100 characters" in response.get_data(as_text=True)


def test_finding_features_keeps_the_access_rules(client, internal_values):
    path = f"/portal/datasets/{VALUES_LAYER}?find=ψαροπουλας"
    staff = page(client, path, Authorization=f"Bearer {internal_values}")
    assert [HIDDEN_VALUE in row for row in found(staff)] == [True]
    anonymous = client.get(path)
    assert anonymous.status_code == 404
    assert HIDDEN_VALUE not in anonymous.get_data(as_text=True)
    absent = client.get(path.replace(VALUES_LAYER, "no-such-layer")).get_data(as_text=True)
    assert anonymous.get_data(as_text=True) == absent.replace("no-such-layer", VALUES_LAYER)


def test_finding_features_in_the_browser(portal):
    portal.goto(portal.base + "/portal/datasets/municipalities")
    portal.get_by_label("Λέξεις σε ένα πεδίο κειμένου").fill("θερμη")
    portal.get_by_role("button", name="Αναζήτηση", exact=True).click()
    expect(portal.locator("#found-table tbody tr")).to_have_count(1)
    assert "Θέρμης" in portal.locator("#found-table").inner_text()
    assert_accessible(portal, "dataset-find", screenshot=False)
