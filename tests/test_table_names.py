"""Table names (geoservice.store.tables): one collection id, one table and one set of
staging tables; loads of ids that the former naming confused run at once without meeting,
and layers published under the former naming move to the new one when reloaded."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from conftest import licence_keys
from psycopg import sql

from geoservice.store import db, registry, tables
from loaders import writer
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load

LONG_A = "l" * 40 + "a" * 23  # 63 characters, the longest id; the first 40 shared
LONG_B = "l" * 40 + "b" * 23
CONFUSED = [
    ("a-b", "a_b"),  # the former naming replaced "-" by "_"
    (LONG_A, LONG_B),  # the former staging names kept 40 characters
    ("roads", "roads__load_1"),  # the former staging prefix of one began another's name
    ("x" * 23 + "-1", "x" * 23 + "-2"),  # the readable part of today's staging names
]


def _layer(tmp_path: Path, collection_id: str, n: int) -> Path:
    """n points whose `name` says which collection they belong to."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"{collection_id}:{i}"},
            "geometry": {"type": "Point", "coordinates": [22.9 + i / 100, 40.6]},
        }
        for i in range(n)
    ]
    path = tmp_path / f"{collection_id}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _descriptor(collection_id: str, path: Path):
    return parse_descriptor(
        {
            "id": collection_id,
            "title": collection_id,
            "source": {"path": str(path)},
            **licence_keys(path),
        }
    )


def _published_names(settings, collection_id: str) -> tuple[str, list[str]]:
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        rows = conn.execute(
            sql.SQL("SELECT name FROM {} ORDER BY name").format(
                sql.Identifier(tables.DATA_SCHEMA, record.table_name)
            )
        ).fetchall()
    return record.table_name, [r[0] for r in rows]


def _data_tables(settings) -> set[str]:
    with db.connect(settings) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'data'").fetchall()
    return {r[0] for r in rows}


# -- the names ---------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), CONFUSED)
def test_names_of_two_ids_never_meet(one, other):
    assert tables.table_name(one) != tables.table_name(other)
    assert tables.staging_prefix(one) != tables.staging_prefix(other)
    for mine, theirs in ((one, other), (other, one)):
        assert tables.is_staging_of(tables.staging_name(mine, 7), mine)
        assert not tables.is_staging_of(tables.staging_name(theirs, 7), mine)
        assert not tables.is_staging_of(tables.table_name(theirs), mine)


def test_names_fit_postgresql_identifiers():
    longest_load = 2**63 - 1  # load_id is a bigint
    for collection_id in (LONG_A, "a", "a-b"):
        assert len(tables.table_name(collection_id).encode()) <= 63
        staging = tables.staging_name(collection_id, longest_load)
        assert len((staging + "_geom_idx").encode()) <= 63  # index names derived from it
    with pytest.raises(ValueError):
        tables.table_name("l" * 64)


@pytest.mark.parametrize(("one", "other"), CONFUSED)
def test_leftover_cleanup_drops_only_its_own_collection_s(settings, one, other):
    mine = [tables.staging_name(one, n) for n in (5, 6)]
    theirs = [tables.staging_name(other, n) for n in (5, 6)]
    with db.connect(settings, autocommit=True) as conn:
        db.ensure_schema(conn)
        for name in mine + theirs:
            conn.execute(
                sql.SQL("CREATE TABLE {} (x int)").format(
                    sql.Identifier(tables.STAGING_SCHEMA, name)
                )
            )
        try:
            assert writer.drop_leftover_staging(conn, one) == 2
            left = {
                r[0]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'staging'"
                ).fetchall()
            }
            assert set(theirs) <= left and not set(mine) & left
        finally:
            writer.drop_leftover_staging(conn, other)


# -- loads at once -------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), CONFUSED[:2])
def test_two_confusable_ids_load_at_once(settings, tmp_path, monkeypatch, first, second):
    """The second load starts (and clears its leftovers) while the first is writing: each
    must publish its own layer, in its own table."""
    staged, cleared = threading.Event(), threading.Event()
    real_finish, real_drop = writer.finish_staging, writer.drop_leftover_staging

    def finish_staging(conn, table, *args, **kwargs):
        if threading.current_thread().name == first:  # its staging table is written
            staged.set()
            cleared.wait(30)
        return real_finish(conn, table, *args, **kwargs)

    def drop_leftover_staging(conn, collection_id):
        if threading.current_thread().name == second:
            staged.wait(30)
            try:
                return real_drop(conn, collection_id)
            finally:
                cleared.set()
        return real_drop(conn, collection_id)

    monkeypatch.setattr(writer, "finish_staging", finish_staging)
    monkeypatch.setattr(writer, "drop_leftover_staging", drop_leftover_staging)
    sizes = {first: 3, second: 5}
    errors: dict[str, BaseException] = {}

    def run(collection_id: str) -> None:
        try:
            path = _layer(tmp_path, collection_id, sizes[collection_id])
            load(settings, _descriptor(collection_id, path))
        except BaseException as err:  # noqa: BLE001 - asserted below
            errors[collection_id] = err

    threads = []
    for cid in (first, second):
        thread = threading.Thread(target=run, args=(cid,), name=cid)
        thread.start()
        threads.append(thread)
        if cid == first:
            assert staged.wait(60), errors
    for thread in threads:
        thread.join(120)
    assert not errors, {k: repr(v) for k, v in errors.items()}
    assert cleared.is_set() and staged.is_set()  # the two loads did overlap
    names = {}
    for cid in (first, second):
        names[cid], rows = _published_names(settings, cid)
        assert rows == sorted(f"{cid}:{i}" for i in range(sizes[cid]))
    assert names[first] != names[second]


def test_two_confusable_ids_load_one_after_the_other(settings, tmp_path):
    """`a-b` then `a_b` (the former naming gave both the table a_b: a database error)."""
    first, second = "one-after-other", "one_after_other"
    for cid, n in ((first, 2), (second, 3)):
        load(settings, _descriptor(cid, _layer(tmp_path, cid, n)))
    assert _published_names(settings, first) == (first, [f"{first}:{i}" for i in range(2)])
    assert _published_names(settings, second) == (second, [f"{second}:{i}" for i in range(3)])


# -- from the former naming ------------------------------------------------------


def _as_formerly_published(settings, collection_id: str) -> str:
    """Rename a layer's table as the former naming had it (the registry following)."""
    old = collection_id.replace("-", "_")
    with db.connect(settings, autocommit=True) as conn, conn.transaction():
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(tables.DATA_SCHEMA, tables.table_name(collection_id)),
                sql.Identifier(old),
            )
        )
        conn.execute(
            "UPDATE geoservice.collections SET table_name = %s WHERE id = %s",
            (old, collection_id),
        )
    return old


def test_a_reload_moves_a_formerly_named_layer_and_drops_its_old_table(settings, tmp_path):
    cid = "former-naming"
    load(settings, _descriptor(cid, _layer(tmp_path, cid, 2)))
    old = _as_formerly_published(settings, cid)
    assert _published_names(settings, cid) == (old, [f"{cid}:0", f"{cid}:1"])
    load(settings, _descriptor(cid, _layer(tmp_path, cid, 4)))
    assert _published_names(settings, cid) == (cid, [f"{cid}:{i}" for i in range(4)])
    assert old not in _data_tables(settings)


def test_a_layer_taking_a_formerly_held_name_moves_the_holder(settings, tmp_path):
    """`held-name` published under the former naming sits in `held_name`; loading the id
    `held_name` moves it to its own table, and both layers stay as loaded."""
    holder, taker = "held-name", "held_name"
    load(settings, _descriptor(holder, _layer(tmp_path, holder, 2)))
    assert _as_formerly_published(settings, holder) == taker
    load(settings, _descriptor(taker, _layer(tmp_path, taker, 3)))
    assert _published_names(settings, holder) == (holder, [f"{holder}:{i}" for i in range(2)])
    assert _published_names(settings, taker) == (taker, [f"{taker}:{i}" for i in range(3)])


def test_the_server_serves_a_hyphenated_table(settings, tmp_path):
    from geoservice.server.app import create_app

    cid = "served-with-hyphen"
    load(settings, _descriptor(cid, _layer(tmp_path, cid, 3)))
    client = create_app(settings, refresh_seconds=0).test_client()
    response = client.get(f"/collections/{cid}/items?f=json")
    assert response.status_code == 200, response.text[:300]
    names = sorted(f["properties"]["name"] for f in response.get_json()["features"])
    assert names == [f"{cid}:{i}" for i in range(3)]
