"""`/conformance` says exactly what the server does: every declared class has tests that
exercise it (server/conformance.py names them), and nothing undeclared appears anywhere."""

from __future__ import annotations

import importlib
import json

import pytest

from geoservice.server.conformance import CLASSES


def test_the_server_declares_exactly_the_classes_with_tests(client):
    declared = client.get("/conformance?f=json").get_json()["conformsTo"]
    assert sorted(declared) == sorted(CLASSES)


@pytest.mark.parametrize("uri", sorted(CLASSES))
def test_each_declared_class_names_tests_that_exist(uri):
    assert CLASSES[uri], uri
    for test in CLASSES[uri]:
        module, _, function = test.partition("::")
        function = function.partition("[")[0]  # a parametrized test: its parameter is checked
        assert callable(getattr(importlib.import_module(module), function, None)), test


def test_writes_are_not_declared_anywhere(client):
    """Every write is refused (405/415), so OGC API Features Part 4 must not be claimed: QGIS
    3.32+ would offer editing."""
    for path in ("/conformance?f=json", "/openapi?f=json", "/collections?f=json", "/?f=json"):
        text = json.dumps(client.get(path).get_json())
        assert "ogcapi-features-4" not in text, path


def test_the_html_page_lists_the_same_classes(client):
    page = client.get("/conformance?f=html").get_data(as_text=True)
    for uri in CLASSES:
        assert uri in page
    assert "ogcapi-features-4" not in page


# OGC API Features Part 3 (OGC 19-079r2), classes Filter and Features Filter: each requirement
# below is named by its path in the standard.
FEATURE_LAYERS = ("municipalities", "prefectures", "settlements", "seismic-stations")
SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def _ids(client, collection: str, **params) -> set:
    response = client.get(f"/collections/{collection}/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return {f["id"] for f in response.get_json()["features"]}


@pytest.mark.parametrize("collection", FEATURE_LAYERS)
def test_queryables_are_the_json_schema_part_3_requires(client, collection):
    """/req/queryables/get-queryables-response, /req/features-filter/queryables-link."""
    response = client.get(f"/collections/{collection}/queryables?f=json")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    schema = response.get_json()
    assert schema["$schema"] == SCHEMA_2020_12
    assert schema["$id"].endswith(f"/collections/{collection}/queryables")  # no query
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False  # any other property is a 400
    for name, queryable in schema["properties"].items():
        if name == "geometry":
            assert queryable["format"].startswith("geometry-")
            assert "type" not in queryable and "$ref" not in queryable
        else:
            assert queryable["type"] in ("string", "integer", "number", "boolean"), name
    links = client.get(f"/collections/{collection}?f=json").get_json()["links"]
    rel = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
    assert any(link["rel"] == rel and link["type"] == "application/schema+json" for link in links)


def test_a_property_the_queryables_do_not_declare_is_a_400(client):
    """/req/queryables/get-queryables-response G: additionalProperties is false."""
    for cql in ("no_such_field = 1", "S_INTERSECTS(geom, POINT(22.96 40.64))"):
        response = client.get("/collections/municipalities/items", query_string={"filter": cql})
        assert response.status_code == 400, cql
        assert "queryables are" in response.get_json()["description"]


def test_the_openapi_document_declares_filter_filter_lang_and_filter_crs(client):
    """/req/filter/filter-param, filter-lang-param (B, C), filter-crs-param A."""
    document = client.get("/openapi?f=json").get_json()
    parameters = document["components"]["parameters"]
    assert parameters["filter"]["schema"]["type"] == "string"
    lang = parameters["filter-lang"]["schema"]
    assert {"cql2-text", "cql2-json"} <= set(lang["enum"]) and lang["default"] == "cql2-text"
    assert parameters["filter-crs"]["schema"]["format"] == "uri-reference"
    for collection in FEATURE_LAYERS:
        listed = document["paths"][f"/collections/{collection}/items"]["get"]["parameters"]
        for name in ("filter", "filter-lang", "filter-crs"):
            assert {"$ref": f"#/components/parameters/{name}"} in listed, (collection, name)


def test_filter_is_anded_with_bbox_and_property_parameters(client):
    """/req/filter/mixing-expressions, /req/features-filter/response A-D."""
    cql = "name_greek LIKE 'Θ%'"
    filtered = _ids(client, "municipalities", filter=cql)
    box = "22.90,40.55,23.05,40.65"
    boxed = _ids(client, "municipalities", bbox=box)
    assert _ids(client, "municipalities", filter=cql, bbox=box) == filtered & boxed
    assert filtered - boxed and boxed - filtered  # the two really differ
    named = _ids(client, "municipalities", name="Thermis")
    assert named and named <= filtered
    assert _ids(client, "municipalities", filter=cql, name="Thermis") == named
    assert _ids(client, "municipalities", filter="name_greek LIKE 'Κ%'", name="Thermis") == set()


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "S_INTERSECTS(geometry, POINT(500000 4500000))",
         "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/32634"},  # real, not offered
        {"filter": "S_INTERSECTS(geometry, POINT(1 2))", "filter-crs": "urn:nothing"},
        {"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/2100"},  # without filter
        {"filter": "name = 'x'", "filter-lang": "cql3-text"},
        {"filter-lang": "cql2-text"},
        {"filter": "name = "},
    ],
)  # fmt: skip
def test_an_invalid_filter_filter_lang_or_filter_crs_is_a_400(client, params):
    """/req/filter/filter-crs-param C, /req/features-filter/response E."""
    response = client.get("/collections/municipalities/items", query_string=params)
    assert response.status_code == 400, params
    assert "filter" in response.get_json()["description"]


@pytest.mark.parametrize(
    "crs, point",
    [
        (None, "POINT(22.9613 40.6288)"),  # CRS84 by default: longitude first
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "POINT(22.9613 40.6288)"),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", "POINT(40.6288 22.9613)"),
        ("http://www.opengis.net/def/crs/EPSG/0/2100", "POINT(412004.57 4497784.02)"),
    ],
)
def test_filter_geometries_are_read_in_filter_crs(client, crs, point):
    """/req/filter/filter-crs-wgs84, /req/filter/filter-crs-param B: the same place (in the
    municipality of Thessaloniki) in each CRS the collection offers."""
    params = {"filter": f"S_INTERSECTS(geometry, {point})"}
    if crs:
        params["filter-crs"] = crs
    found = client.get("/collections/municipalities/items", query_string=params).get_json()
    assert [f["properties"]["name"] for f in found["features"]] == ["Thessalonikis"]


SPATIAL_TEXT = {"filter": "S_INTERSECTS(geometry, POINT(22.9613 40.6288))"}
SPATIAL_JSON = {  # CQL2 1.0 JSON, which pygeofilter's reader (patched) did not read
    "filter-lang": "cql2-json",
    "filter": '{"op": "and", "args": [{"op": "s_intersects", "args": [{"property": "geometry"},'
    ' {"type": "Point", "coordinates": [22.9613, 40.6288]}]}, {"op": "between", "args": '
    '[{"op": "^", "args": [2, 3]}, 7, 9]}, {"op": "like", "args": [{"op": "accenti", "args": '
    '[{"property": "name_greek"}]}, "Θεσσαλονικης"]}]}',
}


@pytest.mark.parametrize("f", ["json", "jsonld", "html"])
@pytest.mark.parametrize("cql", [SPATIAL_TEXT, SPATIAL_JSON], ids=["text", "json"])
def test_a_spatial_filter_selects_the_same_in_every_format(client, f, cql):
    """JSON-LD and HTML pages come from pygeoapi, which renames the filter's geometry to the
    provider's geom_field before our SQL sees it (the queryable is `geometry` there too), and
    reads CQL2 JSON with pygeofilter's reader."""
    params = {**cql, "f": f}
    response = client.get("/collections/municipalities/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if f == "html":
        page = response.get_data(as_text=True)
        assert "Thessalonikis" in page and "Kalamarias" not in page
        everything = client.get("/collections/municipalities/items?f=html&limit=20")
        assert "Kalamarias" in everything.get_data(as_text=True)
    else:
        assert len(response.get_json()["features"]) == 1
