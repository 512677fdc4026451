"""Load test: `geoservice serve` under 64 concurrent clients on a mixed read workload.

    .venv/bin/python -m bench.loadtest                 # 64 connections for 60 s (wrk)
    .venv/bin/python -m bench.loadtest --soak 600      # the same mix for 10 min, memory sampled

The server (`geoservice serve`, 2 workers x 4 threads, as deployed) serves the demo
collections plus the API benchmark's synthetic layers (1,000,000 points, bench/api_data.py)
from a dedicated embedded cluster. wrk runs bench/loadtest.lua: pages anywhere in the big
layer, map pans (bbox), features by id, CQL2 filters, catalogue searches and collection
documents. Every request must answer 200: any other status, socket error or timeout is an
error and fails the run. The soak mode samples the RSS and PSS of the gunicorn master and
workers from /proc every few seconds and compares the first minute with the last.
Results: bench/results/loadtest.json and loadtest.md (each mode updates its own part).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench import api_servers
from bench.api_data import FULL, WORK_DIR, Sizes, prepare_database
from bench.api_servers import VENV_BIN
from geoservice.settings import Settings
from geoservice.store import db, registry
from geoservice.store.embedded import Cluster

RESULTS = Path(__file__).parent / "results"
SCRIPT = Path(__file__).with_name("loadtest.lua")
CLUSTER_DIR = Path("/tmp/geoservice-bench-loadtest")
DB_PORT = 54369
WRK_THREADS = 2
WRK_TIMEOUT = "10s"  # a slower answer counts as an error
SAMPLE_EVERY = 5.0  # seconds between memory samples in the soak
FLAT_TOLERANCE = 0.10  # last minute within 10% of the first: flat


def log(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--soak", type=int, metavar="SECONDS", help="soak for this long instead")
    parser.add_argument("--points", type=int, default=FULL.points, help="size of bench_points")
    parser.add_argument("--no-save", action="store_true", help="leave bench/results alone")
    return parser.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- set-up ------------------------------------------------------------------------------


def prepare(points: int) -> tuple[Settings, list[str]]:
    """A dedicated cluster with the benchmark layers and the demo collections; returns the
    settings and every published collection but bench_points."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)  # the cached synthetic files live there
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(CLUSTER_DIR, 0o755)
    settings = Settings(data_dir=CLUSTER_DIR / "cluster", db_port=DB_PORT)
    prepare_database(settings, Sizes(points=points, polygons=FULL.polygons), log=log)
    # The demo as `geoservice demo` loads it (layers, and catalogue-only resources).
    subprocess.run(
        [str(VENV_BIN / "geoservice"), "demo", "--no-serve"],
        env={**os.environ, "DATABASE_URL": settings.dsn},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with db.connect(settings) as conn:
        layers = [c.id for c in registry.list_collections(conn) if c.id != "bench_points"]
    log(f"  other collections: {', '.join(layers)}")
    return settings, layers


def check_mix(base_url: str, layers: list[str]) -> None:
    """Every kind of request in the mix answers 200 before anything is timed."""
    paths = [
        "/collections/bench_points/items?f=json&limit=100&offset=500000",
        "/collections/bench_points/items?f=json&limit=100&bbox=22.9,40.6,23.02,40.69",
        "/collections/bench_points/items/1?f=json",
        "/collections/bench_points/items?f=json&limit=50&filter=code%3D42",
        "/collections/catalogue/items?f=json&q=%CE%BD%CE%BF%CE%BC%CE%BF%CE%B9",
        "/collections?f=json",
        *(f"/collections/{layer}/items?f=json&limit=50" for layer in layers),
        *(f"/collections/{layer}?f=json" for layer in layers),
    ]
    for path in paths:
        response = requests.get(base_url + path, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"{path} -> {response.status_code}: {response.text[:200]}")


# -- memory ------------------------------------------------------------------------------


def memory_kb(pids: list[int]) -> tuple[int, int]:
    """Total RSS and PSS (kB) of these processes, from /proc/PID/smaps_rollup.

    PSS splits pages shared between the master and its forked workers, so the sum is what
    the server really costs; RSS counts shared pages once per process."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # a worker that was just replaced
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


class MemorySampler:
    """Samples the server's memory in a thread: [(seconds since start, rss_kb, pss_kb, pids)]."""

    def __init__(self, server: api_servers.Server, every: float):
        self.server, self.every = server, every
        self.samples: list[tuple[float, int, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            pids = [p.pid for p in self.server.processes()]
            rss, pss = memory_kb(pids)
            self.samples.append((round(time.monotonic() - started, 1), rss, pss, len(pids)))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def memory_trend(samples: list[tuple[float, int, int, int]], window: float = 60.0) -> dict:
    """First minute against last minute, for RSS and PSS (MB)."""
    end = samples[-1][0]
    first = [s for s in samples if s[0] <= window]
    last = [s for s in samples if s[0] >= end - window]
    trend: dict[str, Any] = {}
    for index, name in ((1, "rss"), (2, "pss")):
        a = statistics.mean(s[index] for s in first) / 1024
        b = statistics.mean(s[index] for s in last) / 1024
        trend[name] = {
            "first_minute_mb": round(a, 1),
            "last_minute_mb": round(b, 1),
            "growth_pct": round((b - a) / a * 100, 1),
            "max_mb": round(max(s[index] for s in samples) / 1024, 1),
        }
    trend["flat"] = all(trend[n]["growth_pct"] <= FLAT_TOLERANCE * 100 for n in ("rss", "pss"))
    return trend


# -- the run -----------------------------------------------------------------------------


def run_wrk(base_url: str, seconds: int, connections: int, points: int, layers: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wrk.json"
        command = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds}s"]
        command += ["--timeout", WRK_TIMEOUT, "-s", str(SCRIPT), base_url]
        env = {
            **os.environ,
            "WRK_JSON": str(out),
            "LOADTEST_POINTS": str(points),
            "LOADTEST_LAYERS": ",".join(layers),
        }
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed: {proc.stderr.strip() or proc.stdout.strip()}")
        raw = json.loads(out.read_text())
    seconds_run = raw["duration_us"] / 1e6
    errors = {
        k: raw[k]
        for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "status_errors")
    }
    return {
        "connections": connections,
        "seconds": round(seconds_run, 1),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 1),
        "mb_per_s": round(raw["bytes"] / seconds_run / 1e6, 2),
        "statuses": raw["statuses"],
        "errors": errors,
        "error_total": sum(errors.values()),
    }


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "server": "geoservice serve --workers 2 (gunicorn gthread, 4 threads each)",
        "wrk": f"{WRK_THREADS} threads, --timeout {WRK_TIMEOUT}, script bench/loadtest.lua",
        # The machine is shared: its load after the run says how much else was running.
        "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log("preparing the database (first run loads 1M points: a minute or two)")
    try:
        settings, layers = prepare(args.points)
    except BaseException:
        Cluster(CLUSTER_DIR / "cluster", DB_PORT).stop()
        raise
    server = api_servers.ours(settings, _free_port())
    server.name = "loadtest"
    server.start()
    try:
        server.wait_ready()
        check_mix(server.base_url, layers)
        seconds = args.soak or args.duration
        log(f"{'soak' if args.soak else 'load'}: {args.connections} connections for {seconds} s")
        with MemorySampler(server, SAMPLE_EVERY if args.soak else 1.0) as sampler:
            figures = run_wrk(server.base_url, seconds, args.connections, args.points, layers)
        figures["peak_rss_mb"] = round(max(s[1] for s in sampler.samples) / 1024, 1)
        figures["peak_pss_mb"] = round(max(s[2] for s in sampler.samples) / 1024, 1)
        if args.soak:
            figures["memory"] = memory_trend(sampler.samples)
            figures["samples"] = [
                {"t": t, "rss_mb": round(r / 1024, 1), "pss_mb": round(p / 1024, 1), "procs": n}
                for t, r, p, n in sampler.samples
            ]
        if server.process is None or server.process.poll() is not None:
            raise RuntimeError("the server died during the run")
    finally:
        server.stop()
        Cluster.from_settings(settings).stop()  # its data stays in /tmp for the next run
    figures["layers"] = {"bench_points": args.points, "others": layers}
    figures["machine"] = machine()
    log(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=1))
    if not args.no_save:
        save("soak" if args.soak else "load", figures)
    ok = figures["error_total"] == 0 and (not args.soak or figures["memory"]["flat"])
    log("OK" if ok else "FAILED: errors or memory growth, see above")
    return 0 if ok else 1


# -- results -----------------------------------------------------------------------------


def save(mode: str, figures: dict[str, Any]) -> None:
    path = RESULTS / "loadtest.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[mode] = figures
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / "loadtest.md").write_text(report(results))
    log(f"results: {path} and loadtest.md")


def _load(machine: dict[str, Any]) -> str:
    figures = machine.get("load_average_1_5_15")
    return f"load average {'/'.join(map(str, figures))}" if figures else "load not recorded"


def report(results: dict[str, Any]) -> str:
    lines = [
        "# Load test (`python -m bench.loadtest`)",
        "",
        "`geoservice serve` (2 workers x 4 threads) on the mixed read workload of",
        "`bench/loadtest.lua` (pages of a 1M-point layer at any offset, bbox pans, features by id,",
        "CQL2 filters, catalogue searches, collection documents) driven by wrk on loopback.",
        "Errors: any status but 200, socket errors, and answers slower than 10 s. The machine",
        "(2 cores) is shared: the load average after the run says how busy it was besides.",
        "",
        "| run | connections | seconds | requests | req/s | p50 ms | p90 ms | p99 ms | max ms "
        "| errors | peak RSS MB | peak PSS MB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for mode in ("load", "soak"):
        f = results.get(mode)
        if f is None:
            continue
        lines.append(
            f"| {mode} ({f['machine']['date']}, {_load(f['machine'])}) "
            f"| {f['connections']} | {f['seconds']} "
            f"| {f['requests']:,} | {f['rps']} | {f['p50_ms']:.1f} | {f['p90_ms']:.1f} "
            f"| {f['p99_ms']:.1f} | {f['max_ms']:.1f} | {f['error_total']} "
            f"| {f['peak_rss_mb']} | {f['peak_pss_mb']} |"
        )
    soak = results.get("soak")
    if soak:
        m = soak["memory"]
        lines += [
            "",
            f"Soak memory (master + workers, sampled every {SAMPLE_EVERY:.0f} s from /proc): "
            f"**{'flat' if m['flat'] else 'GROWING'}** (tolerance {FLAT_TOLERANCE:.0%}).",
            "",
            "| | first minute MB | last minute MB | growth | max MB |",
            "|---|--:|--:|--:|--:|",
        ]
        for name in ("rss", "pss"):
            t = m[name]
            lines.append(
                f"| {name.upper()} | {t['first_minute_mb']} | {t['last_minute_mb']} "
                f"| {t['growth_pct']}% | {t['max_mb']} |"
            )
    lines += ["", "Status codes seen (all runs must be 200 only):", ""]
    for mode in ("load", "soak"):
        if mode in results:
            lines.append(f"- {mode}: {results[mode]['statuses']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
