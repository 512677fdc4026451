"""The short lane for single public features answers exactly as the Flask routes do, and
leaves every other request to them."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from geoservice.app import create_app
from geoservice.item_lane import ItemLane


@pytest.fixture(scope="module")
def apps(settings, demo_collections):
    app = create_app(settings, refresh_seconds=0)
    lane = app.wsgi_app
    assert isinstance(lane, ItemLane)
    flask_app, calls = lane.app, []

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return flask_app(environ, start_response)

    lane.app = counted  # count what reaches Flask
    return Client(lane), Client(flask_app), calls


def _first_id(client) -> str:
    body = client.get("/collections/municipalities/items?limit=1&f=json").get_json()
    return str(body["features"][0]["id"])


@pytest.mark.parametrize(
    "query, accept",
    [("", None), ("", "application/geo+json, application/json"), ("f=json", "text/html")],
)
def test_the_lane_answers_as_flask_does(apps, query, accept):
    lane, flask, calls = apps
    path = f"/collections/municipalities/items/{_first_id(flask)}"
    headers = {"Accept": accept} if accept else {}
    calls.clear()
    fast = lane.get(path, query_string=query, headers=headers)
    assert calls == []  # answered in the lane
    slow = flask.get(path, query_string=query, headers=headers)
    assert fast.status_code == slow.status_code == 200
    assert fast.get_data() == slow.get_data()
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())
    assert fast.get_json()["properties"]["name_greek"]


@pytest.mark.parametrize(
    "path, query, headers",
    [
        ("/collections/municipalities/items/{id}", "f=html", {}),
        ("/collections/municipalities/items/{id}", "", {"Accept": "text/html"}),
        ("/collections/municipalities/items/{id}", "crs=EPSG:2100", {}),
        ("/collections/municipalities/items/{id}", "", {"Authorization": "Bearer gsk_x_y"}),
        ("/collections/municipalities/items/{id}", "", {"Origin": "https://maps.example.org"}),
        ("/collections/municipalities/items/999999999", "", {}),  # unknown id: Flask's 404
        ("/collections/nosuchlayer/items/1", "", {}),
        ("/collections/catalogue/items/municipalities", "", {}),
    ],
)
def test_everything_else_goes_to_flask(apps, path, query, headers):
    lane, flask, calls = apps
    path = path.format(id=_first_id(flask))
    calls.clear()
    response = lane.get(path, query_string=query, headers=headers)
    assert calls == [path]
    assert response.status_code in (200, 400, 401, 404)
