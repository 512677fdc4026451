"""bench/results/catalogue.md from the results of bench/catalogue.py."""

from __future__ import annotations

from typing import Any

SERVERS = {"ours": "ours", "pycsw3": "pycsw 3.0", "pycsw": "pycsw 2.6.2"}
PROCESSES = {"ours": "catalogue-ours", "pycsw3": "catalogue-pycsw3", "pycsw": "catalogue-pycsw"}
GOAL = 10  # ours at least 10x pycsw 3.0's throughput where pycsw 3.0 answers right


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
    if matched != expected:
        return f"**{matched:,} (wrong)**"
    if hit.get("verdict") == "wrong":  # the right count, not the right page
        return f"{matched:,}, **wrong page**"
    return f"{matched:,}"


def _timed(name: str, e: dict[str, Any]) -> dict[str, Any] | None:
    """The mean figures of a server, or None where it answered wrong (not timed)."""
    return (e.get("summary") or {}).get(name)


def _rps(name: str, e: dict[str, Any]) -> str:
    hit = e["hits"].get(name)
    if hit is None:
        return "n/a"
    figures = _timed(name, e)
    if not figures:
        return "not timed (wrong)" if hit.get("verdict") != "right" else "–"
    return f"{_num(figures.get('rps'))} | {_num(figures.get('p50_ms'))} / " + _num(
        figures.get("p99_ms")
    )


def markdown(doc: dict[str, Any]) -> str:
    m, s = doc["machine"], doc["settings"]
    searches = doc["searches"]
    lines = [
        "# Catalogue search: ours (OGC API Records) vs pycsw 3.0 vs pycsw 2.6.2 vs raw SQL",
        "",
        f"{s['records']:,} generated records (seed {s['seed']}), {s['runs']} run(s) of "
        f"{s['duration_s']} s per search and server; wrk {m['threads']} threads / "
        f"{m['connections']} connections; pgbench -c {m['connections']} -j {m['threads']}."
        + (" **Quick run** (not the reference figures)." if s["quick"] else ""),
        "",
        f"Machine: {m['date']}, commit {m['commit']}, {m['nproc']} cores ({m['cpu']}), "
        f"{m['memory_gb']} GB, load average {m['load_average_at_start']} at start, "
        f"{m.get('load_average_at_end')} at end (the machine runs other work too: compare "
        f"within this run only); PostgreSQL {m['postgresql']}, PostGIS {m['postgis']}, "
        f"{m.get('pycsw3') or 'no pycsw 3.0'}, {m['pycsw'] or 'no pycsw 2.6.2'}, wrk {m['wrk']}.",
        "",
        "Servers: ours `geoservice serve --workers 2` (gunicorn, 2 workers × 4 threads); "
        "pycsw 3.0 `gunicorn -w 2 pycsw.wsgi_flask:APP` (sync workers; its OGC API Records "
        "endpoint /collections/metadata:main/items); pycsw 2.6.2 `gunicorn -w 2 "
        "pycsw.wsgi:application` (CSW and OpenSearch); both with their PostgreSQL "
        "repositories in the same cluster; raw SQL: pgbench running the statements each "
        "request of our search executes (`bench/sql/catalogue_*.sql`), i.e. the database's "
        "share of ours (a worker's first request for a filter also counts, orders and reads "
        "the entries: `first request` below).",
        "",
        "## Right answers first: numberMatched (and, for the ordered searches, the page's ids) "
        "against the generator's truth",
        "",
        "| search | truth | ours | pycsw 3.0 | pycsw 2.6.2 | raw SQL | pycsw 3.0 request | "
        "pycsw 2.6.2 request |",
        "|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for e in searches.values():
        h = e["hits"]
        lines.append(
            f"| {e['label']} | {e['expected']:,} | {_hits(h['ours'], e['expected'])} | "
            f"{_hits(h.get('pycsw3'), e['expected'])} | {_hits(h['pycsw'], e['expected'])} | "
            f"{_hits(h['raw_sql'], e['expected'])} | {e.get('pycsw3_note', '')} | "
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
        "Mean of the runs; only a server that answered right is timed. `× pycsw 3.0` = ours / "
        f"pycsw 3.0 (the goal: ≥ {GOAL}× where pycsw 3.0 is right, and right where it is "
        "wrong); `× SQL` = ours / raw SQL (1.00 = no overhead above the database).",
        "",
        "| search | ours req/s | p50 / p99 ms | pycsw 3.0 req/s | p50 / p99 ms | pycsw 2.6.2 "
        "req/s | p50 / p99 ms | raw SQL req/s | p50 / p99 ms | × pycsw 3.0 | goal | "
        "× pycsw 2.6.2 | × SQL | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|",
    ]
    for e in searches.values():
        sm = e.get("summary") or {}
        ours = sm.get("ours") or {}
        errors = sum(
            (r.get("non_2xx") or 0) + (r.get("socket_errors") or 0) for r in sm.values() if r
        )
        ours_right = e["hits"]["ours"].get("verdict") == "right"
        reference = e["hits"].get("pycsw3") or {}
        if reference.get("verdict") == "right":
            ratio = (ours.get("rps") or 0) / ((sm.get("pycsw3") or {}).get("rps") or 1)
            met = "✓" if ours_right and ratio >= GOAL else "✗"
        else:
            met = "✓ (right, pycsw 3.0 wrong)" if ours_right else "✗ (wrong)"
        cells = [_rps(name, e) for name in ("ours", "pycsw3", "pycsw")]
        cells = [c if " | " in c else f"{c} | –" for c in cells]
        raw = sm.get("raw_sql") or {}
        lines.append(
            f"| {e['label']} | {' | '.join(cells)} | {_num(raw.get('rps'))} | "
            f"{_num(raw.get('p50_ms'))} / {_num(raw.get('p99_ms'))} | "
            f"{_ratio(ours.get('rps'), (sm.get('pycsw3') or {}).get('rps'))} | {met} | "
            f"{_ratio(ours.get('rps'), (sm.get('pycsw') or {}).get('rps'))} | "
            f"{_ratio(ours.get('rps'), raw.get('rps'))} | {errors} |"
        )
    rss = doc["rss_mb"]
    peaks: dict[str, float] = {}
    for e in searches.values():
        for server in SERVERS:
            summary = (e.get("summary") or {}).get(server) or {}
            if summary.get("peak_rss_mb"):
                peaks[server] = max(peaks.get(server, 0), summary["peak_rss_mb"])
    lines += [
        "",
        "## Memory (RSS of the server's process tree: master + 2 workers)",
        "",
        "| server | at start MB | peak during the runs MB | at end MB |",
        "|---|--:|--:|--:|",
    ]
    for server, label in SERVERS.items():
        lines.append(
            f"| {label} | {_num(rss['at_start'].get(PROCESSES[server]), 0)} | "
            f"{_num(peaks.get(server), 0)} | {_num(rss['at_end'].get(PROCESSES[server]), 0)} |"
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
