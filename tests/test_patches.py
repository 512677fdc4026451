"""The patches of third-party code (server/pygeoapi_patches.py), and the internals they rely on.

These fail when pygeoapi changes: either the internals the patch touches moved (the patch
would silently stop working), or pygeoapi fixed the fault upstream (the patch can go).
"""

from __future__ import annotations

import inspect
import json

import lark
import pygeoapi.util
import pytest
from pygeoapi import l10n
from pygeofilter import ast

from geoservice.server import pygeoapi_patches


def _config(title: str) -> dict:
    return {"metadata": {"identification": {"title": {"el": title, "en": title}}}}


def test_pygeoapi_still_caches_one_translated_configuration_per_locale():
    """The fault: pygeoapi's own translate_struct keeps one configuration per locale, whatever
    configuration it is given. When this fails, pygeoapi has fixed it: remove the patch."""
    original = pygeoapi_patches._original
    l10n._cfg_cache.clear()
    locale = l10n.str2locale("el")
    first = original(_config("first"), locale, True)
    second = original(_config("second"), locale, True)
    l10n._cfg_cache.clear()
    assert first["metadata"]["identification"]["title"] == "first"
    assert second["metadata"]["identification"]["title"] == "first"  # the stale one


def test_the_internals_the_patch_relies_on_are_there():
    assert isinstance(l10n._cfg_cache, dict)  # cleared around each of our calls
    parameters = list(inspect.signature(pygeoapi_patches._original).parameters)
    assert parameters[:3] == ["struct", "locale_", "is_config"]
    # pygeoapi renders its pages through the module attribute, which apply() replaces.
    assert "l10n.translate_struct(config, locale_, True)" in inspect.getsource(pygeoapi.util)


def test_the_patch_translates_each_configuration_for_itself():
    pygeoapi_patches.apply()
    pygeoapi_patches.apply()  # idempotent
    assert l10n.translate_struct is pygeoapi_patches.translate_struct
    locale = l10n.str2locale("el")
    first, second = _config("first"), _config("second")
    assert l10n.translate_struct(first, locale, True)["metadata"]["identification"]["title"] == (
        "first"
    )
    assert l10n.translate_struct(second, locale, True)["metadata"]["identification"]["title"] == (
        "second"
    )


def test_a_get_cql2_json_filter_reaches_pygeoapi_as_its_body(client):
    """pygeoapi reads CQL2 JSON only from a body: the app hands it a request whose body is the
    filter (no write to pygeoapi's private request fields). JSON-LD is pygeoapi's to render."""
    everything = client.get("/collections/municipalities/items?f=json&limit=1").get_json()
    name = everything["features"][0]["properties"]["name"]
    cql = json.dumps({"op": "=", "args": [{"property": "name"}, name]})
    query = {"filter-lang": "cql2-json", "filter": cql}
    ours = client.get("/collections/municipalities/items", query_string={"f": "json", **query})
    expected = {str(f["id"]) for f in ours.get_json()["features"]}
    response = client.get(
        "/collections/municipalities/items", query_string={"f": "jsonld", **query}
    )
    assert response.status_code == 200, response.data[:300]
    found = {f["@id"].rsplit("/", 1)[-1] for f in response.get_json()["features"]}
    assert found == expected
    assert 0 < len(found) < everything["numberMatched"]


def test_pygeofilter_still_refuses_an_escaped_quote_and_our_grammar_is_its_own():
    """The fault: pygeofilter's own CQL2 text grammar refuses '' in a string. When this fails,
    pygeofilter reads it itself: remove the patch. And the rule we replace is still there."""
    from pygeofilter.parsers.cql2_text import parser as cql2_text

    own = lark.Lark.open(
        "grammar.lark",
        rel_to=cql2_text.__file__,
        parser="lalr",
        maybe_placeholders=False,
        transformer=cql2_text.CQLTransformer(),
        import_paths=[str(pygeoapi_patches.Path(cql2_text.__file__).parent.parent)],
    )
    for refused in ("name = 'O''Neil'", "NOT (aa = 1 OR bb = 2)", "pop > 2^3", "pop > 5 % 2"):
        with pytest.raises(lark.exceptions.LarkError):
            own.parse(refused)
    with pytest.raises(lark.exceptions.LarkError):
        own.parse("true")
    grammar = pygeoapi_patches.Path(cql2_text.__file__).with_name("grammar.lark").read_text()
    for rule in pygeoapi_patches.RULES:
        assert grammar.count(rule) == 1, rule


def test_the_patched_parser_reads_cql2_text_escapes():
    from pygeofilter.parsers.cql2_text import parse

    pygeoapi_patches.apply()
    pygeoapi_patches.apply()  # idempotent
    for text, value in [
        ("name = 'O''Neil'", "O'Neil"),
        (r"name = 'O\'Neil'", "O'Neil"),
        ("name = ''''", "'"),
        ("name = ''", ""),
        (r"name = 'a\tb\\c'", "a\tb\\c"),
        (r"name = 'x\%'", r"x\%"),  # not an escape of a literal: kept for LIKE
    ]:
        assert parse(text).rhs == value, text
    both = parse("name = 'it''s' OR name = 'x'")
    assert (both.lhs.rhs, both.rhs.rhs) == ("it's", "x")  # two literals, not one
    with pytest.raises(lark.exceptions.LarkError):
        parse("name = 'unterminated")
    assert isinstance(parse("NOT (aa = 1 OR bb = 2)").sub_node, ast.Or)
    assert repr(parse("pop > 21 div 10 + 5 % 2 ^ 3")) == (
        "GreaterThan(lhs=ATTRIBUTE pop, rhs=Add(lhs=IntegerDivision(lhs=21, rhs=10), "
        "rhs=Modulo(lhs=5, rhs=Power(lhs=2, rhs=3))))"
    )
    assert parse("true") is True and parse("FALSE") is False
    assert parse("true = flag").lhs is True  # a literal where a comparison follows


def test_pygeofilter_still_reads_an_older_cql2_json_and_ours_reads_1_0(monkeypatch):
    """pygeofilter's own reader refuses CQL2 1.0's BETWEEN (three arguments) and ACCENTI;
    after apply() its parse (which pygeoapi imported) reads them."""
    from pygeofilter.parsers.cql2_json import parse as pygeoapis_copy
    from pygeofilter.parsers.cql2_json import parser as cql2_json

    between = {"op": "between", "args": [{"property": "pop"}, 1, 2]}
    accenti = {"op": "=", "args": [{"op": "accenti", "args": [{"property": "name"}]}, "a"]}
    with monkeypatch.context() as patched:  # pygeofilter's own, whatever ran before
        patched.setattr(cql2_json, "walk_cql_json", pygeoapi_patches._original_walk)
        for document in (between, accenti):
            with pytest.raises((TypeError, ValueError)):
                pygeoapis_copy(document)
    pygeoapi_patches.apply()
    assert repr(pygeoapis_copy(between)) == repr(ast.Between(ast.Attribute("pop"), 1, 2, False))
    assert pygeoapis_copy(accenti).lhs.name == "accenti"
