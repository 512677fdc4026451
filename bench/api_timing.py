"""Timing: wrk against the HTTP servers, pgbench for raw SQL, and the full download."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

WRK_SCRIPT = Path(__file__).parent / "api_wrk.lua"
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
CONNECTIONS = 8
THREADS = 2


class PeakSampler:
    """Samples a number (the server tree's RSS) in a thread; keeps the maximum."""

    def __init__(self, sample: Callable[[], int], every: float = 0.2):
        self.sample, self.every, self.peak = sample, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_wrk(url: str, duration: int, headers: list[str], rss: Callable[[], int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wrk.json"
        command = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{duration}s"]
        command += ["--timeout", "60s", "-s", str(WRK_SCRIPT)]
        for header in headers:
            command += ["-H", header]
        with PeakSampler(rss) as sampler:
            proc = subprocess.run(
                [*command, url],
                env={**os.environ, "WRK_JSON": str(out)},
                capture_output=True,
                text=True,
            )
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed: {proc.stderr.strip() or proc.stdout.strip()}")
        raw = json.loads(out.read_text())
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "non_2xx": raw["status_errors"],
        "socket_errors": errors,
        "mb_per_s": raw["bytes"] / seconds / 1e6,
        "peak_rss_mb": sampler.peak / 2**20,
    }


def run_pgbench(dsn: str, script: Path, variables: dict[str, str], duration: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = [PGBENCH, "-n", "-c", str(CONNECTIONS), "-j", str(THREADS), "-T", str(duration)]
        command += ["-f", str(script), "-l", "--log-prefix", f"{tmp}/tx"]
        for name, value in variables.items():
            command += ["-D", f"{name}={value}"]
        proc = subprocess.run([*command, dsn], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench failed: {proc.stderr.strip()[-400:]}")
        latencies = sorted(_pgbench_latencies(Path(tmp)))
    tps = _pgbench_tps(proc.stdout)
    failed = _pgbench_failed(proc.stdout)
    return {
        "rps": tps,
        "p50_ms": _percentile(latencies, 50) / 1000,
        "p99_ms": _percentile(latencies, 99) / 1000,
        "requests": len(latencies),
        "non_2xx": failed,
        "socket_errors": 0,
        "peak_rss_mb": None,
    }


def _pgbench_latencies(folder: Path) -> list[int]:
    values = []
    for log in folder.glob("tx*"):
        for line in log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                values.append(int(parts[2]))
    return values


def _pgbench_tps(stdout: str) -> float:
    for line in stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench output: {stdout[-300:]}")


def _pgbench_failed(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("number of failed transactions:"):
            return int(line.split(":")[1].split()[0])
    return 0


def _percentile(values: list[int], pct: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))
    return float(values[index])


def mean_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of the runs' figures (errors summed, RSS the maximum)."""
    if not runs:
        return {}
    result: dict[str, Any] = {"runs": runs}
    for key in ("rps", "p50_ms", "p99_ms", "mb_per_s"):
        values = [r[key] for r in runs if r.get(key) is not None]
        result[key] = statistics.fmean(values) if values else None
    for key in ("requests", "non_2xx", "socket_errors"):
        result[key] = sum(r.get(key) or 0 for r in runs)
    peaks = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb") is not None]
    result["peak_rss_mb"] = max(peaks) if peaks else None
    return result


# -- the full download -----------------------------------------------------------------


def download_all(
    base_url: str,
    collection: str,
    page: int,
    rss: Callable[[], int],
    time_limit: float,
    expected: int,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Every feature, page after page of `page` features (as QGIS and GDAL download a layer)."""
    session = requests.Session()
    features = nbytes = pages = 0
    complete = False
    started = time.monotonic()
    with PeakSampler(rss) as sampler:
        while time.monotonic() - started < time_limit:
            response = session.get(
                f"{base_url}/collections/{collection}/items",
                params={"limit": page, "offset": features},
                headers=headers,
                timeout=600,
            )
            response.raise_for_status()
            returned = len(response.json()["features"])
            features, nbytes, pages = features + returned, nbytes + len(response.content), pages + 1
            if returned < page or features >= expected:
                complete = features == expected
                break
    seconds = time.monotonic() - started
    return {
        "seconds": seconds,
        "features": features,
        "complete": complete,
        "pages": pages,
        "mb": nbytes / 1e6,
        "features_per_s": features / seconds if seconds else None,
        "peak_rss_mb": sampler.peak / 2**20,
    }


def download_stream(url: str, rss: Callable[[], int]) -> dict[str, Any]:
    """One streamed GeoJSON document of every feature (our /collections/{id}/download)."""
    features = nbytes = 0
    tail = b""
    started = time.monotonic()
    with PeakSampler(rss) as sampler, requests.get(url, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            data = tail + chunk
            features += data.count(b'"Feature"') - tail.count(b'"Feature"')
            nbytes, tail = nbytes + len(chunk), data[-20:]
    seconds = time.monotonic() - started
    return {
        "seconds": seconds,
        "features": features,
        "complete": tail.rstrip().endswith(b"]}"),
        "pages": 1,
        "mb": nbytes / 1e6,
        "features_per_s": features / seconds if seconds else None,
        "peak_rss_mb": sampler.peak / 2**20,
    }


def download_sql(dsn: str, select: str, time_limit: float) -> dict[str, Any]:
    """Raw SQL: every feature's GeoJSON, streamed by COPY to psql's /dev/null."""
    started = time.monotonic()
    copy = f"\\copy ({select}) TO '/dev/null'"
    proc = subprocess.run(
        ["psql", dsn, "-X", "-q", "-c", copy], capture_output=True, text=True, timeout=time_limit
    )
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()[-300:]}")
    seconds = time.monotonic() - started
    return {"seconds": seconds, "complete": True, "peak_rss_mb": None}
