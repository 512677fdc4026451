"""The shortcut for public GeoJSON features (pages and by id) answers exactly as the Flask
routes do, and leaves every other request to them."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header
from werkzeug.test import Client

from geoservice.server.app import create_app
from geoservice.server.features import shortcut
from geoservice.server.features.shortcut import GeoJSONShortcut


@pytest.fixture(scope="module")
def apps(settings, demo_collections):
    app = create_app(settings, refresh_seconds=0)
    lane = app.wsgi_app
    assert isinstance(lane, GeoJSONShortcut)
    flask_app, calls = lane.app, []

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return flask_app(environ, start_response)

    lane.app = counted  # count what reaches Flask
    return Client(lane), Client(flask_app), calls


def _first_id(client) -> str:
    body = client.get("/collections/municipalities/items?limit=1&f=json").get_json()
    return str(body["features"][0]["id"])


EPSG_2100 = "http://www.opengis.net/def/crs/EPSG/0/2100"
ITEM = "/collections/municipalities/items/{id}"
ITEMS = "/collections/municipalities/items"


@pytest.mark.parametrize(
    "path, query, accept",
    [
        (ITEM, "", None),
        (ITEM, "", "application/geo+json, application/json"),
        (ITEM, "f=json", "text/html"),
        (ITEM, f"crs={EPSG_2100}", None),
        (ITEMS, "", None),
        (ITEMS, "limit=3&f=json", "text/html"),
        (ITEMS, "limit=2&offset=5", "application/geo+json"),
        (ITEMS, "bbox=22.8,40.5,23.1,40.8&limit=5", "*/*"),
        (ITEMS, "filter=cartodb_id > 5&filter-lang=cql2-text", None),
        (ITEMS, f"crs={EPSG_2100}&properties=name_greek", None),
        (ITEMS, "resulttype=hits", None),
        (ITEMS, "limit=1&f=json&f=html", None),  # the first f counts
    ],
)
def test_the_lane_answers_as_flask_does(apps, path, query, accept):
    lane, flask, calls = apps
    path = path.format(id=_first_id(flask))
    headers = {"Accept": accept} if accept else {}
    calls.clear()
    fast = lane.get(path, query_string=query, headers=headers)
    assert calls == []  # answered in the lane
    slow = flask.get(path, query_string=query, headers=headers)
    assert fast.status_code == slow.status_code == 200
    fast_body, slow_body = fast.get_json(), slow.get_json()
    for body in (fast_body, slow_body):
        body.pop("timeStamp", None)  # the moment of each answer (pages)
    assert fast_body == slow_body
    assert fast_body.get("features") or fast_body.get("properties") or query == "resulttype=hits"
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())


@pytest.mark.parametrize(
    "path, query, headers, status",
    [
        ("/collections/municipalities/items/{id}", "f=html", {}, 200),
        ("/collections/municipalities/items/{id}", "", {"Accept": "text/html"}, 200),
        ("/collections/municipalities/items/{id}", "crs=EPSG:9999", {}, 400),
        ("/collections/municipalities/items/{id}", "", {"Authorization": "Bearer gsk_x_y"}, 401),
        ("/collections/municipalities/items/{id}", "", {"Origin": "https://maps.example.org"}, 200),
        ("/collections/municipalities/items/999999999", "", {}, 404),  # unknown id
        ("/collections/nosuchlayer/items/1", "", {}, 404),
        ("/collections/catalogue/items/municipalities", "", {}, 200),
        ("/collections/municipalities/items", "f=html", {}, 200),
        ("/collections/municipalities/items", "f=jsonld", {}, 200),
        ("/collections/municipalities/items", "", {"Accept": "text/html"}, 200),
        ("/collections/municipalities/items", "limit=abc", {}, 400),
        ("/collections/municipalities/items", "filter=nosuchfield = 1", {}, 400),
        ("/collections/municipalities/items", "name_greek=%00", {}, 400),  # a NUL
        ("/collections/municipalities/items", "", {"Authorization": "Bearer gsk_x_y"}, 401),
        ("/collections/municipalities/items", "", {"Origin": "https://maps.example.org"}, 200),
        ("/collections/nosuchlayer/items", "", {}, 404),
        ("/collections/catalogue/items", "", {}, 200),
        ("/collections/municipalities/items/", "", {}, 404),
    ],
)
def test_everything_else_goes_to_flask(apps, path, query, headers, status):
    lane, flask, calls = apps
    path = path.format(id=_first_id(flask))
    calls.clear()
    response = lane.get(path, query_string=query, headers=headers)
    assert calls == [path]
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    # The lane passed the request on untouched: Flask alone answers the same.
    assert flask.get(path, query_string=query, headers=headers).status_code == status


def test_a_post_goes_to_flask(apps):
    lane, _, calls = apps
    calls.clear()
    body = {"op": "=", "args": [{"property": "cartodb_id"}, 1]}
    response = lane.post(
        "/collections/municipalities/items", json=body, content_type="application/query-cql-json"
    )
    assert calls == ["/collections/municipalities/items"] and response.status_code == 200


@pytest.mark.parametrize("accept", sorted(shortcut.PLAIN_ACCEPTS))
def test_the_accepts_read_without_parsing_do_want_geojson(accept):
    parsed = parse_accept_header(accept, MIMEAccept)
    assert shortcut.wants_geojson(MultiDict(), parsed)
