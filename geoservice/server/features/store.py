"""Runs feature queries on the connection pool and maps database failures to our errors.

numberMatched policy: exact when it is cheap to know (an unfiltered layer's count is kept
by the loader, and tables change only through loads; a filtered count is exact up to
COUNT_CAP matches), otherwise the planner's estimate, flagged as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.adapt import Loader
from psycopg_pool import PoolTimeout

from geoservice.errors import BadRequest, DatabaseError, GeoserviceError, NotFound
from geoservice.server.features.sql import Layer, Query
from geoservice.server.memo import Memo
from geoservice.store.db import shared_pool

COUNT_CAP = 100_000
COUNTS_KEPT = 1_000  # filters whose count a store remembers
STATEMENTS_KEPT = 64  # statements for one feature by id (per layer and output CRS)
STREAM_BATCH = 5_000


class QueryTimeout(GeoserviceError):
    http_status = 503


class RawText(Loader):
    """Text as the UTF-8 bytes PostgreSQL sent: a page of features goes to the socket as is.

    Decoding a 5 MB page to str (two bytes a character once it holds Greek) and encoding it
    back cost two copies and most of the time Python spent on it."""

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
