"""Helpers that drive real OGC API clients (QGIS, GDAL/OGR) against a running server.

No tests here: test modules import these (``from clients import qgis_open``; pytest puts ``tests/``
on ``sys.path``). Every helper runs the real tool in a subprocess, with proxies bypassed for
loopback addresses, and raises ``AssertionError`` carrying the tool's stderr when it fails.

* QGIS runs through ``tests/qgis_probe.py`` under Debian's ``/usr/bin/python3`` (the QGIS bindings
  are not importable from the project's venv).
* GDAL means the system ``ogrinfo``/``ogr2ogr`` (Debian ``gdal-bin``, GDAL 3.6: its OAPIF driver is
  what users of this machine's packages get). ``ogr_read`` uses pyogrio when importable (it ships
  its own newer GDAL), which is fine for reading local files.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"
QGIS_PROBE = Path(__file__).with_name("qgis_probe.py")

#: GDAL config options passed to every ogrinfo/ogr2ogr call (``--config KEY VALUE``).
GDAL_CONFIG: dict[str, str] = {
    "GDAL_HTTP_TIMEOUT": "60",
    "GDAL_HTTP_CONNECTTIMEOUT": "10",
    "GDAL_HTTP_MAX_RETRY": "0",
}

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def client_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for client subprocesses: the current one, loopback excluded from proxies."""
    env = dict(os.environ)
    for name in ("NO_PROXY", "no_proxy"):
        current = [p.strip() for p in env.get(name, "").split(",") if p.strip()]
        env[name] = ",".join(dict.fromkeys([*current, *_LOOPBACK]))
    env.setdefault("LC_ALL", "C.UTF-8")
    env["PYTHONIOENCODING"] = "utf-8"
    if extra:
        env.update(extra)
    return env


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> str:
    """Run a command; return stdout, or raise AssertionError with its stderr."""
    try:
        proc = subprocess.run(
            list(cmd),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env=dict(env) if env is not None else client_env(),
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        raise AssertionError(
            f"timed out after {timeout} s: {' '.join(cmd)}\nstderr:\n{_tail(stderr or '')}"
        ) from exc
    except FileNotFoundError as exc:
        raise AssertionError(f"not installed: {cmd[0]} ({exc})") from exc
    if proc.returncode != 0:
        raise AssertionError(
            f"exit status {proc.returncode}: {' '.join(cmd)}\nstderr:\n{_tail(proc.stderr)}"
            f"\nstdout:\n{_tail(proc.stdout, 20)}"
        )
    return proc.stdout


def _gdal_config_args(extra: Mapping[str, str] | None = None) -> list[str]:
    args: list[str] = []
    for key, value in {**GDAL_CONFIG, **(extra or {})}.items():
        args += ["--config", key, value]
    return args


def _oapif(base_url: str) -> str:
    return "OAPIF:" + base_url.rstrip("/")


# ---------------------------------------------------------------------------------------------
# QGIS


@functools.cache
def qgis_available() -> bool:
    """True when Debian's system Python can import the QGIS bindings (and the probe exists)."""
    if not (os.path.exists(SYSTEM_PYTHON) and QGIS_PROBE.is_file()):
        return False
    try:
        proc = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import qgis.core"],
            capture_output=True,
            timeout=60,
            env=client_env({"QT_QPA_PLATFORM": "offscreen"}),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def qgis_open(
    base_url: str,
    typename: str,
    bbox: Sequence[float] | None = None,
    page_size: int | None = None,
    timeout: float = 180,
    *,
    fields: Sequence[str] | None = None,
    max_features: int | None = None,
    expect_valid: bool = True,
) -> dict[str, Any]:
    """Open collection ``typename`` of the server at ``base_url`` as a QGIS OAPIF layer.

    Runs ``tests/qgis_probe.py`` headless and returns its JSON report::

        {"valid": bool, "error": str | None, "crs": "EPSG:4326", "geometry_type": "Polygon",
         "feature_count": int (layer.featureCount(), from numberMatched),
         "fields": [names], "features_read": int (features iterated),
         "sample": [{field: str | None}, ...] (first 5), "extent": [xmin, ymin, xmax, ymax],
         "requests": [URLs QGIS requested, in order], "log": [QGIS message-log lines],
         "elapsed_seconds": float}

    ``bbox`` (lon/lat) sets ``restrictToRequestBBOX=1`` and iterates only that rectangle, so QGIS
    sends ``bbox=`` to the server. ``page_size`` sets the URI's ``pageSize``. ``fields`` limits the
    attributes fetched/sampled, ``max_features`` stops the iteration early.

    Raises AssertionError (with the probe's stderr) when the probe fails, times out, or the
    layer is invalid; with ``expect_valid=False`` an invalid layer's report is returned instead.
    """
    cmd = [
        SYSTEM_PYTHON,
        str(QGIS_PROBE),
        "--url",
        base_url.rstrip("/"),
        "--typename",
        typename,
        # The probe reports its own timeout as JSON, before ours kills it.
        "--timeout",
        str(max(10.0, timeout - 15)),
    ]
    if bbox is not None:
        if len(bbox) != 4:
            raise ValueError(f"bbox needs 4 numbers, got {bbox!r}")
        cmd += ["--bbox", ",".join(repr(float(v)) for v in bbox)]
    if page_size is not None:
        cmd += ["--page-size", str(int(page_size))]
    if fields:
        cmd += ["--fields", ",".join(fields)]
    if max_features is not None:
        cmd += ["--max-features", str(int(max_features))]

    env = client_env({"QT_QPA_PLATFORM": "offscreen"})
    env.setdefault("XDG_RUNTIME_DIR", "/tmp/runtime-" + str(os.getuid()))
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        raise AssertionError(
            f"QGIS probe killed after {timeout} s\nstderr:\n{_tail(stderr)}"
        ) from exc

    report: dict[str, Any] | None = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            report = json.loads(line)
            break
        except ValueError:
            continue
    if report is None:
        raise AssertionError(
            f"QGIS probe gave no JSON (exit status {proc.returncode})"
            f"\nstderr:\n{_tail(proc.stderr)}\nstdout:\n{_tail(proc.stdout, 20)}"
        )
    if proc.returncode == 2 and not expect_valid:
        return report
    if proc.returncode != 0 or not report.get("valid"):
        raise AssertionError(
            f"QGIS could not open {typename!r} at {base_url} (exit status {proc.returncode}): "
            f"{report.get('error')}\nrequests: {report.get('requests')}\nlog: {report.get('log')}"
            f"\nstderr:\n{_tail(proc.stderr)}"
        )
    return report


# ---------------------------------------------------------------------------------------------
# GDAL / OGR


@functools.cache
def gdal_version() -> tuple[int, int, int]:
    """Version of the system ``ogrinfo`` as (major, minor, patch)."""
    out = _run(["ogrinfo", "--version"], timeout=30)
    m = re.search(r"GDAL (\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise AssertionError(f"cannot read the GDAL version from {out!r}")
    return int(m[1]), int(m[2]), int(m[3])


def ogrinfo_summary(
    base_url: str,
    collection_id: str,
    *,
    open_options: Mapping[str, str] | None = None,
    config: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """Summary of one collection as GDAL's OAPIF driver sees it (``ogrinfo -ro -al -so``).

    Returns ``{"layer": name, "feature_count": int | None, "geometry_type": str | None,
    "fields": [names], "field_types": {name: OGR type}, "extent": [xmin, ymin, xmax, ymax] | None,
    "metadata": {key: value}, "raw": ogrinfo output}``. Uses ``-json`` where GDAL >= 3.7 supports
    it; GDAL 3.6 (Debian 12) only has text output, which is parsed. With -so GDAL reads the
    count from ``numberMatched`` and the extent from the collection document, not from features.
    ``open_options`` go as ``-oo KEY=VALUE`` (e.g. ``PAGE_SIZE``), ``config`` as ``--config``.
    """
    cmd = ["ogrinfo", "-ro", "-al", "-so", *_gdal_config_args(config)]
    for key, value in (open_options or {}).items():
        cmd += ["-oo", f"{key}={value}"]
    use_json = gdal_version() >= (3, 7, 0)
    if use_json:
        cmd.append("-json")
    cmd += [_oapif(base_url), collection_id]
    out = _run(cmd, timeout=timeout)
    summary = _parse_ogrinfo_json(out) if use_json else _parse_ogrinfo_text(out)
    if summary["layer"] is None:
        raise AssertionError(f"ogrinfo reported no layer for {collection_id!r}:\n{_tail(out)}")
    summary["raw"] = out
    return summary


def _parse_ogrinfo_json(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    layers = doc.get("layers") or []
    if not layers:
        return {"layer": None}
    layer = layers[0]
    geom = (layer.get("geometryFields") or [{}])[0]
    metadata = (layer.get("metadata") or {}).get("", {})
    fields = layer.get("fields") or []
    return {
        "layer": layer.get("name"),
        "feature_count": layer.get("featureCount"),
        "geometry_type": geom.get("type"),
        "fields": [f["name"] for f in fields],
        "field_types": {f["name"]: f.get("type") for f in fields},
        "extent": geom.get("extent"),
        "metadata": metadata,
    }


_FIELD_LINE = re.compile(r"^(?P<name>[^\s:][^:]*): (?P<type>\w+) \(\d+(?:\.\d+)?\)")
_NUM = r"(-?[\d.]+(?:e[-+]?\d+)?|-?inf|nan)"
_EXTENT = re.compile(rf"^Extent: \({_NUM}, {_NUM}\) - \({_NUM}, {_NUM}\)", re.IGNORECASE)


def _parse_ogrinfo_text(out: str) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "layer": None,
        "feature_count": None,
        "geometry_type": None,
        "fields": [],
        "field_types": {},
        "extent": None,
        "metadata": {},
    }
    lines = out.splitlines()
    in_metadata = False
    after_srs = False
    for line in lines:
        if line.startswith("Layer name: "):
            if summary["layer"] is not None:
                break  # only the first layer
            summary["layer"] = line[len("Layer name: ") :].strip()
            continue
        if summary["layer"] is None:
            continue
        if line.startswith("Metadata:"):
            in_metadata = True
            continue
        if in_metadata:
            if line.startswith("  ") and "=" in line:
                key, _, value = line.strip().partition("=")
                summary["metadata"][key] = value
                continue
            in_metadata = False
        if line.startswith("Geometry: "):
            summary["geometry_type"] = line[len("Geometry: ") :].strip()
        elif line.startswith("Feature Count: "):
            summary["feature_count"] = int(line[len("Feature Count: ") :].strip())
        elif m := _EXTENT.match(line):
            summary["extent"] = [float(m[1]), float(m[2]), float(m[3]), float(m[4])]
        elif line.startswith("Data axis to CRS axis mapping:") or line.startswith("FID Column ="):
            after_srs = True
        elif after_srs and (m := _FIELD_LINE.match(line)):
            summary["fields"].append(m["name"])
            summary["field_types"][m["name"]] = m["type"]
    return summary


def ogr2ogr_export(
    base_url: str,
    collection_id: str,
    out_path: str | os.PathLike[str],
    spat: Sequence[float] | None = None,
    fmt: str = "GPKG",
    *,
    extra_args: Sequence[str] = (),
    config: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> Path:
    """Export a collection with ``ogr2ogr -f <fmt> out "OAPIF:<base_url>" <collection_id>``.

    ``spat`` = (xmin, ymin, xmax, ymax) in lon/lat adds ``-spat``, which GDAL sends to the server
    as ``bbox=``. An existing ``out_path`` is replaced. ``extra_args`` are appended verbatim
    (e.g. ``["-oo", "PAGE_SIZE=5"]`` or ``["-where", "..."]``). Returns the output path; raises
    AssertionError with ogr2ogr's stderr on failure or when no file was written.
    """
    out = Path(out_path)
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "ogr2ogr",
        *_gdal_config_args(config),
        "-f",
        fmt,
        str(out),
        _oapif(base_url),
        collection_id,
    ]
    if spat is not None:
        if len(spat) != 4:
            raise ValueError(f"spat needs 4 numbers, got {spat!r}")
        cmd += ["-spat", *(repr(float(v)) for v in spat)]
    cmd += list(extra_args)
    _run(cmd, timeout=timeout)
    if not out.exists():
        raise AssertionError(f"ogr2ogr reported success but wrote nothing at {out}")
    return out


def ogr_read(path: str | os.PathLike[str], layer: str | int | None = None) -> list[dict[str, Any]]:
    """Read all features of a vector file as GeoJSON-like dicts.

    Each feature is ``{"type": "Feature", "id": fid, "properties": {...},
    "geometry": {...} | None}`` with plain Python values (dates as ``datetime``/ISO strings).
    Uses pyogrio (+ shapely) when importable, else ``ogr2ogr -f GeoJSON /vsistdout/`` (then
    ``layer`` must be a name). Raises AssertionError on failure.
    """
    src = str(path)
    try:
        import pyogrio.raw
        import shapely
    except ImportError:
        return _ogr_read_cli(src, layer)
    try:
        meta, fids, geoms, values = pyogrio.raw.read(src, layer=layer, return_fids=True)
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError etc.
        raise AssertionError(f"pyogrio could not read {src} (layer {layer!r}): {exc}") from exc
    names = list(meta["fields"])
    features: list[dict[str, Any]] = []
    for i, fid in enumerate(fids):
        props: dict[str, Any] = {}
        for name, column in zip(names, values, strict=True):
            v = column[i]
            props[name] = v.tolist() if hasattr(v, "tolist") else v
        geometry = None
        if geoms is not None and geoms[i] is not None:
            geometry = shapely.geometry.mapping(shapely.from_wkb(geoms[i]))
            geometry = json.loads(json.dumps(geometry))  # tuples -> lists
        features.append(
            {"type": "Feature", "id": int(fid), "properties": props, "geometry": geometry}
        )
    return features


def _ogr_read_cli(src: str, layer: str | int | None) -> list[dict[str, Any]]:
    cmd = ["ogr2ogr", *_gdal_config_args(), "-f", "GeoJSON", "/vsistdout/", src]
    if layer is not None:
        cmd.append(str(layer))
    doc = json.loads(_run(cmd, timeout=300))
    return list(doc.get("features", []))
