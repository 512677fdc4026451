"""Shared fixtures: the real municipal samples and a real PostGIS started for the test session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from geoservice.settings import PROJECT_ROOT, Settings

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared sample data is missing: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """A PostGIS for the whole test session.

    GEOSERVICE_TEST_DATABASE_URL points the tests at an existing server; otherwise an
    embedded cluster is created in a temporary folder and removed at the end.
    """
    from geoservice.store.db import ensure_database

    url = os.environ.get("GEOSERVICE_TEST_DATABASE_URL", "")
    if url:
        s = Settings(database_url=url)
        ensure_database(s)
        yield s
        return
    folder = Path(tempfile.mkdtemp(prefix="geoservice-test-"))
    os.chmod(folder, 0o755)
    port = int(os.environ.get("GEOSERVICE_TEST_DB_PORT", "0")) or free_port()
    s = Settings(data_dir=folder, db_port=port)
    from geoservice.store.embedded import Cluster

    cluster = Cluster.from_settings(s)
    try:
        ensure_database(s)
        yield s
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_collections(settings: Settings) -> dict[str, object]:
    """The demo descriptors, loaded once for the session: {id: LoadReport} of the layers.
    The resource descriptors (documents, services) among them are catalogued too."""
    from loaders import resources
    from loaders.descriptor import load_descriptor
    from loaders.pipeline import load

    reports = {}
    for path in sorted((PROJECT_ROOT / "collections").glob("*.yml")):
        if resources.declares_resource(path):
            resources.publish_file(settings, path)
            continue
        descriptor = load_descriptor(path)
        reports[descriptor.id] = load(settings, descriptor)
    return reports


@pytest.fixture(scope="session")
def client(settings: Settings, demo_collections: dict) -> object:
    """The app in-process (no HTTP): for API behaviour."""
    from geoservice.server.app import create_app

    return create_app(settings, refresh_seconds=0).test_client()


@pytest.fixture(scope="session")
def live_server(settings: Settings, demo_collections: dict) -> Iterator[str]:
    """`geoservice serve` in a subprocess on a free port: for real clients over real HTTP."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.dsn, "GEOSERVICE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice", "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/?f=json", timeout=5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the server did not start: {process.stderr.read()}") from None
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
