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
PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"  # OGC 21-065r2 (CQL2 1.0)
# tests/test_cql2_classes.py runs each optional CQL2 class's filters, in text and in JSON
CLASS_TEST = "test_cql2_classes::test_the_class_s_filters_select_the_right_features[{}]"
CQL2_CLASS_TESTS = (
    "basic-cql2",
    "advanced-comparison-operators",
    "case-insensitive-comparison",
    "accent-insensitive-comparison",
    "basic-spatial-functions",
    "basic-spatial-functions-plus",
    "spatial-functions",
    "arithmetic",
    "property-property",
)
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
    PART3 + "queryables": (
        "test_api::test_queryables_carry_the_greek_labels",
        "test_conformance::test_queryables_are_the_json_schema_part_3_requires",
    ),
    PART3 + "queryables-query-parameters": ("test_api::test_property_equality_filter",),
    PART3 + "filter": (
        "test_conformance::test_the_openapi_document_declares_filter_filter_lang_and_filter_crs",
        "test_conformance::test_filter_is_anded_with_bbox_and_property_parameters",
        "test_conformance::test_filter_geometries_are_read_in_filter_crs",
        "test_conformance::test_an_invalid_filter_filter_lang_or_filter_crs_is_a_400",
        "test_conformance::test_a_property_the_queryables_do_not_declare_is_a_400",
        "test_conformance::test_a_spatial_filter_selects_the_same_in_every_format",
    ),
    PART3 + "features-filter": (
        "test_conformance::test_queryables_are_the_json_schema_part_3_requires",
        "test_conformance::test_filter_is_anded_with_bbox_and_property_parameters",
        "test_conformance::test_an_invalid_filter_filter_lang_or_filter_crs_is_a_400",
    ),
    CQL2 + "cql2-text": (
        "test_api::test_cql2_text_filter",
        "test_injection::test_a_quote_in_a_cql2_text_literal_is_a_value",
    ),
    CQL2 + "basic-cql2": (
        "test_api::test_cql2_text_filter",
        CLASS_TEST.format("basic-cql2"),
        "test_cql2_classes::test_true_false_and_null_are_filters",
    ),
    CQL2 + "advanced-comparison-operators": (CLASS_TEST.format("advanced-comparison-operators"),),
    CQL2 + "case-insensitive-comparison": (CLASS_TEST.format("case-insensitive-comparison"),),
    CQL2 + "accent-insensitive-comparison": (CLASS_TEST.format("accent-insensitive-comparison"),),
    CQL2 + "basic-spatial-functions": (
        CLASS_TEST.format("basic-spatial-functions"),
        "test_cql2_classes::test_a_coordinate_off_the_globe_is_a_400",
        "test_cql2_classes::test_a_box_across_the_antimeridian_reads_the_axis_order_of_filter_crs",
    ),
    CQL2 + "basic-spatial-functions-plus": (CLASS_TEST.format("basic-spatial-functions-plus"),),
    CQL2 + "spatial-functions": (CLASS_TEST.format("spatial-functions"),),
    CQL2 + "arithmetic": (CLASS_TEST.format("arithmetic"),),
    CQL2 + "property-property": (CLASS_TEST.format("property-property"),),
    CQL2 + "cql2-json": (
        "test_api::test_cql2_json_filter_by_get_and_post",
        *(CLASS_TEST.format(name) for name in CQL2_CLASS_TESTS),
    ),
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
