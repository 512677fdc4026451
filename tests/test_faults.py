"""Faults on real parts: loads killed with SIGKILL at each step, concurrent loads, reloads
under a steady read load over HTTP, and the database restarted under a running server.

GEOSERVICE_FAULT_POINTS sets the size of the generated layer (default 200,000; the issue's
1,000,000-feature reload runs with GEOSERVICE_FAULT_POINTS=1000000, or in bench/loadtest.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg
import pytest
import requests
import shapely
from conftest import free_port, licence_keys

from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store import db
from geoservice.store.embedded import Cluster
from geoservice.store.tables import staging_prefix
from loaders.descriptor import load_descriptor, parse_descriptor
from loaders.pipeline import load

POINTS = int(os.environ.get("GEOSERVICE_FAULT_POINTS", "200000"))
LOADER_APP = "geoservice-fault-loader"  # application_name of the loads we kill


# -- the layer, in two versions ----------------------------------------------------------


def points(n: int, seed: int) -> gpd.GeoDataFrame:
    """n points in Greece with an id, an integer code and a value."""
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "code": rng.integers(0, 1000, n).astype(np.int32),
            "value": rng.uniform(0, 1000, n),
        },
        geometry=shapely.points(rng.uniform(19.5, 29.5, n), rng.uniform(34.8, 41.8, n)),
        crs=4326,
    )


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> dict[str, Path]:
    """Two versions of one big point layer (same ids, other positions and values)."""
    folder = tmp_path_factory.mktemp("fault-layers")
    paths = {}
    for name, seed in (("old", 1), ("new", 2)):
        path = folder / f"points_{name}.fgb"
        points(POINTS, seed).to_file(path, driver="FlatGeobuf", engine="pyogrio")
        paths[name] = path
    return paths


def descriptor_for(collection_id: str, path: Path):
    return parse_descriptor(
        {
            "id": collection_id,
            "title": collection_id,
            "source": {"path": str(path)},
            **licence_keys(path),
            "identifier": "id",
            "fields": {"index": ["code"]},
        }
    )


def published_state(settings: Settings, collection_id: str) -> dict:
    """Everything a reader sees of a collection: its rows (checksum), registry row, record."""
    with db.connect(settings) as conn:
        registry_row = conn.execute(
            "SELECT to_jsonb(c) FROM geoservice.collections c WHERE id = %s", (collection_id,)
        ).fetchone()[0]
        record = conn.execute(
            "SELECT to_jsonb(r) FROM geoservice.records r WHERE id = %s", (collection_id,)
        ).fetchone()
        rows, checksum = conn.execute(
            f"SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY id)) "
            f'FROM data."{registry_row["table_name"]}" t'
        ).fetchone()
        version = conn.execute("SELECT last_value FROM geoservice.catalogue_version").fetchone()
    return {
        "rows": rows,
        "checksum": checksum,
        "registry": registry_row,
        "record": record[0] if record else None,
        "catalogue_version": version[0],
    }


def leftovers(settings: Settings, collection_id: str) -> dict:
    with db.connect(settings) as conn:
        staging = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'staging' "
            "AND starts_with(tablename, %s)",
            (staging_prefix(collection_id),),
        ).fetchall()
        running = conn.execute(
            "SELECT load_id FROM geoservice.loads WHERE collection_id = %s AND status = 'running'",
            (collection_id,),
        ).fetchall()
    return {"staging": [r[0] for r in staging], "running": [r[0] for r in running]}


def start_cli_load(settings: Settings, collection_id: str, path: Path) -> subprocess.Popen:
    """`python -m geoservice load FILE --id ID`, as an operator runs it."""
    env = {**os.environ, "DATABASE_URL": settings.dsn, "PGAPPNAME": LOADER_APP}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geoservice",
            "load",
            str(path),
            "--id",
            collection_id,
            "--licence",
            "CC0-1.0",
        ],  # fmt: skip
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen, what: str) -> None:
    """Poll until the condition holds; fail if the load ends first (the moment was missed)."""
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the load ended before {what}: {process.stderr.read()[-500:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"never saw {what}")
        time.sleep(0.005)


def loader_activity(conn: psycopg.Connection) -> list[tuple[str, str | None]]:
    """(query, wait_event_type) of the loader's backends."""
    return conn.execute(
        "SELECT query, wait_event_type FROM pg_stat_activity WHERE application_name = %s "
        "AND state <> 'idle'",
        (LOADER_APP,),
    ).fetchall()


# -- a load killed at any moment -----------------------------------------------------------


@pytest.fixture(scope="module")
def killed_layer(settings: Settings, versions: dict[str, Path]) -> tuple[str, dict]:
    collection_id = "faults-killed"
    load(settings, descriptor_for(collection_id, versions["old"]))
    return collection_id, published_state(settings, collection_id)


def last_load_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(load_id), 0) FROM geoservice.loads").fetchone()[0]


def _started(conn: psycopg.Connection, since: int) -> bool:
    return True


def _registered(conn: psycopg.Connection, since: int) -> bool:
    """Our attempt's row exists (older 'running' rows are earlier kills)."""
    return bool(
        conn.execute(
            "SELECT 1 FROM geoservice.loads WHERE load_id > %s AND status = 'running'", (since,)
        ).fetchone()
    )


def _copying(conn: psycopg.Connection, since: int) -> bool:
    return any(q.startswith('COPY "staging"') for q, _ in loader_activity(conn))


def _indexing(conn: psycopg.Connection, since: int) -> bool:
    return any(
        '"staging"' in q and ("CREATE INDEX" in q or "PRIMARY KEY" in q)  # not the schema's
        for q, _ in loader_activity(conn)
    )


MOMENTS = {
    "starting": _started,  # interpreter and imports: nothing in the database yet
    "reading": _registered,  # the attempt is recorded; the file is being read and checked
    "copy": _copying,  # rows streaming into the staging table
    "index": _indexing,  # primary key / GIST / B-tree on the staging table
}


@pytest.mark.parametrize("moment", [*MOMENTS, "swap"])
def test_a_load_killed_at_any_moment_leaves_the_published_layer(
    settings, versions, killed_layer, moment
):
    collection_id, before = killed_layer
    with db.connect(settings, autocommit=True) as watcher:
        since = last_load_id(watcher)
        process = start_cli_load(settings, collection_id, versions["new"])
        if moment == "swap":
            _kill_inside_the_swap(settings, watcher, process, collection_id)
        else:
            if moment == "starting":
                time.sleep(0.5)
            wait_for(lambda: MOMENTS[moment](watcher, since), process, moment)
            process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert process.returncode == -signal.SIGKILL
    assert published_state(settings, collection_id) == before


def _kill_inside_the_swap(
    settings: Settings, watcher: psycopg.Connection, process: subprocess.Popen, cid: str
) -> None:
    """A reader holds the published table, so the swap transaction blocks on moving it away
    (to the kept versions) or dropping it: the loader is killed with its swap half done
    (inside the transaction)."""
    with db.connect(settings) as reader:
        reader.execute(f'SELECT count(*) FROM data."{cid}"')  # holds ACCESS SHARE
        wait_for(
            lambda: any(
                q.startswith(("DROP TABLE", "ALTER TABLE")) and w == "Lock"
                for q, w in loader_activity(watcher)
            ),
            process,
            "the swap",
        )
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        reader.rollback()  # the blocked DROP runs now, then its backend finds the client gone


def test_the_next_load_cleans_up_after_a_killed_one(settings, versions, killed_layer):
    collection_id, before = killed_layer
    process = start_cli_load(settings, collection_id, versions["new"])
    with db.connect(settings, autocommit=True) as watcher:
        wait_for(lambda: _indexing(watcher, 0), process, "index")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    left = leftovers(settings, collection_id)
    assert left["running"], "the killed load's attempt should still read 'running'"

    report = load(settings, descriptor_for(collection_id, versions["new"]))

    assert report.feature_count == POINTS
    assert leftovers(settings, collection_id) == {"staging": [], "running": []}
    after = published_state(settings, collection_id)
    assert after["rows"] == POINTS and after["checksum"] != before["checksum"]
    with db.connect(settings) as conn:
        statuses = dict(
            conn.execute(
                "SELECT load_id, status FROM geoservice.loads WHERE load_id = ANY(%s)",
                (left["running"],),
            ).fetchall()
        )
    assert set(statuses.values()) == {"failed"}


# -- two loads at once ---------------------------------------------------------------------


def test_two_cli_loads_of_one_layer_at_once_are_serialised(settings, versions):
    collection_id = "faults-concurrent"
    first = start_cli_load(settings, collection_id, versions["old"])
    second = start_cli_load(settings, collection_id, versions["new"])
    waited = False
    with db.connect(settings, autocommit=True) as watcher:
        while first.poll() is None or second.poll() is None:
            # The loser of the race waits on the collection's advisory lock.
            waited = waited or bool(
                watcher.execute(
                    "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                    "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = %s",
                    (LOADER_APP,),
                ).fetchone()
            )
            time.sleep(0.01)
    for process in (first, second):
        assert process.returncode == 0, process.stderr.read()
    assert waited, "never saw the second load wait for the first"
    with db.connect(settings) as conn:
        runs = conn.execute(
            "SELECT started_at, finished_at, status FROM geoservice.loads "
            "WHERE collection_id = %s ORDER BY started_at",
            (collection_id,),
        ).fetchall()
    assert [r[2] for r in runs] == ["published", "published"]
    assert runs[0][1] <= runs[1][0], "the two loads overlapped"
    assert leftovers(settings, collection_id) == {"staging": [], "running": []}
    assert published_state(settings, collection_id)["rows"] == POINTS


# -- reloads under a steady read load --------------------------------------------------------


def hammer(base_url: str, collection_id: str, stop: threading.Event, seen: list, seed: int):
    """One client: pages, features by id, bbox pans and the collection document, in turn."""
    import random

    rng = random.Random(seed)
    items = f"/collections/{collection_id}/items"
    paths = [
        lambda: f"{items}?f=json&limit=100",
        lambda: f"{items}?f=json&limit=50&offset={rng.randrange(POINTS)}",
        lambda: f"{items}/{rng.randint(1, POINTS)}?f=json",
        lambda: (
            f"{items}?f=json&limit=100&bbox="
            f"{(x := rng.uniform(20, 28)):.3f},{(y := rng.uniform(35, 41)):.3f},"
            f"{x + 0.2:.3f},{y + 0.2:.3f}"
        ),
        lambda: f"/collections/{collection_id}?f=json",
        lambda: f"{items}?f=json&limit=10&filter=code%3D{rng.randrange(1000)}",
    ]
    with requests.Session() as session:
        while not stop.is_set():
            path = paths[len(seen) % len(paths)]()
            try:
                response = session.get(base_url + path, timeout=30)
                seen.append((path, response.status_code, response.text[:200]))
            except requests.RequestException as err:
                seen.append((path, None, str(err)))


def test_reloading_a_big_layer_under_read_load_fails_no_request(settings, versions, live_server):
    collection_id = "faults-reload"
    load(settings, descriptor_for(collection_id, versions["old"]))
    deadline = time.monotonic() + 30
    while requests.get(f"{live_server}/collections/{collection_id}?f=json").status_code != 200:
        assert time.monotonic() < deadline, "the server never saw the layer"
        time.sleep(0.2)
    stop = threading.Event()
    seen: list[list] = [[] for _ in range(3)]
    clients = [
        threading.Thread(target=hammer, args=(live_server, collection_id, stop, seen[i], i))
        for i in range(3)
    ]
    for client in clients:
        client.start()
    try:
        for version in ("new", "old"):
            report = load(settings, descriptor_for(collection_id, versions[version]))
            assert report.feature_count == POINTS
        time.sleep(1.5)  # the server notices the last version (it checks once a second)
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    answers = [a for client in seen for a in client]
    failed = [a for a in answers if a[1] != 200]
    assert len(answers) > 100, "the clients barely ran"
    assert failed == [], f"{len(failed)} of {len(answers)} failed, e.g. {failed[:3]}"


# -- the database restarted under a running server ---------------------------------------------


@pytest.fixture
def own_database() -> Iterator[tuple[Settings, Cluster]]:
    """A cluster of this test's own (stopping the session one would break the others).

    Not under tmp_path: pytest makes /tmp/pytest-of-USER private again whenever a session
    starts, and the cluster's user (postgres, when we are root) must reach its folder."""
    folder = Path(tempfile.mkdtemp(prefix="geoservice-faults-"))
    os.chmod(folder, 0o755)
    settings = Settings(data_dir=folder, db_port=free_port())
    cluster = Cluster.from_settings(settings)
    try:
        db.ensure_database(settings)
        load(settings, load_descriptor(PROJECT_ROOT / "collections" / "prefectures.yml"))
        yield Settings(database_url=settings.dsn), cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def served(own_database) -> Iterator[tuple[str, subprocess.Popen, Cluster]]:
    settings, cluster = own_database
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.dsn, "GEOSERVICE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=PROJECT_ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/collections/prefectures/items?f=json", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.3)
        yield url, process, cluster
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


RESTART_PATHS = [
    "/collections/prefectures/items?f=json&limit=5",  # our fast path
    "/collections/prefectures/items/{some_id}?f=json",
    "/collections/prefectures/items?f=json&limit=2&bbox=22.9,40.6,23.0,40.7",
    "/collections/prefectures/items?f=html&limit=2",  # pygeoapi's own rendering
    "/collections/catalogue/items?f=json&q=nomoi",
]


def timed_get(session: requests.Session, url: str) -> tuple[int, float, requests.Response]:
    started = time.monotonic()
    response = session.get(url, timeout=60)
    return response.status_code, time.monotonic() - started, response


def steady_clients(url: str, paths: list[str], stop: threading.Event, seen: list) -> None:
    """A client in a loop: (path, status, seconds, Retry-After, body) of every request."""
    with requests.Session() as session:
        while not stop.is_set():
            for path in paths:
                status, seconds, response = timed_get(session, url + path)
                seen.append(
                    (
                        path,
                        status,
                        seconds,
                        response.headers.get("Retry-After"),
                        response.text,
                        time.monotonic(),
                    )
                )


def test_the_database_restarted_under_load(served):
    url, process, cluster = served
    some_id = requests.get(url + RESTART_PATHS[0]).json()["features"][0]["id"]
    paths = [p.format(some_id=some_id) for p in RESTART_PATHS]
    stop = threading.Event()
    seen: list[tuple] = []
    clients = [
        threading.Thread(target=steady_clients, args=(url, paths[i:] + paths[:i], stop, seen))
        for i in range(3)
    ]
    for client in clients:
        client.start()
    try:
        time.sleep(2)  # every worker's pool holds connections now
        assert seen and all(s[1] == 200 for s in seen), "not all well before the restart"

        cluster.stop()  # pg_ctl stop -m fast: every connection of every pool is cut
        stopped = len(seen)
        time.sleep(3)
        down = seen[stopped:]
        restarting = time.monotonic()
        cluster.start()  # returns once it accepts connections
        back = time.monotonic()
        time.sleep(6)
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    # Recovered: from the last failed request on, every request is answered.
    last_failure = max((s[5] for s in seen if s[1] != 200 and s[5] > back), default=back)
    recovery = last_failure - back
    after = [s for s in seen if s[5] > last_failure]

    assert len(down) > 10, "too few requests while the database was down"
    for path, status, _, retry_after, body, _ in down:
        assert status in (200, 503), (path, status, body[:200])  # 200: from a cached snapshot
        if status == 503:
            assert retry_after, path
            assert "Traceback" not in body and "psycopg" not in body, body
    assert sum(s[1] == 503 for s in down) > len(down) / 2
    slowest = max(s[2] for s in down if s[1] == 503)
    assert slowest < 2.0, f"a request took {slowest:.1f} s to fail: not fast"
    assert recovery < 3, f"recovered {recovery:.1f} s after the database returned"
    # Then every kind of request works again, for seconds: no stale connection left in a pool.
    assert len(after) > 20 and {s[0] for s in after} == set(paths)
    assert process.poll() is None, "the server had to be restarted"
    print(
        f"database down: {len(down)} requests, slowest 503 in {slowest * 1000:.0f} ms; "
        f"it took {back - restarting:.1f} s to start; the server recovered {recovery:.2f} s after "
        f"it accepted connections; {len(after)} requests after, all 200"
    )
