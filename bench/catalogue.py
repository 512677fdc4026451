"""Catalogue search benchmark: our OGC API Records search beside pycsw 3.0 (the OGC API
Records reference implementation), pycsw 2.6.2 and raw SQL.

    .venv/bin/python -m bench.catalogue [--records 10000] [--duration 20] [--runs 2] [--quick]

10,000 generated records (bench/catalogue_data.py) go into our catalogue
(`loaders.catalogue.publish`) and, as ISO 19139, into pycsw 3.0's and pycsw 2.6.2's
repositories, in one dedicated embedded cluster (port 54369). Each search is checked against
the generator's truth (the count, and for an ordered search its page's ids); then each server
that answered right is timed with wrk (8 connections, 2 threads): `geoservice serve --workers
2`, pycsw 3.0 and pycsw 2.6.2 under gunicorn -w 2; and pgbench (-c 8 -j 2) runs the SQL our
search runs. A wrong answer is reported, not timed.
See bench/README.md, "Catalogue benchmark".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import psycopg
import requests
from psycopg import sql

from bench import api_servers, api_timing
from bench import catalogue_data as data
from bench import catalogue_pycsw as pycsw
from bench import catalogue_pycsw3 as pycsw3
from bench.catalogue_report import markdown
from geoservice.server.memo import Memo
from geoservice.server.records import api as records_api
from geoservice.server.records import search as catalogue_search
from geoservice.settings import Settings
from geoservice.store import db
from loaders.catalogue import publish

ROOT = Path(__file__).resolve().parent
WORK_DIR = pycsw.WORK_DIR
DB_PORT = 54369
PORTS = {"ours": 18471, "pycsw": 18472, "pycsw3": 18473}
SERVERS = ("ours", "pycsw3", "pycsw")  # the order of the columns
SQL_DIR = ROOT / "sql"
RESULTS = ROOT / "results"
ITEMS = "/collections/catalogue/items"


# -- the cluster and the records -----------------------------------------------------------


def cluster_settings() -> Settings:
    data_dir = WORK_DIR / "cluster"
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(WORK_DIR, 0o755)
    os.chmod(data_dir, 0o755)
    return Settings(data_dir=data_dir, db_port=DB_PORT)


def load_ours(settings: Settings, entries: list, signature: str) -> tuple[int, float | None]:
    """Publish every entry in one transaction, unless the catalogue already holds this set."""
    with db.connect(settings) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.bench_signature (signature text)")
        row = conn.execute("SELECT signature FROM public.bench_signature").fetchone()
        if row and row[0] == signature:
            conn.commit()
            return conn.execute("SELECT count(*) FROM geoservice.records").fetchone()[0], None
        started = time.monotonic()
        with conn.transaction():
            conn.execute("DELETE FROM geoservice.records")
            conn.execute("DELETE FROM public.bench_signature")
            for entry in entries:
                publish(conn, entry)
            conn.execute("INSERT INTO public.bench_signature VALUES (%s)", (signature,))
        seconds = time.monotonic() - started
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE geoservice.records")
        return conn.execute("SELECT count(*) FROM geoservice.records").fetchone()[0], seconds


# -- the SQL our search runs -----------------------------------------------------------------


class RecordingCursor(psycopg.Cursor):
    """Keeps the text of every statement it executes (the search's own SQL, verbatim)."""

    statements: list[str] = []

    def execute(self, query, params=None, **kwargs):  # type: ignore[override]
        text = query.as_string(self.connection) if isinstance(query, sql.Composable) else query
        RecordingCursor.statements.append(str(text))
        return super().execute(query, params, **kwargs)


def our_sql(dsn: str, params: dict[str, str]) -> tuple[list[str], list[str], int]:
    """The statements our server's search (records_api.search_document, as
    app._search_catalogue calls it) executes for these parameters: for the first request of a
    filter in a worker (it counts, ranks a relevance search's first ids and reads the entries
    it has not made records of), then for every later one (what the load test times), and
    numberMatched."""
    aggregates = Memo(catalogue_search.AGGREGATES_KEPT)  # a new server's (state.ServerState)
    records = Memo(records_api.RECORDS_KEPT)
    recorded = []
    with psycopg.connect(dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        for _ in range(2):
            RecordingCursor.statements = []
            search = records_api.parse(params)
            text = records_api.search_document(
                conn, search, params, "", "el", -1, aggregates, records
            )
            recorded.append(list(RecordingCursor.statements))
    first, then = recorded
    return first, then, json.loads(text)["numberMatched"]


def write_sql(name: str, label: str, first: list[str], then: list[str]) -> Path:
    path = SQL_DIR / f"catalogue_{name}.sql"
    header = (
        f"-- bench/catalogue.py, search '{label}': the SQL our server's search\n"
        "-- (records_api.search_document) executes for it, recorded from its cursor, run by\n"
        "-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.\n"
        "-- The first (count, relevance order, entries; remembered per catalogue version):\n"
        + "".join(f"--   {s.strip()};\n" for s in first)
    )
    path.write_text(header + "".join(s.strip() + ";\n" for s in then), encoding="utf-8")
    return path


def explain(dsn: str, statements: list[str]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement, after one warm-up run."""
    plans = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement).fetchall()
            rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}").fetchall()
            text = "\n".join(r[0] for r in rows)
            found = re.search(r"Execution Time: ([\d.]+) ms", text)
            plans.append({"plan": text, "execution_ms": float(found.group(1)) if found else None})
    return {
        "execution_ms": sum(p["execution_ms"] or 0 for p in plans),
        "plans": plans,
    }


# -- hit counts --------------------------------------------------------------------------------

_PYCSW_COUNT = re.compile(r"<os:totalResults>(\d+)<|numberOfRecordsMatched=\"(\d+)\"")
_PYCSW_ID = re.compile(r"<dc:identifier>([^<]*)</dc:identifier>")


def our_url(query: data.Query) -> str:
    return f"http://{api_servers.HOST}:{PORTS['ours']}{ITEMS}" + (
        f"?{urlencode(query.ours)}" if query.ours else ""
    )


def pycsw_url(query: data.Query) -> str | None:
    if query.pycsw is None:
        return None
    return f"http://{api_servers.HOST}:{PORTS['pycsw']}/?{urlencode(query.pycsw)}"


def pycsw3_url(query: data.Query) -> str | None:
    if query.pycsw3 is None:
        return None
    return f"http://{api_servers.HOST}:{PORTS['pycsw3']}{pycsw3.ITEMS}" + (
        f"?{urlencode(query.pycsw3)}" if query.pycsw3 else ""
    )


def hits_records(url: str) -> dict[str, Any]:
    """An OGC API Records items response (ours, pycsw 3.0): its count and its page's ids."""
    response = requests.get(url, timeout=60)
    if response.status_code != 200:
        return {"status": response.status_code, "error": response.text[:300]}
    document = response.json()
    return {
        "status": 200,
        "matched": document.get("numberMatched"),
        "returned": document.get("numberReturned"),
        "bytes": len(response.content),
        "ids": [f["id"] for f in document["features"]],
    }


def hits_pycsw(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=60)
    text = response.text
    if response.status_code != 200 or "ExceptionReport" in text:
        return {"status": response.status_code, "error": text[-400:]}
    found = _PYCSW_COUNT.search(text)
    matched = int(next(g for g in found.groups() if g)) if found else None
    return {
        "status": 200,
        "matched": matched,
        "bytes": len(response.content),
        "ids": _PYCSW_ID.findall(text),
    }


def verdict(hit: dict[str, Any], expected: int, expected_ids: list[str] | None) -> str:
    """right: the true count and, for an ordered search, the true page (ids in order)."""
    if hit.get("matched") is None:
        return "error"
    if hit["matched"] != expected:
        return "wrong"
    if expected_ids is not None and hit.get("ids") != expected_ids:
        return "wrong"
    return "right"


# -- the run ------------------------------------------------------------------------------------


def machine_facts(settings: Settings, with_pycsw: bool = True) -> dict[str, Any]:
    with db.connect(settings) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    cpu = ""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "nproc": psutil.cpu_count(),
        "cpu": cpu or platform.machine(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in psutil.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg,
        "postgis": postgis,
        "pycsw": pycsw.version() if with_pycsw else None,
        "pycsw3": pycsw3.version() if with_pycsw else None,
        "wrk": " ".join(wrk[1:2]),
        "connections": api_timing.CONNECTIONS,
        "threads": api_timing.THREADS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalogue", description=__doc__)
    parser.add_argument("--records", type=int, default=None, help="records (default 10,000)")
    parser.add_argument("--duration", type=int, default=None, help="seconds per measurement")
    parser.add_argument("--runs", type=int, default=None, help="runs per search and server")
    parser.add_argument("--quick", action="store_true", help="1,000 records, 3 s, 1 run")
    parser.add_argument("--only", nargs="*", help="search names (q_en q_el bbox ...)")
    parser.add_argument(
        "--no-pycsw",
        action="store_true",
        help="ours and raw SQL only (no pycsw venvs, loads or servers); writes to " + str(WORK_DIR),
    )
    args = parser.parse_args(argv)
    with_pycsw = not args.no_pycsw
    records = args.records or (1_000 if args.quick else 10_000)
    duration = args.duration or (3 if args.quick else 20)
    runs = args.runs or (1 if args.quick else 2)
    out_dir = WORK_DIR if args.quick or not with_pycsw else RESULTS
    queries = [q for q in data.QUERIES if not args.only or q.name in args.only]

    settings = cluster_settings()
    print(f"cluster: {settings.data_dir} port {DB_PORT}", flush=True)
    db.ensure_database(settings)
    servers: list[api_servers.Server] = []
    try:
        entries = data.generate(records)
        expected = data.truth(entries)
        expected_pages = data.truth_pages(entries)
        signature = pycsw.signature_of(records, data.SEED)
        count, load_seconds = load_ours(settings, entries, signature)
        print(f"ours: {count} records" + (f" (published in {load_seconds:.1f} s)"
              if load_seconds else " (already loaded)"), flush=True)  # fmt: skip
        by_name = {"ours": api_servers.ours(settings, PORTS["ours"])}
        by_name["ours"].name = "catalogue-ours"
        if with_pycsw:
            folder = pycsw.write_iso_folder(entries, signature)
            admin_dsn = settings.dsn.rsplit("/", 1)[0] + "/postgres"
            for name, module in (("pycsw3", pycsw3), ("pycsw", pycsw)):
                started = time.monotonic()
                module.ensure_venv()
                config = module.write_config(PORTS[name], DB_PORT)
                count = module.load(admin_dsn, DB_PORT, config, folder, signature)
                seconds = time.monotonic() - started
                print(f"{name}: {count} records ({seconds:.0f} s)", flush=True)
                by_name[name] = module.server(PORTS[name], config)
        facts = machine_facts(settings, with_pycsw)

        servers = list(by_name.values())
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        rss_at_start = {s.name: s.rss() / 2**20 for s in servers}

        results: dict[str, Any] = {}
        for query in queries:
            first, statements, sql_matched = our_sql(settings.dsn, query.ours)
            path = write_sql(query.name, query.label, first, statements)
            truth_key = query.name
            urls = {
                "ours": our_url(query),
                "pycsw3": pycsw3_url(query) if with_pycsw else None,
                "pycsw": pycsw_url(query) if with_pycsw else None,
            }
            entry = {
                "label": query.label,
                "urls": urls,
                "pycsw_note": query.pycsw_note,
                "pycsw3_note": query.pycsw3_note,
                "sql_file": str(path.relative_to(ROOT.parent)),
                "sql": statements,
                "sql_first": first,
                "expected": expected[truth_key],
                "expected_ids": expected_pages.get(truth_key),
                "hits": {
                    "ours": hits_records(urls["ours"]),
                    "pycsw3": hits_records(urls["pycsw3"]) if urls["pycsw3"] else None,
                    "pycsw": hits_pycsw(urls["pycsw"]) if urls["pycsw"] else None,
                    "raw_sql": {"matched": sql_matched},
                },
                "explain": explain(settings.dsn, statements),
                "explain_first": explain(settings.dsn, first),
                "timing": {"ours": [], "pycsw3": [], "pycsw": [], "raw_sql": []},
            }
            for name, hit in entry["hits"].items():
                if hit is not None:
                    ids = entry["expected_ids"] if name != "raw_sql" else None
                    hit["verdict"] = verdict(hit, entry["expected"], ids)
            results[query.name] = entry
            h = entry["hits"]
            print(
                f"{query.name:10} truth {entry['expected']:>6}  "
                + "  ".join(
                    f"{n} {(h[n] or {}).get('matched')} {(h[n] or {}).get('verdict')}"
                    for n in SERVERS
                )
                + f"  sql {sql_matched}"
                f"  (EXPLAIN ANALYZE {entry['explain']['execution_ms']:.1f} ms, first request "
                f"{entry['explain_first']['execution_ms']:.1f} ms)",
                flush=True,
            )

        for run in range(runs):
            for query in queries:
                entry = results[query.name]
                for server in servers:
                    server.ensure_running()
                measured = {
                    name: api_timing.run_wrk(entry["urls"][name], duration, [], server.rss)
                    for name, server in by_name.items()
                    # a server whose answer is wrong is reported so, not timed as if right
                    if (entry["hits"][name] or {}).get("verdict") == "right"
                }
                measured["raw_sql"] = api_timing.run_pgbench(
                    settings.dsn, ROOT.parent / entry["sql_file"], {}, duration
                )
                for name, figures in measured.items():
                    entry["timing"][name].append(figures)
                print(
                    f"run {run + 1}/{runs} {query.name:10} "
                    + "  ".join(f"{n} {m['rps']:.1f}/s" for n, m in measured.items()),
                    flush=True,
                )
        for entry in results.values():
            entry["summary"] = {
                name: api_timing.mean_of(timings) if timings else None
                for name, timings in entry["timing"].items()
            }
        rss_at_end = {s.name: s.rss() / 2**20 for s in servers}
        facts["load_average_at_end"] = [round(x, 2) for x in psutil.getloadavg()]
        document = {
            "machine": facts,
            "settings": {
                "records": records,
                "seed": data.SEED,
                "duration_s": duration,
                "runs": runs,
                "quick": args.quick,
                "thessaloniki_bbox": data.THESSALONIKI_BBOX,
                "interval": data.INTERVAL,
                **{name: " ".join(server.command) for name, server in by_name.items()},
                "ours_publish_seconds": load_seconds,
            },
            "expected": expected,
            "rss_mb": {"at_start": rss_at_start, "at_end": rss_at_end},
            "restarts": {s.name: s.restarts for s in servers},
            "searches": results,
        }
    finally:
        for server in servers:
            server.stop()
        from geoservice.store.embedded import Cluster

        Cluster.from_settings(settings).stop()

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "catalogue.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False, default=str), encoding="utf-8"
    )
    text = markdown(document)
    (out_dir / "catalogue.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"results: {out_dir / 'catalogue.json'}, {out_dir / 'catalogue.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
