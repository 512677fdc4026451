"""API benchmark: our OGC API Features server side by side with its peers.

    .venv/bin/python -m bench.api [--duration 20] [--runs 2] [--quick]

Servers: ours (`geoservice serve --workers 2`), stock pygeoapi 0.24 with its PostgreSQL
provider (with and without `count: false`), tipg 1.6, and raw SQL (pgbench running one
statement that produces the same FeatureCollection, no count). Every scenario is first
checked for the same features on every server, then timed with wrk (8 connections,
2 threads). Results: bench/results/api.json and api.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests

from bench import api_check, api_report, api_servers, api_timing
from bench.api_data import FULL, QUICK, WORK_DIR, Sizes, bench_settings, prepare_database
from bench.api_scenarios import SQL_DIR, Scenario, scenarios
from geoservice.settings import Settings
from geoservice.store import db, registry

RESULTS = Path(__file__).parent / "results"
PORTS = {
    "ours": 18081, "pygeoapi": 18082, "pygeoapi_nocount": 18083, "tipg": 18084,
    "ours_before": 18085,
}  # fmt: skip
RAW = "raw_sql"
DOWNLOAD_PAGE = 10_000  # every server's maximum page size here
DOWNLOAD_TIME_LIMIT = 180.0  # seconds per server for the full download


def log(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=2, help="runs per scenario and server")
    parser.add_argument("--quick", action="store_true", help="small data, 3 s, 1 run")
    parser.add_argument("--only", nargs="*", help="only these scenarios (keys)")
    parser.add_argument("--no-download", action="store_true", help="skip the full download")
    parser.add_argument("--out", type=Path, help="write the results here (default: results/)")
    parser.add_argument(
        "--servers", help="comma-separated subset of " + ",".join(PORTS) + " (raw SQL always runs)"
    )
    parser.add_argument(
        "--before", metavar="REV", help="also run our server as of git revision REV (ours_before)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.runs = min(args.duration, 3), 1
    return args


# -- set-up ------------------------------------------------------------------------------


def layers(settings: Settings) -> list[api_servers.Layer]:
    with db.connect(settings) as conn:
        records = registry.list_collections(conn)
    return [
        api_servers.Layer(r.id, r.table_name, r.id_field, r.source_srid, r.bbox or [])
        for r in records
        if r.id.startswith("bench_")
    ]


def make_servers(settings: Settings, args: argparse.Namespace) -> list[api_servers.Server]:
    wanted = set(args.servers.split(",")) if args.servers else set(PORTS) - {"ours_before"}
    if args.before:
        wanted.add("ours_before")
    published = layers(settings) if wanted & {"pygeoapi", "pygeoapi_nocount"} else []
    makers = {
        "ours": lambda: api_servers.ours(settings, PORTS["ours"]),
        "ours_before": lambda: api_servers.ours_before(settings, PORTS["ours_before"], args.before),
        "pygeoapi": lambda: api_servers.pygeoapi(
            settings, PORTS["pygeoapi"], published, count=True
        ),
        "pygeoapi_nocount": lambda: api_servers.pygeoapi(
            settings, PORTS["pygeoapi_nocount"], published, count=False
        ),
        "tipg": lambda: api_servers.tipg(settings, PORTS["tipg"]),
    }
    return [make() for name, make in makers.items() if name in wanted]


def machine_facts(settings: Settings, servers: list[api_servers.Server]) -> dict[str, Any]:
    with db.connect(settings) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": psutil.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in psutil.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg,
        "postgis": postgis,
        "pygeoapi": version("pygeoapi"),
        "tipg": api_servers.tipg_version() if any(s.name == "tipg" for s in servers) else "-",
        "wrk": " ".join(wrk[1:2]),
        "pgbench": "PostgreSQL 15 pgbench",
        "connections": api_timing.CONNECTIONS,
        "wrk_threads": api_timing.THREADS,
    }


# -- correctness -------------------------------------------------------------------------


def fetch(server: api_servers.Server, scenario: Scenario) -> tuple[int, Any]:
    response = requests.get(server.base_url + scenario.path(server.collection(scenario.collection)))
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:300]


def fetch_sql(dsn: str, scenario: Scenario) -> Any:
    with psycopg.connect(dsn) as conn:
        return json.loads(conn.execute(scenario.sql_with_values()).fetchone()[0])


def check_scenario(
    scenario: Scenario, servers: list[api_servers.Server], dsn: str
) -> dict[str, dict[str, Any]]:
    """{server: {"status": ok | mismatch | n/a | error, "detail": ...}} against ours."""
    status, reference = fetch(servers[0], scenario)
    if status != 200:
        raise RuntimeError(f"our server answered {status} for {scenario.key}: {reference}")
    results = {"ours": {"status": "ok", "features": len(api_check.features_of(reference))}}
    for server in servers[1:]:
        results[server.name] = _check_server(scenario, server, reference)
    problems = api_check.compare(reference, fetch_sql(dsn, scenario), scenario, ordered=True)
    results[RAW] = {"status": "mismatch" if problems else "ok", "detail": problems}
    return results


def _check_server(scenario: Scenario, server: api_servers.Server, reference: Any) -> dict[str, Any]:
    status, document = fetch(server, scenario)
    reason = scenario.unsupported.get(server.name)
    if status != 200:
        kind = "n/a" if reason else "error"
        return {"status": kind, "detail": [reason or f"HTTP {status}: {str(document)[:200]}"]}
    ordered = server.name not in api_check.UNORDERED
    problems = api_check.compare(reference, document, scenario, ordered)
    if problems and reason:
        return {"status": "n/a", "detail": [reason, *problems]}
    return {"status": "mismatch" if problems else "ok", "detail": problems}


# -- timing ------------------------------------------------------------------------------


def time_scenario(
    scenario: Scenario,
    servers: list[api_servers.Server],
    checks: dict[str, dict[str, Any]],
    dsn: str,
    duration: int,
) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    for server in servers:
        if checks[server.name]["status"] in ("n/a", "error"):
            continue
        server.ensure_running()
        url = server.base_url + scenario.path(server.collection(scenario.collection))
        figures[server.name] = api_timing.run_wrk(url, duration, server.wrk_headers, server.rss)
        _log_figures(scenario.key, server.name, figures[server.name])
    script = SQL_DIR / scenario.sql_file
    figures[RAW] = api_timing.run_pgbench(dsn, script, scenario.sql_vars, duration)
    _log_figures(scenario.key, RAW, figures[RAW])
    return figures


def _log_figures(key: str, name: str, f: dict[str, Any]) -> None:
    errors = f"  non-2xx {f['non_2xx']}" if f["non_2xx"] else ""
    log(
        f"  {key:<11} {name:<17} {f['rps']:9.1f} req/s  p50 {f['p50_ms']:7.1f} ms  "
        f"p99 {f['p99_ms']:7.1f} ms{errors}"
    )


def download(servers: list[api_servers.Server], dsn: str, sizes: Sizes) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for server in servers:
        headers = {"Connection": "close"} if server.wrk_headers else None
        server.ensure_running()
        try:
            results[server.name] = api_timing.download_all(
                server.base_url,
                server.collection("bench_points"),
                DOWNLOAD_PAGE,
                server.rss,
                DOWNLOAD_TIME_LIMIT,
                sizes.points,
                headers,
            )
        except requests.RequestException as err:
            results[server.name] = {"error": str(err)[:300]}
        log(f"  download {server.name:<17} {json.dumps(results[server.name])[:160]}")
    stream_url = f"{servers[0].base_url}/collections/bench_points/download"
    servers[0].ensure_running()
    try:
        if requests.head(stream_url, timeout=30).status_code == 200:
            results["ours_stream"] = api_timing.download_stream(stream_url, servers[0].rss)
    except requests.RequestException as err:
        results["ours_stream"] = {"error": str(err)[:300]}
    log(f"  download ours_stream       {json.dumps(results.get('ours_stream'))[:160]}")
    text = (SQL_DIR / "download.sql").read_text(encoding="utf-8")
    select = " ".join(ln for ln in text.splitlines() if not ln.startswith("--")).strip(" ;")
    results[RAW] = api_timing.download_sql(dsn, select, DOWNLOAD_TIME_LIMIT)
    results[RAW]["features"] = sizes.points
    log(f"  download {RAW:<17} {results[RAW]['seconds']:.1f} s")
    return results


# -- main --------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    settings = bench_settings()
    log(f"data: {sizes.points} points, {sizes.polygons} polygons, the 55 prefectures")
    prepare_database(settings, sizes, log=log)
    chosen = [s for s in scenarios(sizes) if not args.only or s.key in args.only]
    servers = make_servers(settings, args)
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        log("servers up: " + ", ".join(f"{s.name} :{s.port}" for s in servers))
        return measure(args, settings, sizes, chosen, servers)
    finally:
        for server in servers:
            server.stop()
        log("servers stopped")


def measure(
    args: argparse.Namespace,
    settings: Settings,
    sizes: Sizes,
    chosen: list[Scenario],
    servers: list[api_servers.Server],
) -> dict[str, Any]:
    facts = machine_facts(settings, servers)
    checks = {}
    for s in chosen:
        checks[s.key] = check_scenario(s, servers, settings.dsn)
        log(f"check {s.key}: " + ", ".join(f"{n} {c['status']}" for n, c in checks[s.key].items()))
    runs: dict[str, dict[str, list]] = {s.key: {} for s in chosen}
    for number in range(1, args.runs + 1):
        log(f"run {number}/{args.runs} ({args.duration} s each)")
        for s in chosen:
            for name, figures in time_scenario(
                s, servers, checks[s.key], settings.dsn, args.duration
            ).items():
                runs[s.key].setdefault(name, []).append(figures)
    downloads: dict[str, Any] = {}
    if not args.no_download:
        try:
            downloads = download(servers, settings.dsn, sizes)
        except Exception as err:  # the timings above are worth keeping
            log(f"download failed: {err}")
            downloads = {"error": str(err)[:300]}
    return {
        "machine": facts,
        "settings": {
            "quick": args.quick,
            "duration_s": args.duration,
            "runs": args.runs,
            "points": sizes.points,
            "polygons": sizes.polygons,
            "download_page": DOWNLOAD_PAGE,
            "download_time_limit_s": DOWNLOAD_TIME_LIMIT,
            "server_restarts": {s.name: s.restarts for s in servers},
        },
        "scenarios": [
            {
                "key": s.key,
                "title": s.title,
                "path": s.path(s.collection),
                "sql": s.sql_file,
                "correctness": checks[s.key],
                "results": {name: api_timing.mean_of(r) for name, r in runs[s.key].items()},
            }
            for s in chosen
        ],
        "download": downloads,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. `timeout`) stops the servers the same way Ctrl+C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.monotonic()
    try:
        results = run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    results["settings"]["total_minutes"] = round((time.monotonic() - started) / 60, 1)
    folder = args.out or (WORK_DIR if args.quick else RESULTS)  # quick runs are not results
    folder.mkdir(exist_ok=True)
    (folder / "api.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = api_report.markdown(results)
    (folder / "api.md").write_text(markdown, encoding="utf-8")
    log(f"results: {folder / 'api.json'}, {folder / 'api.md'}")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
