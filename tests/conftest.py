"""Shared fixtures: the real municipal samples and a real PostGIS started for the test session."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from geoservice.settings import PROJECT_ROOT, Settings

TEST_DATA = PROJECT_ROOT / "tests" / "data"  # sources and licences: tests/data/ATTRIBUTION.md
# Samples the demo already holds, under their names in the sample collection: not copied twice.
FROM_DEMO = {
    "01_thessaloniki_municipalities/thessaloniki.geojson": "municipalities.geojson",
    "02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.shp": "nomoi/nomoi_okxe.shp",
    "02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.shx": "nomoi/nomoi_okxe.shx",
    "02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.dbf": "nomoi/nomoi_okxe.dbf",
    "02_nomoi_okxe_epsg2100_cp1253/nomoi_okxe.prj": "nomoi/nomoi_okxe.prj",
    "06_greek_settlements_kml/3-villages.kml": "settlements.kml",
    "07_thessaloniki_prefecture_bare_feature/48.json": "thessaloniki_prefecture.json",
    "11_auth_seismic_stations_txt/regd.sta": "seismic_stations.sta",
}
SRTM = "08_srtm3_dem_thessaloniki/N40E022.hgt"  # made here: a raster the loaders must refuse

# The licence of each sample, by file name (tests/data/ATTRIBUTION.md, data/demo/ATTRIBUTION.md
# and the demo's descriptors): a public layer must state one, and none is ever assumed.
GEODATA_GOV_GR = {
    "licence": "CC-BY-4.0",
    "licence_url": "https://creativecommons.org/licenses/by/4.0/",
}
SAMPLE_LICENCES = {
    "thessaloniki": GEODATA_GOV_GR,
    "municipalities": GEODATA_GOV_GR,
    "nomoi_okxe": GEODATA_GOV_GR,
    "3-villages": GEODATA_GOV_GR,
    "settlements": GEODATA_GOV_GR,
    "48": GEODATA_GOV_GR,
    "thessaloniki_prefecture": GEODATA_GOV_GR,
    "regd": {"licence": "GPL-3.0"},
    "seismic_stations": {"licence": "GPL-3.0"},
    "greece_ferries": {"licence": "ODbL-1.0"},
    "dutch_addresses_28992": {"licence": "CC0-1.0"},
    "naturalearth_lowres": {
        "licence": "LicenseRef-PublicDomain",
        "licence_url": "https://www.naturalearthdata.com/about/terms-of-use/",
    },
    "stops": {"access": "internal"},  # no licence stated upstream: tests only, never public
}


def licence_keys(path: Path | str) -> dict[str, str]:
    """The descriptor keys that state a file's licence: a sample's own (by its file name),
    else CC0-1.0 for a file the test wrote itself (ours to dedicate)."""
    return dict(SAMPLE_LICENCES.get(Path(path).stem, {"licence": "CC0-1.0"}))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real samples, one folder per sample as in the team's collection, read-only: the
    repository's copies (tests/data), the demo's files (data/demo) and a synthetic SRTM tile."""
    folder = tmp_path_factory.mktemp("samples")
    for sample in sorted(TEST_DATA.glob("[0-9][0-9]_*")):
        shutil.copytree(sample, folder / sample.name)
    for name, demo in FROM_DEMO.items():
        (folder / name).parent.mkdir(exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / "data" / "demo" / demo, folder / name)
    (folder / SRTM).parent.mkdir()
    (folder / SRTM).write_bytes(bytes(1201 * 1201 * 2))  # SRTM-3: 1201 x 1201 int16, all 0 m
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    return folder


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
    return publish_demo(settings)


def publish_demo(settings: Settings) -> dict[str, object]:
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
def app(settings: Settings, demo_collections: dict) -> object:
    """The app in-process (no HTTP), one for the session."""
    from geoservice.server.app import create_app

    return create_app(settings, refresh_seconds=0)


@pytest.fixture
def client(app: object) -> object:
    """A client of the session's app for one test: its cookies (the portal remembers ?lang=)
    do not follow it into the next test."""
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(settings: Settings, demo_collections: dict) -> Iterator[str]:
    """`geoservice serve` in a subprocess on a free port: for real clients over real HTTP."""
    with serve(settings) as url:
        yield url


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """`geoservice serve` on the settings' database, on a free port, until the block ends."""
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
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
