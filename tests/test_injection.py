"""SQL injection and hostile values in every parameter, id and header the API reads.

A corpus of classic injection strings (quotes, stacked statements, comments, pg_sleep,
unicode look-alike quotes, NUL bytes, huge numbers, very long values, CQL2 nested past the
node limit) goes into each place a request can carry text. Every answer must be a client
status (200/400/404/406/414/415, never 5xx), say nothing about the SQL or the code behind it,
come back well before a pg_sleep(5) could have run, and leave every table as it was.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

SLEEP = 5  # seconds in every pg_sleep of the corpus
FAST = 4.0  # an answer slower than this would mean a pg_sleep ran (the timeout is 30 s)
ALLOWED = {200, 400, 404, 406, 414, 415}
DEEP = 600  # nesting past cql.MAX_NODES (500)

CORPUS = [
    "'",
    "''",
    '"',
    "\\",
    "' OR '1'='1",
    "' OR 1=1 --",
    "1' OR '1'='1' /*",
    "1 OR 1=1",
    "x' AND 1=(SELECT COUNT(*) FROM geoservice.collections) AND 'a'='a",
    "1; DROP TABLE data.prefectures; --",
    "'; DROP TABLE geoservice.collections; --",
    "1); DELETE FROM geoservice.records; --",
    '"; DROP TABLE data.settlements; --',
    'name_gr"; DROP TABLE data.prefectures; --',
    "' UNION SELECT usename, passwd FROM pg_shadow --",
    "1 UNION SELECT NULL, version() --",
    f"'; SELECT pg_sleep({SLEEP}); --",
    f"1 AND pg_sleep({SLEEP}) IS NULL",
    f"pg_sleep({SLEEP})",
    f"(SELECT pg_sleep({SLEEP}))",
    f"1)) OR pg_sleep({SLEEP})::text = '1' --",
    f"$$; SELECT pg_sleep({SLEEP}); $$",
    f"pop = 1 OR pg_sleep({SLEEP}) IS NULL",
    f"name_gr = 'x' OR name_gr = (SELECT pg_sleep({SLEEP})::text)",
    "/* comment */ 1",
    "-- comment",
    "1 -- ",
    "’ OR 1=1 --",  # unicode right single quote
    "ʼ OR ʼ1ʼ=ʼ1",  # modifier letter apostrophe
    "＇ OR 1=1 --",  # fullwidth apostrophe
    "a\x00b",
    "\x00",
    "%00",
    "%27%20OR%201=1",
    "9" * 400,
    "99999999999999999999",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "Infinity",
    "0x27",
    "CHR(39)",
    "E'\\x27'",
    "lower(name_gr)",
    "geoservice.fold('x')",
    "${jndi:ldap://example.invalid/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "A" * 20_000,
    "Θεσσαλονίκη' OR 'α'='α",
    "NOT (" * DEEP + "pop = 1" + ")" * DEEP,
    " AND ".join(["pop = 1"] * DEEP),
    "(" * 5000 + "pop = 1" + ")" * 5000,
]
# What a leak looks like: driver and server error text, stack traces, our SQL.
LEAKS = [
    "psycopg", "Traceback", 'File "/', "syntax error at", "LINE 1:", "HINT:", "DETAIL:",
    "ProgrammingError", "OperationalError", "current transaction is aborted",
    "postgresql://", "statement_timeout", "pygeofilter", "werkzeug",
]  # fmt: skip
SQL_WORDS = ["SELECT ", " FROM ", "WHERE ", "ST_Intersects", "json_build_object"]

# (name, path, query template): `{}` is where the payload goes.
FEATURE_PARAMETERS = [
    "filter", "sortby", "properties", "bbox", "bbox-crs", "crs", "datetime", "limit",
    "offset", "cursor", "skipGeometry", "resulttype", "filter-lang", "filter-crs", "lang",
    "f", "name_gr", "pop", "q",
]  # fmt: skip
CATALOGUE_PARAMETERS = [
    "q", "bbox", "filter", "sortby", "facets", "type", "keywords", "theme", "department",
    "licence", "geometryType", "field", "fieldType", "value", "updatedAfter", "datetime",
    "limit", "offset", "lang", "f", "filter-lang",
]  # fmt: skip


def surfaces():
    """(label, function of payload -> (method, url, headers, body))."""
    items = "/collections/prefectures/items"
    for name in FEATURE_PARAMETERS:
        # limit=1: the answers stay small (a prefecture's geometry alone is large).
        yield f"items {name}", lambda p, n=name: ("GET", items, {"limit": "1", n: p}, {}, None)
    yield (
        "items filter literal",
        lambda p: ("GET", items, {"filter": f"name_gr = {_cql(p)}"}, {}, None),
    )  # noqa: E501
    yield (
        "items filter LIKE",
        lambda p: ("GET", items, {"filter": f"name_gr LIKE {_cql(p)}"}, {}, None),
    )  # noqa: E501
    yield "items filter property", lambda p: ("GET", items, {"filter": f'"{p}" = 1'}, {}, None)
    yield "items filter cql2-json", lambda p: (
        "GET", items, {"filter-lang": "cql2-json", "filter": _cql_json(p)}, {}, None,
    )  # fmt: skip
    yield "items POST cql2-json", lambda p: ("POST", items, {}, {}, _cql_json(p))
    yield "items sortby property", lambda p: ("GET", items, {"sortby": f"-{p}"}, {}, None)
    yield (
        "items properties list",
        lambda p: ("GET", items, {"properties": f"name_gr,{p}"}, {}, None),
    )  # noqa: E501
    yield "items html", lambda p: ("GET", items, {"f": "html", "limit": "2", "filter": p}, {}, None)
    yield "download filter", lambda p: (
        "GET", "/collections/settlements/download", {"filter": p, "name": p}, {}, None,
    )  # fmt: skip
    yield "item id (text key)", lambda p: ("GET", f"{items}/{_segment(p)}", {}, {}, None)
    yield "item id (integer key)", lambda p: (
        "GET", f"/collections/settlements/items/{_segment(p)}", {}, {}, None,
    )  # fmt: skip
    yield "item crs", lambda p: ("GET", f"{items}/01000000", {"crs": p}, {}, None)
    yield "collection id", lambda p: ("GET", f"/collections/{_segment(p)}/items", {}, {}, None)
    yield "queryables", lambda p: (
        "GET", "/collections/prefectures/queryables", {"lang": p, "properties": p}, {}, None,
    )  # fmt: skip
    catalogue = "/collections/catalogue/items"
    for name in CATALOGUE_PARAMETERS:
        yield f"catalogue {name}", lambda p, n=name: ("GET", catalogue, {n: p}, {}, None)
    yield "catalogue filter literal", lambda p: (
        "GET", catalogue, {"filter": f"title = {_cql(p)}", "facets": "true"}, {}, None,
    )  # fmt: skip
    yield "catalogue POST cql2-json", lambda p: ("POST", catalogue, {}, {}, _cql_json(p, "title"))
    yield "record id", lambda p: ("GET", f"{catalogue}/{_segment(p)}", {}, {}, None)
    yield "record export", lambda p: ("GET", f"{catalogue}/{_segment(p)}/iso19139", {}, {}, None)
    yield "landing lang", lambda p: ("GET", "/", {"lang": p, "f": "json"}, {}, None)
    for header in [
        "Accept", "Accept-Language", "X-Forwarded-For", "X-Forwarded-Host",
        "X-Forwarded-Proto", "X-Forwarded-Prefix", "Authorization",
    ]:  # fmt: skip
        yield f"header {header}", lambda p, h=header: ("GET", items, {"limit": "1"}, {h: p}, None)
        yield f"catalogue header {header}", lambda p, h=header: (
            "GET", catalogue, {"q": "δήμος"}, {h: p}, None,
        )  # fmt: skip


def _cql(payload: str) -> str:
    """The payload as a CQL2 string literal: the text parser must keep it one value. In CQL2
    text a backslash escapes and a quote is doubled (OGC 21-065r2 /req/cql2-text/escaping)."""
    return "'" + payload.replace("\\", "\\\\").replace("'", "''") + "'"


def _cql_json(payload: str, name: str = "name_gr") -> str:
    return json.dumps({"op": "=", "args": [{"property": name}, payload]})


def _segment(payload: str) -> str:
    return quote(payload, safe="")


def _header_safe(payload: str) -> bool:
    # HTTP cannot carry control characters or non-Latin-1 text in a header value.
    return all(32 <= ord(c) < 256 for c in payload) and len(payload) < 8_000


SURFACES = dict(surfaces())
PATH_SURFACES = {
    "item id (text key)", "item id (integer key)", "collection id", "record id", "record export",
}  # fmt: skip


@pytest.fixture(scope="module")
def tables_before(settings, app):
    return _tables(settings.dsn)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_hostile_values_are_refused_cleanly(client, tables_before, surface):
    allowed = set(ALLOWED)
    if "Authorization" in surface:
        allowed.add(401)  # a malformed token is refused as such
    if surface in PATH_SURFACES:
        allowed.add(308)  # a '/' in an id makes '//' in the path, which Flask redirects
    problems = []
    for payload in CORPUS:
        method, path, params, headers, body = SURFACES[surface](payload)
        if headers and not all(_header_safe(v) for v in headers.values()):
            continue
        started = time.monotonic()
        response = client.open(
            path,
            method=method,
            query_string=params,
            headers=headers,
            data=body.encode() if body else None,
            content_type="application/query-cql-json" if body else None,
        )
        text = response.get_data(as_text=True)  # reads a streamed body to its end
        elapsed = time.monotonic() - started
        shown = repr(payload)[:60]
        if response.status_code not in allowed:
            problems.append(f"{shown}: status {response.status_code}: {text[:200]}")
        if elapsed > FAST:
            problems.append(f"{shown}: took {elapsed:.1f} s")
        for leak in _leaks(text, payload):
            problems.append(f"{shown}: the answer contains {leak!r}: {text[:200]}")
    assert not problems, "\n".join(problems)


def test_no_table_changed(settings, tables_before):
    """Row counts and a checksum of every row of every table, before and after."""
    assert _tables(settings.dsn) == tables_before


def _leaks(text: str, payload: str) -> list[str]:
    # An error may quote the request back; what the payload itself holds is not a leak.
    echoed = {payload, json.dumps(payload)[1:-1], quote(payload, safe="")}
    for echo in echoed:
        text = text.replace(echo, "")
    found = [marker for marker in LEAKS if marker in text]
    found += [w for w in SQL_WORDS if w in text and w.strip().lower() not in payload.lower()]
    return found


def _tables(dsn: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        names = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('data', 'geoservice') AND table_type = 'BASE TABLE' "
            "ORDER BY 1, 2"
        ).fetchall()
        sums = {}
        for schema, table in names:
            count, checksum = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' "
                    "ORDER BY md5(t::text)), '')) FROM {} t"
                ).format(sql.Identifier(schema, table))
            ).fetchone()
            sums[f"{schema}.{table}"] = (count, checksum)
    return sums


# -- the payloads are evaluated, as values: a server that ignored them would fail here --------

KNOWN = "Ν. ΠΙΕΡΙΑΣ"  # one prefecture's name_gr: the positive control
LITERAL_SURFACES = {
    # surface: (function of a value -> request, where the count is in the answer)
    "items filter literal": lambda v: ("GET", "/collections/prefectures/items",
                                       {"filter": f"name_gr = {_cql(v)}", "limit": "1"}, None),
    "items filter cql2-json": lambda v: ("GET", "/collections/prefectures/items",
                                         {"filter-lang": "cql2-json", "filter": _cql_json(v),
                                          "limit": "1"}, None),
    "items POST cql2-json": lambda v: ("POST", "/collections/prefectures/items", {"limit": "1"},
                                       _cql_json(v)),
    "items name_gr": lambda v: ("GET", "/collections/prefectures/items",
                                {"name_gr": v, "limit": "1"}, None),
}  # fmt: skip
LITERALS = [p for p in CORPUS if "\x00" not in p and len(p) < 1_000]


def _matched(client, surface: str, value: str) -> tuple[int, int | None]:
    method, path, params, body = LITERAL_SURFACES[surface](value)
    response = client.open(
        path,
        method=method,
        query_string=params,
        data=body.encode() if body else None,
        content_type="application/query-cql-json" if body else None,
    )
    answer = response.get_json(silent=True) or {}
    return response.status_code, answer.get("numberMatched")


def test_the_layer_under_attack_is_there(client, demo_collections):
    """The corpus goes at the demo's prefectures (loaded by the session's demo_collections):
    55 features, so that a 404 or an empty answer above means what it says."""
    assert demo_collections["prefectures"].feature_count == 55
    body = client.get("/collections/prefectures/items?limit=1&f=json").get_json()
    assert body["numberMatched"] == 55 and len(body["features"]) == 1


@pytest.mark.parametrize("surface", list(LITERAL_SURFACES))
def test_payloads_are_compared_as_values(client, demo_collections, surface):
    """Each payload is a value the name is compared with: the query runs (200) and matches
    nothing, while the same request with a real name matches exactly that prefecture. An
    ignored filter would match all 55; an injected OR, all 55 too; a refused one, a 400."""
    assert _matched(client, surface, KNOWN) == (200, 1)
    wrong = {}
    for payload in LITERALS:
        got = _matched(client, surface, payload)
        if got != (200, 0):
            wrong[repr(payload)[:60]] = got
    assert not wrong, wrong


def test_a_quote_in_a_cql2_text_literal_is_a_value(client, demo_collections):
    """pygeofilter refused '' and \\' in a string (a name with an apostrophe could not be
    filtered on); server/pygeoapi_patches.py reads them as CQL2 text says."""
    quoted = [p for p in LITERALS if "'" in p]
    assert quoted
    got = {repr(p)[:60]: _matched(client, "items filter literal", p) for p in quoted}
    assert all(v == (200, 0) for v in got.values()), got
    for cql in (
        r"name_gr IN ('O''Neil', 'Ν. ΑΘΗΝΩΝ', 'it\'s')",
        r"name_gr = 'Ν. ΑΘΗΝΩΝ' AND name_gr <> '''' AND name_gr <> '\\'",
    ):
        response = client.get("/collections/prefectures/items", query_string={"filter": cql})
        assert response.status_code == 200, (cql, response.get_data(as_text=True)[:300])
        assert response.get_json()["numberMatched"] == 1, cql
