"""Database access: connections, the connection pool, and the metadata schema."""

from __future__ import annotations

import hashlib
import select
import time
from importlib import resources

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from geoservice.errors import DatabaseError
from geoservice.settings import Settings


def ensure_database(settings: Settings) -> None:
    """Start the embedded cluster when it is the one in use, then create our schema."""
    if settings.embedded:
        from geoservice.store.embedded import Cluster

        Cluster.from_settings(settings).start()
    with connect(settings) as conn:
        ensure_schema(conn)


def connect(settings: Settings, **kwargs: object) -> psycopg.Connection:
    try:
        return psycopg.connect(settings.dsn, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as err:
        hint = "start it with `geoservice db start`" if settings.embedded else "check DATABASE_URL"
        raise DatabaseError(f"cannot connect to the database ({hint}): {_first_line(err)}") from err


SCHEMA_FILES = ("schema.sql", "catalogue.sql")  # in order


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create or update our schema, unless it is already the one these SQL files make.

    The DDL runs only when the files changed: run on every load, it would take locks on the
    catalogue tables that can deadlock with another load publishing at the same moment."""
    folder = resources.files("geoservice.store").joinpath("sql")
    texts = [folder.joinpath(name).read_text() for name in SCHEMA_FILES]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:32]
    if _schema_digest(conn) == digest:
        return
    with conn.transaction():
        # Serialise concurrent first-time set-ups (two CLI commands at once).
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('geoservice.schema'))")
        if _schema_digest(conn) == digest:
            return  # another process has just done it
        for text in texts:
            conn.execute(text)
        conn.execute("CREATE TABLE IF NOT EXISTS geoservice.schema_version (digest text)")
        conn.execute("DELETE FROM geoservice.schema_version")
        conn.execute("INSERT INTO geoservice.schema_version VALUES (%s)", (digest,))


def _schema_digest(conn: psycopg.Connection) -> str | None:
    if not conn.execute("SELECT to_regclass('geoservice.schema_version') IS NOT NULL").fetchone()[
        0
    ]:
        return None
    row = conn.execute("SELECT digest FROM geoservice.schema_version").fetchone()
    return row[0] if row else None


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


# One pool per database for the process, at module level on purpose: pygeoapi makes our
# providers itself (features/provider.py, records/provider.py), from the configuration, on
# every request, and the feature lane runs outside Flask's application context, so neither can
# reach an application to find a pool there; two applications in one process (tests) share the
# database's connections. A pool holds connections, never data: every statement is autocommit
# and carries its caller's access rule, so no caller sees another's data through it.
_POOLS: dict[str, ConnectionPool] = {}
STATEMENT_TIMEOUT_MS = 30_000
QUICK_WAIT = 0.5  # seconds a request waits for a pooled connection before asking if the db is up
DOWN_MEMORY = 0.5  # seconds a failed probe answers for other requests (no probe per request)


class ReadPool(ConnectionPool):
    """The server's pool, made to fail fast while the database is down and to recover by
    itself as soon as it is back.

    A stock pool queues a request until its timeout when no connection can be made, and
    retries connecting with an exponential backoff (1, 2, 4 ... s), so it would answer late
    during an outage and come back late after it. Here a request that gets no connection
    within QUICK_WAIT probes the server with a direct connection: refused means 503 now;
    answered means the pool is only busy (wait as usual). A short `reconnect_timeout` ends
    each backoff after a second, so the next request starts a fresh connection attempt.
    """

    _down_at = -1.0

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        timeout = self.timeout if timeout is None else timeout
        if time.monotonic() - self._down_at < DOWN_MEMORY:
            raise psycopg.OperationalError("the database is not reachable")
        try:
            return super().getconn(min(QUICK_WAIT, timeout))
        except PoolTimeout:
            pass
        try:
            psycopg.connect(self.conninfo, connect_timeout=2).close()
        except psycopg.OperationalError:
            self._down_at = time.monotonic()
            raise
        return super().getconn(timeout)


def _check_pooled(conn: psycopg.Connection) -> None:
    """Costs one poll(), not a round trip: an idle connection on which the server has spoken
    (a restarted server sends its termination notice and closes) gets the real check, and a
    failed one drops every idle connection, as they are all from before the restart."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    if poller.poll(0):
        try:
            ConnectionPool.check_connection(conn)
        except psycopg.Error:
            pool = conn._pool
            if isinstance(pool, ConnectionPool):
                pool.drain()
            raise


def shared_pool(dsn: str) -> ConnectionPool:
    """One pool per database for the server process (pygeoapi makes a provider per request)."""
    pool = _POOLS.get(dsn)
    if pool is None:
        pool = ReadPool(
            dsn,
            min_size=1,
            max_size=8,
            # A statement that runs away is stopped by the database, not left to pile up.
            kwargs={"autocommit": True, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
            open=True,
            timeout=10,
            check=_check_pooled,
            reconnect_timeout=1.0,
            name="geoservice-read",
        )
        _POOLS[dsn] = pool
    return pool
