"""bench/results/api.md from the results dictionary."""

from __future__ import annotations

from typing import Any

SERVERS = ["ours", "ours_before", "pygeoapi", "pygeoapi_nocount", "tipg", "raw_sql"]
LABELS = {
    "ours": "ours (geoservice)",
    "ours_before": "ours before the change (`--before`)",
    "pygeoapi": "pygeoapi 0.24 PostgreSQL",
    "pygeoapi_nocount": "pygeoapi, `count: false`",
    "tipg": "tipg 1.6 (Connection: close)",
    "raw_sql": "raw SQL (pgbench, no count)",
    "ours_stream": "ours, streamed `/collections/{id}/download`",
}


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "–"
    return f"{value / base:.2f}"


def _correctness(check: dict[str, Any]) -> str:
    status = check.get("status", "?")
    if status == "ok":
        return "same features"
    detail = "; ".join(check.get("detail") or [])
    return f"**{status}**: {detail}"[:300].replace("|", "\\|")


def scenario_table(scenario: dict[str, Any]) -> list[str]:
    results, checks = scenario["results"], scenario["correctness"]
    ours = (results.get("ours") or {}).get("rps")
    raw = (results.get("raw_sql") or {}).get("rps")
    lines = [
        f"### {scenario['title']}",
        "",
        f"`{scenario['path']}` (raw SQL: `bench/sql/{scenario['sql']}`)",
        "",
        "| server | req/s | × ours | × raw SQL | p50 ms | p99 ms | errors | peak RSS MB | check |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for name in SERVERS:
        r, check = results.get(name), checks.get(name, {})
        if not r:
            lines.append(f"| {LABELS[name]} | n/a | | | | | | | {_correctness(check)} |")
            continue
        errors = r["non_2xx"] + r["socket_errors"]
        if not r["requests"]:
            lines.append(f"| {LABELS[name]} | 0 (none finished) | | | | | {errors} | | |")
            continue
        lines.append(
            f"| {LABELS[name]} | {_num(r['rps'])} | {_ratio(r['rps'], ours)} | "
            f"{_ratio(r['rps'], raw)} | {_num(r['p50_ms'])} | {_num(r['p99_ms'])} | "
            f"{errors} | {_num(r['peak_rss_mb'], 0)} | {_correctness(check)} |"
        )
    return [*lines, ""]


def summary_table(scenarios: list[dict[str, Any]]) -> list[str]:
    names = [n for n in SERVERS if n != "ours"]
    lines = [
        "| scenario | ours req/s | " + " | ".join(f"{LABELS[n]} × ours" for n in names) + " |",
        "|---|--:|" + "--:|" * len(names),
    ]
    for s in scenarios:
        ours = (s["results"].get("ours") or {}).get("rps")
        cells = [_ratio((s["results"].get(n) or {}).get("rps"), ours) for n in names]
        cells = [c if (s["results"].get(n)) else "n/a" for c, n in zip(cells, names, strict=True)]
        lines.append(f"| {s['title']} | {_num(ours)} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def download_table(download: dict[str, Any], points: int) -> list[str]:
    if not download:
        return []
    lines = [
        f"### Full download of the {points:,}-point layer",
        "",
        "Pages of 10,000 features (`limit=10000&offset=...`) until the last, as QGIS and GDAL "
        "page through a layer; raw SQL: one `\\copy` of every feature's GeoJSON to /dev/null.",
        "",
        "| server | seconds | features/s | features | complete | MB | peak RSS MB |",
        "|---|--:|--:|--:|---|--:|--:|",
    ]
    for name in ["ours_stream", *SERVERS]:
        d = download.get(name)
        if not d:
            continue
        if "error" in d:
            lines.append(f"| {LABELS[name]} | error: {d['error'][:120]} | | | | | |")
            continue
        features = d.get("features") or 0
        lines.append(
            f"| {LABELS[name]} | {_num(d['seconds'])} | {_num(features / d['seconds'], 0)} | "
            f"{features:,} | {'yes' if d.get('complete') else '**no** (time limit)'} | "
            f"{_num(d.get('mb'))} | {_num(d.get('peak_rss_mb'), 0)} |"
        )
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    lines = [
        "# API benchmark results",
        "",
        f"{m['date']}: {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB, "
        f"load average at start {m['load_average_at_start']}; PostgreSQL {m['postgresql']}, "
        f"PostGIS {m['postgis']}, pygeoapi {m['pygeoapi']}, tipg {m['tipg']}, wrk {m['wrk']}.",
        f"{s['points']:,} points, {s['polygons']:,} polygons; wrk {m['connections']} connections, "
        f"{m['wrk_threads']} threads, {s['runs']} run(s) of {s['duration_s']} s per scenario "
        "and server (mean shown). Runs on this machine differ by up to 30%: compare the ratios "
        "within this run. Produced by `python -m bench.api` (bench/README.md).",
        "",
        "## Summary: requests/s relative to ours (> 1: faster than ours)",
        "",
        *summary_table(results["scenarios"]),
        "## Per scenario",
        "",
    ]
    for scenario in results["scenarios"]:
        lines += scenario_table(scenario)
    lines += download_table(results.get("download") or {}, s["points"])
    return "\n".join(lines)
