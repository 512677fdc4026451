"""What `/conformance` declares: each conformance class beside the tests that prove it.

A class is declared here only with a test that exercises it (tests/test_conformance.py fails
when a named test does not exist, or when the server declares anything else). pygeoapi would
declare every class of every API it could serve (OGC API Features Part 4 among them, though
this server refuses every write), so the list is ours.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pygeoapi.util import render_j2_template, to_json

COMMON = "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/"
FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
RECORDS = "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/"
LANDING = "test_api::test_landing_page_links_the_openapi_document_as_owslib_expects"
OPENAPI = "test_api::test_the_openapi_document_is_valid_and_documents_our_additions"

# class -> the tests (tests/<module>.py::<function>) that exercise it
CLASSES: dict[str, tuple[str, ...]] = {
    COMMON + "core": (LANDING,),
    COMMON + "landing-page": (LANDING,),
    COMMON + "json": (LANDING,),
    COMMON + "html": ("test_api::test_html_still_comes_from_pygeoapi",),
    COMMON + "oas30": (OPENAPI,),
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections": (
        "test_api::test_every_demo_collection_is_listed_without_hand_written_config",
    ),
    FEATURES + "core": (
        "test_api::test_paging_with_next_links_visits_every_feature_once",
        "test_api::test_bbox_selects_and_excludes",
        "test_api::test_single_feature_and_missing_ones",
        "test_parameters::test_a_misspelt_property_is_refused_not_ignored",
    ),
    FEATURES + "geojson": ("test_api::test_items_are_geojson_whatever_json_client_asks",),
    FEATURES + "html": ("test_api::test_html_items_page_loads_nothing_from_elsewhere",),
    FEATURES + "oas30": (
        "test_api::test_the_openapi_document_is_valid_and_documents_our_additions",
    ),
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs": (
        "test_api::test_crs_2100_returns_the_source_coordinates",
        "test_api::test_bbox_in_the_greek_grid",
    ),
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables": (
        "test_api::test_queryables_carry_the_greek_labels",
    ),
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters": (
        "test_api::test_property_equality_filter",
    ),
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text": ("test_api::test_cql2_text_filter",),
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2": ("test_api::test_cql2_text_filter",),
    RECORDS + "core": ("test_catalogue::test_the_catalogue_is_a_records_collection",),
    RECORDS + "json": ("test_catalogue::test_a_record_says_what_the_data_says",),
    RECORDS + "html": ("test_access::test_catalogue_html_and_whole_catalogue_export",),
    RECORDS + "opensearch": ("test_catalogue::test_text_search_in_greek_and_english",),
    RECORDS + "sorting": ("test_catalogue::test_sortby_and_paging",),
}


def declaration() -> dict[str, Any]:
    return {"conformsTo": sorted(CLASSES)}


def conformance(api: Any, request: Any) -> tuple[dict, int, str]:
    """`/conformance` in pygeoapi's handler shape (JSON, or its HTML template)."""
    headers = request.get_response_headers(**api.api_headers)
    if request.format == "html":
        content = render_j2_template(
            api.tpl_config,
            api.config["server"]["templates"],
            "conformance.html",
            declaration(),
            request.locale,
        )
        return headers, HTTPStatus.OK, content
    return headers, HTTPStatus.OK, to_json(declaration(), api.pretty_print)
