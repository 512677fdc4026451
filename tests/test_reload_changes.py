"""A reload that would change a published layer (fields removed, renamed or retyped, many
features lost) stops before publishing, showing what would change, unless the operator
(--accept-changes) or the descriptor (accept_changes) accepts it; --dry-run shows the same
without publishing anything. Removals ask first; a replaced or removed layer's last version is
kept and `geoservice undo` publishes it again; `geoservice history` shows loads, removals and
undos. Through the real CLI against the test PostGIS, and over HTTP for what is published."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner
from psycopg import sql

from geoservice.cli import main
from geoservice.settings import PROJECT_ROOT
from geoservice.store import db, registry

MUNICIPALITIES = PROJECT_ROOT / "data" / "demo" / "municipalities.geojson"


@pytest.fixture
def run(settings):
    def invoke(*args: str, **env: str):
        runner = CliRunner()
        return runner.invoke(main, list(args), env={"DATABASE_URL": settings.dsn, **env})

    return invoke


def _descriptor(folder, collection_id: str, features: list, extra: str = "") -> object:
    """A descriptor of `features` (GeoJSON) written beside it, as a user's folder holds."""
    data = json.loads(MUNICIPALITIES.read_text(encoding="utf-8"))
    data["features"] = features
    (folder / "municipalities.geojson").write_text(json.dumps(data), encoding="utf-8")
    path = folder / f"{collection_id}.yml"
    path.write_text(
        f"id: {collection_id}\ntitle: Municipalities\nlicence: CC-BY-4.0\n"
        "source: {path: municipalities.geojson}\nidentifier: cartodb_id\n"
        "fields: {exclude: [created_at, updated_at]}\n" + extra,
        encoding="utf-8",
    )
    return path


def _layer(folder, collection_id: str, count: int = 11) -> object:
    """A layer of the first `count` municipalities, each in its own folder."""
    (folder / collection_id).mkdir(exist_ok=True)
    return _descriptor(folder / collection_id, collection_id, _features()[:count])


def _features() -> list:
    return json.loads(MUNICIPALITIES.read_text(encoding="utf-8"))["features"]


def _edited() -> list:
    """The real case: one municipality fewer (11 -> 10) and `name_greek` gone."""
    features = _features()[:10]
    for f in features:
        del f["properties"]["name_greek"]
    return features


def _published(settings, collection_id: str) -> tuple[int, list[str]]:
    """The published table's row count and columns, read over SQL."""
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("data", record.table_name))
        ).fetchone()[0]
        columns = [
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'data' AND table_name = %s",
                (record.table_name,),
            )
        ]
    return count, columns


def _loads(settings, collection_id: str) -> list[dict]:
    with db.connect(settings) as conn:
        return registry.load_history(conn, collection_id)


def _staging_tables(settings) -> list[str]:
    with db.connect(settings) as conn:
        return [
            t
            for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'staging'")
        ]


def test_a_reload_that_drops_a_field_and_a_feature_stops_and_publishes_nothing(
    run, settings, tmp_path, live_server
):
    path = _descriptor(tmp_path, "reload-municipalities", _features())
    first = run("load", str(path))  # a new layer never stops
    assert first.exit_code == 0, first.output
    _descriptor(tmp_path, "reload-municipalities", _edited())

    stopped = run("load", str(path))
    text = " ".join(stopped.output.split())
    assert stopped.exit_code == 1, stopped.output
    assert "features: 11 → 10" in text and "fields removed: name_greek" in text
    assert "--accept-changes" in text and "Traceback" not in text
    # Unchanged, over SQL and over HTTP; the attempt is recorded as failed with the summary.
    count, columns = _published(settings, "reload-municipalities")
    assert count == 11 and "name_greek" in columns
    with urllib.request.urlopen(
        f"{live_server}/collections/reload-municipalities/items?f=json&limit=100"
    ) as response:
        page = json.load(response)
    assert page["numberMatched"] == 11
    assert all("name_greek" in f["properties"] for f in page["features"])
    last = _loads(settings, "reload-municipalities")[0]
    assert last["status"] == "failed" and "fields removed: name_greek" in last["error"]
    assert "πεδία που αφαιρούνται: name_greek" in last["error_texts"]["el"]  # the portal's
    assert _staging_tables(settings) == []

    accepted = run("load", str(path), "--accept-changes")
    assert accepted.exit_code == 0, accepted.output
    assert "features: 11 → 10" in " ".join(accepted.output.split())  # said, not silent
    count, columns = _published(settings, "reload-municipalities")
    assert count == 10 and "name_greek" not in columns


def test_a_dry_run_shows_the_changes_and_leaves_nothing_behind(run, settings, tmp_path):
    path = _descriptor(tmp_path, "dry-municipalities", _features())
    new = run("load", str(path), "--dry-run")  # a new layer: shown, not published
    assert new.exit_code == 0, new.output
    assert "new layer: 11 feature(s)" in " ".join(new.output.split())
    with db.connect(settings) as conn:
        assert registry.find_collection(conn, "dry-municipalities") is None
    assert _loads(settings, "dry-municipalities") == []

    assert run("load", str(path)).exit_code == 0
    loads_before = _loads(settings, "dry-municipalities")
    _descriptor(tmp_path, "dry-municipalities", _edited())
    dry = run("load", str(path), "--dry-run")
    text = " ".join(dry.output.split())
    assert dry.exit_code == 1, dry.output  # a load would stop
    assert "nothing published" in text and "features: 11 → 10" in text
    assert "fields removed: name_greek" in text
    accepted = run("load", str(path), "--dry-run", "--accept-changes")
    assert accepted.exit_code == 0 and "would publish" in accepted.output
    # No table, no history entry, the published layer as it was.
    assert _loads(settings, "dry-municipalities") == loads_before
    assert _staging_tables(settings) == []
    assert _published(settings, "dry-municipalities")[0] == 11


def test_a_retyped_field_stops_the_reload(run, settings, tmp_path):
    path = _descriptor(tmp_path, "retyped-municipalities", _features())
    assert run("load", str(path)).exit_code == 0
    features = _features()
    for number, f in enumerate(features):
        f["properties"]["name"] = number  # text became numbers
    _descriptor(tmp_path, "retyped-municipalities", features)
    stopped = run("load", str(path))
    assert stopped.exit_code == 1
    assert "fields retyped: name string → integer" in " ".join(stopped.output.split())
    assert _published(settings, "retyped-municipalities")[0] == 11


def test_the_descriptor_can_accept_changes_and_the_loss_limit_is_a_setting(run, settings, tmp_path):
    path = _descriptor(tmp_path, "accepting-municipalities", _features())
    assert run("load", str(path)).exit_code == 0
    # Fields accepted by the descriptor; the lost feature (1 of 11, 9%) still stops it.
    _descriptor(tmp_path, "accepting-municipalities", _edited(), "accept_changes: [fields]\n")
    stopped = run("load", str(path))
    assert stopped.exit_code == 1
    assert "accept_changes: [features]" in " ".join(stopped.output.split())
    # Under a limit of 10%, the same reload goes through.
    passed = run("load", str(path), GEOSERVICE_FEATURE_LOSS_LIMIT="0.1")
    assert passed.exit_code == 0, passed.output
    assert _published(settings, "accepting-municipalities")[0] == 10
    # Both accepted: a reload to 5 features publishes.
    _descriptor(
        tmp_path,
        "accepting-municipalities",
        _features()[:5],
        "accept_changes: [fields, features]\n",
    )
    assert run("load", str(path)).exit_code == 0
    assert _published(settings, "accepting-municipalities")[0] == 5
    # A key the descriptor does not know is refused, naming it.
    _descriptor(tmp_path, "accepting-municipalities", _features(), "accept_changes: [feilds]\n")
    wrong = run("load", str(path))
    assert wrong.exit_code == 1 and "accept_changes" in wrong.output


# -- removals, kept versions, undo, history -----------------------------------------


def _served(url: str, collection_id: str, expected: int | None, seconds: float = 10) -> None:
    """Wait until the server publishes `expected` features of the collection (None: none)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(
                f"{url}/collections/{collection_id}/items?f=json&limit=1"
            ) as response:
                got = json.load(response)["numberMatched"]
        except urllib.error.HTTPError as err:
            got = None if err.code == 404 else f"HTTP {err.code}"
        if got == expected:
            return
        assert time.monotonic() < deadline, f"the server shows {got}, not {expected}"
        time.sleep(0.2)


def _record(settings, collection_id: str) -> dict | None:
    """The catalogue record's feature count, or None."""
    with db.connect(settings) as conn:
        row = conn.execute(
            "SELECT feature_count FROM geoservice.records WHERE id = %s", (collection_id,)
        ).fetchone()
    return row[0] if row else None


def test_remove_refuses_without_a_terminal_unless_yes(run, settings, tmp_path):
    path = _layer(tmp_path, "undo-refuse")
    assert run("load", str(path)).exit_code == 0
    refused = run("remove", "undo-refuse")  # CliRunner: stdin is not a terminal
    assert refused.exit_code == 1
    assert "--yes" in refused.output and len(refused.output.strip().splitlines()) == 1
    with db.connect(settings) as conn:
        assert registry.find_collection(conn, "undo-refuse") is not None
    assert run("remove", "undo-refuse", "--yes").exit_code == 0
    with db.connect(settings) as conn:
        assert registry.find_collection(conn, "undo-refuse") is None


def _remove_on_a_terminal(settings, collection_id: str, answer: str) -> tuple[int, str]:
    """`geoservice remove ID` with a terminal as its stdin, answering the question."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice", "remove", collection_id],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "DATABASE_URL": settings.dsn},
        text=True,
    )
    os.close(follower)
    try:
        os.write(leader, answer.encode() + b"\n")
        output, _ = process.communicate(timeout=60)
    finally:
        os.close(leader)
    return process.returncode, output


def test_remove_asks_on_a_terminal(run, settings, tmp_path):
    path = _layer(tmp_path, "undo-asked")
    assert run("load", str(path)).exit_code == 0
    code, output = _remove_on_a_terminal(settings, "undo-asked", "n")
    assert code != 0 and "Remove the layer undo-asked" in output and "Aborted" in output
    with db.connect(settings) as conn:
        assert registry.find_collection(conn, "undo-asked") is not None
    code, output = _remove_on_a_terminal(settings, "undo-asked", "y")
    assert code == 0 and "removed undo-asked" in output
    with db.connect(settings) as conn:
        assert registry.find_collection(conn, "undo-asked") is None


def test_undo_brings_back_a_replaced_layer_and_a_removed_one(run, settings, tmp_path, live_server):
    path = _layer(tmp_path, "undo-layer", 11)
    assert run("load", str(path)).exit_code == 0
    _served(live_server, "undo-layer", 11)
    _layer(tmp_path, "undo-layer", 5)
    assert run("load", str(path), "--accept-changes").exit_code == 0
    _served(live_server, "undo-layer", 5)

    undone = run("undo", "undo-layer")  # the replaced version returns
    assert undone.exit_code == 0, undone.output
    _served(live_server, "undo-layer", 11)
    assert _record(settings, "undo-layer") == 11
    assert run("undo", "undo-layer").exit_code == 0  # and undoing the undo returns
    _served(live_server, "undo-layer", 5)

    assert run("remove", "undo-layer", "--yes").exit_code == 0
    _served(live_server, "undo-layer", None)
    assert _record(settings, "undo-layer") is None
    back = run("undo", "undo-layer")  # a removed layer is published again
    assert back.exit_code == 0, back.output
    _served(live_server, "undo-layer", 5)
    assert _record(settings, "undo-layer") == 5
    nothing = run("undo", "undo-layer")  # nothing more is kept
    assert nothing.exit_code == 1 and "nothing to undo" in nothing.output

    history = run("history", "undo-layer")
    assert history.exit_code == 0
    statuses = [line.split("\t")[1] for line in history.output.splitlines()]  # a script's view
    assert statuses[:4] == ["undone", "removed", "undone", "undone"], history.output
    with db.connect(settings) as conn:  # nothing left behind in staging
        assert not conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'staging'"
        ).fetchall()


def test_history_without_an_id_shows_every_layer(run, tmp_path):
    for name in ("undo-history-a", "undo-history-b"):
        assert run("load", str(_layer(tmp_path, name))).exit_code == 0
    assert run("remove", "undo-history-a", "--yes").exit_code == 0
    shown = run("history", "--limit", "100")
    assert shown.exit_code == 0, shown.output
    rows = [line.split("\t") for line in shown.output.splitlines()]  # layer, when, status...
    assert ["undo-history-a", "removed"] in [[r[0], r[2]] for r in rows]
    assert ["undo-history-b", "published"] in [[r[0], r[2]] for r in rows]


def test_kept_versions_expire_and_can_be_turned_off(run, settings, tmp_path):
    path = _layer(tmp_path, "undo-expired")
    assert run("load", str(path)).exit_code == 0
    assert run("remove", "undo-expired", "--yes").exit_code == 0
    with db.connect(settings, autocommit=True) as conn:
        (table,) = conn.execute(
            "UPDATE geoservice.kept_versions SET kept_at = now() - interval '8 days' "
            "WHERE collection_id = 'undo-expired' RETURNING kept_table"
        ).fetchone()
    # The next load (of any layer) forgets what is older than GEOSERVICE_KEEP_DAYS (7).
    assert run("load", str(_layer(tmp_path, "undo-other"))).exit_code == 0
    with db.connect(settings) as conn:
        assert not [v for v in registry.kept_versions(conn) if v["collection_id"] == "undo-expired"]
        assert conn.execute("SELECT to_regclass(%s)", (f'kept."{table}"',)).fetchone()[0] is None
    assert "nothing to undo" in run("undo", "undo-expired").output
    # Kept for 0 days: a removal keeps nothing.
    assert run("remove", "undo-other", "--yes", GEOSERVICE_KEEP_DAYS="0").exit_code == 0
    assert "nothing to undo" in run("undo", "undo-other").output


def test_a_dry_run_of_a_resource_descriptor_publishes_nothing(run, settings, tmp_path):
    """A resource descriptor has no data to check: --dry-run is refused, not ignored (the
    record would otherwise be published)."""
    text = (PROJECT_ROOT / "collections" / "cadastre-orthophotos-wms.yml").read_text("utf-8")
    path = tmp_path / "dry-service.yml"
    path.write_text(text.replace("id: cadastre-orthophotos-wms", "id: dry-service"), "utf-8")
    refused = run("load", str(path), "--dry-run")
    assert refused.exit_code == 2 and "--dry-run" in refused.output
    with db.connect(settings) as conn:
        row = conn.execute("SELECT 1 FROM geoservice.records WHERE id = 'dry-service'").fetchone()
    assert row is None
