"""Open an OGC API Features collection with the real QGIS OAPIF provider and report what it saw.

Standalone script for Debian's system Python (which has the QGIS bindings), not the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py --url http://127.0.0.1:PORT \
        --typename ID [--bbox x0,y0,x1,y1] [--page-size N] [--fields a,b] [--max-features N]

Prints exactly one JSON object on stdout:

    {"valid", "error", "crs", "geometry_type", "feature_count", "fields", "features_read", "sample",
     "extent", "requests", "log", "elapsed_seconds"}

``requests`` lists the URLs QGIS asked for (in order), ``log`` the QGIS message-log lines.
Exit status: 0 valid layer, 2 invalid layer, 3 timeout, 4 unexpected error, 5 bad arguments.
The process always leaves through ``os._exit`` so QGIS's teardown cannot crash or hang it.
Must stay compatible with Python 3.11 (Debian's /usr/bin/python3).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_TIMEOUT = 3
EXIT_ERROR = 4
EXIT_USAGE = 5

_emit_lock = threading.Lock()
_emitted = False


def _emit(payload: dict, code: int) -> None:
    """Print the single JSON result and leave immediately (no QGIS teardown)."""
    global _emitted
    with _emit_lock:
        if _emitted:
            return
        _emitted = True
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="server base URL (landing page)")
    parser.add_argument("--typename", required=True, help="collection id")
    parser.add_argument("--bbox", help="x0,y0,x1,y1 in EPSG:4326 lon/lat; sent to the server")
    parser.add_argument("--page-size", type=int, help="pageSize URI parameter")
    parser.add_argument("--fields", help="comma-separated attribute names to fetch and sample")
    parser.add_argument("--max-features", type=int, help="stop iterating after N features")
    parser.add_argument("--timeout", type=float, default=150.0, help="overall timeout in seconds")
    return parser.parse_args(argv)


def _value(v: object) -> str | None:
    """Attribute value as str; NULL (None or a null QVariant) as None."""
    if v is None:
        return None
    is_null = getattr(v, "isNull", None)
    if callable(is_null):
        try:
            if is_null():
                return None
        except TypeError:
            pass
    to_iso = getattr(v, "toString", None)
    if callable(to_iso) and type(v).__name__ in ("QDateTime", "QDate", "QTime"):
        try:
            from qgis.PyQt.QtCore import Qt

            return to_iso(Qt.ISODate)
        except Exception:  # noqa: BLE001 - best effort formatting only
            pass
    return str(v)


def _error_text(error) -> str | None:
    # QgsError.summary() on an empty error dereferences an empty list and segfaults (QGIS 3.22).
    if error is None or error.isEmpty():
        return None
    return error.summary()


def _layer_error(layer, log: list[str]) -> str:
    """Why a layer is invalid: layer/provider errors, else the message log (where OAPIF puts it)."""
    provider = layer.dataProvider()
    parts = [
        _error_text(layer.error()),
        _error_text(provider.error()) if provider is not None else None,
        *log,
    ]
    text = "; ".join(p for p in parts if p)
    return text or "layer is invalid (no message from QGIS)"


def main(argv: list[str]) -> None:
    started = time.monotonic()
    try:
        args = _parse_args(argv)
    except SystemExit as exc:  # argparse already wrote the message (or --help) out
        if not exc.code:
            sys.stdout.flush()
            os._exit(EXIT_OK)
        _emit({"valid": False, "error": "bad arguments"}, EXIT_USAGE)
        return

    bbox = None
    if args.bbox:
        try:
            bbox = [float(p) for p in args.bbox.split(",")]
            if len(bbox) != 4:
                raise ValueError("need 4 numbers")
        except ValueError as exc:
            _emit({"valid": False, "error": f"bad --bbox {args.bbox!r}: {exc}"}, EXIT_USAGE)
            return

    result: dict = {
        "valid": False,
        "error": None,
        "crs": None,
        "geometry_type": None,
        "feature_count": None,
        "fields": [],
        "features_read": 0,
        "sample": [],
        "extent": None,
        "requests": [],
        "log": [],
        "elapsed_seconds": None,
    }

    def on_timeout() -> None:
        result["error"] = f"timeout after {args.timeout:.0f} s"
        result["elapsed_seconds"] = round(time.monotonic() - started, 3)
        _emit(result, EXIT_TIMEOUT)

    # A watchdog thread reports the timeout as JSON; should the GIL be stuck in C++, SIGALRM's
    # default action kills the process a little later anyway.
    watchdog = threading.Timer(args.timeout, on_timeout)
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(int(args.timeout) + 10)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for name in ("NO_PROXY", "no_proxy"):
        current = [p for p in os.environ.get(name, "").split(",") if p]
        os.environ[name] = ",".join(dict.fromkeys([*current, "127.0.0.1", "localhost"]))

    from qgis.core import (
        QgsApplication,
        QgsDataSourceUri,
        QgsFeatureRequest,
        QgsNetworkAccessManager,
        QgsNetworkRequestParameters,
        QgsRectangle,
        QgsVectorLayer,
        QgsWkbTypes,
    )

    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()

    def pump() -> None:
        # Signals from QGIS's network threads are queued: deliver them to Python.
        for _ in range(3):
            app.processEvents()

    requests: list[str] = result["requests"]
    log: list[str] = result["log"]

    nam = QgsNetworkAccessManager.instance()
    # Keep single requests well under the overall timeout.
    QgsNetworkAccessManager.setTimeout(int(max(5.0, args.timeout * 0.6) * 1000))

    def on_request(params) -> None:  # QgsNetworkRequestParameters
        try:
            requests.append(params.request().url().toString())
        except Exception as exc:  # noqa: BLE001
            requests.append(f"<unreadable request: {exc}>")

    def on_message(message, tag, level) -> None:
        log.append(f"[{tag}] {message}")

    # requestAboutToBeCreated is overloaded (a deprecated 3-argument form comes first):
    # pick the QgsNetworkRequestParameters one explicitly.
    nam.requestAboutToBeCreated[QgsNetworkRequestParameters].connect(on_request)
    QgsApplication.messageLog().messageReceived.connect(on_message)

    uri = QgsDataSourceUri()
    uri.setParam("url", args.url.rstrip("/"))
    uri.setParam("typename", args.typename)
    if bbox is not None:
        uri.setParam("restrictToRequestBBOX", "1")
    if args.page_size:
        uri.setParam("pageSize", str(args.page_size))

    layer = QgsVectorLayer(uri.uri(False), "probe", "OAPIF")
    pump()
    if not layer.isValid():
        result["error"] = _layer_error(layer, log)
        result["elapsed_seconds"] = round(time.monotonic() - started, 3)
        _emit(result, EXIT_INVALID)
        return

    result["valid"] = True
    result["crs"] = layer.crs().authid()
    result["geometry_type"] = QgsWkbTypes.displayString(layer.wkbType())
    result["feature_count"] = layer.featureCount()
    all_fields = [f.name() for f in layer.fields()]
    result["fields"] = all_fields

    wanted = all_fields
    request = QgsFeatureRequest()
    if args.fields:
        wanted = [f for f in args.fields.split(",") if f]
        missing = [f for f in wanted if f not in all_fields]
        if missing:
            result["error"] = f"fields not in the layer: {missing}"
        wanted = [f for f in wanted if f in all_fields]
        request.setSubsetOfAttributes(wanted, layer.fields())
    if bbox is not None:
        # The layer is EPSG:4326 lon/lat, so the rectangle is in layer coordinates.
        request.setFilterRect(QgsRectangle(*bbox))
    if args.max_features:
        request.setLimit(args.max_features)

    read = 0
    sample: list[dict] = result["sample"]
    for feature in layer.getFeatures(request):
        read += 1
        if len(sample) < 5:
            sample.append({name: _value(feature[name]) for name in wanted})
        if read % 50 == 0:
            pump()
    result["features_read"] = read

    extent = layer.extent()
    if extent is not None and not extent.isNull():
        result["extent"] = [
            extent.xMinimum(),
            extent.yMinimum(),
            extent.xMaximum(),
            extent.yMaximum(),
        ]

    pump()
    result["elapsed_seconds"] = round(time.monotonic() - started, 3)
    _emit(result, EXIT_OK)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException as exc:  # noqa: BLE001 - always answer with JSON
        _emit(
            {
                "valid": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            },
            EXIT_ERROR,
        )
    _emit({"valid": False, "error": "probe ended without a result"}, EXIT_ERROR)
