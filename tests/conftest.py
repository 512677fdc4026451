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
    from geoservice.db import ensure_database

    url = os.environ.get("GEOSERVICE_TEST_DATABASE_URL", "")
    if url:
        s = Settings(database_url=url)
        ensure_database(s)
        yield s
        return
    folder = Path(tempfile.mkdtemp(prefix="geoservice-test-"))
    os.chmod(folder, 0o755)
    s = Settings(data_dir=folder, db_port=int(os.environ.get("GEOSERVICE_TEST_DB_PORT", "54339")))
    from geoservice.embedded_db import Cluster

    cluster = Cluster.from_settings(s)
    try:
        ensure_database(s)
        yield s
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
