"""bench/results/catalogue.md from the results of bench/catalogue.py."""

from __future__ import annotations

from typing import Any

# The issue's pycsw 3.0 (beta) figures, requests/s, measured in ANOTHER run (10,000
# Greek/English records, PostgreSQL, 8 connections, 2 workers), and the goal for each.
PYCSW3_ISSUE = {
    "q_en": 11,
    "q_el": 6,
    "bbox": 182,
    "bbox_q": 128,
    "datetime": 146,
    "cql_title": 112,
    "none": 33,
}
GOAL_FACTOR = {"q_en": 10, "q_el": 10}  # q: 10x; every other search: 3x


def goal(name: str) -> float | None:
    if name not in PYCSW3_ISSUE:
        return None
    return PYCSW3_ISSUE[name] * GOAL_FACTOR.get(name, 3)


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "–"
    return f"{value / base:.2f}"


def _hits(hit: dict[str, Any] | None, expected: int) -> str:
    if hit is None:
        return "n/a"
    if hit.get("matched") is None:
        return f"**error** ({hit.get('status')})"
    matched = hit["matched"]
    return f"{matched:,}" if matched == expected else f"**{matched:,} (wrong)**"


def markdown(doc: dict[str, Any]) -> str:
    m, s = doc["machine"], doc["settings"]
    searches = doc["searches"]
    lines = [
        "# Catalogue search: ours (OGC API Records) vs pycsw 2.6.2 vs raw SQL",
        "",
        f"{s['records']:,} generated records (seed {s['seed']}), {s['runs']} run(s) of "
        f"{s['duration_s']} s per search and server; wrk {m['threads']} threads / "
        f"{m['connections']} connections; pgbench -c {m['connections']} -j {m['threads']}."
        + (" **Quick run** (not the reference figures)." if s["quick"] else ""),
        "",
        f"Machine: {m['date']}, commit {m['commit']}, {m['nproc']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB, load average {m['load_average_at_start']} at start, "
        f"{m.get('load_average_at_end')} at end (the machine runs other work too); "
        f"PostgreSQL {m['postgresql']}, PostGIS {m['postgis']}, {m['pycsw'] or 'no pycsw'}, "
        f"wrk {m['wrk']}.",
        "",
        "Servers: ours `geoservice serve --workers 2` (gunicorn, 2 workers × 4 threads); "
        "pycsw 2.6.2 `gunicorn -w 2 pycsw.wsgi:application` (sync workers), PostgreSQL "
        "repository in the same cluster; raw SQL: pgbench running the statements each request "
        "of our search executes (`bench/sql/catalogue_*.sql`), i.e. the database's share of "
        "ours (a worker's first request for a filter also counts, ranks and reads the "
        "entries: `first request` below).",
        "",
        "## Hit counts (numberMatched) against the generator's truth",
        "",
        "| search | truth | ours | pycsw 2.6.2 | raw SQL | pycsw 2.6.2 request |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for e in searches.values():
        h = e["hits"]
        lines.append(
            f"| {e['label']} | {e['expected']:,} | {_hits(h['ours'], e['expected'])} | "
            f"{_hits(h['pycsw'], e['expected'])} | {_hits(h['raw_sql'], e['expected'])} | "
            f"{e['pycsw_note']} |"
        )
    if "datetime_inside" in doc["expected"]:
        lines += [
            "",
            f"(Records whose time span lies fully inside the interval: "
            f"{doc['expected']['datetime_inside']:,}; overlapping it, OGC's rule: "
            f"{doc['expected']['datetime']:,}.)",
        ]
    lines += [
        "",
        "## Requests/s",
        "",
        "Mean of the runs. `× pycsw` = ours / pycsw 2.6.2; `× SQL` = ours / raw SQL (1.00 = "
        "no overhead above the database). pycsw 3.0 figures are the issue's, **from another "
        "run on another machine**: compare ratios, not absolutes; the goal is 3× them "
        "(10× for q).",
        "",
        "| search | ours req/s | p50 / p99 ms | pycsw 2.6.2 req/s | p50 / p99 ms | raw SQL "
        "req/s | p50 / p99 ms | × pycsw | × SQL | pycsw 3.0 (issue) | goal | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, e in searches.items():
        sm = e.get("summary") or {}
        ours, other, raw = sm.get("ours") or {}, sm.get("pycsw") or {}, sm.get("raw_sql") or {}
        errors = sum(
            (r.get("non_2xx") or 0) + (r.get("socket_errors") or 0) for r in (ours, other, raw)
        )
        target = goal(name)
        met = ""
        if target and ours.get("rps"):
            met = " ✓" if ours["rps"] >= target else " ✗"
        lines.append(
            f"| {e['label']} | {_num(ours.get('rps'))} | {_num(ours.get('p50_ms'))} / "
            f"{_num(ours.get('p99_ms'))} | {_num(other.get('rps')) if other else 'n/a'} | "
            f"{_num(other.get('p50_ms'))} / {_num(other.get('p99_ms'))} | "
            f"{_num(raw.get('rps'))} | {_num(raw.get('p50_ms'))} / {_num(raw.get('p99_ms'))} | "
            f"{_ratio(ours.get('rps'), other.get('rps'))} | "
            f"{_ratio(ours.get('rps'), raw.get('rps'))} | {PYCSW3_ISSUE.get(name, '–')} | "
            f"{_num(target, 0) if target else '–'}{met} | {errors} |"
        )
    rss = doc["rss_mb"]
    peaks: dict[str, float] = {}
    for e in searches.values():
        for server in ("ours", "pycsw"):
            summary = (e.get("summary") or {}).get(server) or {}
            if summary.get("peak_rss_mb"):
                peaks[server] = max(peaks.get(server, 0), summary["peak_rss_mb"])
    names = {"ours": "catalogue-ours", "pycsw": "catalogue-pycsw"}
    lines += [
        "",
        "## Memory (RSS of the server's process tree: master + 2 workers)",
        "",
        "| server | at start MB | peak during the runs MB | at end MB |",
        "|---|--:|--:|--:|",
    ]
    for server, label in (("ours", "ours"), ("pycsw", "pycsw 2.6.2")):
        lines.append(
            f"| {label} | {_num(rss['at_start'].get(names[server]), 0)} | "
            f"{_num(peaks.get(server), 0)} | {_num(rss['at_end'].get(names[server]), 0)} |"
        )
    lines += [
        "",
        "## Our SQL in the database (EXPLAIN ANALYZE, one warm execution)",
        "",
        "| search | each request ms | first request ms | SQL file |",
        "|---|--:|--:|---|",
    ]
    for e in searches.values():
        first = (e.get("explain_first") or {}).get("execution_ms")
        lines.append(
            f"| {e['label']} | {_num(e['explain']['execution_ms'], 2)} | {_num(first, 2)} | "
            f"`{e['sql_file']}` |"
        )
    lines += [
        "",
        "Plans: `searches.<name>.explain.plans` (and `explain_first.plans`) in the JSON.",
        "",
    ]
    return "\n".join(lines)
