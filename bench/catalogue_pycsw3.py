"""pycsw 3.0 beside our catalogue: the OGC API Records reference implementation.

pycsw 3.0 is on PyPI as `geonode-pycsw` (3.0.0b2, GeoNode's packaging of pycsw's 3.0 line:
`import pycsw`, `pycsw.__version__ == "3.0.0b2"`). Its wheel declares fewer dependencies than
it imports, so the venv (/tmp/geoservice-bench-catalogue/pycsw3-venv, Python 3.12.1 from
pyenv) adds SQLAlchemy 1.x (its repository calls `sqlalchemy.orm.create_session`, gone in
2.0), pygeofilter 0.2.1 (its CQL2), Flask and Jinja2 (its WSGI app, `pycsw.wsgi_flask:APP`).

Its repository (`pycsw-admin.py setup-repository`: the `records` table, a GIN full-text index,
a native PostGIS geometry) is a database `pycsw3` of the benchmark's cluster, loaded from the
same ISO 19139 files as pycsw 2.6.2 (`catalogue_pycsw.write_iso_folder`) with
`pycsw-admin.py load-records`. The searches go to its OGC API Records endpoint,
/collections/metadata:main/items.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from bench import catalogue_pycsw
from bench.api_servers import HOST, Server, gunicorn

WORK_DIR = catalogue_pycsw.WORK_DIR
VENV = WORK_DIR / "pycsw3-venv"
REQUIREMENTS = [
    "geonode-pycsw==3.0.0b2",
    "sqlalchemy<2",  # pycsw 3.0's repository uses the 1.x API (create_session)
    # imported by its OGC API Records (CQL2), not declared by the wheel; 0.2.1 is the last
    # whose SQLAlchemyFilterEvaluator takes the one argument pycsw 3.0.0b2 passes (0.2.4 and
    # 0.4 answer every filtered search "CQL evaluator error ... 'undefined_as_null'")
    "pygeofilter==0.2.1",
    "flask",  # pycsw.wsgi_flask, idem
    "jinja2",
    "psycopg2-binary",
    "gunicorn",
]
DATABASE = "pycsw3"
ITEMS = "/collections/metadata:main/items"


def ensure_venv() -> Path:
    return catalogue_pycsw.venv_with(
        VENV,
        REQUIREMENTS,
        "import pycsw.ogc.api.records, flask, psycopg2, gunicorn, pygeofilter; "
        "assert pygeofilter.__version__ == '0.2.1'",
    )


def version() -> str:
    out = subprocess.run(
        [str(VENV / "bin" / "python"), "-W", "ignore", "-c",
         "import pycsw, sqlalchemy, pygeofilter; "
         "print(pycsw.__version__, sqlalchemy.__version__, pygeofilter.__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pycsw_version, sqlalchemy_version, pygeofilter_version = out.stdout.split()
    return (
        f"pycsw {pycsw_version} (geonode-pycsw; SQLAlchemy {sqlalchemy_version}, "
        f"pygeofilter {pygeofilter_version})"
    )


def write_config(port: int, db_port: int) -> Path:
    """pycsw 3.0's YAML configuration (its default-sample.yml, trimmed)."""
    contact = {
        "name": "bench", "position": "bench", "address": "-", "city": "Thessaloniki",
        "stateorprovince": "-", "postalcode": "-", "country": "Greece", "phone": "-",
        "fax": "-", "email": "gis@thessaloniki.gr", "url": f"http://{HOST}:{port}/",
        "hours": "-", "instructions": "-", "role": "pointOfContact",
    }  # fmt: skip
    config = {
        "server": {
            "url": f"http://{HOST}:{port}/",
            "mimetype": "application/xml; charset=UTF-8",
            "encoding": "UTF-8",
            "language": "en-US",
            "maxrecords": 10,
            "pretty_print": False,
            "gzip_compresslevel": 0,
        },
        "logging": {"level": "ERROR"},
        "profiles": ["apiso"],
        "federatedcatalogues": [],
        "manager": {"transactions": False, "allowed_ips": ["127.0.0.1"]},
        "metadata": {
            "identification": {
                "title": "geoservice benchmark",
                "description": "pycsw 3.0 beside the geoservice catalogue",
                "keywords": ["catalogue", "benchmark"],
                "keywords_type": "theme",
                "fees": "None",
                "accessconstraints": "None",
                "terms_of_service": "https://creativecommons.org/licenses/by/4.0",
                "url": f"http://{HOST}:{port}/",
            },
            "license": {
                "name": "CC-BY 4.0 license",
                "url": "https://creativecommons.org/licenses/by/4.0",
            },
            "provider": {"name": "geoservice", "url": f"http://{HOST}:{port}/"},
            "contact": contact,
            "inspire": {"enabled": False},
        },
        "repository": {"database": dsn(db_port), "table": "records"},
    }
    path = WORK_DIR / "pycsw3.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def dsn(db_port: int) -> str:
    return f"postgresql://geoservice@{HOST}:{db_port}/{DATABASE}"


def load(admin_dsn: str, db_port: int, config: Path, folder: Path, signature: str) -> int:
    """(Re)create pycsw 3.0's repository and load the folder, unless it already holds it."""
    target = dsn(db_port)
    loaded = catalogue_pycsw.loaded_count(admin_dsn, target, DATABASE, signature)
    if loaded is not None:
        return loaded
    admin = [str(VENV / "bin" / "python"), "-W", "ignore", str(VENV / "bin" / "pycsw-admin.py")]
    subprocess.run([*admin, "setup-repository", "-c", str(config)], check=True,
                   capture_output=True)  # fmt: skip
    proc = subprocess.run(
        [*admin, "load-records", "-c", str(config), "-p", str(folder), "-y"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pycsw 3.0 load-records failed: {proc.stderr[-800:]}")
    return catalogue_pycsw.finish_load(target, signature)


class Pycsw3Server(Server):
    def wait_ready(self, timeout: float = 90) -> None:  # its collection is metadata:main
        catalogue_pycsw.wait_for(self, f"{self.base_url}{ITEMS}?limit=1", timeout)


def server(port: int, config: Path) -> Pycsw3Server:
    return Pycsw3Server(
        name="catalogue-pycsw3",
        port=port,
        command=gunicorn(VENV / "bin", port, "pycsw.wsgi_flask:APP"),
        env={"PYCSW_CONFIG": str(config), "PYTHONWARNINGS": "ignore"},
    )
