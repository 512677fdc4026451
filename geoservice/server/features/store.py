"""A published layer's queries: the SQL (filters, order, pages, GeoJSON built inside
PostgreSQL) made from plain values, and running it on the connection pool.

Shared by the fast items path (items.py) and the pygeoapi provider (HTML and other formats).
Identifiers are checked against the layer's fields before they are quoted; values go in as
literals escaped by psycopg; CQL2 goes through geoservice.server.cql. Database failures become
our errors here.

numberMatched policy: exact when it is cheap to know (an unfiltered layer's count is kept
by the loader, and tables change only through loads; a filtered count is exact up to
COUNT_CAP matches), otherwise the planner's estimate, flagged as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import psycopg
import pyproj
from psycopg import sql
from psycopg.adapt import Loader
from psycopg_pool import PoolTimeout

from geoservice.errors import BadRequest, DatabaseError, GeoserviceError, NotFound
from geoservice.server import cql
from geoservice.server.memo import Memo
from geoservice.store.db import shared_pool
from geoservice.store.tables import ANCHOR_STEP, GEOMETRY_COLUMN

DEFERRED_OFFSET = 1_000  # past this offset, find the page's first key before reading rows
# From this many vertices per feature a page comes a row per feature (bench/README.md has the
# measurements either side of it).
BIG_FEATURE_VERTICES = 200
FEATURE_SHAPES_KEPT = 64  # per layer: feature expressions kept rendered (see Layer.feature)


@dataclass(frozen=True)
class OutputCRS:
    srid: int = 4326
    flip: bool = False  # lat/lon axis order (EPSG:4326 proper), not CRS84's lon/lat
    digits: int = 7  # decimals: 7 for degrees (~1 cm), 3 for metres (1 mm)


CRS84_OUTPUT = OutputCRS()


# A pure function cache (kept at module level on purpose): its key is a CRS's text and its
# value that CRS's SRID and axis order, the same for every caller; it holds no data.
@lru_cache(maxsize=64)
def output_crs(wkt_or_uri: str | None) -> OutputCRS:
    """What a requested CRS means for the SQL; None is CRS84."""
    if not wkt_or_uri:
        return CRS84_OUTPUT
    crs = pyproj.CRS.from_user_input(wkt_or_uri)
    if crs.equals(pyproj.CRS("OGC:CRS84")):
        return CRS84_OUTPUT
    srid = crs.to_epsg()
    if srid is None:
        raise BadRequest("the requested crs has no EPSG code")
    first_axis = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    return OutputCRS(srid, first_axis in ("north", "south"), 7 if crs.is_geographic else 3)


@dataclass
class Query:
    """A request for features, in plain values (HTTP parsing happens elsewhere)."""

    bbox: tuple[float, float, float, float] | None = None  # CRS84
    datetime: str | None = None  # RFC 3339 instant or interval a/b (.. for open)
    equals: list[tuple[str, str]] = field(default_factory=list)  # property=value
    filter: Any = None  # a pygeofilter AST
    filter_srid: int = 4326
    filter_flip: bool = False  # filter geometries given latitude first
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    properties: list[str] | None = None  # None: all
    skip_geometry: bool = False
    output: OutputCRS = CRS84_OUTPUT

    @property
    def filtered(self) -> bool:
        return bool(self.bbox or self.datetime or self.equals or self.filter is not None)


class Layer:
    """A published table as the SQL builder sees it (from the generated provider definition)."""

    def __init__(
        self,
        schema: str,
        table: str,
        fields: list[dict[str, Any]],
        id_field: str,
        id_type: str = "integer",
        time_field: str | None = None,
        feature_count: int | None = None,
        geojson_column: str | None = None,
        anchors: list[Any] | None = None,
        mean_vertices: float | None = None,
        geometry_type: str | None = None,
    ):
        self.table = sql.Identifier(schema, table)
        self.fields = fields
        self.types = {f["name"]: f["type"] for f in fields}
        self.id_field = id_field
        self.id_type = id_type
        self.time_field = time_field
        self.feature_count = feature_count
        self.geojson_column = geojson_column  # CRS84 GeoJSON precomputed at load, if any
        self.anchors = anchors or []  # key at positions 0, ANCHOR_STEP, 2*ANCHOR_STEP, ...
        self.geometry_type = geometry_type  # as published: Point, MultiPolygon, ... Geometry
        # Big features come one row each: string_agg copies its growing text, and libpq keeps
        # each connection's buffer at the largest row it ever read. Small ones in one row: it
        # saves per-row costs.
        self.row_per_feature = (mean_vertices or 0) >= BIG_FEATURE_VERTICES
        self._features = Memo(FEATURE_SHAPES_KEPT)  # output shape -> rendered SQL

    @classmethod
    def from_provider(cls, provider_def: dict[str, Any]) -> Layer:
        data = provider_def["data"]
        return cls(
            data["schema"],
            data["table"],
            provider_def.get("fields", []),
            provider_def["id_field"],
            provider_def.get("id_type", "integer"),
            provider_def.get("time_field"),
            provider_def.get("feature_count"),
            provider_def.get("geojson_column"),
            provider_def.get("page_anchors"),
            provider_def.get("mean_vertices"),
            provider_def.get("geometry_type"),
        )

    # -- pieces ------------------------------------------------------------------

    def where(self, query: Query) -> sql.Composable:
        return _where(self.conditions(query))

    def conditions(self, query: Query) -> list[sql.Composable]:
        clauses: list[sql.Composable] = []
        if query.bbox:
            clauses.append(
                sql.SQL("{} && ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(
                    sql.Identifier(GEOMETRY_COLUMN), *map(sql.Literal, query.bbox)
                )
            )
        if query.datetime:
            clauses.append(self._datetime(query.datetime))
        for name, value in query.equals:
            if name in self.types:
                clauses.append(
                    sql.SQL("{} = {}").format(
                        sql.Identifier(name), sql.Literal(self.typed(name, value))
                    )
                )
        if query.filter is not None:
            columns = {n: n for n in self.types}
            clauses.append(
                cql.to_where(
                    query.filter, columns, GEOMETRY_COLUMN, query.filter_srid, query.filter_flip
                )
            )
        return clauses

    def order(self, query: Query) -> sql.Composable:
        keys = []
        for name, descending in query.sortby:
            if name not in self.types and name != self.id_field:
                raise BadRequest(f"sortby: unknown property '{name}'")
            keys.append(
                sql.SQL("{} {}").format(
                    sql.Identifier(name), sql.SQL("DESC" if descending else "ASC")
                )
            )
        keys.append(sql.Identifier(self.id_field))  # a total order makes pages deterministic
        return sql.SQL(", ").join(keys)

    def feature(self, query: Query, alias: str = "t") -> sql.Composable:
        """One row's GeoJSON Feature as text.

        Text, not json: concatenating text saves PostgreSQL re-parsing every geometry (and a
        precomputed geometry is only read). Composed once per shape of output and kept as
        text: rendering it is most of the Python time a page's statement would cost."""
        properties = None if query.properties is None else tuple(query.properties)
        shape = (alias, properties, query.skip_geometry, query.output)
        return self._features.remembered(
            shape, lambda: sql.SQL(self._feature(query, alias).as_string(None))
        )

    def _feature(self, query: Query, alias: str) -> sql.Composable:
        names = [
            f["name"]
            for f in self.fields
            if query.properties is None or f["name"] in query.properties
        ]
        col = lambda name: sql.Identifier(alias, name)  # noqa: E731
        properties = (
            sql.SQL("json_build_object({})::text").format(
                sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), col(n)) for n in names)
            )
            if names
            else sql.SQL("'{}'")
        )
        return sql.SQL(
            """'{{"type":"Feature","id":' || to_json({id})::text || ',"geometry":' """
            """|| coalesce({geometry}, 'null') || ',"properties":' || {properties} || '}}'"""
        ).format(id=col(self.id_field), geometry=self.geometry(query, alias), properties=properties)

    def geometry(self, query: Query, alias: str = "t") -> sql.Composable:
        if query.skip_geometry:
            return sql.SQL("NULL")
        out = query.output
        if out == CRS84_OUTPUT and self.geojson_column:
            return sql.Identifier(alias, self.geojson_column)
        expression: sql.Composable = sql.Identifier(alias, GEOMETRY_COLUMN)
        if out.srid != 4326:
            expression = sql.SQL("ST_Transform({}, {})").format(expression, sql.Literal(out.srid))
        if out.flip:
            expression = sql.SQL("ST_FlipCoordinates({})").format(expression)
        return sql.SQL("ST_AsGeoJSON({}, {}, 0)").format(expression, sql.Literal(out.digits))

    # -- statements ---------------------------------------------------------------

    def page(self, query: Query, limit: int, offset: int = 0, after: Any = None) -> sql.Composable:
        """One row: (number of features, their JSON array as text, the last key); with
        `row_per_feature`, a row per feature: (its JSON text, its key).

        `after` is a keyset cursor (the last key of the previous page, default order only):
        a deep page then costs what the first page costs.
        """
        conditions = self.conditions(query)
        if after is not None:
            if query.sortby:
                raise BadRequest("a cursor cannot be combined with sortby")
            conditions.append(
                sql.SQL("{} > {}").format(
                    sql.Identifier(self.id_field), sql.Literal(self.key(after))
                )
            )
            offset = 0
        elif offset >= ANCHOR_STEP and not query.sortby and not conditions and self.anchors:
            # An unfiltered deep page: start from the key the loader noted at that position
            # (tables change only through loads, so the note is exact) and skip < ANCHOR_STEP.
            anchor = self.anchors[min(offset // ANCHOR_STEP, len(self.anchors) - 1)]
            skipped = min(offset // ANCHOR_STEP, len(self.anchors) - 1) * ANCHOR_STEP
            conditions = [
                sql.SQL("{} >= {}").format(sql.Identifier(self.id_field), sql.Literal(anchor))
            ]
            offset -= skipped
        elif offset > DEFERRED_OFFSET and not query.sortby:
            # Skip the first `offset` keys in the primary key's index (an index-only scan),
            # then read just one page of rows, instead of reading and dropping `offset` rows.
            first_key = sql.SQL(
                "(SELECT {id} FROM {table} {where} ORDER BY {id} OFFSET {offset} LIMIT 1)"
            ).format(
                id=sql.Identifier(self.id_field),
                table=self.table,
                where=_where(conditions),
                offset=sql.Literal(int(offset)),
            )
            conditions = [
                *conditions,
                sql.SQL("{} >= {}").format(sql.Identifier(self.id_field), first_key),
            ]
            offset = 0
        inner = sql.SQL(
            "SELECT * FROM {table} {where} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        ).format(
            table=self.table,
            where=_where(conditions),
            order=self.order(query),
            limit=sql.Literal(int(limit)),
            offset=sql.Literal(int(offset)),
        )
        if self.row_per_feature:
            return sql.SQL("SELECT {feature}, t.{id} FROM ({inner}) t ORDER BY {order}").format(
                feature=self.feature(query),
                order=self._order_on("t", query),
                id=sql.Identifier(self.id_field),
                inner=inner,
            )
        return sql.SQL(
            "SELECT count(*), "
            "'[' || coalesce(string_agg({feature}, ',' ORDER BY {order}), '') || ']', "
            "(array_agg(t.{id} ORDER BY {order}))[count(*)] FROM ({inner}) t"
        ).format(
            feature=self.feature(query),
            order=self._order_on("t", query),
            id=sql.Identifier(self.id_field),
            inner=inner,
        )

    def one(self, query: Query) -> sql.Composable:
        """One feature by key; the key is the statement's one parameter (so it can be prepared)."""
        return sql.SQL("SELECT {feature} FROM {table} t WHERE t.{id} = %s").format(
            feature=self.feature(query), table=self.table, id=sql.Identifier(self.id_field)
        )

    def count(self, query: Query, cap: int | None = None) -> sql.Composable:
        """count(*) of the matches; with `cap`, stop counting past cap (the caller estimates)."""
        if cap is None:
            return sql.SQL("SELECT count(*) FROM {} {}").format(self.table, self.where(query))
        return sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} {} LIMIT {}) s").format(
            self.table, self.where(query), sql.Literal(cap + 1)
        )

    def stream(self, query: Query) -> sql.Composable:
        """Every matching feature, one JSON text per row (for downloads)."""
        return sql.SQL("SELECT {feature} FROM {table} t {where} ORDER BY {order}").format(
            feature=self.feature(query),
            table=self.table,
            where=self.where(query),
            order=self._order_on("t", query),
        )

    # -- values -----------------------------------------------------------------

    def key(self, value: Any, missing: type[Exception] = BadRequest) -> Any:
        if self.id_type == "integer":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise missing(f"no feature with id '{value}'") from None
        return str(value)

    def typed(self, name: str, value: str) -> Any:
        kind = self.types.get(name, "string")
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
            if kind == "boolean":
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                return value.lower() in ("true", "1")
            if kind == "date":
                return date.fromisoformat(value)
            if kind == "datetime":
                return parse_time(value)
        except ValueError:
            raise BadRequest(f"'{value}' is not a valid {kind} for property '{name}'") from None
        return value

    def _datetime(self, value: str) -> sql.Composable:
        if not self.time_field:
            raise BadRequest("this collection has no time field for datetime")
        column = sql.Identifier(self.time_field)
        if "/" not in value:
            return sql.SQL("{} = {}").format(column, sql.Literal(parse_time(value)))
        start, end = (part.strip() for part in value.split("/", 1))
        parts = []
        if start not in ("", ".."):
            parts.append(sql.SQL("{} >= {}").format(column, sql.Literal(parse_time(start))))
        if end not in ("", ".."):
            parts.append(sql.SQL("{} <= {}").format(column, sql.Literal(parse_time(end))))
        return sql.SQL("(") + sql.SQL(" AND ").join(parts or [sql.SQL("TRUE")]) + sql.SQL(")")

    def _order_on(self, alias: str, query: Query) -> sql.Composable:
        keys = [
            sql.SQL("{} {}").format(sql.Identifier(alias, name), sql.SQL("DESC" if desc else "ASC"))
            for name, desc in query.sortby
        ]
        keys.append(sql.Identifier(alias, self.id_field))
        return sql.SQL(", ").join(keys)


def _where(conditions: list[sql.Composable]) -> sql.Composable:
    if not conditions:
        return sql.SQL("")
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions)


def parse_time(text: str) -> datetime | date:
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
        # In UTC: PostgreSQL reads offsets up to 15:59 only, RFC 3339 allows up to 23:59.
        return instant.astimezone(UTC) if instant.tzinfo is not None else instant
    except (ValueError, OverflowError):
        raise BadRequest(f"'{text}' is not an RFC 3339 date-time") from None


# -- running the queries ---------------------------------------------------------------

COUNT_CAP = 100_000
COUNTS_KEPT = 1_000  # filters whose count a store remembers
STATEMENTS_KEPT = 64  # statements for one feature by id (per layer and output CRS)
STREAM_BATCH = 5_000


class QueryTimeout(GeoserviceError):
    http_status = 503


class RawText(Loader):
    """Text as the UTF-8 bytes PostgreSQL sent: a page of features goes to the socket as is.

    Decoding a page to str (two bytes a character once it holds Greek) and encoding it back
    would cost two copies of it, and most of the time Python spends on it."""

    def load(self, data: Any) -> bytes:
        return bytes(data)


@dataclass
class Page:
    features_json: bytes  # a JSON array, UTF-8, as PostgreSQL wrote it
    returned: int
    last_key: Any


@dataclass
class Matched:
    count: int
    exact: bool


class FeatureStore:
    def __init__(self, dsn: str):
        self.dsn = dsn
        # A store belongs to one snapshot (one access view of one catalogue version), so what
        # it remembers was derived from what that view may see.
        self._statements = Memo(STATEMENTS_KEPT)  # (layer, output shape) -> SQL text
        self._counts = Memo(COUNTS_KEPT)  # count statement -> its answer

    def page(
        self, layer: Layer, query: Query, limit: int, offset: int = 0, after: Any = None
    ) -> Page:
        statement = layer.page(query, limit, offset, after)
        with self._connection() as conn:
            cursor = _run(_raw(conn.cursor()), statement)
            if layer.row_per_feature:
                rows = cursor.fetchall()
                features = b"[" + b",".join(r[0] for r in rows) + b"]"
                row = (len(rows), features, rows[-1][1] if rows else None)
            else:
                row = cursor.fetchone()
        returned, text, last_key = row if row else (0, b"[]", None)
        if isinstance(last_key, bytes):  # a text key
            last_key = last_key.decode()
        return Page(text, int(returned), last_key)

    def matched(self, layer: Layer, query: Query) -> Matched:
        if not query.filtered and layer.feature_count is not None:
            return Matched(int(layer.feature_count), True)
        with self._connection() as conn:
            statement = layer.count(query, cap=COUNT_CAP).as_string(conn)
            # Tables change only through loads, and a load makes a new store: a filter's
            # count is counted once per store (a web map asks the same page again and again).
            known = self._counts.get(statement)
            if known is not None:
                return known
            capped = _run(conn, sql.SQL(statement)).fetchone()[0]
            if capped <= COUNT_CAP:
                matched = Matched(int(capped), True)
            else:
                explain = sql.SQL("EXPLAIN (FORMAT JSON) ") + layer.count(query)
                matched = Matched(
                    max(_plan_rows(_run(conn, explain).fetchone()[0]), COUNT_CAP + 1), False
                )
        self._counts.put(statement, matched)
        return matched

    def one(self, layer: Layer, identifier: str, query: Query) -> bytes:
        key = layer.key(identifier, missing=NotFound)
        with self._connection() as conn:
            # The statement text is built once per output shape; psycopg prepares it on the
            # server after a few uses, so a lookup by id costs little more than the index probe.
            shape = (id(layer), query.output, query.skip_geometry)
            statement = self._statements.remembered(shape, lambda: layer.one(query).as_string(conn))
            try:
                row = _raw(conn.cursor()).execute(statement, (key,)).fetchone()
            except psycopg.Error as err:
                raise _translate(err) from err
        if row is None:
            raise NotFound(f"no feature with id '{identifier}'")
        return row[0]

    def stream(self, layer: Layer, query: Query) -> Iterator[bytes]:
        """Every matching feature as JSON (UTF-8), read through a server-side cursor."""
        statement = layer.stream(query)
        with (
            self._connection() as conn,
            conn.transaction(),
            _raw(conn.cursor(name="geoservice_stream")) as cursor,
        ):
            cursor.itersize = STREAM_BATCH
            try:
                cursor.execute(statement)
                for (text,) in cursor:
                    yield text
            except psycopg.Error as err:
                raise _translate(err) from err

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with shared_pool(self.dsn).connection() as conn:
                yield conn
        except psycopg.OperationalError as err:
            raise DatabaseError("the database is not available") from err
        except PoolTimeout as err:
            raise DatabaseError("the database is busy; try again shortly") from err


def _raw(cursor: Any) -> Any:
    """This cursor reads text columns as bytes (the pool's other users keep str)."""
    cursor.adapters.register_loader("text", RawText)
    return cursor


def _run(conn: psycopg.Connection | psycopg.Cursor, statement: sql.Composable) -> psycopg.Cursor:
    try:
        return conn.execute(statement)
    except psycopg.Error as err:
        raise _translate(err) from err


def _translate(err: psycopg.Error) -> GeoserviceError:
    if isinstance(err, psycopg.errors.QueryCanceled):
        return QueryTimeout("the query took too long; narrow it down (bbox, filter, limit)")
    if isinstance(err, (psycopg.errors.DataError, psycopg.errors.InvalidParameterValue)):
        return BadRequest(_first_line(err))
    if isinstance(err, psycopg.errors.UndefinedFunction):
        return BadRequest("the filter compares values of incompatible types")
    if isinstance(err, psycopg.OperationalError):
        return DatabaseError("the database is not available")
    return DatabaseError("the query failed")


def _plan_rows(plan: Any) -> int:
    document = json.loads(plan) if isinstance(plan, str) else plan
    node = document[0]["Plan"]
    # count(*) over a scan: the estimate of interest is the scan's rows, below the Aggregate.
    while node.get("Plans") and node.get("Node Type") == "Aggregate":
        node = node["Plans"][0]
    return int(node.get("Plan Rows", 0))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
