"""Query parameters are declared once (geoservice/server/params.py): an unknown one is a 400
naming it on every endpoint (OGC API Features /req/core/query-param-unknown), a malformed
one a 400 naming it, and the OpenAPI document lists exactly what each endpoint reads."""

from __future__ import annotations

import pytest

from geoservice.server import params

COLLECTION = "municipalities"  # a demo layer with a `name` property


def _refused(client, url: str, name: str) -> str:
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code, response.data[:300])
    description = response.get_json()["description"]
    assert f"'{name}'" in description, description
    return description


def test_a_misspelt_property_is_refused_not_ignored(client):
    """`nme` for `name` used to answer 200 with every feature."""
    description = _refused(client, f"/collections/{COLLECTION}/items?nme=x", "nme")
    assert "limit" in description and "bbox" in description  # the accepted ones are listed
    assert "property names" in description


def test_a_property_name_is_a_filter_not_an_unknown_parameter(client):
    page = client.get(f"/collections/{COLLECTION}/items?f=json&limit=1").get_json()
    name = page["features"][0]["properties"]["name"]
    response = client.get(f"/collections/{COLLECTION}/items", query_string={"name": name})
    assert response.status_code == 200
    assert response.get_json()["numberMatched"] >= 1
    assert all(f["properties"]["name"] == name for f in response.get_json()["features"])


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conformance",
        "/collections",
        "/openapi",
        f"/collections/{COLLECTION}",
        f"/collections/{COLLECTION}/queryables",
        f"/collections/{COLLECTION}/schema",
        f"/collections/{COLLECTION}/items",
        f"/collections/{COLLECTION}/items?f=html",
        f"/collections/{COLLECTION}/items/1",
        f"/collections/{COLLECTION}/download",
        "/collections/catalogue",
        "/collections/catalogue/items",
        "/collections/catalogue/items?f=html",
        f"/collections/catalogue/items/{COLLECTION}",
        "/collections/catalogue/dcat",
        f"/collections/catalogue/items/{COLLECTION}/iso19139",
    ],
)
def test_every_endpoint_refuses_an_unknown_parameter(client, path):
    separator = "&" if "?" in path else "?"
    _refused(client, f"{path}{separator}foo=bar", "foo")


def test_the_catalogue_refuses_what_it_does_not_read(client):
    description = _refused(client, "/collections/catalogue/items?foo=bar", "foo")
    assert "q" in description and "keywords" in description
    assert client.get("/collections/catalogue/items?keyword=x&license=x").status_code == 200


def test_feature_items_refuse_q(client):
    """Feature collections have no free-text search: `q` was silently ignored."""
    _refused(client, f"/collections/{COLLECTION}/items?q=Θεσσαλονίκη", "q")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("skipGeometry=maybe", "skipGeometry"),
        ("resulttype=all", "resulttype"),
        ("filter-lang=sql", "filter-lang"),
    ],
)
def test_a_malformed_value_names_its_parameter(client, query, name):
    response = client.get(f"/collections/{COLLECTION}/items?{query}")
    assert response.status_code == 400
    assert name in response.get_json()["description"]


def test_catalogue_malformed_values_name_their_parameter(client):
    for query, name in (("facets=maybe", "facets"), ("limit=x", "limit")):
        response = client.get(f"/collections/catalogue/items?{query}")
        assert response.status_code == 400, query
        assert name in response.get_json()["description"]


def test_the_openapi_document_lists_what_each_endpoint_reads(client):
    document = client.get("/openapi?f=json").get_json()
    components = document["components"]["parameters"]
    assert "vendorSpecificParameters" not in components  # would say "anything goes"

    def names(path: str) -> set[str]:
        listed = set()
        for parameter in document["paths"][path]["get"]["parameters"]:
            if "$ref" in parameter:
                parameter = components[parameter["$ref"].rsplit("/", 1)[-1]]
            if parameter["in"] == "query":
                listed.add(parameter["name"])
        return listed

    items = names(f"/collections/{COLLECTION}/items")
    assert params.ITEMS.names <= items
    assert "name" in items  # a property, so GDAL sends `-where name=...` to the server
    assert "q" not in items
    assert names("/collections/catalogue/items") == {p.name for p in params.RECORDS}
    assert names(f"/collections/{COLLECTION}/items/{{featureId}}") == params.ITEM.names
    assert names(f"/collections/{COLLECTION}/download") >= {p.name for p in params.DOWNLOAD}
    assert names("/conformance") == params.PAGE.names
    for parameter in params.DECLARED:
        assert components[parameter.name]["description"] == parameter.en
    assert components["limit"]["schema"]["maximum"] >= 1000  # QGIS's page size


def test_the_shortcut_refuses_unknown_parameters_like_flask(live_server):
    """Anonymous GeoJSON pages are answered before Flask (features/shortcut.py): the same 400."""
    import requests

    response = requests.get(f"{live_server}/collections/{COLLECTION}/items?nme=x", timeout=30)
    assert response.status_code == 400
    assert "'nme'" in response.json()["description"]


def test_the_portal_download_refuses_what_it_does_not_read(client):
    """The dataset page's download form sends format, crs and bbox: anything else (a filter
    the file would silently not apply) is a 400 naming it."""
    url = f"/portal/datasets/{COLLECTION}/download?format=geojson"
    assert client.get(url).status_code == 200
    response = client.get(url + "&name=x")
    assert response.status_code == 400
    assert "'name'" in response.get_data(as_text=True)
