"""Write a prepared layer into PostGIS: COPY into a staging table, index it, swap it in atomically.

The published table is touched only in the final transaction, which drops the old table,
moves the staging table in and updates the registry together: readers see either the old
layer or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import shapely
from psycopg import sql

from geoservice.errors import LoadError, NotFound
from geoservice.store import registry, tables
from geoservice.store.tables import (
    ANCHOR_STEP,
    DATA_SCHEMA,
    GEOJSON_COLUMN,
    GEOMETRY_COLUMN,
    STAGING_SCHEMA,
)
from loaders import catalogue, copy_binary
from loaders.model import PreparedLayer

KEPT_SCHEMA = "kept"  # the last version of replaced and removed layers (geoservice undo)
PG_TYPES = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
    "json": "jsonb",
}
GENERATED_ID = "fid"  # the key column when the source names no identifier
HEAVY_VERTICES = 8  # mean vertices per feature from which the GeoJSON is precomputed
PARALLEL_INDEX_ROWS = 100_000  # from here the key and spatial indexes are built at once
CHUNK_VERTICES = 50_000  # per COPY chunk: memory stays bounded, PostgreSQL parses one while
# the next is made (a point counts one, so do null geometries)

Progress = Callable[[int], None]


def lock_collection(conn: psycopg.Connection, collection_id: str) -> None:
    """Session lock: one load of a collection at a time; a second waits for the first."""
    conn.execute("SELECT pg_advisory_lock(hashtext('geoservice.load:' || %s))", (collection_id,))


def unlock_collection(conn: psycopg.Connection, collection_id: str) -> None:
    conn.execute("SELECT pg_advisory_unlock(hashtext('geoservice.load:' || %s))", (collection_id,))


def drop_leftover_staging(conn: psycopg.Connection, collection_id: str) -> int:
    """Remove staging tables a killed load of this collection left behind (we hold its lock).

    Only this collection's (tables.is_staging_of): another collection's load may be running."""
    rows = conn.execute(
        # starts_with, not LIKE: "_" would be a LIKE wildcard.
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND starts_with(tablename, %s)",
        (STAGING_SCHEMA, tables.staging_prefix(collection_id)),
    ).fetchall()
    names = [name for (name,) in rows if tables.is_staging_of(name, collection_id)]
    for name in names:
        _drop_table(conn, STAGING_SCHEMA, name)
    return len(names)


def create_staging(
    conn: psycopg.Connection, table: str, layer: PreparedLayer, vertices: float
) -> tuple[str, str | None]:
    """Create the staging table; returns the key column and the precomputed GeoJSON column."""
    key = layer.id_field or GENERATED_ID
    columns = [] if layer.id_field else [sql.SQL("{} bigint NOT NULL").format(sql.Identifier(key))]
    for f in layer.fields:
        columns.append(sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(PG_TYPES[f.type])))
    columns.append(
        sql.SQL("{} geometry({}, 4326)").format(
            sql.Identifier(GEOMETRY_COLUMN), sql.SQL(_geometry_typmod(layer))
        )
    )
    geojson = GEOJSON_COLUMN if vertices >= HEAVY_VERTICES else None  # vertices per feature
    if geojson:
        # Serialising big geometries is most of the cost of serving them: do it once, here
        # (PostgreSQL computes the column during COPY).
        columns.append(
            sql.SQL("{} text GENERATED ALWAYS AS (ST_AsGeoJSON({}, 7, 0)) STORED").format(
                sql.Identifier(geojson), sql.Identifier(GEOMETRY_COLUMN)
            )
        )
    ident = sql.Identifier(STAGING_SCHEMA, table)
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(columns)))
    # Values past ~2 kB go out of line uncompressed: pglz gains next to nothing on
    # coordinates but tries on every one, at a cost COPY pays for each big geometry, and
    # serving reads the GeoJSON without decompressing it.
    external = [GEOMETRY_COLUMN] + ([geojson] if geojson else [])
    conn.execute(
        sql.SQL("ALTER TABLE {} {}").format(
            ident,
            sql.SQL(", ").join(
                sql.SQL("ALTER COLUMN {} SET STORAGE EXTERNAL").format(sql.Identifier(c))
                for c in external
            ),
        )
    )
    return key, geojson


def mean_vertices(layer: PreparedLayer) -> float:
    """Vertices per feature: how the layer is stored (HEAVY_VERTICES) and paged (the server)."""
    geoms = np.asarray(layer.frame.geometry.values)
    if len(geoms) == 0:
        return 0.0
    return float(shapely.get_num_coordinates(geoms).mean())


def copy_rows(
    conn: psycopg.Connection, table: str, layer: PreparedLayer, progress: Progress | None = None
) -> int:
    """COPY every feature into the staging table, in chunks so memory stays bounded.

    Must run in the transaction that created the table (see FREEZE below)."""
    names = ([] if layer.id_field else [GENERATED_ID]) + [f.name for f in layer.fields]
    names.append(GEOMETRY_COLUMN)
    # FREEZE (the table was created in this transaction) writes the rows frozen and marks
    # the pages all-visible: no VACUUM later, and paging by key can use index-only scans.
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary, FREEZE true)").format(
        sql.Identifier(STAGING_SCHEMA, table),
        sql.SQL(", ").join(map(sql.Identifier, names)),
    )
    written = 0
    datetimes = [f.name for f in layer.fields if f.type == "datetime"]
    instants = {name: _utc_instants(conn, layer.frame[name]) for name in datetimes}
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(copy_binary.SIGNATURE)
        for chunk, rows in _binary_chunks(layer, instants):
            copy.write(chunk)
            written += rows
            if progress:
                progress(rows)
        copy.write(copy_binary.TRAILER)
    return written


def finish_staging(
    conn: psycopg.Connection,
    table: str,
    key: str,
    indexed: Sequence[str] = (),
    helper: psycopg.Connection | None = None,
) -> None:
    """Primary key, spatial index, B-tree indexes on the columns users filter on, statistics.

    Given `helper`, a second connection, the key's index is built there while `conn` builds
    the spatial one: CREATE INDEX takes a SHARE lock, which another CREATE INDEX does not
    wait for, so PostgreSQL builds both at once (worth it from PARALLEL_INDEX_ROWS)."""
    ident = sql.Identifier(STAGING_SCHEMA, table)
    primary = sql.Identifier(f"{table}_pkey")
    key_index = sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
        primary, ident, sql.Identifier(key)
    )
    with ThreadPoolExecutor(1) as thread:
        built = thread.submit(helper.execute, key_index) if helper else None
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
                sql.Identifier(f"{table}_geom_idx"), ident, sql.Identifier(GEOMETRY_COLUMN)
            )
        )
        if built:
            built.result()
        else:
            conn.execute(key_index)
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            ident, primary, primary
        )
    )
    # (column, key): a filtered page in key order (the default) is then one range of the
    # index, not a walk along the primary key discarding what does not match.
    for number, column in enumerate(dict.fromkeys(c for c in indexed if c != key)):
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} ({}, {})").format(
                sql.Identifier(f"{table}_idx{number}"),
                ident,
                sql.Identifier(column),
                sql.Identifier(key),
            )
        )
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def page_anchors(
    conn: psycopg.Connection, table: str, key: str, layer: PreparedLayer, step: int = ANCHOR_STEP
) -> list:
    """The key at every step-th position in key order.

    Integer keys are sorted here (numpy sorts them far faster than the window query below
    numbers them); text keys are left to PostgreSQL, whose collation decides their order."""
    if not layer.id_field:
        return list(range(1, len(layer.frame) + 1, step))  # the generated 1..n
    kinds = {f.name: f.type for f in layer.fields}
    if kinds.get(key) == "integer":
        keys = np.sort(layer.frame[key].to_numpy(dtype=np.int64))
        return keys[::step].tolist()
    rows = conn.execute(
        sql.SQL(
            "SELECT k FROM (SELECT {key} AS k, row_number() OVER (ORDER BY {key}) - 1 AS n "
            "FROM {table}) s WHERE n % {step} = 0 ORDER BY k"
        ).format(
            key=sql.Identifier(key),
            table=sql.Identifier(STAGING_SCHEMA, table),
            step=sql.Literal(step),
        )
    ).fetchall()
    return [row[0] for row in rows]


def staging_extent(conn: psycopg.Connection, table: str) -> list[float] | None:
    row = conn.execute(
        sql.SQL(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent({})::geometry AS e FROM {}) s"
        ).format(sql.Identifier(GEOMETRY_COLUMN), sql.Identifier(STAGING_SCHEMA, table))
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return [float(v) for v in row]


def temporal_extent(conn: psycopg.Connection, table: str, column: str | None) -> list | None:
    if not column:
        return None
    row = conn.execute(
        sql.SQL("SELECT min({c})::timestamptz, max({c})::timestamptz FROM {t}").format(
            c=sql.Identifier(column), t=sql.Identifier(STAGING_SCHEMA, table)
        )
    ).fetchone()
    return list(row) if row and row[0] is not None else None


def swap_in(
    conn: psycopg.Connection,
    table: str,
    collection_id: str,
    record: dict[str, Any],
    keep: bool = True,
) -> None:
    """The one transaction that changes what is published: data, registry and catalogue.

    The version it replaces is kept for `geoservice undo` (keep_version) unless `keep` is
    false, when its table is dropped.

    The table gets its name from tables.table_name. A layer whose registered table has
    another name (the id with "-" as "_", tables.table_name's docstring) has that table
    dropped here; a layer of another collection that holds the name this one needs (`a-b`
    stored as `a_b` while `a_b` loads) is renamed to its own name in the same transaction."""
    final = tables.table_name(collection_id)
    examples = catalogue.field_examples(
        conn, sql.Identifier(STAGING_SCHEMA, table), record["fields"]
    )
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '30s'")
        # Row locks: a concurrent swap of the collection holding `final` waits for ours,
        # then reads the name we moved it to (and the reverse).
        previous = conn.execute(
            "SELECT table_name FROM geoservice.collections WHERE id = %s FOR UPDATE",
            (collection_id,),
        ).fetchone()
        holders = conn.execute(
            "SELECT id FROM geoservice.collections WHERE table_name = %s AND id <> %s FOR UPDATE",
            (final, collection_id),
        ).fetchall()
        for (other,) in holders:
            _rename_published(conn, other, final, tables.table_name(other))
        if previous and keep:
            keep_version(conn, collection_id, previous[0], "replaced")
        elif previous and previous[0] != final:
            _drop_table(conn, DATA_SCHEMA, previous[0])
        _drop_table(conn, DATA_SCHEMA, final)
        _move_table(conn, STAGING_SCHEMA, table, DATA_SCHEMA, final)
        registry.upsert_collection(conn, {**record, "table_name": final})
        catalogue.publish(conn, catalogue.entry_for_collection(record, examples))


def remove_collection(conn: psycopg.Connection, collection_id: str, keep: bool = True) -> None:
    """Unpublish a collection, its catalogue record with it; its last version is kept for
    `geoservice undo` (keep_version) unless `keep` is false, when its table is dropped."""
    with conn.transaction():
        _lock_in_transaction(conn, collection_id)
        record = registry.get_collection(conn, collection_id)
        if keep:
            keep_version(conn, collection_id, record.table_name, "removed")
        registry.delete_collection(conn, collection_id)
        catalogue.remove(conn, collection_id)
        if not keep:
            _drop_table(conn, DATA_SCHEMA, record.table_name)
        registry.record_event(conn, collection_id, "removed", f"{record.feature_count} features")


# -- kept versions (geoservice undo) --------------------------------------------


def keep_version(conn: psycopg.Connection, collection_id: str, table: str, reason: str) -> None:
    """Move the collection's published `table` to KEPT_SCHEMA and keep its registry row, in
    place of its older kept version (caller's transaction, before the row changes)."""
    older = registry.take_kept_version(conn, collection_id)
    if older is not None:
        _drop_table(conn, KEPT_SCHEMA, older.kept_table)
    version = registry.next_kept_version(conn)
    name = _kept_name(collection_id, version)
    _move_table(conn, DATA_SCHEMA, table, KEPT_SCHEMA, name)
    registry.put_kept_version(conn, collection_id, version, reason, name)


def undo(conn: psycopg.Connection, collection_id: str, keep: bool = True) -> registry.KeptVersion:
    """Publish the collection's kept version again, in one transaction: a replaced layer
    returns to its previous data, a removed one is published again. The version it replaces
    is kept in turn (a second undo brings it back). Returns the version restored."""
    with conn.transaction():
        _lock_in_transaction(conn, collection_id)
        kept = registry.take_kept_version(conn, collection_id)
        if kept is None:
            raise NotFound(f"nothing to undo for '{collection_id}': no version of it is kept")
        exists = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (sql.Identifier(KEPT_SCHEMA, kept.kept_table).as_string(conn),),
        ).fetchone()
        if not (exists and exists[0]):
            raise LoadError(
                f"the kept version of '{collection_id}' has no table any more "
                "(a restore from a backup keeps none)"
            )
        _move_table(conn, KEPT_SCHEMA, kept.kept_table, STAGING_SCHEMA)
        record = {k: v for k, v in kept.record.items() if k not in ("updated_at", "table_name")}
        swap_in(conn, kept.kept_table, collection_id, record, keep=keep)
        registry.record_event(
            conn,
            collection_id,
            "undone",
            f"the version {kept.reason} at {kept.kept_at:%Y-%m-%d %H:%M:%S} is published again "
            f"({record['feature_count']} features)",
        )
    return kept


def purge_kept(conn: psycopg.Connection, keep_days: float) -> int:
    """Drop the kept versions older than `keep_days` (all of them at 0)."""
    with conn.transaction():
        names = registry.expire_kept_versions(conn, keep_days)
        for name in names:
            _drop_table(conn, KEPT_SCHEMA, name)
    return len(names)


def _drop_table(conn: psycopg.Connection, schema: str, table: str) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table)))


def _move_table(
    conn: psycopg.Connection, schema: str, table: str, to_schema: str, name: str | None = None
) -> None:
    """Move `table` to another schema, and give it `name` there (its indexes keep theirs)."""
    conn.execute(
        sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
            sql.Identifier(schema, table), sql.Identifier(to_schema)
        )
    )
    if name and name != table:
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(to_schema, table), sql.Identifier(name)
            )
        )


def _kept_name(collection_id: str, version: int) -> str:
    """The staging prefix, "k" and the version: no load's staging name (digits only after
    the prefix, tables.is_staging_of), so no load's clean-up takes it for a leftover."""
    return f"{tables.staging_prefix(collection_id)}k{int(version)}"


def _lock_in_transaction(conn: psycopg.Connection, collection_id: str) -> None:
    """lock_collection's lock, until the transaction ends: waits for a load in progress."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('geoservice.load:' || %s))", (collection_id,)
    )


# -- internals ----------------------------------------------------------------


def _rename_published(conn: psycopg.Connection, collection_id: str, old: str, new: str) -> None:
    """Move a published table to another name, registry included (caller's transaction)."""
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(DATA_SCHEMA, old), sql.Identifier(new)
        )
    )
    conn.execute(
        "UPDATE geoservice.collections SET table_name = %s WHERE id = %s", (new, collection_id)
    )


def _geometry_typmod(layer: PreparedLayer) -> str:
    name = layer.geometry_type if layer.geometry_type != "Unknown" else "Geometry"
    return f"{name}Z" if layer.has_z else name


def _binary_chunks(
    layer: PreparedLayer, instants: dict[str, pd.Series]
) -> Iterator[tuple[memoryview, int]]:
    """Rows in COPY's binary format (copy_binary), geometries as EWKB with SRID 4326;
    `instants` replaces the datetime columns."""
    frame = layer.frame
    geometry = np.asarray(frame.geometry.values)
    kinds = ([] if layer.id_field else ["integer"]) + [f.type for f in layer.fields] + ["binary"]
    attributes = [_arrow_column(instants.get(f.name, frame[f.name]), f.type) for f in layer.fields]
    for start, stop in _chunks(geometry):
        columns = [values.slice(start, stop - start) for values in attributes]
        if not layer.id_field:
            columns.insert(0, pa.array(np.arange(start + 1, stop + 1, dtype=np.int64)))
        columns.append(_ewkb(geometry[start:stop], layer.has_z))
        yield copy_binary.rows(columns, kinds), stop - start


def _chunks(geoms: np.ndarray) -> Iterator[tuple[int, int]]:
    """(start, stop) rows of about CHUNK_VERTICES vertices: a chunk ends with the feature
    that crosses the mark."""
    weights = np.maximum(shapely.get_num_coordinates(geoms), 1)
    chunk = (np.cumsum(weights) - weights) // CHUNK_VERTICES  # by where each row starts
    bounds = [0, *(np.flatnonzero(np.diff(chunk)) + 1).tolist(), len(geoms)]
    return zip(bounds[:-1], bounds[1:], strict=True) if len(geoms) else iter(())


_POINT_TYPE, _SRID_FLAG, _Z_FLAG = 1, 0x20000000, 0x80000000  # EWKB type bits


def _ewkb(geoms: np.ndarray, has_z: bool) -> pa.Array:
    """EWKB with SRID 4326, as one Arrow array; points (the big layers: addresses,
    sensors) are laid out by numpy, without shapely's WKB writer and its bytes objects."""
    present = ~shapely.is_missing(geoms)
    kinds = shapely.get_type_id(geoms[present])
    if len(kinds) and (kinds == 0).all():
        return _ewkb_points(geoms, present, has_z)
    wkb = shapely.to_wkb(
        shapely.set_srid(geoms, 4326), include_srid=True, output_dimension=3 if has_z else 2
    )
    return pa.array(wkb, type=pa.binary())


def _ewkb_points(geoms: np.ndarray, present: np.ndarray, has_z: bool) -> pa.Array:
    coords = shapely.get_coordinates(geoms[present], include_z=has_z)  # one row per point
    kind = _POINT_TYPE | _SRID_FLAG | (_Z_FLAG if has_z else 0)
    header = np.frombuffer(struct.pack("<BII", 1, kind, 4326), dtype=np.uint8)
    records = np.empty((len(coords), len(header) + 8 * coords.shape[1]), dtype=np.uint8)
    records[:, : len(header)] = header
    records[:, len(header) :] = coords.astype("<f8").view(np.uint8).reshape(len(coords), -1)
    ends = np.concatenate([[0], np.cumsum(present * records.shape[1])]).astype(np.int32)
    validity = None if present.all() else pa.array(present).buffers()[1]
    return pa.BinaryArray.from_buffers(
        pa.binary(), len(geoms), [validity, pa.py_buffer(ends), pa.py_buffer(records)]
    )


def _arrow_column(values: pd.Series, kind: str) -> pa.Array:
    values = values.reset_index(drop=True)
    if kind == "integer":
        return pa.array(values.astype("Int64"), type=pa.int64(), from_pandas=True)
    if kind == "number":
        return pa.array(values.astype("float64"), type=pa.float64(), from_pandas=True)
    if kind == "boolean":
        return pa.array(values.astype("boolean"), type=pa.bool_(), from_pandas=True)
    if kind == "json":
        return pa.array(
            [
                None if _is_missing(v) else json.dumps(v, ensure_ascii=False, default=str)
                for v in values
            ],
            type=pa.string(),
        )
    if kind == "datetime":  # already instants in UTC (_utc_instants)
        return pa.array(values, type=pa.timestamp("us", "UTC"), from_pandas=True)
    if kind == "date":
        try:
            return pa.array(values, type=pa.date32(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: read as dates
            dates = pd.to_datetime(values.astype(object).map(str), errors="coerce").dt.date
            return pa.array(dates, type=pa.date32(), from_pandas=True)
    if values.dtype != object:
        return pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)  # all text or missing
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # other objects among them: their text
        return pa.array(
            [None if _is_missing(v) else (v if isinstance(v, str) else str(v)) for v in values],
            type=pa.string(),
        )


def _utc_instants(conn: psycopg.Connection, values: pd.Series) -> pd.Series:
    """Date-times as UTC instants, to the microsecond. One without a zone means the
    session's time zone, as PostgreSQL reads text: pandas localises the unambiguous ones,
    PostgreSQL the rest (times a DST change skips or repeats, zones pandas does not know)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").dt.round("us")
    if not pd.api.types.is_datetime64_dtype(values.dtype):  # objects: zoned, naive or both
        zoned = values.map(lambda v: getattr(v, "tzinfo", None) is not None)
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        if zoned.any():
            out[zoned] = pd.to_datetime(values[zoned], utc=True)
        if (~zoned).any():
            out[~zoned] = _utc_instants(conn, pd.to_datetime(values[~zoned]))
        return out.dt.round("us")
    zone = conn.info.parameter_status("TimeZone") or "UTC"
    try:
        out = values.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    except (KeyError, ValueError, LookupError):  # a zone name pandas does not know
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    out = out.dt.tz_convert("UTC").dt.round("us")
    left = values.notna() & out.isna()
    if left.any():
        unique = list(values[left].dt.round("us").unique().to_pydatetime())
        read = dict(
            conn.execute(
                "SELECT t, t::timestamptz FROM unnest(%s::timestamp[]) t", (unique,)
            ).fetchall()
        )
        out[left] = pd.to_datetime(values[left].dt.round("us").map(read), utc=True)
    return out


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, dict)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def drop_leftover_staging_table(conn: psycopg.Connection, table: str) -> None:
    _drop_table(conn, STAGING_SCHEMA, table)
