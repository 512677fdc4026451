"""The registry of published collections and of every load.

Reads for the server, writes for the loaders.

Writes happen inside the caller's transaction, so a data table and its metadata change together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geoservice.errors import NotFound


@dataclass
class CollectionRecord:
    """One published collection, as the server needs it."""

    id: str
    table_name: str
    descriptor: dict[str, Any]
    fields: list[dict[str, Any]]
    id_field: str
    geometry_type: str
    has_z: bool
    source_crs: str
    source_srid: int | None
    bbox: list[float] | None
    source_bbox: list[float] | None
    temporal_field: str | None
    temporal_extent: list[datetime] | None
    feature_count: int
    updated_at: datetime
    geojson_column: str | None = None  # CRS84 GeoJSON of each geometry, precomputed at load
    page_anchors: list[Any] | None = None  # every 1000th key, in key order
    mean_vertices: float | None = None  # vertices per feature
    data_updated: str | None = None  # the data's own last change (RFC 3339); None: unknown


_COLUMNS = (
    "id, table_name, descriptor, fields, id_field, geometry_type, has_z, source_crs, source_srid, "
    "bbox, source_bbox, temporal_field, temporal_extent, feature_count, updated_at, "
    "geojson_column, page_anchors, mean_vertices, data_updated"
)


def list_collections(conn: psycopg.Connection) -> list[CollectionRecord]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(f"SELECT {_COLUMNS} FROM geoservice.collections ORDER BY id").fetchall()
    return [CollectionRecord(**row) for row in rows]


def get_collection(conn: psycopg.Connection, collection_id: str) -> CollectionRecord:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM geoservice.collections WHERE id = %s", (collection_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"no published collection '{collection_id}'")
    return CollectionRecord(**row)


def catalogue_version(conn: psycopg.Connection) -> int:
    """Changes whenever a collection is published, replaced or removed."""
    row = conn.execute(
        "SELECT last_value + CASE WHEN is_called THEN 0 ELSE -1 END "
        "FROM geoservice.catalogue_version"
    ).fetchone()
    return int(row[0]) if row else 0


def upsert_collection(conn: psycopg.Connection, record: dict[str, Any]) -> None:
    """Insert or replace a collection row (caller's transaction) and bump the catalogue version."""
    values = dict(record)
    values["descriptor"] = Jsonb(values["descriptor"])
    values["fields"] = Jsonb(values["fields"])
    values["page_anchors"] = Jsonb(values.get("page_anchors"))
    values.setdefault("data_updated", None)  # unknown unless the load found it
    columns = [c.strip() for c in _COLUMNS.split(",") if c.strip() != "updated_at"]
    placeholders = ", ".join(f"%({c})s" for c in columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
    conn.execute(
        f"INSERT INTO geoservice.collections ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}, updated_at = now()",
        values,
    )
    conn.execute("SELECT nextval('geoservice.catalogue_version')")


def delete_collection(conn: psycopg.Connection, collection_id: str) -> CollectionRecord:
    record = get_collection(conn, collection_id)
    conn.execute("DELETE FROM geoservice.collections WHERE id = %s", (collection_id,))
    conn.execute("SELECT nextval('geoservice.catalogue_version')")
    return record


# -- load history ------------------------------------------------------------


def start_load(conn: psycopg.Connection, collection_id: str, source: str) -> int:
    row = conn.execute(
        "INSERT INTO geoservice.loads (collection_id, status, source) VALUES (%s, 'running', %s) "
        "RETURNING load_id",
        (collection_id, source),
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_load(conn: psycopg.Connection, load_id: int, status: str, **facts: Any) -> None:
    allowed = {
        "source_checksum",
        "feature_count",
        "null_geometries",
        "repaired_geometries",
        "bbox",
        "encoding",
        "warnings",
        "error",
        "error_texts",
        "seconds",
    }
    unknown = set(facts) - allowed
    if unknown:
        raise ValueError(f"unknown load facts: {sorted(unknown)}")
    for name in ("warnings", "error_texts"):
        if name in facts:
            facts[name] = Jsonb(facts[name])
    sets = ", ".join(f"{k} = %({k})s" for k in facts)
    conn.execute(
        f"UPDATE geoservice.loads SET status = %(status)s, finished_at = now()"
        f"{', ' + sets if sets else ''} WHERE load_id = %(load_id)s",
        {"status": status, "load_id": load_id, **facts},
    )


def load_history(conn: psycopg.Connection, collection_id: str, limit: int = 20) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM geoservice.loads WHERE collection_id = %s "
            "ORDER BY started_at DESC, load_id DESC LIMIT %s",
            (collection_id, limit),
        ).fetchall()


def recent_loads(
    conn: psycopg.Connection, limit: int = 100, collections: list[str] | None = None
) -> list[dict]:
    """The latest load attempts, newest first: of every collection, or of `collections`."""
    where = "" if collections is None else "WHERE collection_id = ANY(%(ids)s) "
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT * FROM geoservice.loads {where}"
            "ORDER BY started_at DESC, load_id DESC LIMIT %(limit)s",
            {"ids": collections, "limit": limit},
        ).fetchall()


def first_published(conn: psycopg.Connection, collections: list[str]) -> dict[str, datetime]:
    """When each of `collections` was first published (its first good load)."""
    rows = conn.execute(
        "SELECT collection_id, min(started_at) FROM geoservice.loads "
        "WHERE status = 'published' AND collection_id = ANY(%s) GROUP BY collection_id",
        (collections,),
    ).fetchall()
    return dict(rows)


def find_collection(conn: psycopg.Connection, collection_id: str) -> CollectionRecord | None:
    try:
        return get_collection(conn, collection_id)
    except NotFound:
        return None


def reserve_load_id(conn: psycopg.Connection) -> int:
    """A load id no load will have, for a dry run (which records nothing)."""
    return _next_id(conn, "geoservice.loads", "load_id")


def _next_id(conn: psycopg.Connection, table: str, column: str) -> int:
    row = conn.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))", (table, column)).fetchone()
    assert row is not None
    return int(row[0])


# -- kept versions (geoservice undo) -------------------------------------------


@dataclass
class KeptVersion:
    collection_id: str
    version_id: int
    kept_at: datetime
    reason: str  # replaced, removed
    kept_table: str  # in schema kept
    record: dict[str, Any]  # its geoservice.collections row


def next_kept_version(conn: psycopg.Connection) -> int:
    return _next_id(conn, "geoservice.kept_versions", "version_id")


def put_kept_version(
    conn: psycopg.Connection, collection_id: str, version_id: int, reason: str, kept_table: str
) -> None:
    """Keep the collection's registry row as it is now (caller's transaction; the caller has
    removed its older kept version)."""
    conn.execute(
        "INSERT INTO geoservice.kept_versions "
        "(collection_id, version_id, reason, kept_table, collection) "
        "SELECT id, %s, %s, %s, to_jsonb(c) FROM geoservice.collections c WHERE id = %s",
        (version_id, reason, kept_table, collection_id),
    )


def take_kept_version(conn: psycopg.Connection, collection_id: str) -> KeptVersion | None:
    """Remove the collection's kept version from the list and return it (caller's transaction:
    rolled back, it stays)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "DELETE FROM geoservice.kept_versions WHERE collection_id = %s "
            "RETURNING collection_id, version_id, kept_at, reason, kept_table, collection",
            (collection_id,),
        ).fetchone()
        if row is None:
            return None
        record = cur.execute(
            "SELECT (jsonb_populate_record(NULL::geoservice.collections, %s)).*",
            (Jsonb(row.pop("collection")),),
        ).fetchone()
    return KeptVersion(**row, record=dict(record or {}))


def kept_versions(conn: psycopg.Connection) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT collection_id, version_id, kept_at, reason, kept_table "
            "FROM geoservice.kept_versions ORDER BY kept_at DESC"
        ).fetchall()


def expire_kept_versions(conn: psycopg.Connection, keep_days: float) -> list[str]:
    """Forget the kept versions older than `keep_days`; returns their tables (to drop, in the
    caller's transaction). One an undo is taking back right now is left to it."""
    rows = conn.execute(
        "DELETE FROM geoservice.kept_versions WHERE version_id IN ("
        "SELECT version_id FROM geoservice.kept_versions "
        "WHERE kept_at <= now() - make_interval(secs => %s * 86400) FOR UPDATE SKIP LOCKED) "
        "RETURNING kept_table",
        (float(keep_days),),
    ).fetchall()
    return [name for (name,) in rows]


# -- removals and undos --------------------------------------------------------


def record_event(
    conn: psycopg.Connection, collection_id: str, action: str, detail: str | None = None
) -> None:
    """A change to a layer that is not a load (removed, undone), for `geoservice history`."""
    conn.execute(
        "INSERT INTO geoservice.layer_events (collection_id, action, detail) VALUES (%s, %s, %s)",
        (collection_id, action, detail),
    )


def history(
    conn: psycopg.Connection, collection_id: str | None = None, limit: int = 30
) -> list[dict]:
    """Loads, removals and undos, newest first: of one collection, or of every one."""
    where = "" if collection_id is None else "WHERE collection_id = %(id)s "
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT * FROM ("
            "SELECT collection_id, started_at AS at, status, feature_count, seconds, "
            f"warnings, error AS note FROM geoservice.loads {where}"
            "UNION ALL SELECT collection_id, at, action, NULL, NULL, '[]'::jsonb, detail "
            f"FROM geoservice.layer_events {where}"
            ") h ORDER BY at DESC LIMIT %(limit)s",
            {"id": collection_id, "limit": limit},
        ).fetchall()
