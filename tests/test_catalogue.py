"""The catalogue (OGC API Records on PostGIS): kept current by loads, searched by area, words
and attributes, in Greek and English."""

from __future__ import annotations

import pyogrio
import pytest
from conftest import licence_keys
from owslib.ogcapi.records import Records

from geoservice.settings import PROJECT_ROOT
from geoservice.store import db
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection


def search(client, **params) -> dict:
    response = client.get("/collections/catalogue/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(body: dict) -> set[str]:
    return {f["id"] for f in body["features"]}


def test_the_catalogue_is_a_records_collection(client):
    listed = client.get("/collections?f=json").get_json()["collections"]
    catalogue = next(c for c in listed if c["id"] == "catalogue")
    assert catalogue["itemType"] == "record"


def test_every_published_collection_has_a_record(client, demo_collections):
    assert set(demo_collections) <= ids(search(client, limit=1000))


def test_a_record_says_what_the_data_says(client):
    record = client.get("/collections/catalogue/items/prefectures?lang=en").get_json()
    props = record["properties"]
    assert props["title"] == "Prefectures of Greece (before 2011)"
    assert props["translations"]["el"]["title"].startswith("Νομοί")
    assert props["featureCount"] == 55 and props["geometryType"] == "MultiPolygon"
    assert props["sourceCrs"] == "EPSG:2100"
    population = next(f for f in props["fields"] if f["sourceName"] == "POP")
    assert population["type"] == "integer" and population["title"] == "Population"
    names = next(f for f in props["fields"] if f["sourceName"] == "NAME_GR")
    source = pyogrio.read_dataframe(
        PROJECT_ROOT / "data/demo/nomoi/nomoi_okxe.shp", encoding="cp1253", read_geometry=False
    )
    assert names["examples"] and set(names["examples"]) <= set(source["NAME_GR"])
    assert props["themes"][0]["concepts"][0]["id"] == "au"
    rels = {link["rel"] for link in record["links"]}
    assert {"collection", "items", "queryables", "enclosure", "self"} <= rels
    assert record["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize(
    "q, expected",
    [
        ("νομοί", "prefectures"),  # Greek with accents
        ("νομοι", "prefectures"),  # without
        ("ΝΟΜΟΙ", "prefectures"),  # upper case
        ("prefectures", "prefectures"),  # English
        ("prefecture", "prefectures"),  # English stem
        ("οικισμοί", "settlements"),
        ("σεισμολογικοι σταθμοι", "seismic-stations"),  # all words must match
        ("καλαμαρι", None),  # matches nothing
    ],
)
def test_text_search_in_greek_and_english(client, q, expected):
    found = ids(search(client, q=q))
    if expected is None:
        assert found == set()
    else:
        assert expected in found


def test_comma_separated_terms_are_alternatives(client):
    assert {"seismic-stations", "settlements"} <= ids(search(client, q="σεισμολογια,οικισμοι"))


def test_bbox_includes_and_excludes(client):
    city = ids(search(client, bbox="22.9,40.6,23.0,40.7"))
    assert {"municipalities", "prefectures"} <= city
    crete = ids(search(client, bbox="24.5,35.0,25.5,35.5"))
    assert "prefectures" in crete and "municipalities" not in crete


@pytest.mark.parametrize(
    "params, expected, excluded",
    [
        ({"field": "population"}, "prefectures", "settlements"),
        ({"field": "πληθυσμος"}, "prefectures", "settlements"),  # a Greek label, no accents
        ({"field": "ESYE_ID"}, "prefectures", "municipalities"),  # a source field name
        ({"fieldType": "integer"}, "prefectures", "settlements"),
        ({"value": "ΚΑΤΕΡΙΝΗ"}, "prefectures", "municipalities"),  # a value in the data
        ({"theme": "gn"}, "settlements", "prefectures"),
        ({"keywords": "Θεσσαλονίκη"}, "municipalities", "settlements"),
        ({"geometryType": "Point"}, "settlements", "prefectures"),
        ({"filter": "featureCount > 1000"}, "settlements", "prefectures"),
        ({"filter": "title LIKE 'Νομοί%'"}, "prefectures", "settlements"),
    ],
)
def test_attribute_discovery_and_filters(client, params, expected, excluded):
    found = ids(search(client, **params, limit=100))
    assert expected in found and excluded not in found


def test_facets_count_the_matches(client):
    body = search(client, facets="true", limit=100)
    themes = body["facets"]["theme"]
    assert themes["au"] == len(ids(search(client, theme="au", limit=100)))
    assert body["facets"]["geometryType"]["Point"] >= 2


def test_sortby_and_paging(client):
    body = search(client, sortby="-featureCount", limit=2)
    counts = [f["properties"]["featureCount"] for f in body["features"]]
    assert counts == sorted(counts, reverse=True) and len(counts) == 2
    assert any(link["rel"] == "next" for link in body["links"])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"bbox": "1,2"}, "bbox"),
        ({"limit": "x"}, "limit"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"sortby": "colour"}, "sortby"),
        ({"filter": "no_such = 1"}, "unknown property"),
        ({"filter": "title = "}, "filter"),
        ({"q": "!!!"}, "q"),
    ],
)
def test_bad_parameters_are_400s_with_a_message(client, params, message):
    response = client.get("/collections/catalogue/items", query_string=params)
    assert response.status_code == 400
    assert message in response.get_json()["description"]


def test_records_appear_and_disappear_with_loads(settings, shared_data, client):
    path = shared_data / "15_naturalearth_lowres_pyogrio_fixture/naturalearth_lowres.shp"
    descriptor = parse_descriptor(
        {"id": "world-countries", "title": {"el": "Χώρες του κόσμου", "en": "Countries"},
         "source": {"path": str(path)}, **licence_keys(path)}
    )  # fmt: skip
    load(settings, descriptor)
    assert "world-countries" in ids(search(client, q="χωρες"))
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, "world-countries")
    assert "world-countries" not in ids(search(client, q="χωρες"))
    assert client.get("/collections/catalogue/items/world-countries").status_code == 404


def test_datetime_overlaps_temporal_extents(client, settings, shared_data):
    path = shared_data / "01_thessaloniki_municipalities/thessaloniki.geojson"
    load(
        settings,
        parse_descriptor(
            {"id": "dated", "title": "dated", "source": {"path": str(path)}, **licence_keys(path),
             "temporal_field": "updated_at"}
        ),
    )  # fmt: skip
    assert "dated" in ids(search(client, datetime="2015-06-22T16:06:30Z/2016-01-01T00:00:00Z"))
    assert "dated" in ids(search(client, datetime="../2015-06-22T16:06:30Z"))
    assert "dated" not in ids(search(client, datetime="2020-01-01T00:00:00Z/.."))


def test_owslib_records_client(live_server):
    catalogue = Records(live_server)
    listed = catalogue.records()
    assert "catalogue" in listed
    found = catalogue.collection_items("catalogue", q="νομοι")
    assert "prefectures" in {f["id"] for f in found["features"]}
    boxed = catalogue.collection_items("catalogue", bbox=[24.5, 35.0, 25.5, 35.5])
    assert "municipalities" not in {f["id"] for f in boxed["features"]}
    ordered = catalogue.collection_items("catalogue", sortby=("featureCount", "desc"), limit=3)
    counts = [f["properties"]["featureCount"] for f in ordered["features"]]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("offset", ["+00:00", "-20:40", "+23:59"])
def test_any_rfc3339_offset_is_understood(client, offset):
    # PostgreSQL reads UTC offsets up to 15:59 only: the instant is passed on in UTC.
    # (Records whose data's date is unknown are updated after no date.)
    found = search(client, limit=1000)["features"]
    everything = {f["id"] for f in found if f["properties"].get("updated")}
    assert everything  # the zoning plan's descriptor says when it changed
    assert (
        ids(search(client, updatedAfter=f"1990-01-01T00:00:00{offset}", limit=1000)) == everything
    )
    assert not ids(search(client, updatedAfter=f"9999-12-30T17:54:23{offset}", limit=1000))


def test_a_republished_or_removed_record_shows_at_once(client, settings):
    """Records' JSON and relevance orders are kept between requests: never stale."""
    source = str(PROJECT_ROOT / "data" / "demo" / "municipalities.geojson")

    def publish(word: str) -> None:
        title = {"el": f"Δοκιμή zebracache {word}", "en": f"Probe zebracache {word}"}
        descriptor = {"id": "cache-probe", "title": title, "source": {"path": source},
                      **licence_keys(source)}  # fmt: skip
        load(settings, parse_descriptor({**descriptor, "identifier": "cartodb_id"}))

    def titles() -> list[str]:
        body = search(client, q="zebracache", lang="en")
        return [f["properties"]["title"] for f in body["features"]]

    try:
        publish("first")
        assert titles() == ["Probe zebracache first"]
        assert titles() == ["Probe zebracache first"]  # now from what was kept
        publish("second")
        assert titles() == ["Probe zebracache second"]
    finally:
        with db.connect(settings, autocommit=True) as conn:
            remove_collection(conn, "cache-probe")
    assert titles() == []


@pytest.mark.parametrize("q", ["θεσσαλονίκη", "greece,thessaloniki,stations"])
def test_paging_through_a_ranked_search_shows_each_record_once(client, q):
    matched = search(client, q=q, limit=1)["numberMatched"]
    assert matched > 2
    seen = [
        f["id"]
        for offset in range(matched)
        for f in search(client, q=q, limit=1, offset=offset)["features"]
    ]
    assert len(seen) == len(set(seen)) == matched


def test_a_record_links_its_collection_and_its_page(client):
    """OGC API Features core (which Records builds on): an item links its collection."""
    record = client.get("/collections/catalogue/items/municipalities?f=json").get_json()
    by_rel = {link["rel"]: link for link in record["links"]}
    assert by_rel["collection"]["href"].endswith("/collections/catalogue")
    assert by_rel["collection"]["type"] == "application/json"
    assert by_rel["self"]["type"] == "application/geo+json"
    assert by_rel["alternate"]["type"] == "text/html"
    assert all(by_rel[rel]["title"] for rel in ("self", "alternate", "collection"))  # pages


def _capacity_entries(others: int, matching: int) -> list:
    """Records whose field 'Χωρητικότητα' comes only at the end of the title order, as in the
    catalogue benchmark (schools "Σ…" and car parks "Χ…" behind 7,583 other records)."""
    from geoservice.store.records import Entry, FieldEntry

    def entry(i: int, title: str, label: str) -> Entry:
        return Entry(
            id=f"order-probe-{i:04d}",
            kind="dataset",
            title={"el": f"{title} {i:04d}", "en": f"Probe {i:04d}"},
            description={"el": "Δοκιμή", "en": "Probe"},
            keywords={"el": [], "en": []},
            licence=None,
            fields=[FieldEntry("f", "F", "integer", {"el": label, "en": label})],
        )

    return [entry(i, "Αλσύλλια", "Είδος") for i in range(others)] + [
        entry(others + i, "Ωδεία", "Χωρητικότητα") for i in range(matching)
    ]


def test_a_field_search_reads_only_its_page_after_the_first_request(settings):
    """field=χωρητικοτητα in title order: the first request reads the order's index past every
    record before the matches (the planner takes them to be spread evenly); every later
    request for a page in the first 200 reads only that page's rows, with the same answers."""
    from dataclasses import replace

    from geoservice.server.memo import Memo
    from geoservice.server.records import search as catalogue_search
    from loaders.catalogue import publish

    entries = _capacity_entries(1500, 150)
    expected = [e.id for e in entries[1500:]]  # "Ωδεία 1500" … "Ωδεία 1649": title order
    with db.connect(settings) as conn:  # one transaction, rolled back: no other test sees them
        for entry in entries:
            publish(conn, entry)
        conn.execute("ANALYZE geoservice.records")

        def fetched() -> int:  # rows of geoservice.records this transaction has read
            return conn.execute(
                "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
                "FROM pg_stat_xact_user_tables WHERE relid = 'geoservice.records'::regclass"
            ).fetchone()[0]

        memo = Memo(catalogue_search.AGGREGATES_KEPT)
        search = catalogue_search.Search(field_name="χωρητικοτητα")
        for offset in (0, 10, 140, 190):
            page = replace(search, offset=offset)
            first = catalogue_search.find(conn, page, 1, memo)
            before = fetched()
            again = catalogue_search.find(conn, page, 1, memo)
            read = fetched() - before
            plain = catalogue_search.find(conn, page)  # no memo: what it always answered
            for result in (first, again, plain):
                assert [r[0] for r in result.rows] == expected[offset : offset + 10]
                assert result.matched == 150
            assert read <= 10, f"page at {offset} read {read} rows"
        conn.rollback()


def test_a_page_far_on_finds_its_ids_in_an_index_alone(settings):
    """sortby=-updated at a large offset: the rows it skips can be read from records_updated_idx
    alone (an index-only scan; before, each skipped row's xmin was read from the table, so the
    planner sorted the whole catalogue: 50-100 ms at offset 5,000 of the bench's 10,000, now
    1.5 ms); the pages are the same."""
    from dataclasses import replace

    from psycopg import sql

    from geoservice.server.records import search as catalogue_search
    from loaders.catalogue import publish

    entries = _capacity_entries(1500, 0)
    for i, entry in enumerate(entries):  # distinct dates, newest last, newer than the demo's
        entry.updated = f"{2100 + i // 100}-{1 + i % 100 // 10:02d}-{1 + i % 10:02d}T00:00:00Z"
    newest = [e.id for e in reversed(entries)]
    search = catalogue_search.Search(sortby=[("updated", True)])
    with db.connect(settings) as conn:  # one transaction, rolled back: no other test sees them
        for entry in entries:
            publish(conn, entry)
        conn.execute("ANALYZE geoservice.records")
        # Which plans the statement allows, whatever this small table's costs favour (a
        # sequential scan and sort of 1,500 short rows): without one, the index must do.
        conn.execute("SET LOCAL enable_seqscan = off")
        for offset in (600, 1200):
            page = replace(search, offset=offset)
            found = [r[0] for r in catalogue_search.find(conn, page).rows]
            assert found == newest[offset : offset + 10]
            statement = catalogue_search._page(
                page, catalogue_search._clause(conn, page), sql.SQL("r.id, r.xmin")
            )
            plan = "\n".join(r[0] for r in conn.execute(sql.SQL("EXPLAIN ") + statement))
            assert "Index Only Scan using records_updated_idx" in plan, plan
        conn.rollback()
