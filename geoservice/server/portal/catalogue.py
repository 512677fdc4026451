"""What the portal reads: catalogue entries always through the catalogue search (which
decides who sees what); load records only of collections that search returned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask import current_app, g
from psycopg import sql
from pygeofilter import ast

from geoservice.errors import BadRequest, NotFound
from geoservice.server.access import ANONYMOUS
from geoservice.server.records import api as records_api
from geoservice.server.records import search as catalogue_search
from geoservice.store import registry

PAGE = 10
FRESHNESS_DAYS = (7, 30, 365)
# The home page's form fields -> the Records API parameters the catalogue search parses.
FACET_PARAMS = {
    "theme": "theme",
    "department": "department",
    "keyword": "keywords",
    "geometryType": "geometryType",
}


# The result orders the home page offers (its `sort`) -> the Records API's sortby; "" is by
# relevance to the search words (the API's order when q is given and sortby is not), else by
# title. "title" sorts by the title in the page's language.
SORTS = {
    "": None,
    "title": "title",
    "newest": "-updated",
    "oldest": "updated",
    "features": "-featureCount",
}


def search_params(form: dict[str, str], bbox: str | None, lang: str = "el") -> dict[str, str]:
    """The Records API parameters for the home page's form (parsed by records_api.parse, so
    the portal accepts and refuses exactly what the API does)."""
    params = {"facets": "true", "limit": str(PAGE), "offset": form.get("offset", "0")}
    if form.get("q", "").strip():
        params["q"] = form["q"].strip()
    if form.get("value", "").strip():
        params["value"] = form["value"].strip()  # a value in the data (the fields' values)
    sort = form.get("sort", "")
    if sort not in SORTS:
        raise BadRequest(f"sort: '{sort}' is not one of {', '.join(s for s in SORTS if s)}")
    if SORTS[sort]:
        params["sortby"] = SORTS[sort] + ("_en" if sort == "title" and lang == "en" else "")
    if bbox:
        params["bbox"] = bbox
    for name, param in FACET_PARAMS.items():
        if form.get(name):
            params[param] = form[name]
    if form.get("fresh") and form["fresh"].isdigit():
        since = datetime.now(UTC) - timedelta(days=int(form["fresh"]))
        params["updatedAfter"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    return params


def viewer() -> Any:
    """The request's caller as the access rules know it (None before access control)."""
    return g.get("viewer")


def _viewer_or_anonymous() -> Any:
    return viewer() if viewer() is not None else ANONYMOUS


# The catalogue indexes keywords folded (lower case, no accents: "νομοι" for "Νομοί") so that
# any spelling finds them; its keyword facets count those folded forms. What a person reads is
# the spelling the records use most, among the records the caller may see.
SPELLINGS = sql.SQL(
    "SELECT DISTINCT ON (geoservice.fold(word)) geoservice.fold(word), word FROM ("
    " SELECT word, count(*) AS n FROM geoservice.records r,"
    " jsonb_each(CASE WHEN jsonb_typeof(r.entry -> 'keywords') = 'object'"
    "  THEN r.entry -> 'keywords' ELSE '{{}}' END) AS k(lang, words),"
    " jsonb_array_elements_text(CASE WHEN jsonb_typeof(k.words) = 'array'"
    "  THEN k.words ELSE '[]' END) AS word"
    " WHERE {visible} GROUP BY word) s "
    "ORDER BY geoservice.fold(word), n DESC, word"
)


def keyword_spellings(conn: psycopg.Connection, version: int) -> dict[str, str]:
    """{folded keyword: its most common spelling} over the records the caller may see (kept
    per database, catalogue version and the caller's rights)."""
    who = _viewer_or_anonymous()
    visible = who.sql_condition("r") or sql.SQL("true")

    def compute() -> dict[str, str]:
        return dict(conn.execute(SPELLINGS.format(visible=visible)).fetchall())

    memo = current_app.extensions["geoservice"].aggregates
    key = (catalogue_search.database(conn), version, who.rights, "portal.keyword-spellings")
    return memo.remembered(key, compute)


def _run(
    conn: psycopg.Connection, search: catalogue_search.Search, version: int
) -> catalogue_search.Result:
    if viewer() is not None:
        search.viewer = viewer()  # only what the caller may see is found and counted
    # Counts and facets are kept on the server's state, per viewer's rights and version.
    memo = current_app.extensions["geoservice"].aggregates
    return catalogue_search.run(conn, search, version, memo)


def search(
    conn: psycopg.Connection, params: dict[str, str], version: int
) -> tuple[catalogue_search.Search, catalogue_search.Result]:
    parsed = records_api.parse(params)
    return parsed, _run(conn, parsed, version)


def entry(conn: psycopg.Connection, record_id: str, version: int) -> dict[str, Any]:
    """One catalogue entry by id (a search, so the same visibility rules apply)."""
    wanted = catalogue_search.Search(filter=ast.Equal(ast.Attribute("id"), record_id), limit=1)
    found = _run(conn, wanted, version).entries
    if not found:
        raise NotFound(f"no dataset '{record_id}' in the catalogue")
    return found[0]


def everything(conn: psycopg.Connection, version: int) -> catalogue_search.Result:
    """Every visible entry plus facet counts (for the dashboard)."""
    return _run(conn, catalogue_search.Search(limit=records_api.LIMIT_MAX, facets=True), version)


def history(conn: psycopg.Connection, collection_id: str, limit: int = 20) -> list[dict]:
    """One collection's loads, newest first (call it only for an entry the caller may see)."""
    return registry.load_history(conn, collection_id, limit)


def recent_loads(conn: psycopg.Connection, visible: list[str], limit: int = 15) -> list[dict]:
    """The latest loads of the `visible` collections (ids the caller's search returned),
    newest first: a load of a collection the caller may not see is never read."""
    return registry.recent_loads(conn, limit, collections=visible)


def first_published(conn: psycopg.Connection, visible: list[str]) -> dict[str, datetime]:
    """When each of the `visible` collections was first published (its first good load)."""
    return registry.first_published(conn, visible)
