"""OGC API Features behaviour, in-process against a real PostGIS loaded with the demo layers."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyogrio
import pytest
import shapely
from conftest import licence_keys

from geoservice.settings import PROJECT_ROOT

GEOJSON = "application/geo+json"
EPSG2100 = "http://www.opengis.net/def/crs/EPSG/0/2100"


def items(client, collection: str, **params) -> dict:
    response = client.get(f"/collections/{collection}/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def column_for(client, collection: str, original: str) -> str:
    """The published (sanitised) property name of a source field, from the queryables' titles."""
    from geoservice.store import db, registry

    state = client.application.extensions["geoservice"]
    with db.connect(state.settings) as conn:
        record = registry.get_collection(conn, collection)
    return next(f["name"] for f in record.fields if f["original"] == original)


def test_landing_page_links_the_openapi_document_as_owslib_expects(client):
    links = client.get("/", headers={"Accept": "application/json"}).get_json()["links"]
    service_desc = [link for link in links if link["rel"] == "service-desc"]
    assert any(
        link["type"] == "application/vnd.oai.openapi+json;version=3.0" for link in service_desc
    )


def test_every_demo_collection_is_listed_without_hand_written_config(client, demo_collections):
    listed = {c["id"] for c in client.get("/collections?f=json").get_json()["collections"]}
    assert set(demo_collections) <= listed


def test_collection_offers_the_source_crs(client):
    body = client.get("/collections/prefectures?f=json").get_json()
    assert EPSG2100 in body["crs"]
    assert body["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    minx, miny, maxx, maxy = body["extent"]["spatial"]["bbox"][0]
    assert 19 < minx < 21 and 34 < miny < 35.5 and 28 < maxx < 30 and 41 < maxy < 42


@pytest.mark.parametrize(
    "headers",
    [{"Accept": "application/geo+json"}, {"Accept": "*/*"}, {}],
    ids=["qgis", "owslib", "none"],
)
def test_items_are_geojson_whatever_json_client_asks(client, headers):
    response = client.get("/collections/municipalities/items", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(GEOJSON)
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == 11 and body["numberReturned"] == 11


def test_openapi_limit_maximum_sets_qgis_page_size(client):
    doc = client.get("/openapi", headers={"Accept": "application/json"}).get_json()
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit["maximum"] == 10000 and limit["default"] == 100
    items_get = doc["paths"]["/collections/municipalities/items"]["get"]
    assert {"$ref": "#/components/parameters/limit"} in items_get["parameters"]


def test_paging_with_next_links_visits_every_feature_once(client):
    seen: list = []
    body = items(client, "prefectures", limit=10)
    while True:
        seen += [f["id"] for f in body["features"]]
        assert body["numberMatched"] == 55
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            break
        query = {k: v[0] for k, v in parse_qs(urlsplit(nxt[0]).query).items()}
        body = items(client, "prefectures", **query)
    assert len(seen) == 55 and len(set(seen)) == 55


def test_prev_link_goes_back(client):
    body = items(client, "prefectures", limit=10, offset=20)
    prev = next(link["href"] for link in body["links"] if link["rel"] == "prev")
    assert "offset=10" in prev


def test_bbox_selects_and_excludes(client):
    inside = items(client, "municipalities", bbox="22.9,40.6,23.0,40.7")
    assert inside["numberMatched"] == 7
    far_away = items(client, "municipalities", bbox="24,37,25,38")
    assert far_away["numberMatched"] == 0 and far_away["features"] == []


def test_bbox_in_the_greek_grid(client):
    # The same rectangle as above, in EPSG:2100 metres (bbox-crs), finds the same features.
    import pyproj

    to_2100 = pyproj.Transformer.from_crs(4326, 2100, always_xy=True)
    x0, y0 = to_2100.transform(22.9, 40.6)
    x1, y1 = to_2100.transform(23.0, 40.7)
    body = items(client, "municipalities", bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": EPSG2100})
    assert body["numberMatched"] in (7, 8)  # a reprojected rectangle is slightly larger


def test_crs_2100_returns_the_source_coordinates(client):
    """Asking for the layer's own CRS gives back the shapefile's coordinates.

    Storage is EPSG:4326; the Helmert datum shift there and back is not an exact inverse,
    which costs up to a few millimetres.
    """
    source = pyogrio.read_dataframe(
        PROJECT_ROOT / "data/demo/nomoi/nomoi_okxe.shp", encoding="cp1253"
    )
    code = column_for(client, "prefectures", "ESYE_ID")
    response = client.get(
        "/collections/prefectures/items", query_string={"crs": EPSG2100, "limit": 55}
    )
    assert response.headers["Content-Crs"] == f"<{EPSG2100}>"
    served = {f["properties"][code]: f["geometry"] for f in response.get_json()["features"]}
    for _, row in source.head(5).iterrows():
        got = shapely.geometry.shape(served[row["ESYE_ID"]])
        want = shapely.get_coordinates(row.geometry)
        assert np.abs(shapely.get_coordinates(got) - want).max() < 0.005


def test_crs_4326_has_latitude_first(client):
    crs84 = items(client, "municipalities", limit=1)["features"][0]["geometry"]
    epsg4326 = items(
        client, "municipalities", limit=1, crs="http://www.opengis.net/def/crs/EPSG/0/4326"
    )["features"][0]["geometry"]
    lon, lat = crs84["coordinates"][0][0][0][:2]
    assert epsg4326["coordinates"][0][0][0][:2] == [lat, lon]


def test_greek_text_is_served_exactly_as_the_source_holds_it(client):
    source = pyogrio.read_dataframe(
        PROJECT_ROOT / "data/demo/nomoi/nomoi_okxe.shp", encoding="cp1253", read_geometry=False
    )
    name = column_for(client, "prefectures", "NAME_GR")
    served = sorted(
        f["properties"][name] for f in items(client, "prefectures", limit=100)["features"]
    )
    assert served == sorted(source["NAME_GR"])
    assert "Ν. ΠΙΕΡΙΑΣ" in served


def test_codes_stored_as_text_stay_text(client):
    code = column_for(client, "prefectures", "ESYE_ID")
    value = items(client, "prefectures", limit=1)["features"][0]["properties"][code]
    assert isinstance(value, str)


def test_properties_and_sortby(client):
    name = column_for(client, "municipalities", "name")
    body = items(client, "municipalities", properties=name, sortby=f"-{name}")
    names = [f["properties"][name] for f in body["features"]]
    assert names == sorted(names, reverse=True)
    assert all(set(f["properties"]) == {name} for f in body["features"])


def test_property_equality_filter(client):
    name = column_for(client, "municipalities", "name")
    body = items(client, "municipalities", **{name: "Thermis"})
    assert [f["properties"][name] for f in body["features"]] == ["Thermis"]


def test_cql2_text_filter(client):
    greek = column_for(client, "municipalities", "name_greek")
    body = items(client, "municipalities", filter=f"{greek} LIKE 'Θ%'")
    assert body["numberMatched"] == 3
    assert all(f["properties"][greek].startswith("Θ") for f in body["features"])


def test_cql2_spatial_filter(client):
    body = items(client, "municipalities", filter="S_INTERSECTS(geometry, POINT(22.96 40.64))")
    assert body["numberMatched"] == 1


def test_cql2_json_filter_by_get_and_post(client):
    name = column_for(client, "municipalities", "name")
    cql = json.dumps({"op": "=", "args": [{"property": name}, "Thermis"]})
    by_get = items(client, "municipalities", filter=cql, **{"filter-lang": "cql2-json"})
    by_post = client.post(
        "/collections/municipalities/items", data=cql, content_type="application/query-cql-json"
    ).get_json()
    assert by_get["numberMatched"] == by_post["numberMatched"] == 1


@pytest.mark.parametrize(
    "params, message",
    [
        ({"filter": "no_such_field = 1"}, "unknown property 'no_such_field'"),
        ({"filter": "name = "}, "CQL"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"sortby": "nope"}, "sortby"),
        ({"properties": "nope"}, "properties"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/9999"}, "CRS"),
        ({"datetime": "2020-01-01"}, "time"),
        ({"cartodb_id": "abc"}, "integer"),
    ],
)
def test_client_mistakes_are_400_with_a_message(client, params, message):
    response = client.get("/collections/municipalities/items", query_string=params)
    assert response.status_code == 400
    body = response.get_json()
    assert message.lower() in body["description"].lower()
    assert "Traceback" not in response.get_data(as_text=True)


def test_single_feature_and_missing_ones(client):
    first = items(client, "municipalities", limit=1)["features"][0]
    one = client.get(f"/collections/municipalities/items/{first['id']}")
    assert one.status_code == 200 and one.get_json()["id"] == first["id"]
    assert one.headers["Content-Type"].startswith(GEOJSON)
    assert client.get("/collections/municipalities/items/999999").status_code == 404
    assert client.get("/collections/municipalities/items/not-a-number").status_code == 404
    assert client.get("/collections/no-such-layer/items").status_code == 404


def test_queryables_carry_the_greek_labels(client):
    population = column_for(client, "prefectures", "POP")
    greek = client.get("/collections/prefectures/queryables?f=json").get_json()
    assert greek["properties"][population]["type"] in ("integer", "number")
    assert greek["properties"][population]["title"] == "Πληθυσμός"  # Greek by default
    assert greek["properties"][population]["x-source-name"] == "POP"
    english = client.get("/collections/prefectures/queryables?f=json&lang=en").get_json()
    assert english["properties"][population]["title"] == "Population"


def test_html_items_page_loads_nothing_from_elsewhere(client):
    page = client.get("/collections/municipalities/items?f=html").get_data(as_text=True)
    assert "L.map" in page or "leaflet" in page.lower()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', page)
    loaded = [
        u
        for u in external
        if not u.startswith("http://127.0.0.1") and re.search(r"\.(js|css)(\?|$)", u)
    ]
    assert loaded == []
    static = re.findall(r'(?:src|href)="https?://[^/"]+(/static/[^"?]+)', page)
    assert static, "the page should use our vendored assets"
    for path in set(static):
        assert client.get(path).status_code == 200, path


def test_unknown_route_is_a_json_404(client):
    response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NotFound"


@pytest.fixture(scope="module")
def timed_layer(settings, shared_data) -> str:
    from loaders.descriptor import parse_descriptor
    from loaders.pipeline import load

    path = shared_data / "01_thessaloniki_municipalities/thessaloniki.geojson"
    load(
        settings,
        parse_descriptor(
            {
                "id": "timed",
                "title": "t",
                "source": {"path": str(path)},
                **licence_keys(path),
                "temporal_field": "updated_at",
            }
        ),
    )
    return str(path)


def test_datetime_selects_by_the_time_field(client, timed_layer):
    source = pyogrio.read_dataframe(timed_layer, read_geometry=False)
    start, end = "2015-06-22T16:06:00Z", "2015-06-22T16:07:00Z"
    import pandas as pd

    expected = int(
        (
            (source.updated_at >= pd.Timestamp(start)) & (source.updated_at <= pd.Timestamp(end))
        ).sum()
    )
    assert 0 < expected < 11
    body = items(client, "timed", datetime=f"{start}/{end}")
    assert body["numberMatched"] == expected
    assert items(client, "timed", datetime=f"{start}/..")["numberMatched"] >= expected
    described = client.get("/collections/timed?f=json").get_json()
    assert described["extent"]["temporal"]["interval"][0][0].startswith("2015-06-22")
    response = client.get("/collections/timed/items", query_string={"datetime": "yesterday"})
    assert response.status_code == 400
    # Any RFC 3339 offset (PostgreSQL alone reads up to 15:59): the same instants.
    shifted = "2015-06-21T19:26:00-20:40/2015-06-21T19:27:00-20:40"
    assert items(client, "timed", datetime=shifted)["numberMatched"] == expected


def test_next_links_carry_a_keyset_cursor_that_pages_like_offset(client):
    by_offset = items(client, "settlements", limit=50, offset=150)
    page = items(client, "settlements", limit=50)
    for _ in range(3):
        nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
        query = {k: v[0] for k, v in parse_qs(urlsplit(nxt).query).items()}
        assert "cursor" in query
        page = items(client, "settlements", **query)
    assert [f["id"] for f in page["features"]] == [f["id"] for f in by_offset["features"]]


def test_a_deep_offset_gives_the_same_page_as_walking_there(client):
    deep = items(client, "settlements", limit=10, offset=5000)
    walked = items(client, "settlements", limit=5010)["features"][5000:]
    assert [f["id"] for f in deep["features"]] == [f["id"] for f in walked]
    assert items(client, "settlements", limit=10, offset=999999)["features"] == []


def test_counts_of_small_results_are_exact(client):
    body = items(client, "settlements", bbox="22.8,40.55,23.1,40.7")
    assert body["numberMatched"] == 21 and "numberMatchedEstimated" not in body


def test_download_streams_the_whole_layer(client):
    response = client.get("/collections/settlements/download", query_string={"bbox": "22,40,24,41"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    body = json.loads(response.get_data(as_text=True))
    expected = items(client, "settlements", bbox="22,40,24,41", limit=10000)["numberMatched"]
    assert len(body["features"]) == expected > 100


def test_a_single_feature_links_back(client):
    first = items(client, "prefectures", limit=1)["features"][0]
    feature = client.get(f"/collections/prefectures/items/{first['id']}").get_json()
    assert feature["geometry"] == first["geometry"]
    assert {link["rel"] for link in feature["links"]} >= {"self", "collection"}


def test_html_still_comes_from_pygeoapi(client):
    response = client.get("/collections/prefectures/items", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"


def test_the_openapi_document_is_valid_and_documents_our_additions(client):
    from pygeoapi.openapi import validate_openapi_document

    doc = client.get("/openapi", headers={"Accept": "application/json"}).get_json()
    assert validate_openapi_document(doc)
    assert "/collections/settlements/download" in doc["paths"]
    items_get = doc["paths"]["/collections/settlements/items"]["get"]
    assert {"$ref": "#/components/parameters/cursor"} in items_get["parameters"]


@pytest.mark.parametrize(
    "point, crs",
    [
        ("POINT(22.96 40.64)", None),
        ("POINT(40.64 22.96)", "http://www.opengis.net/def/crs/EPSG/0/4326"),  # latitude first
        ("POINT(411940 4499400)", EPSG2100),
    ],
)
def test_filter_geometries_in_other_crs(client, point, crs):
    import pyproj

    if crs == EPSG2100:  # the same place as the other two, in Greek Grid metres
        x, y = pyproj.Transformer.from_crs(4326, 2100, always_xy=True).transform(22.96, 40.64)
        point = f"POINT({x} {y})"
    params = {"filter": f"S_INTERSECTS(geometry, {point})"}
    if crs:
        params["filter-crs"] = crs
    body = items(client, "municipalities", **params)
    assert body["numberMatched"] == 1


@pytest.mark.parametrize("offset", [999, 1000, 1001, 2500, 5899, 5900])
def test_deep_unfiltered_pages_from_anchors_match_offset_semantics(client, offset):
    deep = items(client, "settlements", limit=7, offset=offset)
    walked = items(client, "settlements", limit=7, offset=0, sortby="fid")  # plain OFFSET path
    from_zero = items(client, "settlements", limit=min(offset + 7, 10000))["features"][offset:]
    assert [f["id"] for f in deep["features"]] == [f["id"] for f in from_zero]
    assert walked["features"]  # the sortby path still answers


def test_an_unreachable_database_is_a_503_with_retry_after():
    from geoservice.server.app import create_app
    from geoservice.settings import Settings

    down = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none"))
    response = down.test_client().get("/collections?f=json")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_filtered_count_is_new_after_a_reload(settings, client):
    """Counts of a filter are remembered until the layer is loaded again, not longer."""
    from geoservice.store import db
    from loaders.descriptor import parse_descriptor
    from loaders.pipeline import load
    from loaders.writer import remove_collection

    def publish(source: dict) -> None:
        descriptor = {
            "id": "count-probe",
            "title": "t",
            "source": source,
            **licence_keys(source["path"]),
            "accept_changes": ["fields", "features"],
        }  # another layer on purpose
        load(settings, parse_descriptor(descriptor))

    def matched(**params) -> int:
        return items(client, "count-probe", bbox="19,34,30,42", **params)["numberMatched"]

    try:
        publish({"path": str(PROJECT_ROOT / "data" / "demo" / "municipalities.geojson")})
        assert matched() == matched(limit=1) == 11
        nomoi = PROJECT_ROOT / "data/demo/nomoi/nomoi_okxe.shp"
        publish({"path": str(nomoi), "encoding": "cp1253"})
        assert matched() == 55
    finally:
        with db.connect(settings, autocommit=True) as conn:
            remove_collection(conn, "count-probe")
