"""Catalogue search: plain values in, SQL out (index-backed), records and facets back.

q follows OGC API Records: whitespace-separated terms must all match, comma-separated
groups are alternatives. Each term matches Greek and English stems and word prefixes,
accent- and case-insensitively. Every parameter we accept changes the result or is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geoservice.errors import BadRequest, NotFound
from geoservice.server import cql
from geoservice.server.access import ANONYMOUS, Viewer

if TYPE_CHECKING:
    from geoservice.server.memo import Memo

FACETS = {  # facet name -> SQL expression yielding one or more values per record
    "theme": "unnest(r.themes)",
    "department": "unnest(r.departments)",
    "keyword": "unnest(r.keywords)",
    "geometryType": "r.geometry_type",
    "licence": "r.licence",
    "type": "r.kind",
}
FACET_SIZE = 20
# Record properties a CQL2 filter and sortby may use, and their columns.
QUERYABLES = {
    "id": ("id", "string"),
    "type": ("kind", "string"),
    "title": ("title_el", "string"),
    "title_en": ("title_en", "string"),
    "theme": ("themes", "array"),
    "keywords": ("keywords", "array"),
    "department": ("departments", "array"),
    "fieldNames": ("field_names", "array"),
    "fieldTypes": ("field_types", "array"),
    "geometryType": ("geometry_type", "string"),
    "licence": ("licence", "string"),
    "featureCount": ("feature_count", "integer"),
    "updated": ("updated", "datetime"),
}
SORTABLE = {"id", "title", "title_en", "updated", "featureCount", "geometryType", "licence"}
_TERM = re.compile(r"[\w]+", re.UNICODE)
MAX_TERMS = 32


@dataclass
class Search:
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[str | None, str | None] | None = None  # closed or open interval
    kind: str | None = None
    keyword: str | None = None
    theme: str | None = None
    department: str | None = None
    licence: str | None = None
    geometry_type: str | None = None
    field_name: str | None = None  # a field's name or label (words)
    field_type: str | None = None
    value: str | None = None  # a word among the example values
    updated_after: str | None = None
    filter: Any = None  # a pygeofilter AST over QUERYABLES
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    limit: int = 10
    offset: int = 0
    facets: bool = False
    viewer: Viewer = ANONYMOUS  # only what this caller may see is found and counted


@dataclass
class Result:
    entries: list[dict[str, Any]]
    matched: int
    facets: dict[str, dict[str, int]] | None


@dataclass
class Page:
    rows: list[tuple[str, str]]  # (id, row version) in the search's order
    matched: int
    facets: dict[str, dict[str, int]] | None


def text_query(text: str) -> sql.Composable:
    """q as a tsquery: whitespace = all terms, commas = alternatives."""
    groups = []
    if len(_TERM.findall(text)) > MAX_TERMS:  # each word is an index probe: bound the work
        raise BadRequest(f"a search takes at most {MAX_TERMS} words")
    for part in text.split(","):
        terms = _TERM.findall(part)
        if terms:
            groups.append(
                sql.SQL(" && ").join(
                    sql.SQL("geoservice.term_query({})").format(sql.Literal(t)) for t in terms
                )
            )
    if not groups:
        raise BadRequest("q has no words to search for")
    return sql.SQL("((") + sql.SQL(") || (").join(groups) + sql.SQL("))")


def conditions(search: Search) -> list[sql.Composable]:
    where: list[sql.Composable] = []
    if (allowed := search.viewer.sql_condition("r")) is not None:
        where.append(allowed)
    if search.q:
        where.append(sql.SQL("r.search @@ {}").format(text_query(search.q)))
    if search.bbox:
        where.append(
            sql.SQL("r.extent && ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
                *map(sql.Literal, search.bbox)
            )
        )
    if search.datetime:
        start, end = search.datetime
        where.append(
            sql.SQL("r.time_range && tstzrange({}::timestamptz, {}::timestamptz, '[]')").format(
                sql.Literal(start), sql.Literal(end)
            )
        )
    for column, value in (
        ("kind", search.kind),
        ("geometry_type", search.geometry_type),
        ("licence", search.licence),
    ):
        if value:
            where.append(
                sql.SQL("lower(r.{}) = lower({})").format(
                    sql.Identifier(column), sql.Literal(value)
                )
            )
    for column, value in (("keywords", search.keyword), ("themes", search.theme)):
        if value:
            where.append(
                sql.SQL("r.{} @> ARRAY[geoservice.fold({})]").format(
                    sql.Identifier(column), sql.Literal(value)
                )
            )
    if search.department:
        where.append(
            sql.SQL(
                "EXISTS (SELECT 1 FROM unnest(r.departments) d "
                "WHERE geoservice.fold(d) = geoservice.fold({}))"
            ).format(sql.Literal(search.department))
        )
    if search.field_name:
        where.append(sql.SQL("r.field_words @@ {}").format(text_query(search.field_name)))
    if search.field_type:
        where.append(sql.SQL("r.field_types @> ARRAY[{}]").format(sql.Literal(search.field_type)))
    if search.value:
        where.append(sql.SQL("r.value_words @@ {}").format(text_query(search.value)))
    if search.updated_after:
        where.append(
            sql.SQL("r.updated >= {}::timestamptz").format(sql.Literal(search.updated_after))
        )
    if search.filter is not None:
        columns = {name: column for name, (column, _) in QUERYABLES.items()}
        where.append(cql.to_where(search.filter, columns, "extent"))
    return where


def run(
    conn: psycopg.Connection, search: Search, version: int | None = None, memo: Memo | None = None
) -> Result:
    """One page of records, their count and (when asked) facets.

    Counts and facets depend only on the filter, the viewer's rights and the catalogue's
    content, which changes only when a collection is published or removed: with the catalogue
    `version` and a `memo` (the server's, state.ServerState.aggregates) given, they are
    remembered per filter and rights until it changes. The page itself is always read.
    """
    clause = _clause(conn, search)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_page(search, clause, sql.SQL("r.entry"))).fetchall()
        key = _key(conn, search, clause, version, memo)
        matched, facets = _aggregates(cur, search, clause, key, memo)
    return Result([r["entry"] for r in rows], matched, facets)


def find(
    conn: psycopg.Connection, search: Search, version: int | None = None, memo: Memo | None = None
) -> Page:
    """run() without the entries: the page's ids, each with its row's version (PostgreSQL's
    xmin, new whenever the record is written), so that a caller that keeps what it made of an
    entry (records_api keeps each record's JSON) reads only the entries it does not have.

    Finding a page costs more than reading it: a search ordered by relevance ranks every match
    (ts_rank_cd over all candidates), and one in title (or sortby) order reads the order's
    index until it has passed `offset + limit` matches, which for a filter whose matches
    gather at the end of that order (field=χωρητικοτητα: schools and car parks, "Σ…", "Χ…")
    is most of the catalogue; the planner, which takes matches to be spread evenly over the
    order, cannot tell. Like the count, an order depends only on the filter and the
    catalogue's content: with `version` and `memo` given, the first RANKED ids in each order
    are remembered per filter and rights, and a page within them only re-reads its own rows
    (still through the whole filter, the viewer's rule included, so a record that stopped
    matching or became hidden is left out)."""
    clause = _clause(conn, search)
    key = _key(conn, search, clause, version, memo)
    columns = sql.SQL("r.id, r.xmin::text AS row_version")
    with conn.cursor(row_factory=dict_row) as cur:
        if key is not None and search.offset + search.limit <= RANKED:
            first = replace(search, limit=RANKED, offset=0)
            # The relevance order follows from the filter (its q); any other from sortby.
            order = "ranked" if _ranked(search) else "order " + _order(search).as_string(conn)
            ranked = _remembered(
                memo,
                key,
                order,
                lambda: [r["id"] for r in cur.execute(_page(first, clause, sql.SQL("r.id")))],
            )
            ids = ranked[search.offset : search.offset + search.limit]
            position = {record_id: i for i, record_id in enumerate(ids)}
            rows = (
                cur.execute(
                    sql.SQL("SELECT {} FROM geoservice.records r {} {} r.id = ANY({})").format(
                        columns,
                        clause,
                        sql.SQL("AND" if clause.as_string() else "WHERE"),
                        sql.Literal(ids),
                    )
                ).fetchall()
                if ids
                else []
            )
            rows.sort(key=lambda r: position[r["id"]])
        else:
            rows = cur.execute(_page(search, clause, columns)).fetchall()
        matched, facets = _aggregates(cur, search, clause, key, memo)
    return Page([(r["id"], r["row_version"]) for r in rows], matched, facets)


def entries(
    conn: psycopg.Connection, ids: list[str], viewer: Viewer
) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, row version, entry) of these records, those the viewer may see."""
    return conn.execute(
        sql.SQL(
            "SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r "
            "WHERE r.id = ANY({}) AND {}"
        ).format(sql.Literal(ids), _visible(viewer))
    ).fetchall()


def database(conn: psycopg.Connection) -> tuple:
    """Which database this connection is to (host, port, name): what the catalogue version
    and the row versions are versions of. Cheap: conn.info.dsn re-parses the conninfo."""
    pgconn = conn.pgconn
    return (pgconn.host, pgconn.port, pgconn.db)


def _clause(conn: psycopg.Connection, search: Search) -> sql.SQL:
    """The WHERE clause, rendered once: the page, the count and the cache key share it."""
    where = conditions(search)
    if not where:
        return sql.SQL("")
    return sql.SQL((sql.SQL("WHERE ") + sql.SQL(" AND ").join(where)).as_string(conn))


def _page(search: Search, clause: sql.Composable, columns: sql.Composable) -> sql.Composable:
    order = _order(search)  # (refuses what is not sortable)
    if _ranked(search):
        rank = sql.SQL("ts_rank_cd(r.search, {})").format(text_query(search.q))
        # r.id last: records of equal rank and title (there are many) keep one order, so
        # pages neither repeat nor skip any of them.
        order = sql.SQL("{} DESC, r.title_el, r.id").format(rank)
    if not search.offset:
        return sql.SQL(
            "SELECT {columns} FROM geoservice.records r {where} ORDER BY {order} LIMIT {limit}"
        ).format(columns=columns, where=clause, order=order, limit=sql.Literal(search.limit))
    # A page further on finds its ids first, then reads only its rows: the rows it skips are
    # then read from an index alone where one holds the order and the filter's columns
    # (records_updated_idx: sortby=-updated at offset 5,000 in 2 ms, not 50 ms; a page that
    # reads `entry` or `xmin` for every skipped row must visit the table for each).
    return sql.SQL(
        "SELECT {columns} FROM geoservice.records r WHERE r.id = ANY(ARRAY("
        "SELECT r.id FROM geoservice.records r {where} ORDER BY {order} "
        "LIMIT {limit} OFFSET {offset})) ORDER BY {order}"
    ).format(
        columns=columns,
        where=clause,
        order=order,
        limit=sql.Literal(search.limit),
        offset=sql.Literal(search.offset),
    )


def _ranked(search: Search) -> bool:
    return bool(search.q) and not search.sortby


def _key(
    conn: psycopg.Connection,
    search: Search,
    clause: sql.SQL,
    version: int | None,
    memo: Memo | None,
) -> tuple | None:
    """What remembered aggregates are kept under (None: no memo or the version is unknown,
    keep none): the database, the catalogue version, the viewer's rights (what it may see) and
    the filter (which also holds the viewer's access rule)."""
    if memo is None or version is None:
        return None
    return (database(conn), version, search.viewer.rights, clause.as_string(conn))


def _aggregates(
    cur: psycopg.Cursor, search: Search, clause: sql.SQL, key: tuple | None, memo: Memo | None
) -> tuple[int, dict[str, dict[str, int]] | None]:
    matched = _remembered(memo, key, "count", lambda: _count(cur, clause))
    facets = (
        _remembered(memo, key, "facets", lambda: _facets(cur, clause)) if search.facets else None
    )
    return matched, facets


def one_entry(conn: psycopg.Connection, record_id: str, viewer: Viewer) -> dict[str, Any]:
    """One record's entry; a record the viewer may not see does not exist for them."""
    found = entries(conn, [record_id], viewer)
    if not found:
        raise NotFound(f"no record '{record_id}' in the catalogue")
    return found[0][2]


def visible_entries(conn: psycopg.Connection, viewer: Viewer) -> list[dict[str, Any]]:
    """Every record the viewer may see (for whole-catalogue exports)."""
    rows = conn.execute(
        sql.SQL("SELECT r.entry FROM geoservice.records r WHERE {} ORDER BY r.id").format(
            _visible(viewer)
        )
    ).fetchall()
    return [r[0] for r in rows]


def _visible(viewer: Viewer) -> sql.Composable:
    """The viewer's access rule over `r` (geoservice.server.access), `true` for admins."""
    return viewer.sql_condition("r") or sql.SQL("true")


AGGREGATES_KEPT = 1_000  # the size of a server's aggregates memo (state.ServerState)
RANKED = 200  # ids of a search remembered per filter and order: 20 pages of 10


def _remembered(memo: Memo | None, key: tuple | None, kind: str, compute: Any) -> Any:
    if memo is None or key is None:
        return compute()
    return memo.remembered((*key, kind), compute)


def _count(cur: psycopg.Cursor, clause: sql.Composable) -> int:
    row = cur.execute(sql.SQL("SELECT count(*) AS n FROM geoservice.records r {}").format(clause))
    return int(row.fetchone()["n"])


def _order(search: Search) -> sql.Composable:
    keys = []
    for name, descending in search.sortby:
        if name not in SORTABLE:
            raise BadRequest(
                f"sortby: '{name}' is not sortable; sortable: {', '.join(sorted(SORTABLE))}"
            )
        column = QUERYABLES[name][0]
        # Records without the property (a document has no featureCount) come last either way.
        direction = "DESC NULLS LAST" if descending else "ASC NULLS LAST"
        keys.append(sql.SQL("r.{} {}").format(sql.Identifier(column), sql.SQL(direction)))
    keys.append(sql.SQL("r.title_el, r.id"))
    return sql.SQL(", ").join(keys)


def _facets(cur: psycopg.Cursor, clause: sql.Composable) -> dict[str, dict[str, int]]:
    parts = [
        sql.SQL(
            "(SELECT {name}, value, count(*) FROM "
            "(SELECT {expr} AS value FROM geoservice.records r {where}) f "
            "WHERE value IS NOT NULL GROUP BY value ORDER BY count(*) DESC, value LIMIT {size})"
        ).format(
            name=sql.Literal(name), expr=sql.SQL(expr), where=clause, size=sql.Literal(FACET_SIZE)
        )
        for name, expr in FACETS.items()
    ]
    rows = cur.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for row in rows:
        values = list(row.values())
        facets[values[0]][values[1]] = int(values[2])
    return facets
