"""The embedded default database: a PostgreSQL + PostGIS cluster in the project's data folder.

Used when DATABASE_URL is not set. PostgreSQL refuses to run as root, so when we are root
the cluster belongs to, and runs as, the unprivileged `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from geoservice.errors import DatabaseError
from geoservice.settings import Settings

SERVICE_USER = "postgres"  # who runs the cluster when the caller is root
SERVER_SETTINGS = {
    # Modest settings suited to a 2-core, multi-GB machine doing bulk loads and reads.
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "2GB",
    "synchronous_commit": "off",
    "max_connections": "100",
    "jit": "off",
}
# Loaded by the postmaster once, not by each new connection at its first geometry; only
# when installed, or the server would not start.
PRELOADED = "postgis-3"


@dataclass(frozen=True)
class Cluster:
    data_dir: Path  # the project's data folder; the cluster lives in data_dir/pgdata
    port: int
    pg_bin: str = ""  # settings.pg_bin: where PostgreSQL's programs are; "": found below

    @classmethod
    def from_settings(cls, settings: Settings) -> Cluster:
        return cls(settings.data_dir, settings.db_port, settings.pg_bin)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def logfile(self) -> Path:
        return self.pgdata / "server.log"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://geoservice@127.0.0.1:{self.port}/postgres"

    # -- lifecycle -------------------------------------------------------

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = self._run(
            [_bin("pg_ctl", self.pg_bin), "-D", str(self.pgdata), "status"], check=False
        )
        return result.returncode == 0

    def init(self) -> None:
        """Create the cluster (idempotent)."""
        if self.initialised():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        _make_reachable(self.data_dir)
        if os.geteuid() == 0:
            shutil.chown(self.pgdata, SERVICE_USER, SERVICE_USER)
        self._run(
            [
                _bin("initdb", self.pg_bin),
                "-D",
                str(self.pgdata),
                "-U",
                "geoservice",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        settings = dict(SERVER_SETTINGS)
        if (Path(_bin("postgres", self.pg_bin)).parent.parent / "lib" / f"{PRELOADED}.so").exists():
            settings["shared_preload_libraries"] = PRELOADED
        with open(self.pgdata / "postgresql.auto.conf", "a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = '{value}'\n")

    def start(self) -> None:
        """Initialise if needed, start, and make sure the geoservice database has PostGIS."""
        self.init()
        if not self.running():
            options = f"-p {self.port} -h 127.0.0.1 -k {self.pgdata}"
            result = self._run(
                [
                    _bin("pg_ctl", self.pg_bin),
                    "-D",
                    str(self.pgdata),
                    "-l",
                    str(self.logfile),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                check=False,
            )
            if result.returncode != 0:
                tail = _tail(self.logfile)
                raise DatabaseError(f"the local database did not start on port {self.port}: {tail}")
        self._wait_ready()
        self._ensure_database()

    def stop(self) -> None:
        if self.running():
            self._run(
                [_bin("pg_ctl", self.pg_bin), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]
            )

    # -- helpers ---------------------------------------------------------

    def _wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    return
            except psycopg.OperationalError as err:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"the local database is not answering: {err}") from err
                time.sleep(0.2)

    def _ensure_database(self) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'geoservice'"
            ).fetchone()
            if not exists:
                conn.execute("CREATE DATABASE geoservice")
        dsn = self.admin_dsn.rsplit("/", 1)[0] + "/geoservice"
        with psycopg.connect(dsn, autocommit=True) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as err:
                raise DatabaseError(
                    "PostGIS is not installed for this PostgreSQL "
                    "(on Debian: apt-get install postgresql-15-postgis-3)"
                ) from err

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise DatabaseError(
                f"{Path(argv[-1]).name if argv else ''} failed: "
                f"{message[-1] if message else 'no output'}"
            )
        return result


def _bin(name: str, override: str = "") -> str:
    """Find a PostgreSQL server binary: `override` (GEOSERVICE_PG_BIN), Debian's newest, PATH."""
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for directory in candidates:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise DatabaseError(
        f"PostgreSQL's {name} was not found: install PostgreSQL 15 and PostGIS "
        "(apt-get install postgresql-15-postgis-3) or set DATABASE_URL"
    )


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def _make_reachable(path: Path) -> None:
    """Let the service user traverse to the data folder (root-owned parents may be 0700)."""
    if os.geteuid() != 0:
        return
    pwd.getpwnam(SERVICE_USER)  # fails clearly if the user is missing
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def _tail(logfile: Path, lines: int = 3) -> str:
    try:
        text = subprocess.run(
            ["tail", "-n", str(lines), str(logfile)], capture_output=True, text=True
        ).stdout
    except OSError:
        return "see the server log"
    return " | ".join(text.strip().splitlines()) or f"see {logfile}"
