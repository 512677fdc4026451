"""Load benchmark: our pipeline vs ogr2ogr vs GeoDataFrame.to_postgis, same files, same PostGIS.

    .venv/bin/python -m bench.load                          # 1,000,000 points, 3 repeats
    .venv/bin/python -m bench.load --points 20000 --repeat 1  # smoke test, ~1 minute

Every tool loads every file --repeat times into one throwaway embedded PostGIS cluster
(started here on port 54349 and removed at the end); the runs are interleaved (tool A, B,
C, then A, B, C again) so drift in the machine hits every tool alike. Before each run,
untimed: the target table is dropped and the server CHECKPOINTs, so no run inherits
another's dirty buffers. Each run ends with a table holding the features, a primary key
and a GIST index on the geometry, and the row count is checked against the source.

Results: bench/results/load.json (every run, machine facts) and bench/results/load.md.
See bench/README.md for what exactly each tool runs.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

from geoservice.settings import PROJECT_ROOT, Settings

CACHE_DIR = Path(tempfile.gettempdir()) / "geoservice-bench"  # generated files, reused
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHAPEFILE = PROJECT_ROOT / "data" / "demo" / "nomoi" / "nomoi_okxe.shp"  # the 55 prefectures
DB_PORT = 54349
SCHEMA = "bench"  # where ogr2ogr and to_postgis write; our pipeline writes to data.*
OGR2OGR = "/usr/bin/ogr2ogr"
BASELINE = "ogr2ogr"
SEED = 20240601
# Greece in EPSG:2100 (GGRS87 / Greek Grid), metres: xmin, ymin, xmax, ymax.
GREECE_2100 = (110_000.0, 3_860_000.0, 1_000_000.0, 4_620_000.0)
PLACES = (
    "Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο", "Λάρισα", "Βόλος", "Ιωάννινα", "Χανιά",
    "Καλαμάτα", "Κομοτηνή", "Σέρρες", "Δράμα", "Κοζάνη", "Τρίκαλα", "Ξάνθη", "Ρόδος",
)  # fmt: skip


# --- sources ------------------------------------------------------------------------------


@dataclass
class SourceFile:
    key: str  # short name, also used in table names
    path: Path
    fmt: str
    features: int
    vertices: int
    encoding: str | None = None  # told to every tool (shapefile: cp1253)
    polygons: bool = False

    def facts(self) -> dict:
        return {
            "key": self.key,
            "path": str(self.path),
            "format": self.fmt,
            "features": self.features,
            "vertices": self.vertices,
            "encoding": self.encoding,
            "bytes": sum(p.stat().st_size for p in _sidecars(self.path)),
        }


def synthetic_points(n: int, cache: Path) -> list[SourceFile]:
    """n seeded random points in Greece (EPSG:2100) as GeoPackage and FlatGeobuf, cached."""
    from pyogrio.raw import write

    cache.mkdir(parents=True, exist_ok=True)
    stem = f"points_{n}_seed{SEED}"
    targets = [
        ("points_gpkg", cache / f"{stem}.gpkg", "GPKG", {"VERSION": "1.2"}),
        ("points_fgb", cache / f"{stem}.fgb", "FlatGeobuf", {}),
    ]
    missing = [t for t in targets if not t[1].exists()]
    if missing:
        print(f"generating {n:,} points into {cache} ...", flush=True)
        geometry, field_data, fields = _point_columns(n)
        for _key, path, driver, options in missing:
            partial = path.with_name(f"{path.stem}.partial{path.suffix}")
            partial.unlink(missing_ok=True)
            write(
                str(partial), geometry, field_data, fields, layer="points", driver=driver,
                geometry_type="Point", crs="EPSG:2100", dataset_options=options or None,
            )  # fmt: skip
            partial.rename(path)
    return [SourceFile(key, path, driver, n, n) for key, path, driver, _ in targets]


def _point_columns(n: int) -> tuple[np.ndarray, list[np.ndarray], list[str]]:
    import shapely

    rng = np.random.default_rng(SEED)
    xmin, ymin, xmax, ymax = GREECE_2100
    x = np.round(rng.uniform(xmin, xmax, n), 2)
    y = np.round(rng.uniform(ymin, ymax, n), 2)
    geometry = shapely.to_wkb(shapely.points(x, y))
    ids = np.arange(1, n + 1, dtype=np.int64)
    value = np.round(rng.normal(100.0, 25.0, n), 3)
    places = rng.integers(0, len(PLACES), n)
    numbers = rng.integers(1, 1000, n)
    name = np.array([f"{PLACES[p]} {k}" for p, k in zip(places, numbers, strict=True)], object)
    day = np.datetime64("2000-01-01") + rng.integers(0, 9131, n).astype("timedelta64[D]")
    return geometry, [ids, value, name, day], ["id", "value", "name", "date"]


def shapefile_source() -> SourceFile:
    import pyogrio
    import shapely

    frame = pyogrio.read_dataframe(SHAPEFILE, encoding="CP1253")
    vertices = int(shapely.get_num_coordinates(frame.geometry.values).sum())
    return SourceFile(
        "nomoi_shp", SHAPEFILE, "ESRI Shapefile", len(frame), vertices,
        encoding="cp1253", polygons=True,
    )  # fmt: skip


def _sidecars(path: Path) -> list[Path]:
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted(p for p in path.parent.iterdir() if p.stem == path.stem)


# --- the tools ----------------------------------------------------------------------------


@dataclass
class Context:
    settings: Settings
    admin: psycopg.Connection  # autocommit; for clean-up and checks
    engine: object = None  # SQLAlchemy engine for to_postgis
    cprofile_dir: Path | None = None
    stages: dict = field(default_factory=dict)  # (file, run) -> our pipeline's stage seconds

    @property
    def pg(self) -> str:
        return f"PG:host=127.0.0.1 port={self.settings.db_port} dbname=geoservice user=geoservice"


@dataclass
class Tool:
    name: str
    run: Callable[[Context, SourceFile, str], None]  # (context, source, table) -> None
    table: Callable[[SourceFile], tuple[str, str]]  # source -> (schema, table)
    drop: Callable[[Context, SourceFile], None]


class _StageClock:
    """A pipeline Steps that notes when each stage starts."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = [("setup", time.perf_counter())]

    def stage(self, name: str, total: int | None = None) -> None:
        self.marks.append((name, time.perf_counter()))

    def advance(self, n: int) -> None:
        pass

    def durations(self, end: float) -> dict[str, float]:
        ends = [t for _, t in self.marks[1:]] + [end]
        return {name: round(e - t, 4) for (name, t), e in zip(self.marks, ends, strict=True)}


def _collection_id(src: SourceFile) -> str:
    return f"bench_{src.key}"


def run_geoservice(ctx: Context, src: SourceFile, table: str) -> None:
    from loaders.descriptor import parse_descriptor
    from loaders.pipeline import load

    source: dict = {"path": str(src.path)}
    if src.encoding:
        source["encoding"] = src.encoding
    descriptor = parse_descriptor(
        # published for no one: internal (a public layer must state its licence)
        {
            "id": _collection_id(src),
            "title": f"benchmark {src.key}",
            "source": source,
            "access": "internal",
        },  # fmt: skip
        base_dir=src.path.parent,
        origin="bench",
    )
    clock = _StageClock()
    if ctx.cprofile_dir is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            load(ctx.settings, descriptor, clock)
        finally:
            profiler.disable()
            out = ctx.cprofile_dir / f"geoservice_{src.key}.prof"
            profiler.dump_stats(out)
            _print_profile(out)
    else:
        load(ctx.settings, descriptor, clock)
    ctx.stages.setdefault(src.key, []).append(clock.durations(time.perf_counter()))


class BeforeWorker:
    """bench/load_worker.py in a process of its own, with a checkout of `revision` first on
    PYTHONPATH: our pipeline as it was, timed the same way (imports before, load alone)."""

    def __init__(self, revision: str):
        from bench.api_servers import before_tree

        self.revision = revision
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("load_worker.py"))],
            env={**os.environ, "PYTHONPATH": str(before_tree(revision))},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._answer()  # ready: its imports are done

    def _answer(self) -> dict:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise RuntimeError(f"the worker for {self.revision} exited")
        return json.loads(line)

    def run(self, ctx: Context, src: SourceFile, table: str) -> None:
        job = {"id": _collection_id(src), "title": f"benchmark {src.key}", "path": str(src.path),
               "encoding": src.encoding, "dsn": ctx.settings.dsn}  # fmt: skip
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        if "error" in answer:
            raise RuntimeError(answer["error"])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def _drop_geoservice(ctx: Context, src: SourceFile) -> None:
    from geoservice.errors import NotFound
    from loaders import writer

    with contextlib.suppress(NotFound):
        writer.remove_collection(ctx.admin, _collection_id(src))
    writer.drop_leftover_staging(ctx.admin, _collection_id(src))


def _ogr2ogr(reproject: bool) -> Callable[[Context, SourceFile, str], None]:
    def run(ctx: Context, src: SourceFile, table: str) -> None:
        argv = [OGR2OGR, "--config", "PG_USE_COPY", "YES"]
        if src.encoding:
            argv += ["--config", "SHAPE_ENCODING", src.encoding.upper()]
        argv += [
            "-f", "PostgreSQL", ctx.pg, str(src.path),
            "-nln", table,
            "-lco", f"SCHEMA={SCHEMA}",
            "-lco", "GEOMETRY_NAME=geom",
            "-lco", "SPATIAL_INDEX=GIST",
            "-overwrite",
        ]  # fmt: skip
        if src.polygons:  # the shapefile mixes Polygon and MultiPolygon, as ours promotes
            argv += ["-nlt", "PROMOTE_TO_MULTI"]
        if reproject:
            argv += ["-t_srs", "EPSG:4326"]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"ogr2ogr failed: {result.stderr.strip()[-500:]}")
        noise = [ln for ln in result.stderr.splitlines() if ln.strip()]
        if noise:
            print(f"    ogr2ogr stderr: {' | '.join(noise)[:300]}", flush=True)

    return run


def run_to_postgis(ctx: Context, src: SourceFile, table: str) -> None:
    import geopandas as gpd

    options = {"encoding": src.encoding} if src.encoding else {}
    frame = gpd.read_file(src.path, engine="pyogrio", **options)
    # The key as a plain column: index=True would also make pandas add a second btree on it.
    frame.insert(0, "fid", np.arange(1, len(frame) + 1, dtype=np.int64))
    frame.to_postgis(table, ctx.engine, schema=SCHEMA, if_exists="replace", index=False)
    ident = sql.Identifier(SCHEMA, table)
    with ctx.admin.transaction():
        ctx.admin.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(ident))
        # geoalchemy2 already makes a GIST index when it creates the table (before the COPY);
        # build one afterwards only if it did not, never two.
        if not _gist_indexes(ctx.admin, SCHEMA, table):
            ctx.admin.execute(
                sql.SQL("CREATE INDEX ON {} USING gist ({})").format(
                    ident, sql.Identifier(frame.geometry.name)
                )
            )


def _drop_bench_table(tool_table: Callable[[SourceFile], tuple[str, str]]):
    def drop(ctx: Context, src: SourceFile) -> None:
        schema, table = tool_table(src)
        ctx.admin.execute(
            sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(schema, table))
        )

    return drop


def _tools(before: BeforeWorker | None = None) -> list[Tool]:
    def bench_table(suffix: str) -> Callable[[SourceFile], tuple[str, str]]:
        return lambda src: (SCHEMA, f"{src.key}_{suffix}")

    ours_table = lambda src: ("data", _collection_id(src))  # noqa: E731
    tools = [
        Tool("geoservice", run_geoservice, ours_table, _drop_geoservice),
        *([Tool("geoservice_before", before.run, ours_table, _drop_geoservice)] if before else []),
        Tool(BASELINE, _ogr2ogr(False), bench_table("ogr2ogr"), None),
        Tool("ogr2ogr_4326", _ogr2ogr(True), bench_table("ogr2ogr_4326"), None),
        Tool("to_postgis", run_to_postgis, bench_table("to_postgis"), None),
    ]
    for tool in tools:
        if tool.drop is None:
            tool.drop = _drop_bench_table(tool.table)
    return tools


# --- checks -------------------------------------------------------------------------------


def _gist_indexes(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s "
        "AND indexdef ILIKE '%%USING gist%%'",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def table_facts(conn: psycopg.Connection, schema: str, table: str) -> dict:
    ident = sql.Identifier(schema, table)
    rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]
    indexes = conn.execute(
        "SELECT i.indisprimary, am.amname, "
        "       pg_get_indexdef(i.indexrelid, 1, true) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am am ON am.oid = c.relam "
        "WHERE i.indrelid = %s::regclass ORDER BY 1 DESC, 2",
        (f'"{schema}"."{table}"',),
    ).fetchall()
    geom = conn.execute(
        "SELECT type, srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
        (schema, table),
    ).fetchone()
    size = conn.execute(
        "SELECT pg_total_relation_size(%s::regclass)", (f'"{schema}"."{table}"',)
    ).fetchone()[0]
    return {
        "rows": rows,
        "indexes": [f"{'PK ' if pk else ''}{am}({col})" for pk, am, col in indexes],
        "geometry": f"{geom[0]}, SRID {geom[1]}" if geom else None,
        "bytes": size,
    }


# --- running ------------------------------------------------------------------------------


def start_cluster(port: int) -> tuple[Settings, Path]:
    from geoservice.store.db import ensure_database

    folder = Path(tempfile.mkdtemp(prefix="geoservice-bench-db-"))
    os.chmod(folder, 0o755)
    settings = Settings(data_dir=folder, db_port=port)
    print(f"starting a PostGIS cluster in {folder} on port {port} ...", flush=True)
    try:
        ensure_database(settings)
    except BaseException:
        stop_cluster(settings, folder)
        raise
    return settings, folder


def stop_cluster(settings: Settings, folder: Path) -> None:
    from geoservice.store.embedded import Cluster

    try:
        Cluster.from_settings(settings).stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_benchmark(
    ctx: Context, sources: list[SourceFile], tools: list[Tool], repeat: int
) -> list[dict]:
    results = []
    for src in sources:
        runs: dict[str, list[dict]] = {t.name: [] for t in tools}
        print(f"\n{src.key}: {src.path.name}, {src.features:,} features, {src.vertices:,} vertices")
        for r in range(repeat):
            for tool in tools:
                tool.drop(ctx, src)
                ctx.admin.execute("CHECKPOINT")
                gc.collect()
                load_before = os.getloadavg()[0]
                started = time.perf_counter()
                error = None
                try:
                    tool.run(ctx, src, tool.table(src)[1])
                except Exception as err:  # record it, keep measuring the others
                    error = f"{type(err).__name__}: {str(err).strip()[:500]}"
                seconds = time.perf_counter() - started
                run = {
                    "seconds": round(seconds, 4),
                    "error": error,
                    # 1-minute load average before/after: other work on the machine skews times
                    "loadavg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                }
                if error is None:
                    run.update(table_facts(ctx.admin, *tool.table(src)))
                runs[tool.name].append(run)
                status = f"{seconds:8.2f} s" if error is None else f"FAILED {error}"
                rows = f"  rows {run['rows']:,}" if error is None else ""
                load = f"  load {run['loadavg'][0]:.1f}/{run['loadavg'][1]:.1f}"
                print(f"  run {r + 1}/{repeat}  {tool.name:<14} {status}{rows}{load}", flush=True)
        results.extend(_summarise(src, runs))
        for tool in tools:  # leave the database small for the next file
            tool.drop(ctx, src)
    return results


def _summarise(src: SourceFile, runs: dict[str, list[dict]]) -> list[dict]:
    out = []
    for name, tool_runs in runs.items():
        good = [r for r in tool_runs if r["error"] is None]
        median = statistics.median(r["seconds"] for r in good) if good else None
        last = good[-1] if good else {}
        out.append(
            {
                "file": src.key,
                "tool": name,
                "runs_seconds": [r["seconds"] for r in tool_runs],
                "median_seconds": round(median, 3) if median else None,
                "features_per_second": round(src.features / median) if median else None,
                "vertices_per_second": round(src.vertices / median) if median else None,
                "rows": sorted({r["rows"] for r in good}),
                "rows_ok": bool(good) and all(r["rows"] == src.features for r in good),
                "indexes": last.get("indexes"),
                "geometry": last.get("geometry"),
                "table_bytes": last.get("bytes"),
                "errors": [r["error"] for r in tool_runs if r["error"]],
                "max_loadavg": max(max(r["loadavg"]) for r in tool_runs),
            }
        )
    base = next((o["median_seconds"] for o in out if o["tool"] == BASELINE), None)
    for o in out:
        ratio = o["median_seconds"] / base if base and o["median_seconds"] else None
        o["time_vs_ogr2ogr"] = round(ratio, 2) if ratio else None
    return out


# --- facts and reports --------------------------------------------------------------------


def machine_facts(conn: psycopg.Connection) -> dict:
    def cmd(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(next(ln.split()[1] for ln in meminfo.splitlines() if ln.startswith("MemTotal")))
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    import pyogrio

    settings = dict(
        conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers','work_mem','maintenance_work_mem','max_wal_size',"
            "'synchronous_commit','wal_level','fsync','max_parallel_maintenance_workers')"
        ).fetchall()
    )
    packages = {}
    for name in ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "psycopg",
                 "sqlalchemy", "geoalchemy2"):  # fmt: skip
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": int(cmd("nproc") or os.cpu_count() or 0),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "postgresql": conn.execute("SHOW server_version").fetchone()[0],
        "postgis": conn.execute("SELECT postgis_lib_version()").fetchone()[0],
        "postgis_full": conn.execute("SELECT postgis_full_version()").fetchone()[0],
        "gdal_ogr2ogr": cmd(OGR2OGR, "--version"),
        "gdal_pyogrio": pyogrio.__gdal_version_string__,
        "python": platform.python_version(),
        "packages": packages,
        "server_settings": settings,
        "git_commit": cmd("git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", "HEAD"),
        "git_uncommitted_loaders": cmd(
            "git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--", "loaders", "geoservice"
        ).splitlines(),
    }


STAGES = ("setup", "reading", "checking", "writing", "indexing", "publishing")


def markdown(report: dict) -> str:
    m = report["machine"]
    p = report["parameters"]
    lines = [
        "# Load benchmark",
        "",
        f"{m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['ram_gib']} GiB RAM · "
        f"PostgreSQL {m['postgresql']} · PostGIS {m['postgis']} · "
        f"ogr2ogr {m['gdal_ogr2ogr'].removeprefix('GDAL ').split(',')[0]} · "
        f"pyogrio's GDAL {m['gdal_pyogrio']} · geopandas {m['packages']['geopandas']} · "
        f"commit {m['git_commit']}",
        "",
        f"`{p['command']}` — {p['repeat']} run(s) per tool and file, median shown; "
        "time × ogr2ogr > 1 means slower than ogr2ogr.",
        "",
        "| File | Tool | Median s | Runs s | Features/s | Vertices/s | Time × ogr2ogr | Rows |",
        "|---|---|--:|---|--:|--:|--:|---|",
    ]
    for r in report["results"]:
        runs = ", ".join(f"{s:.2f}" for s in r["runs_seconds"])
        rows = (
            f"{r['rows'][0]:,} ✓"
            if r["rows_ok"]
            else f"MISMATCH {r['rows']} {'; '.join(r['errors'])[:120]}"
        )
        lines.append(
            f"| {r['file']} | {r['tool']} | {_num(r['median_seconds'], '.2f')} | {runs} | "
            f"{_num(r['features_per_second'], ',')} | {_num(r['vertices_per_second'], ',')} | "
            f"{_num(r['time_vs_ogr2ogr'], '.2f')} | {rows} |"
        )
    for note in report.get("notes", []):
        lines += ["", f"**Note:** {note}"]
    stages = report.get("geoservice_stages") or {}
    if stages:
        lines += [
            "",
            "Our pipeline's stages (median s; `checking` = prepare() + source checksum, "
            "`indexing` = primary key + GIST + ANALYZE + extents):",
            "",
            "| File | " + " | ".join(STAGES) + " |",
            "|---|" + "--:|" * len(STAGES),
        ]
        for key, medians in stages.items():
            cells = " | ".join(_num(medians.get(s), ".2f") for s in STAGES)
            lines.append(f"| {key} | {cells} |")
    lines += ["", "Files:", ""]
    for f in report["files"]:
        lines.append(
            f"- `{f['key']}`: {Path(f['path']).name} ({f['format']}, {f['features']:,} features, "
            f"{f['vertices']:,} vertices, {f['bytes'] / 1e6:.1f} MB)"
        )
    return "\n".join(lines) + "\n"


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _stage_medians(stages: dict[str, list[dict]]) -> dict[str, dict[str, float]]:
    return {
        key: {s: round(statistics.median(r.get(s, 0.0) for r in runs), 3) for s in STAGES}
        for key, runs in stages.items()
    }


def _print_profile(path: Path) -> None:
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue())


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--points", type=int, default=1_000_000, help="synthetic points (1e6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and file (3)")
    parser.add_argument("--port", type=int, default=DB_PORT, help=f"cluster port ({DB_PORT})")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help=f"data cache ({CACHE_DIR})")
    parser.add_argument("--tools", help="comma-separated subset, e.g. geoservice,ogr2ogr")
    parser.add_argument("--files", help="comma-separated subset: points_gpkg,points_fgb,nomoi_shp")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results")
    parser.add_argument("--out", type=Path, help="write the results here (default: results/)")
    parser.add_argument(
        "--before", metavar="REV", help="also load with our pipeline as of git revision REV"
    )
    parser.add_argument(
        "--cprofile", type=Path, help="profile our pipeline with cProfile into this folder "
        "(inflates its times; implies --no-save)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.points < 1 or args.repeat < 1:
        parser.error("--points and --repeat must be positive")

    # Imports outside the timed runs (so no tool pays for them).
    import geoalchemy2  # noqa: F401  (to_postgis needs it)
    import geopandas  # noqa: F401
    import sqlalchemy

    import loaders.pipeline  # noqa: F401

    sources = synthetic_points(args.points, args.cache) + [shapefile_source()]
    before = BeforeWorker(args.before) if args.before else None
    tools = _tools(before)
    if args.files:
        wanted = set(args.files.split(","))
        sources = [s for s in sources if s.key in wanted]
    if args.tools:
        wanted = set(args.tools.split(","))
        tools = [t for t in tools if t.name in wanted]
    if not sources or not tools:
        parser.error("--files/--tools selected nothing")
    if args.cprofile:
        args.cprofile.mkdir(parents=True, exist_ok=True)
        args.no_save = True

    settings, folder = start_cluster(args.port)
    try:
        with psycopg.connect(settings.dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
            engine = sqlalchemy.create_engine(
                f"postgresql+psycopg://geoservice@127.0.0.1:{settings.db_port}/geoservice"
            )
            ctx = Context(settings, admin, engine, args.cprofile)
            machine = machine_facts(admin)
            try:
                results = run_benchmark(ctx, sources, tools, args.repeat)
            finally:
                engine.dispose()
    finally:
        if before is not None:
            before.close()
        print("\nstopping and removing the benchmark cluster ...", flush=True)
        stop_cluster(settings, folder)

    command = "python -m bench.load" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    report = {
        "machine": machine,
        "parameters": {
            "command": command.strip(),
            "points": args.points,
            "repeat": args.repeat,
            "seed": SEED,
            "bbox_epsg2100": GREECE_2100,
            "tools": [t.name for t in tools],
        },
        "files": [s.facts() for s in sources],
        "results": results,
        "geoservice_stages": _stage_medians(ctx.stages),
        "geoservice_stage_runs": ctx.stages,
    }
    if max(r["max_loadavg"] for r in results) > machine["nproc"]:
        report["notes"] = [
            "other work was running on the machine (the 1-minute load average exceeded the "
            "CPU count; per-run values in load.json): times are noisy, so compare the tools "
            "within this run, not with other runs."
        ]
    text = markdown(report)
    print("\n" + text)
    if not args.no_save:
        folder = args.out or RESULTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "load.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
        )
        (folder / "load.md").write_text(text)
        print(f"wrote {folder / 'load.json'} and {folder / 'load.md'}")
    ok = all(r["rows_ok"] and not r["errors"] for r in results)
    if not ok:
        print("some runs failed or loaded a different number of rows: see above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
