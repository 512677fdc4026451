"""`geoservice backup` / `restore` on real PostGIS: a restore into a fresh database gives back
every collection (rows, geometries, properties, indexes), registry row, catalogue record and
load; bad files and non-empty targets are refused without changing anything."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import make_conninfo

from geoservice.cli import main
from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store import db, registry
from geoservice.store.backup import BackupError, backup, restore
from geoservice.store.embedded import _bin


@pytest.fixture
def fresh_database(settings: Settings) -> Iterator[Settings]:
    """A new, empty database on the test server, dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    try:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test database user may not create databases")
    target = Settings(database_url=make_conninfo(settings.dsn, dbname=name))
    yield target
    pool = db._POOLS.pop(target.dsn, None)  # a server made in a test keeps connections open
    if pool is not None:
        pool.close()
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def archive(settings: Settings, demo_collections: dict, tmp_path_factory) -> Path:
    """A backup of the session database with the demo collections (and a staging leftover,
    which must not be in it)."""
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("CREATE TABLE staging.backup_probe__load_1 (x int)")
    try:
        path = tmp_path_factory.mktemp("backup") / "city.backup"
        contents = backup(settings, path)
    finally:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute("DROP TABLE staging.backup_probe__load_1")
    assert contents.collections >= len(demo_collections)
    return path


def everything(settings: Settings) -> dict[str, object]:
    """All that a restore must give back, as plain comparable values."""
    with db.connect(settings) as conn:
        state: dict[str, object] = {
            "registry": _rows(conn, "SELECT c::text FROM geoservice.collections c ORDER BY id"),
            "records": _rows(conn, "SELECT r::text FROM geoservice.records r ORDER BY id"),
            "loads": _rows(conn, "SELECT l::text FROM geoservice.loads l ORDER BY load_id"),
            "next_load_id": _rows(conn, "SELECT last_value FROM geoservice.loads_load_id_seq"),
            "indexes": _rows(
                conn,
                "SELECT indexdef FROM pg_indexes WHERE schemaname IN ('data', 'geoservice') "
                "ORDER BY indexdef",
            ),
            "staging": _rows(conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'staging'"),
        }
        # Tables added to the geoservice schema later (API keys, ...) come back too.
        for (table,) in _rows(
            conn, "SELECT tablename FROM pg_tables WHERE schemaname = 'geoservice' ORDER BY 1"
        ):
            state[f"table:{table}"] = _rows(
                conn, f'SELECT t::text FROM geoservice."{table}" t ORDER BY 1'
            )
        for record in registry.list_collections(conn):
            key = record.id_field
            state[f"rows:{record.id}"] = _rows(
                conn,
                f"SELECT \"{key}\"::text, encode(ST_AsEWKB(geom), 'hex'), "
                f"to_jsonb(t) - 'geom' - 'geom_json' FROM data.\"{record.table_name}\" t "
                f'ORDER BY "{key}"',
            )
    return state


def _rows(conn: psycopg.Connection, query: str) -> list[tuple]:
    return conn.execute(query).fetchall()


def _version(settings: Settings) -> int:
    with db.connect(settings) as conn:
        return registry.catalogue_version(conn)


def test_a_restore_into_a_fresh_database_gives_back_everything(settings, archive, fresh_database):
    source = everything(settings)
    contents = restore(fresh_database, archive)
    restored = everything(fresh_database)

    assert contents.collections == len(source["registry"]) >= 5
    assert contents.loads == len(source["loads"]) and contents.records == len(source["records"])
    assert restored.keys() == source.keys()
    for key in source:
        if key != "staging":
            assert restored[key] == source[key], key
    assert all(rows for key, rows in restored.items() if key.startswith("rows:"))
    assert restored["staging"] == []  # loads in progress are not part of a backup
    assert _version(fresh_database) > _version(settings)


def test_the_restored_database_serves_and_loads(settings, archive, fresh_database):
    from geoservice.server.app import create_app
    from loaders.descriptor import load_descriptor
    from loaders.pipeline import load

    restore(fresh_database, archive)
    client = create_app(fresh_database, refresh_seconds=0).test_client()
    source_client = create_app(settings, refresh_seconds=0).test_client()
    for path in ("/collections/prefectures/items?limit=3", "/collections/catalogue/items?q=νομοι"):
        restored, original = client.get(path + "&f=json"), source_client.get(path + "&f=json")
        assert restored.status_code == 200
        assert restored.json["features"] == original.json["features"]
    # A load after the restore continues the load history without clashing.
    report = load(fresh_database, load_descriptor(PROJECT_ROOT / "collections/municipalities.yml"))
    with db.connect(fresh_database) as conn:
        history = registry.load_history(conn, "municipalities")
    assert history[0]["load_id"] > max(row["load_id"] for row in history[1:])
    assert report.feature_count > 0


def test_a_non_empty_database_is_refused_unless_forced(archive, fresh_database):
    from geoservice.server.app import create_app
    from loaders.writer import remove_collection

    restore(fresh_database, archive)
    with db.connect(fresh_database, autocommit=True) as conn:
        remove_collection(conn, "prefectures")
    before = everything(fresh_database)

    with pytest.raises(BackupError, match="the database is not empty .* add --force"):
        restore(fresh_database, archive)
    assert everything(fresh_database) == before

    # A running server sees the forced restore without a restart.
    client = create_app(fresh_database, refresh_seconds=0).test_client()
    assert client.get("/collections/prefectures?f=json").status_code == 404
    version = _version(fresh_database)
    restore(fresh_database, archive, force=True)
    assert _version(fresh_database) > version
    assert client.get("/collections/prefectures?f=json").status_code == 200
    assert len(everything(fresh_database)["registry"]) == len(before["registry"]) + 1


def test_a_file_that_is_not_a_complete_backup_changes_nothing(
    settings, archive, fresh_database, tmp_path
):
    restore(fresh_database, archive)
    with db.connect(fresh_database, autocommit=True) as conn:
        conn.execute("SELECT nextval('geoservice.catalogue_version')")
    before, version = everything(fresh_database), _version(fresh_database)
    whole = archive.read_bytes()
    other = tmp_path / "other.backup"  # a real PostgreSQL archive, of something else
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS backup_other")
        conn.execute("CREATE TABLE IF NOT EXISTS backup_other.t AS SELECT 1 AS x")
    try:
        subprocess.run(
            [_bin("pg_dump"), "-Fc", "-n", "backup_other", "-f", str(other), settings.dsn],
            check=True,
        )
    finally:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute("DROP SCHEMA backup_other CASCADE")
    cases = {
        "garbage": (b"PGDMP? no, just bytes\x00\xff" * 100, "not a geoservice backup"),
        "empty": (b"", "not a geoservice backup"),
        # the table of contents survives, the data of the last tables does not
        "truncated": (whole[: int(len(whole) * 0.9)], "damaged or incomplete, nothing was changed"),
        "other": (other.read_bytes(), "not a geoservice backup"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.backup"
        path.write_bytes(content)
        with pytest.raises(BackupError, match=message) as raised:
            restore(fresh_database, path, force=True)
        assert "\n" not in str(raised.value), name
        assert everything(fresh_database) == before, name
        assert _version(fresh_database) == version, name


def test_the_commands(settings, demo_collections, fresh_database, tmp_path):
    runner = CliRunner()
    path = tmp_path / "city.backup"

    def run(target: Settings, *args: str):
        return runner.invoke(main, list(args), env={"DATABASE_URL": target.dsn})

    saved = run(settings, "backup", str(path))
    assert saved.exit_code == 0, saved.output
    assert "backed up" in saved.output and path.stat().st_size > 0
    restored = run(fresh_database, "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output and "collections" in restored.output
    for args, message in [
        (("restore", str(path)), "not empty"),
        (("restore", str(tmp_path / "missing.backup")), "no such file"),
        (("backup", str(tmp_path / "no-folder" / "x.backup")), "no such folder"),
    ]:
        result = run(fresh_database, *args)
        assert result.exit_code == 1
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    forced = run(fresh_database, "restore", "--force", str(path))
    assert forced.exit_code == 0, forced.output


def test_kept_versions_survive_a_backup_and_restore(settings, archive, fresh_database, tmp_path):
    # A backup holds the schema `kept` beside geoservice.kept_versions, which names its tables:
    # after a restore, `geoservice undo` still brings back the version a reload replaced.
    from loaders.descriptor import load_descriptor
    from loaders.pipeline import load
    from loaders.writer import undo

    restore(fresh_database, archive)
    municipalities = load_descriptor(PROJECT_ROOT / "collections/municipalities.yml")
    load(fresh_database, municipalities)  # replaces the restored version, which is kept
    with db.connect(fresh_database) as conn:
        before = conn.execute("SELECT count(*) FROM geoservice.kept_versions").fetchone()[0]
    assert before >= 1
    second = tmp_path / "second.backup"
    backup(fresh_database, second)
    with db.connect(fresh_database, autocommit=True) as conn:  # what a lost machine loses
        conn.execute("DROP SCHEMA kept CASCADE")
    restore(fresh_database, second, force=True)
    with db.connect(fresh_database, autocommit=True) as conn:
        kept = undo(conn, "municipalities")
        published = registry.get_collection(conn, "municipalities")
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM data.{}").format(sql.Identifier(published.table_name))
        ).fetchone()[0]
    assert kept.reason and count == published.feature_count > 0
