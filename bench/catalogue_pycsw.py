"""pycsw 2.6.2 beside our catalogue: its own venv, its PostgreSQL repository, gunicorn.

2.6.2 speaks CSW 2.0.2/3.0 and OpenSearch (pycsw 3.0, its OGC API Records, runs beside it:
bench/catalogue_pycsw3.py). It runs from /tmp/geoservice-bench-catalogue/pycsw-venv (Python
3.12.1 from pyenv; pycsw 2.6.2 imports pkg_resources, so setuptools < 81), with its repository
(`pycsw-admin.py setup_db`: the `records` table, a GIN full-text index, a native PostGIS
geometry column) in a database `pycsw` of the benchmark's cluster, loaded from the same records
as ISO 19139 XML (`geoservice.server.records.iso19139.iso19139`) with `pycsw-admin.py
load_records`.
"""

from __future__ import annotations

import hashlib
import subprocess
from multiprocessing import Pool
from pathlib import Path

import psycopg

from bench.api_servers import HOST, Server, gunicorn
from geoservice.store.records import Entry

WORK_DIR = Path("/tmp/geoservice-bench-catalogue")
VENV = WORK_DIR / "pycsw-venv"
PYTHON = Path("/root/.pyenv/versions/3.12.1/bin/python")
REQUIREMENTS = [
    "pycsw==2.6.2",
    "sqlalchemy<2",  # pycsw 2.6 uses the 1.x API (create_session, MetaData(bind))
    "setuptools<81",  # pycsw/__init__.py imports pkg_resources
    "psycopg2-binary",
    "gunicorn",
]
DATABASE = "pycsw"
BASE_URL = "http://127.0.0.1:5000"  # record links in the XML (not served)


def ensure_venv() -> Path:
    return venv_with(VENV, REQUIREMENTS, "import pycsw, psycopg2, gunicorn, sqlalchemy")


def venv_with(venv: Path, requirements: list[str], probe: str) -> Path:
    """A peer's own venv (made with PYTHON), its requirements installed unless `probe`, Python
    code, already runs in it; its python."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([str(PYTHON), "-m", "venv", str(venv)], check=True)
    check = [str(python), "-W", "ignore", "-c", probe]
    if subprocess.run(check, capture_output=True).returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    return python


def version() -> str:
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-W", "ignore", "-c",
         "import pycsw, sqlalchemy; print(pycsw.__version__, sqlalchemy.__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pycsw_version, sqlalchemy_version = out.stdout.split()
    return f"pycsw {pycsw_version} (SQLAlchemy {sqlalchemy_version})"


def dsn(db_port: int) -> str:
    return f"postgresql://geoservice@{HOST}:{db_port}/{DATABASE}"


def write_config(port: int, db_port: int) -> Path:
    path = WORK_DIR / "pycsw.cfg"
    path.write_text(
        f"""[server]
home={WORK_DIR}
url=http://{HOST}:{port}/
mimetype=application/xml; charset=UTF-8
encoding=UTF-8
language=en-US
maxrecords=10
loglevel=ERROR
logfile=
pretty_print=false
gzip_compresslevel=0
domainquerytype=list
domaincounts=false
profiles=apiso

[manager]
transactions=false
allowed_ips=127.0.0.1

[metadata:main]
identification_title=geoservice benchmark
identification_abstract=pycsw 2.6.2 beside the geoservice catalogue
identification_keywords=catalogue,benchmark
identification_keywords_type=theme
identification_fees=None
identification_accessconstraints=None
provider_name=geoservice
provider_url=http://{HOST}:{port}/
contact_name=bench
contact_position=bench
contact_address=-
contact_city=Thessaloniki
contact_stateorprovince=-
contact_postalcode=-
contact_country=Greece
contact_phone=-
contact_fax=-
contact_email=gis@thessaloniki.gr
contact_url=http://{HOST}:{port}/
contact_hours=-
contact_instructions=-
contact_role=pointOfContact

[repository]
database=postgresql://geoservice@{HOST}:{db_port}/{DATABASE}
table=records

[metadata:inspire]
enabled=false
languages_supported=eng,gre
default_language=eng
date=2026-11-24
gemet_keywords=Utility and governmental services
conformity_service=notEvaluated
contact_name=bench
contact_email=gis@thessaloniki.gr
temp_extent=2008-01-01/2026-12-31
""",
        encoding="utf-8",
    )
    return path


def _iso_one(args: tuple[dict, str]) -> tuple[str, str]:
    from dataclasses import asdict  # noqa: F401 (keeps the worker import light)

    from geoservice.server.records.iso19139 import iso19139

    data, base_url = args
    entry = Entry.from_json(data)
    return entry.id, iso19139(entry, base_url)


def _cache_pygeometa_templates() -> None:
    """pygeometa builds a jinja2 Environment (and compiles its templates) on every render,
    0.15 s a record; reusing one per template folder gives byte-identical XML, 10x faster."""
    import jinja2
    import pygeometa.core

    environments: dict[tuple, jinja2.Environment] = {}

    def environment(loader=None, **kwargs):
        key = tuple(loader.searchpath)
        if key not in environments:
            environments[key] = jinja2.Environment(loader=loader, **kwargs)
        return environments[key]

    pygeometa.core.Environment = environment


def write_iso_folder(entries: list[Entry], signature: str) -> Path:
    """One ISO 19139 file per record, made once per data signature (cached)."""
    from dataclasses import asdict

    folder = WORK_DIR / f"iso-{signature}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with Pool(2, initializer=_cache_pygeometa_templates) as pool:
        for record_id, xml in pool.imap_unordered(
            _iso_one, [(asdict(e), BASE_URL) for e in entries], chunksize=50
        ):
            (folder / f"{record_id}.xml").write_text(xml, encoding="utf-8")
    done.write_text("ok")
    return folder


def loaded_count(admin_dsn: str, target: str, database: str, signature: str) -> int | None:
    """The records a pycsw repository (database `database`) holds if it was loaded from this
    record set; otherwise None, with the database made and its `records` table dropped."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(f"CREATE DATABASE {database}")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_signature (signature text)")
        row = conn.execute("SELECT signature FROM bench_signature").fetchone()
        if row and row[0] == signature:
            return conn.execute("SELECT count(*) FROM records").fetchone()[0]
        conn.execute("DROP TABLE IF EXISTS records CASCADE")
        conn.execute("DELETE FROM bench_signature")
    return None


def finish_load(target: str, signature: str) -> int:
    """After pycsw-admin loaded its repository: analyse it and note which set it holds."""
    with psycopg.connect(target, autocommit=True) as conn:
        loaded = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        conn.execute("VACUUM ANALYZE records")
        conn.execute("INSERT INTO bench_signature VALUES (%s)", (signature,))
    return loaded


def load(admin_dsn: str, db_port: int, config: Path, folder: Path, signature: str) -> int:
    """(Re)create pycsw's repository and load the folder, unless it already holds it."""
    target = dsn(db_port)
    loaded = loaded_count(admin_dsn, target, DATABASE, signature)
    if loaded is not None:
        return loaded
    admin = [str(VENV / "bin" / "python"), "-W", "ignore", str(VENV / "bin" / "pycsw-admin.py")]
    subprocess.run([*admin, "-c", "setup_db", "-f", str(config)], check=True, capture_output=True)
    proc = subprocess.run(
        [*admin, "-c", "load_records", "-f", str(config), "-p", str(folder)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pycsw load_records failed: {proc.stderr[-800:]}")
    return finish_load(target, signature)


def wait_for(server: Server, url: str, timeout: float) -> None:
    """Until `url` answers 200 (a pycsw has no /collections, or another collection id)."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early; see its log")
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


class PycswServer(Server):
    def wait_ready(self, timeout: float = 90) -> None:  # pycsw 2.6 has no /collections
        url = f"{self.base_url}/?service=CSW&version=2.0.2&request=GetCapabilities"
        wait_for(self, url, timeout)


def server(port: int, config: Path) -> PycswServer:
    return PycswServer(
        name="catalogue-pycsw",
        port=port,
        command=gunicorn(VENV / "bin", port, "pycsw.wsgi:application"),
        env={"PYCSW_CONFIG": str(config), "PYTHONWARNINGS": "ignore"},
    )


def signature_of(count: int, seed: int) -> str:
    source = (Path(__file__).parent / "catalogue_data.py").read_bytes()
    return f"{count}-{seed}-{hashlib.sha1(source).hexdigest()[:10]}"
