"""One load, start to finish: read -> prepare -> stage -> swap, recorded in geoservice.loads.

A failure at any step leaves the published layer as it was and raises a LoadError whose
message says why; the failed attempt is recorded too.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from geoservice.errors import GeoserviceError, LoadError
from geoservice.settings import Settings
from geoservice.store import db, registry, tables
from loaders import changes, notices, personal, writer
from loaders.changes import Changes
from loaders.descriptor import Descriptor, require_stated_licence, rfc3339
from loaders.model import PreparedLayer
from loaders.prepare import prepare
from loaders.readers import read_source


@dataclass
class LoadReport:
    collection_id: str
    load_id: int
    feature_count: int
    null_geometries: int
    repaired_geometries: int
    geometry_type: str
    source_crs: str
    encoding: str | None
    encoding_confidence: float | None
    bbox: list[float] | None
    seconds: float
    warnings: list[str] = field(default_factory=list)
    changes: Changes | None = None  # what it changed (a dry run: would change)
    stopping: list[str] = field(default_factory=list)  # a dry run: changes not accepted
    published: bool = True  # False: a dry run


class Steps:
    """Progress callbacks (the CLI shows a bar; tests pass nothing)."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int) -> None: ...


def load(
    settings: Settings,
    descriptor: Descriptor,
    steps: Steps | None = None,
    *,
    accept_changes: bool = False,
    dry_run: bool = False,
) -> LoadReport:
    """Load and publish; a reload that would change the layer more than the descriptor
    accepts (loaders/changes.py) stops unless `accept_changes`. A `dry_run` does every step
    but publishing and leaves nothing behind (no table, no history); its report says what
    would change and what would stop it."""
    require_stated_licence(descriptor)  # before anything is read or written
    steps = steps or Steps()
    started = time.monotonic()
    source = descriptor.source_path
    # The file is read (GDAL releases the GIL) while the database is made ready.
    with ThreadPoolExecutor(1) as reading, db.connect(settings, autocommit=True) as conn:
        read = reading.submit(read_source, descriptor)
        db.ensure_schema(conn)
        if not dry_run:
            writer.purge_kept(conn, settings.keep_days)
        writer.lock_collection(conn, descriptor.id)
        _close_interrupted_loads(conn, descriptor.id)
        if dry_run:
            load_id = registry.reserve_load_id(conn)
        else:
            load_id = registry.start_load(conn, descriptor.id, str(source))
        table = tables.staging_name(descriptor.id, load_id)
        try:
            writer.drop_leftover_staging(conn, descriptor.id)
            steps.stage("reading")
            raw = read.result()
            steps.stage("checking")
            with ThreadPoolExecutor(1) as thread:  # hashing releases the GIL: it overlaps
                checksum_done = thread.submit(_checksum, raw.source_files)
                layer = prepare(raw, descriptor)
                personal.protect(layer, descriptor, settings)  # may refuse: nothing written
                checksum = checksum_done.result()
            found = changes.compare(registry.find_collection(conn, descriptor.id), layer)
            accepted = changes.KINDS if accept_changes else descriptor.accept_changes
            if not dry_run:  # may refuse: nothing written
                changes.check(descriptor.id, found, accepted, settings.feature_loss_limit)
            updated = rfc3339(descriptor.data_updated) or raw.data_updated
            report = _write(
                settings,
                conn,
                descriptor,
                layer,
                table,
                load_id,
                steps,
                updated=updated,
                publish=not dry_run,
            )
            report.changes, report.published = found, not dry_run
            limit = settings.feature_loss_limit
            report.stopping = [k for k in found.stopping(limit) if k not in accepted]
        except BaseException as err:
            _fail(conn, None if dry_run else load_id, table, err, started)
            if isinstance(err, GeoserviceError):
                raise
            if isinstance(err, psycopg.Error):
                raise LoadError(f"the database refused the layer: {_first_line(err)}") from err
            if isinstance(err, (KeyboardInterrupt, SystemExit)):
                raise
            raise LoadError(f"{type(err).__name__}: {_first_line(err)}") from err
        else:
            report.seconds = time.monotonic() - started
            if dry_run:  # nothing stays behind
                writer.drop_leftover_staging_table(conn, table)
                return report
            facts = {
                "source_checksum": checksum,
                "feature_count": report.feature_count,
                "null_geometries": report.null_geometries,
                "repaired_geometries": report.repaired_geometries,
                "bbox": report.bbox,
                "encoding": report.encoding,
                "warnings": notices.stored(report.warnings),  # English and Greek
                "seconds": report.seconds,
            }
            # Before the lock goes: the next load must not find this one still 'running'.
            registry.finish_load(conn, load_id, "published", **facts)
        finally:
            writer.unlock_collection(conn, descriptor.id)
        return report


def _write(
    settings: Settings,
    conn: psycopg.Connection,
    descriptor: Descriptor,
    layer: PreparedLayer,
    table: str,
    load_id: int,
    steps: Steps,
    updated: str | None = None,
    publish: bool = True,
) -> LoadReport:
    steps.stage("writing", total=len(layer.frame))
    with conn.transaction():
        vertices = writer.mean_vertices(layer)
        key, geojson_column = writer.create_staging(conn, table, layer, vertices)
        count = writer.copy_rows(conn, table, layer, progress=steps.advance)
    steps.stage("indexing")
    temporal_column = _temporal_column(descriptor, layer)
    by_source_name = {f.original: f.name for f in layer.fields}
    indexed = [by_source_name[n] for n in descriptor.fields.index]
    indexed += [temporal_column] if temporal_column else []
    big = count >= writer.PARALLEL_INDEX_ROWS
    with db.connect(settings, autocommit=True) if big else contextlib.nullcontext() as helper:
        writer.finish_staging(conn, table, key, indexed, helper)
    bbox = writer.staging_extent(conn, table)
    record = {
        "id": descriptor.id,
        "descriptor": descriptor.public_dict(),
        "fields": [personal.field_record(f, descriptor) for f in layer.fields],
        "id_field": key,
        "geometry_type": layer.geometry_type,
        "has_z": layer.has_z,
        "source_crs": layer.source_crs,
        "source_srid": layer.source_srid,
        "bbox": bbox,
        "source_bbox": layer.source_bbox,
        "temporal_field": temporal_column,
        "temporal_extent": writer.temporal_extent(conn, table, temporal_column),
        "feature_count": count,
        "geojson_column": geojson_column,
        "mean_vertices": vertices,
        "page_anchors": writer.page_anchors(conn, table, key, layer),
        "data_updated": updated,  # the data's own date (None: unknown), not the load's
    }
    if publish:
        steps.stage("publishing")
        writer.swap_in(conn, table, descriptor.id, record, keep=settings.keep_days > 0)
    return LoadReport(
        collection_id=descriptor.id,
        load_id=load_id,
        feature_count=count,
        null_geometries=layer.null_geometries,
        repaired_geometries=layer.repaired_geometries,
        geometry_type=layer.geometry_type,
        source_crs=layer.source_crs,
        encoding=layer.encoding,
        encoding_confidence=layer.encoding_confidence,
        bbox=bbox,
        seconds=0.0,
        warnings=list(layer.warnings),
    )


def _temporal_column(descriptor: Descriptor, layer: PreparedLayer) -> str | None:
    """The column for `datetime` queries: the descriptor's choice, else the only date field."""
    if descriptor.temporal_field:
        for f in layer.fields:
            if descriptor.temporal_field in (f.original, f.name):
                if f.type not in ("date", "datetime"):
                    raise LoadError(
                        f"temporal_field '{descriptor.temporal_field}' is a {f.type} field, "
                        "not a date or datetime"
                    )
                return f.name
        raise LoadError(f"temporal_field '{descriptor.temporal_field}' is not a field of the layer")
    return None


def _fail(
    conn: psycopg.Connection, load_id: int | None, table: str, err: BaseException, started: float
) -> None:
    """Record the failure (not a dry run's: `load_id` None) and drop the staging table; the
    published layer was never touched."""
    try:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()
        writer.drop_leftover_staging_table(conn, table)
        if load_id is not None:
            registry.finish_load(
                conn,
                load_id,
                "failed",
                error=_first_line(err),
                error_texts=notices.stored_error(err),  # the portal shows its reader's language
                seconds=time.monotonic() - started,
            )
    except psycopg.Error:
        pass  # the database itself is failing: the original error is the one to report


def _close_interrupted_loads(conn: psycopg.Connection, collection_id: str) -> None:
    """A load still 'running' while we hold the collection's lock was killed mid-way: say so
    in the history (its staging table goes with drop_leftover_staging). Killed between its
    swap and its last word, it did publish: the collection then changed after it started."""
    conn.execute(
        "UPDATE geoservice.loads l SET finished_at = now(), status = CASE WHEN published "
        "THEN 'published' ELSE 'failed' END, error = 'interrupted: the loading process stopped "
        "before it ' || CASE WHEN published THEN 'recorded its end' ELSE 'finished' END "
        "FROM (SELECT load_id, EXISTS (SELECT 1 FROM geoservice.collections c "
        "WHERE c.id = collection_id AND c.updated_at >= started_at) AS published "
        "FROM geoservice.loads WHERE collection_id = %s AND status = 'running') s "
        "WHERE l.load_id = s.load_id",
        (collection_id,),
    )


def _checksum(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
