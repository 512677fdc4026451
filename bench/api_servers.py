"""The servers the API benchmark compares, each started on its own loopback port.

- `ours`: `geoservice serve --workers 2` (gunicorn, 2 workers x 4 threads);
- `pygeoapi`: stock pygeoapi 0.24 with its PostgreSQL provider, `gunicorn -w 2`;
- `pygeoapi_nocount`: the same with `count: false` in the provider definition;
- `tipg`: tipg 1.6 under `uvicorn --workers 2`, from its own venv.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import yaml

from bench.api_data import WORK_DIR
from geoservice.server.pygeoapi_config import CRS84, base_config, epsg_uri
from geoservice.settings import Settings

VENV_BIN = Path(sys.executable).parent
TIPG_VENV = WORK_DIR / "tipg-venv"
TIPG_PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python")
HOST = "127.0.0.1"
LOG_DIR = WORK_DIR / "logs"


def gunicorn(venv_bin: Path, port: int, app: str) -> list[str]:
    """The command that serves a peer's WSGI app as ours is served: 2 workers on loopback."""
    return [str(venv_bin / "gunicorn"), "-w", "2", "-b", f"{HOST}:{port}", "--timeout", "300", app]


@dataclass
class Server:
    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    collection_prefix: str = ""  # tipg names collections schema.table
    wrk_headers: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def collection(self, collection_id: str) -> str:
        return f"{self.collection_prefix}{collection_id}"

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"{self.name}.log", "ab")  # noqa: SIM115 (lives with the process)
        self.process = subprocess.Popen(
            self.command,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() kills master and workers
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {LOG_DIR / self.name}.log")
            try:
                if requests.get(f"{self.base_url}/collections", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")

    def ensure_running(self) -> None:
        """Restart a server that died (or was killed from outside) and say so."""
        if self.process is not None and self.process.poll() is None:
            return
        print(
            f"  ! {self.name} was not running (exit {self.process and self.process.poll()}): "
            "restarting it",
            flush=True,
        )
        self.restarts += 1
        self.start()
        self.wait_ready()

    def processes(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


# -- ours ---------------------------------------------------------------------------


def ours(settings: Settings, port: int) -> Server:
    return Server(
        name="ours",
        port=port,
        command=[str(VENV_BIN / "geoservice"), "serve", "--port", str(port), "--workers", "2"],
        env={"DATABASE_URL": settings.dsn},
    )


def before_tree(revision: str) -> Path:
    """A checkout of `revision` (a git worktree beside the bench data), for `ours_before`."""
    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=root, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    tree = WORK_DIR / f"before-{commit}"
    if not tree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), commit], cwd=root, check=True,
            capture_output=True,
        )  # fmt: skip
    return tree


def ours_before(settings: Settings, port: int, revision: str) -> Server:
    """Our server as it was at `revision`, on the same data, venv and database: the project's
    code comes from the worktree first on PYTHONPATH (the editable install's finder comes
    after the path)."""
    tree = before_tree(revision)
    return Server(
        name="ours_before",
        port=port,
        command=[
            sys.executable,
            "-m",
            "geoservice",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env={"DATABASE_URL": settings.dsn, "PYTHONPATH": str(tree)},
    )


# -- stock pygeoapi ---------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """A published table as the peers need to know it."""

    collection_id: str
    table: str
    id_field: str
    source_srid: int | None
    bbox: list[float]


def pygeoapi_config(settings: Settings, port: int, layers: Iterable[Layer], count: bool) -> dict:
    config = base_config(Settings(host=HOST, port=port))
    config["server"].pop("templates", None)  # stock templates
    config["logging"] = {"level": "ERROR"}
    for layer in layers:
        crs = [CRS84, epsg_uri(4326), epsg_uri(2100)]
        provider = {
            "type": "feature",
            "name": "PostgreSQL",
            "data": {
                "host": HOST,
                "port": settings.db_port,
                "dbname": "geoservice",
                "user": "geoservice",
                "search_path": ["data"],
            },
            "id_field": layer.id_field,
            "table": layer.table,
            "geom_field": "geom",
            "storage_crs": CRS84,
            "crs": crs,
        }
        if not count:
            provider["count"] = False
        config["resources"][layer.collection_id] = {
            "type": "collection",
            "title": layer.collection_id,
            "description": layer.collection_id,
            "keywords": ["benchmark"],
            "extents": {"spatial": {"bbox": layer.bbox, "crs": CRS84}},
            "providers": [provider],
        }
    return config


def pygeoapi(settings: Settings, port: int, layers: list[Layer], count: bool = True) -> Server:
    name = "pygeoapi" if count else "pygeoapi_nocount"
    config_path = WORK_DIR / f"{name}.config.yml"
    openapi_path = WORK_DIR / f"{name}.openapi.yml"
    config_path.write_text(
        yaml.safe_dump(pygeoapi_config(settings, port, layers, count), allow_unicode=True),
        encoding="utf-8",
    )
    env = {"PYGEOAPI_CONFIG": str(config_path), "PYGEOAPI_OPENAPI": str(openapi_path)}
    subprocess.run(
        [str(VENV_BIN / "pygeoapi"), "openapi", "generate", str(config_path),
         "--output-file", str(openapi_path)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Server(
        name=name,
        port=port,
        command=gunicorn(VENV_BIN, port, "pygeoapi.flask_app:APP"),
        env=env,
    )


# -- tipg -----------------------------------------------------------------------------


def ensure_tipg_venv() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([str(TIPG_PYTHON), "-m", "venv", str(TIPG_VENV)], check=True)
    if subprocess.run([str(python), "-c", "import tipg, uvicorn"]).returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "tipg==1.6.*", "uvicorn[standard]"],
            check=True,
        )
    return python


def tipg(settings: Settings, port: int) -> Server:
    python = ensure_tipg_venv()
    return Server(
        name="tipg",
        port=port,
        command=[
            str(python),
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={
            "DATABASE_URL": settings.dsn,
            "TIPG_DB_SCHEMAS": '["data"]',
            "TIPG_MAX_FEATURES_PER_QUERY": "10000",
            "TIPG_DEFAULT_FEATURES_LIMIT": "10",
        },
        collection_prefix="data.",
        wrk_headers=["Connection: close"],
    )


def tipg_version() -> str:
    python = ensure_tipg_venv()
    out = subprocess.run(
        [str(python), "-c", "import tipg; print(tipg.__version__)"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()
