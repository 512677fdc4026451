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
