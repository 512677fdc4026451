"""Every cache of derived data is keyed by what its caller may see: two callers (anonymous,
staff or a group) on one server, each asking after the other has filled the caches, never get
the other's data.

The portal's place list and mini-map outline are read from `municipalities` and `prefectures`;
here the portal is pointed at an internal layer (`secret-places`, names no other layer has)
for both, as if those layers were internal.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from geoservice.server import api_keys
from geoservice.server.access import ANONYMOUS
from geoservice.server.app import create_app
from geoservice.server.portal import places
from geoservice.settings import Settings
from geoservice.store import db
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

SECRET_ID = "secret-places"
SECRET_WORD = "hiddenvillecache"  # in the secret layer's title and its features' names
SECRET_NAMES = [f"Hiddenville{SECRET_WORD}{n}" for n in range(3)]
GROUP_ID = "group-places"  # restricted to the group "planning"
GROUP_WORD = "grouphamletcache"


def _squares(names: list[str], x0: float) -> dict:
    """Big squares (1 degree) in Greece, so the outline keeps them after simplification."""
    features = []
    for n, name in enumerate(names):
        x, y = x0 + n * 1.5, 38.0
        ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"fid": n + 1, "name_greek": f"Κρυφό {name}", "name": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@pytest.fixture(scope="module")
def hidden(settings: Settings, demo_collections: dict, tmp_path_factory) -> Iterator[None]:
    folder = tmp_path_factory.mktemp("caches")
    layers = {
        SECRET_ID: ("internal", SECRET_WORD, SECRET_NAMES, 20.0),
        GROUP_ID: ("restricted", GROUP_WORD, [f"Hamlet{GROUP_WORD}{n}" for n in range(2)], 21.0),
    }
    for cid, (access, word, names, x0) in layers.items():
        path = folder / f"{cid}.geojson"
        path.write_text(json.dumps(_squares(names, x0)), encoding="utf-8")
        descriptor = {
            "id": cid,
            "title": {"el": f"Κρυφό {word}", "en": f"Hidden {word}"},
            "source": {"path": str(path)},
            "identifier": "fid",
            "access": access,
        }
        if access == "restricted":
            descriptor["groups"] = ["planning"]
        load(settings, parse_descriptor(descriptor))
    yield
    with db.connect(settings, autocommit=True) as conn:
        for cid in layers:
            remove_collection(conn, cid)


@pytest.fixture(scope="module")
def keys(settings: Settings, hidden: None) -> Iterator[dict[str, str]]:
    with db.connect(settings, autocommit=True) as conn:
        made = {
            "staff": api_keys.create(conn, "test-caches-staff", ["staff"], []),
            "planner": api_keys.create(conn, "test-caches-planner", [], ["planning"]),
        }
    yield made
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("DELETE FROM geoservice.api_keys WHERE name LIKE 'test-caches-%'")


@pytest.fixture
def app_client(settings: Settings, keys: dict):
    """A new server for each test: every cache starts empty, so the test decides who fills it."""
    return create_app(settings, refresh_seconds=0).test_client()


@pytest.fixture
def portal_reads_secret(monkeypatch) -> None:
    """The portal takes its places and its outline from the internal layer first."""
    monkeypatch.setattr(places, "PLACE_LAYERS", ((SECRET_ID, "name_greek", "name"),))
    monkeypatch.setattr(places, "OUTLINE_LAYER", SECRET_ID)


def get(client, path: str, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(path, headers=headers)


def _home_until_outline(client, key: str | None, seconds: float = 30) -> str:
    """The home page, once its mini-map outline (computed in the background) is there."""
    deadline = time.monotonic() + seconds
    while True:
        text = get(client, "/portal/", key).get_data(as_text=True)
        if 'id="country-outline"' in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


# -- the portal's places and outline ------------------------------------------------------------


def test_places_of_an_internal_layer_stay_with_staff(app_client, keys, portal_reads_secret):
    """Staff visit first and fill the caches; the anonymous visitor then sees no secret place,
    no secret extent and no outline drawn from the internal layer."""
    staff = _home_until_outline(app_client, keys["staff"])
    assert all(name in staff for name in SECRET_NAMES)  # staff see the places
    assert 'id="country-outline"' in staff  # and the outline drawn from them
    secret_bbox = "20.00000,38.00000,21.00000,39.00000"
    assert f"{SECRET_ID}:1" in staff
    time.sleep(0.5)  # the outline had every chance to be shared, were it shared
    for who in (None, keys["planner"]):
        text = get(app_client, "/portal/", who).get_data(as_text=True)
        assert SECRET_WORD not in text
        assert f"{SECRET_ID}:" not in text
        assert 'id="country-outline"' not in text
        # a place chosen by id is no way in either
        chosen = get(app_client, f"/portal/?place={SECRET_ID}:1", who).get_data(as_text=True)
        assert secret_bbox not in chosen and SECRET_WORD not in chosen


def test_places_anonymous_first_then_staff(app_client, keys, portal_reads_secret):
    """The other order: an anonymous visit (no places) does not hide them from staff."""
    text = get(app_client, "/portal/").get_data(as_text=True)
    assert SECRET_WORD not in text
    staff = _home_until_outline(app_client, keys["staff"])
    assert all(name in staff for name in SECRET_NAMES)
    assert 'id="country-outline"' in staff
    assert 'id="country-outline"' not in get(app_client, "/portal/").get_data(as_text=True)


# -- the catalogue: counts, facets, relevance order, records' JSON ------------------------------


def _state(client):
    return client.application.extensions["geoservice"]


def test_catalogue_counts_and_records_per_viewer(app_client, keys):
    """Counts, facets, relevance order and record JSON are remembered per viewer's rights:
    whoever searches first, the others count and find only what they may see."""
    secret = f"/collections/catalogue/items?f=json&q={SECRET_WORD}&facets=true"
    body = get(app_client, secret, keys["staff"]).get_json()
    assert body["numberMatched"] == 1 and [f["id"] for f in body["features"]] == [SECRET_ID]
    for who in (None, keys["planner"]):
        body = get(app_client, secret, who).get_json()
        assert (body["numberMatched"], body["features"]) == (0, [])
        assert SECRET_ID not in json.dumps(body)  # (the links repeat the words searched for)
    # Anonymous first this time, with another filter.
    group = f"/collections/catalogue/items?f=json&q={GROUP_WORD}"
    assert get(app_client, group).get_json()["numberMatched"] == 0
    assert get(app_client, group, keys["planner"]).get_json()["numberMatched"] == 1
    assert get(app_client, group, keys["staff"]).get_json()["numberMatched"] == 0
    # Unfiltered counts and facets: each caller its own.
    everything = "/collections/catalogue/items?f=json&limit=1&facets=true"
    counts = {
        who: get(app_client, everything, keys.get(who)).get_json()["numberMatched"]
        for who in ("staff", None, "planner")
    }
    assert counts["staff"] == counts[None] + 1 == counts["planner"]
    # What the server kept: nothing of a hidden record under the anonymous rights.
    state = _state(app_client)
    anonymous = ANONYMOUS.rights
    assert len(state.records) and len(state.aggregates)
    for key in state.records.known():
        if key[1] == anonymous:
            assert key[2] not in (SECRET_ID, GROUP_ID)
    for key in state.aggregates.known():
        if key[2] == anonymous and key[-1] == "ranked":
            assert all(rid not in (SECRET_ID, GROUP_ID) for rid in state.aggregates.get(key))


def test_a_parsed_filter_is_shared_but_not_what_it_finds(app_client, keys):
    """Parsed filters (cql.parsed, a pure function cache) hold the parse of a filter's text,
    nothing found: staff and anonymous share it (parsed once) and each finds only their own."""
    from geoservice.server import cql

    text = f"title LIKE '%{SECRET_WORD}%'"
    path = f"/collections/catalogue/items?f=json&filter={text}"
    for who, matched in ((None, 0), ("staff", 1), (None, 0), ("planner", 0), ("staff", 1)):
        body = get(app_client, path, keys.get(who)).get_json()
        assert body["numberMatched"] == matched, who
        assert matched or SECRET_ID not in json.dumps(body["features"])
    parsed = cql.parsed(text, False)
    assert type(parsed).__module__.startswith("pygeofilter")  # a parse, no records, no counts
    hits = cql.parsed.cache_info().hits
    get(app_client, path, keys["staff"])
    assert cql.parsed.cache_info().hits == hits + 1  # not parsed again
    # A filter that does not parse is refused every time (nothing kept for it).
    bad = "/collections/catalogue/items?f=json&filter=title LIKE"
    assert [get(app_client, bad).status_code for _ in range(2)] == [400, 400]


def test_portal_search_counts_per_viewer(app_client, keys):
    """The portal's search (records/search.run with the server's memo), both orders."""
    staff = get(app_client, f"/portal/?q={SECRET_WORD}", keys["staff"]).get_data(as_text=True)
    assert f"/portal/datasets/{SECRET_ID}" in staff
    text = get(app_client, f"/portal/?q={SECRET_WORD}").get_data(as_text=True)
    assert f"/portal/datasets/{SECRET_ID}" not in text and "0 σύνολα δεδομένων" in text
    text = get(app_client, f"/portal/?q={GROUP_WORD}").get_data(as_text=True)
    assert "0 σύνολα δεδομένων" in text
    planner = get(app_client, f"/portal/?q={GROUP_WORD}", keys["planner"]).get_data(as_text=True)
    assert f"/portal/datasets/{GROUP_ID}" in planner


# -- collections, features and pygeoapi's pages -------------------------------------------------


@pytest.mark.parametrize("lang", ["el", "en"])
def test_pygeoapi_pages_per_viewer(app_client, keys, lang):
    """pygeoapi's translated configuration (pygeoapi_patches) and the snapshots: the staff
    page first, then the others'."""
    path = f"/collections?f=html&lang={lang}"
    assert SECRET_WORD in get(app_client, path, keys["staff"]).get_data(as_text=True)
    for who in (None, keys["planner"]):
        text = get(app_client, path, who).get_data(as_text=True)
        assert SECRET_WORD not in text
    assert GROUP_WORD in get(app_client, path, keys["planner"]).get_data(as_text=True)


def test_features_and_counts_per_viewer(app_client, keys):
    """A hidden layer's features and count (the feature store's, on the snapshot), asked for
    by staff first, are still absent for the anonymous caller (feature lane and Flask)."""
    for path in (f"/collections/{SECRET_ID}/items?f=json&name=x", f"/collections/{SECRET_ID}"):
        response = get(app_client, path, keys["staff"])
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    items = get(app_client, f"/collections/{SECRET_ID}/items", keys["staff"]).get_json()
    assert items["numberMatched"] == 3
    for path in (f"/collections/{SECRET_ID}/items", f"/collections/{SECRET_ID}/items/1"):
        for who in (None, keys["planner"]):
            response = get(app_client, path, who)
            assert response.status_code == 404
            assert SECRET_WORD not in response.get_data(as_text=True)


# -- the API key cache --------------------------------------------------------------------------


def test_key_cache_is_per_key_and_expires(settings, keys, monkeypatch):
    """Each key is remembered as itself (never another key's rights), and a revoked key stops
    working once its entry expires."""
    from geoservice.server import auth

    monkeypatch.setattr(auth, "KEY_CACHE_SECONDS", 0.5)
    client = create_app(settings, refresh_seconds=0).test_client()
    with db.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, "test-caches-short", ["staff"], [])
    path = f"/collections/{SECRET_ID}?f=json"
    assert get(client, path, key).status_code == 200
    assert get(client, path, keys["planner"]).status_code == 404
    assert get(client, path, key).status_code == 200
    with db.connect(settings, autocommit=True) as conn:
        api_keys.revoke(conn, "test-caches-short")
    time.sleep(0.7)
    assert get(client, path, key).status_code == 401


# -- no work at import; one state per application ----------------------------------------------


def test_importing_the_app_changes_nothing():
    """pygeoapi is patched by create_app, not by importing geoservice.server.app."""
    code = (
        "from pygeoapi import l10n\n"
        "original = l10n.translate_struct\n"
        "import geoservice.server.app\n"
        "assert l10n.translate_struct is original, 'patched on import'\n"
        "from geoservice.server import pygeoapi_patches\n"
        "pygeoapi_patches.apply(); pygeoapi_patches.apply()\n"
        "assert l10n.translate_struct is pygeoapi_patches.translate_struct\n"
        "assert pygeoapi_patches._original is original\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_two_applications_keep_their_own_state(settings, keys):
    """Each application has its own state and its own portal blueprint (registered by
    create_app, so a second application in one process works as the first)."""
    first = create_app(settings, refresh_seconds=0)
    second = create_app(settings, refresh_seconds=0)
    assert first.extensions["geoservice"] is not second.extensions["geoservice"]
    for app in (first, second):
        client = app.test_client()
        assert client.get("/portal/").status_code == 200
        assert client.get("/portal/signin").status_code == 200
        assert {r.endpoint for r in app.url_map.iter_rules()} >= {
            "portal.home", "portal.dataset", "portal.download", "portal.dashboard",
            "portal.signin_form", "portal.signin", "portal.signout",
        }  # fmt: skip
    before = [len(app.extensions["geoservice"].aggregates) for app in (first, second)]
    get(first.test_client(), f"/collections/catalogue/items?f=json&q={SECRET_WORD}")
    after = [len(app.extensions["geoservice"].aggregates) for app in (first, second)]
    assert after[0] > before[0] and after[1] == before[1]
