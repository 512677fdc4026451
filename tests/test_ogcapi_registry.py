"""ogcapi-registry (PyPI, pinned in pyproject's test extra) reads our `/conformance` and our
OpenAPI document against the conformance classes the OGC standards publish.

What it can judge, and what not (read from its code, 0.4.0): its catalogue of published
classes (`known_classes.py`, generated from the standards' documents) covers OGC API Features
Parts 1-3, Tiles, Maps, Processes and EDR, but not OGC API Common, CQL2 or Records. So a typo
in a Features class is caught by the package; for the standards it does not know we check
here that each URI names one of them, in the OGC's URI pattern, and nothing else.
"""

from __future__ import annotations

import re

from ogcapi_registry import parse_conformance_classes, validate_ogc_api
from ogcapi_registry.conformance import validate_conformance
from ogcapi_registry.known_classes import KNOWN_CONFORMANCE_CLASSES

SPEC = "http://www.opengis.net/spec/"
# Declared classes of standards the package has no catalogue of (it reports them all as
# unrecognised): only these standards, at these versions.
UNCATALOGUED = {"ogcapi-common-1/1.0", "ogcapi-common-2/1.0", "cql2/1.0", "ogcapi-records-1/1.0"}
CLASS_URI = re.compile(r"http://www\.opengis\.net/spec/([a-z0-9-]+/\d+\.\d+)/conf/[a-z0-9-]+")
# Classes of standards we declare from that we knowingly leave out, each with its reason.
NOT_IMPLEMENTED = {
    SPEC + "ogcapi-features-1/1.0/conf/gmlsf0": "we serve no GML (GeoJSON and HTML only)",
    SPEC + "ogcapi-features-1/1.0/conf/gmlsf2": "we serve no GML (GeoJSON and HTML only)",
}


def _declared(client) -> list[str]:
    return client.get("/conformance?f=json").get_json()["conformsTo"]


def test_no_declared_class_is_unknown_to_its_standard(client):
    """A URI the package does not recognise is a typo when it names a standard the package
    knows; for the standards it does not know, it must be one of theirs in their pattern."""
    report = validate_conformance(_declared(client))
    catalogued = {known.spec for known in KNOWN_CONFORMANCE_CLASSES.values()}
    assert report.recognised, "none of our classes is one the package knows"
    for uri in report.unrecognised:
        match = CLASS_URI.fullmatch(uri)
        assert match, f"{uri}: not an OGC conformance class URI"
        assert match[1].split("/")[0] not in catalogued, f"{uri}: no such class in its standard"
        assert match[1] in UNCATALOGUED, f"{uri}: a standard we do not implement"


def test_no_sibling_class_is_silently_missing(client):
    """Every class of a standard we draw on is declared, or left out here with a reason."""
    report = validate_conformance(_declared(client))
    missing = {known.uri for known in report.undeclared_siblings}
    assert missing == set(NOT_IMPLEMENTED), (
        f"undeclared: {sorted(missing - set(NOT_IMPLEMENTED))}; "
        f"declared after all: {sorted(set(NOT_IMPLEMENTED) - missing)}"
    )


def test_the_openapi_document_meets_the_declared_classes(client):
    """No error or warning from the package's OpenAPI checks of the classes we declare."""
    document = client.get("/openapi?f=json").get_json()
    result = validate_ogc_api(document, parse_conformance_classes(_declared(client)))
    found = [
        error
        for error in result.errors
        if not (error.get("severity") is None and _single_record_q(error))
    ]
    assert result.is_compliant and not found, "\n".join(map(str, found))


def _single_record_q(error: dict) -> bool:
    """The package asks every `/items/{featureId}` path for Records' `q` parameter, with no
    severity. OGC API Records Part 1, /req/record-core-query-parameters/q-definition A: "A
    searchable endpoint SHALL support the Text Search (`q`) parameter for the operation": the
    catalogue's search (`/collections/catalogue/items`) has it; one record, or one feature of a
    features collection, is no searchable endpoint."""
    return error.get("path", "").endswith("/items/{featureId}.get.parameters") and (
        "'q'" in error.get("message", "")
    )


def test_the_catalogue_takes_the_crs_parameters_it_declares(client):
    """What the package found missing: the catalogue's records are features, so they take
    Features Part 2's `crs` and `bbox-crs`, in CRS84 alone, listed in its collection object;
    any other CRS is a 400 (/req/crs/fc-crs-valid-value), in every format."""
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    greek_grid = "http://www.opengis.net/def/crs/EPSG/0/2100"
    collection = client.get("/collections/catalogue?f=json").get_json()
    assert collection["crs"] == [crs84] and collection["storageCrs"] == crs84
    page = client.get(f"/collections/catalogue/items?crs={crs84}&bbox-crs={crs84}&bbox=20,35,27,42")
    assert page.status_code == 200 and page.headers["Content-Crs"] == f"<{crs84}>"
    record_id = page.get_json()["features"][0]["id"]
    one = client.get(f"/collections/catalogue/items/{record_id}?crs={crs84}")
    assert one.status_code == 200 and one.headers["Content-Crs"] == f"<{crs84}>"
    items, one_record = "/collections/catalogue/items", f"/collections/catalogue/items/{record_id}"
    for path, query in (
        (items, f"crs={greek_grid}"),
        (items, f"bbox-crs={greek_grid}&bbox=300000,4400000,500000,4600000"),
        (one_record, f"crs={greek_grid}"),
    ):
        for fmt in ("json", "html"):
            refused = client.get(f"{path}?{query}&f={fmt}")
            assert refused.status_code == 400, (path, query, fmt)
            assert greek_grid in refused.get_json()["description"], (path, query, fmt)
