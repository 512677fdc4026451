"""The schema's DDL runs when the SQL files change, not on every command or load."""

from __future__ import annotations

from geoservice.store import db


def test_schema_is_applied_once_and_again_when_it_changes(settings):
    with db.connect(settings, autocommit=True) as conn:
        db.ensure_schema(conn)
        current = db._schema_digest(conn)
        assert current
        # An unchanged schema runs no DDL: a dropped index stays dropped...
        conn.execute("DROP INDEX geoservice.loads_collection_idx")
        db.ensure_schema(conn)
        assert (
            conn.execute("SELECT to_regclass('geoservice.loads_collection_idx')").fetchone()[0]
            is None
        )
        # ...until the files differ from what the database was made with.
        conn.execute("UPDATE geoservice.schema_version SET digest = 'older'")
        db.ensure_schema(conn)
        assert conn.execute("SELECT to_regclass('geoservice.loads_collection_idx')").fetchone()[0]
        assert db._schema_digest(conn) == current
