"""Database access: connections, the connection pool, and the metadata schema."""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg_pool import ConnectionPool

from geoservice.errors import DatabaseError
from geoservice.settings import Settings


def ensure_database(settings: Settings) -> None:
    """Start the embedded cluster when it is the one in use, then create our schema."""
    if settings.embedded:
        from geoservice.embedded_db import Cluster

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
    folder = resources.files("geoservice").joinpath("sql")
    with conn.transaction():
        # Serialise concurrent first-time set-ups (two CLI commands at once).
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('geoservice.schema'))")
        for name in SCHEMA_FILES:
            conn.execute(folder.joinpath(name).read_text())


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


_POOLS: dict[str, ConnectionPool] = {}
STATEMENT_TIMEOUT_MS = 30_000


def shared_pool(dsn: str) -> ConnectionPool:
    """One pool per database for the server process (pygeoapi makes a provider per request)."""
    pool = _POOLS.get(dsn)
    if pool is None:
        pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=8,
            # A statement that runs away is stopped by the database, not left to pile up.
            kwargs={"autocommit": True, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
            open=True,
            timeout=10,
            name="geoservice-read",
        )
        _POOLS[dsn] = pool
    return pool
