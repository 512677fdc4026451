"""Back up and restore what geoservice holds, with PostgreSQL's own pg_dump and pg_restore.

A backup is a pg_dump custom-format archive of the schema `geoservice` (registry, load history,
catalogue, the catalogue version), the schema `data` (the published layers) and the schema
`kept` (the last versions of replaced and removed layers, which `geoservice undo` brings back:
geoservice.kept_versions names them). `staging` (loads in progress) is left out: a backup holds
only what was published.

A restore replaces the three schemas in one transaction (pg_restore writes the archive as SQL, psql
runs it between our BEGIN and COMMIT): if anything fails, the database is as it was. It then
moves the catalogue version past both the old and the restored value, so a running server
notices the change and rebuilds, as after a load.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from geoservice.errors import GeoserviceError
from geoservice.settings import Settings
from geoservice.store import db
from geoservice.store.embedded import _bin as pg_binary

SCHEMAS = ("geoservice", "data", "kept")
# What an archive must hold to be one of ours (pg_restore --list names them "TYPE schema name").
REQUIRED_ENTRIES = (
    "SCHEMA - geoservice",
    "TABLE geoservice collections",
    "TABLE geoservice loads",
    "SEQUENCE geoservice catalogue_version",
)


class BackupError(GeoserviceError):
    """A backup could not be written or restored; nothing was changed."""

    http_status = 400


@dataclass(frozen=True)
class Contents:
    """What a database (or a backup of it) holds, for the user and for the empty-target check."""

    collections: int
    features: int
    loads: int
    records: int
    data_tables: int

    @property
    def empty(self) -> bool:
        return not (self.collections or self.loads or self.records or self.data_tables)

    def __str__(self) -> str:
        return (
            f"{self.collections} collections ({self.features} features), "
            f"{self.records} catalogue records, {self.loads} loads"
        )


def backup(settings: Settings, path: Path) -> Contents:
    """Write the archive to `path` (replaced only once the archive is complete)."""
    path = path.expanduser().absolute()
    if not path.parent.is_dir():
        raise BackupError(f"cannot write {path}: no such folder {path.parent}")
    if path.is_dir():
        raise BackupError(f"{path} is a folder: name the backup file to write")
    db.ensure_database(settings)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise BackupError(f"cannot write in {path.parent}: {err.strerror}") from None
    os.close(handle)
    partial = Path(name)
    try:
        with db.connect(settings) as conn:
            # pg_dump reads the snapshot we count in: the summary is what the archive holds.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            contents = _contents(conn)
            _run_tool(
                "pg_dump",
                [
                    "--format=custom",
                    *(f"--schema={schema}" for schema in SCHEMAS),
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                ],
                settings,
            )
            conn.rollback()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return contents


def restore(settings: Settings, path: Path, force: bool = False) -> Contents:
    """Replace the database's collections, catalogue and load history with the archive's.

    Refuses a database that already holds something unless `force`.
    """
    path = path.expanduser().absolute()
    check_archive(path)
    db.ensure_database(settings)
    with db.connect(settings) as conn:
        before = _contents(conn)
    if not before.empty and not force:
        raise BackupError(
            f"the database is not empty (it holds {before}): restore into an empty database, "
            "or add --force to replace what it holds"
        )
    _replace_schemas(settings, path)
    with db.connect(settings, autocommit=True) as conn:
        db.ensure_schema(conn)  # an archive from an older version gets today's columns
        _analyse(conn)
        return _contents(conn)


def check_archive(path: Path) -> None:
    """Refuse, in one line, a file that is not a geoservice backup (before touching anything)."""
    if path.is_dir():
        raise BackupError(f"{path} is a folder, not a backup file")
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    listing = subprocess.run(
        [pg_binary("pg_restore"), "--list", str(path)], capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise BackupError(
            f"{path.name} is not a geoservice backup: {_tool_message(listing.stderr)}"
        )
    entries = {" ".join(line.split()[3:6]) for line in listing.stdout.splitlines() if ";" in line}
    missing = [entry for entry in REQUIRED_ENTRIES if entry not in entries]
    if missing:
        raise BackupError(
            f"{path.name} is a PostgreSQL archive but not a geoservice backup "
            f"(no {missing[0].lower()})"
        )


# -- internals ----------------------------------------------------------------

# Runs first in the restore's transaction: remember the catalogue version, drop what is replaced.
_PRELUDE = """
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE restore_prior ON COMMIT DROP AS
    SELECT coalesce((SELECT last_value FROM pg_catalog.pg_sequences
                     WHERE schemaname = 'geoservice' AND sequencename = 'catalogue_version'),
                    0) AS version;
DROP SCHEMA IF EXISTS data CASCADE;
DROP SCHEMA IF EXISTS kept CASCADE;
DROP SCHEMA IF EXISTS geoservice CASCADE;
"""
# Runs last, only when pg_restore wrote the whole archive: a version neither the old database
# nor the archive had, so a running server rebuilds.
_EPILOGUE = """
SELECT pg_catalog.setval('geoservice.catalogue_version',
    greatest((SELECT version FROM pg_temp.restore_prior),
             (SELECT last_value FROM geoservice.catalogue_version)) + 1);
COMMIT;
"""


def _replace_schemas(settings: Settings, path: Path) -> None:
    """pg_restore's SQL, piped into psql inside our transaction; COMMIT only if all of it ran."""
    conninfo, env = _connection(settings)
    with _scratch() as restore_err, _scratch() as psql_err:
        psql = subprocess.Popen(
            [
                pg_binary("psql", settings.pg_bin),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                conninfo,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            env=env,
        )
        restore = subprocess.Popen(
            [
                pg_binary("pg_restore", settings.pg_bin),
                "--no-owner",  # the restoring user owns everything
                "--no-privileges",  # grants name roles another server may not have
                "--file=-",
                str(path),
            ],
            stdout=subprocess.PIPE,
            stderr=restore_err,
        )
        assert psql.stdin is not None and restore.stdout is not None
        complete = psql_stopped = False
        try:
            psql.stdin.write(_PRELUDE.encode())
            shutil.copyfileobj(restore.stdout, psql.stdin, 1 << 20)
            complete = restore.wait() == 0
            if complete:
                psql.stdin.write(_EPILOGUE.encode())
            psql.stdin.close()  # without our COMMIT, psql's exit rolls the transaction back
        except BrokenPipeError:
            psql_stopped = True  # psql stopped at an error (ON_ERROR_STOP): said below
        finally:
            if restore.poll() is None:
                restore.kill()
            restore.wait()
            with contextlib.suppress(BrokenPipeError):
                psql.stdin.close()
            psql.wait()
        if restore.returncode != 0 and not psql_stopped:
            raise BackupError(
                f"{path.name} is damaged or incomplete, nothing was changed: "
                f"{_tool_message(_read(restore_err))}"
            )
        if psql.returncode != 0 or not complete:
            raise BackupError(
                f"the restore failed, nothing was changed: {_tool_message(_read(psql_err))}"
            )


def _contents(conn: psycopg.Connection) -> Contents:
    """Counts; a database without our schema yet counts as empty."""
    exists = conn.execute("SELECT to_regclass('geoservice.collections') IS NOT NULL").fetchone()
    data_tables = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'data'"
    ).fetchone()[0]
    if not exists[0]:
        return Contents(0, 0, 0, 0, data_tables)
    row = conn.execute(
        "SELECT (SELECT count(*) FROM geoservice.collections),"
        " (SELECT coalesce(sum(feature_count), 0) FROM geoservice.collections),"
        " (SELECT count(*) FROM geoservice.loads),"
        " (SELECT count(*) FROM geoservice.records)"
    ).fetchone()
    return Contents(*(int(v) for v in row), data_tables)


def _analyse(conn: psycopg.Connection) -> None:
    """pg_restore brings rows, not planner statistics or visibility maps: the loader's ANALYZE
    and the all-visible pages that index-only paging relies on come back with VACUUM."""
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_catalog.pg_tables WHERE schemaname = ANY(%s)",
        (list(SCHEMAS),),
    ).fetchall()
    for schema, table in tables:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(schema, table)))


def _run_tool(name: str, args: list[str], settings: Settings) -> None:
    conninfo, env = _connection(settings)
    result = subprocess.run(
        [pg_binary(name, settings.pg_bin), *args, f"--dbname={conninfo}"],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise BackupError(f"{name} failed: {_tool_message(result.stderr)}")


def _connection(settings: Settings) -> tuple[str, dict[str, str]]:
    """The DSN for a client tool, its password moved to the environment (not the process list).

    The tools connect over TCP like we do, so they work as root with the embedded cluster too
    (which runs as the postgres user) and write their files as us.
    """
    params = conninfo_to_dict(settings.dsn)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def _tool_message(stderr: str) -> str:
    """The tools' errors as one line ("pg_restore: error: X", "psql:<stdin>:9: ERROR:  X")."""
    lines = [_TOOL_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    wanted = [line for line in lines if _ERROR_LINE.match(line)]
    text = "; ".join(_ERROR_LINE.sub("", line) for line in wanted or lines[-1:])
    return text or "no message"


_TOOL_PREFIX = re.compile(r"^(pg_restore|pg_dump|psql)(:<stdin>:\d+)?: ")
_ERROR_LINE = re.compile(r"^(error|detail|ERROR|DETAIL|FATAL):\s+")


def _scratch() -> IO[bytes]:
    return tempfile.TemporaryFile()


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", "replace")
