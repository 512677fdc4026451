"""Whole-layer downloads in the formats people open: GeoJSON, CSV, GeoPackage, zipped
Shapefile (with a .cpg, so Greek text opens right) and KML.

The features come from the same streamed, filtered query as `/collections/{id}/download`
(items_api.download_response): PostgreSQL reprojects them, GDAL (through pyogrio) writes the
other formats. GeoJSON is streamed as is; the others are written to a temporary folder
(GDAL needs files for GeoPackage and Shapefile), then streamed and deleted.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from geoservice.errors import BadRequest
from geoservice.server.features.items import Collection, download_response

CHUNK = 64 * 1024
BATCH = 50_000  # features converted at a time


@dataclass(frozen=True)
class Format:
    driver: str | None  # GDAL driver; None = our own GeoJSON stream
    extension: str
    media_type: str
    options: tuple[tuple[str, str], ...] = ()  # GDAL layer creation options


FORMATS = {
    "geojson": Format(None, "geojson", "application/geo+json"),
    # GeoJSON in another CRS than CRS84: GDAL writes the (pre-RFC 7946) "crs" member, so
    # GDAL and QGIS read the coordinates in the right CRS.
    "geojson-crs": Format("GeoJSON", "geojson", "application/geo+json"),
    "csv": Format("CSV", "csv", "text/csv; charset=utf-8", (("GEOMETRY", "AS_WKT"),)),
    "gpkg": Format("GPKG", "gpkg", "application/geopackage+sqlite3"),
    "shp": Format("ESRI Shapefile", "zip", "application/zip", (("ENCODING", "UTF-8"),)),
    "kml": Format("KML", "kml", "application/vnd.google-earth.kml+xml"),
}
OFFERED = ("geojson", "csv", "gpkg", "shp", "kml")
# The CRSs offered for files: (EPSG code, the items API's crs URI; None = CRS84 lon/lat).
CRS = {
    "4326": None,  # files store lon/lat whatever the EPSG axis order says (GIS convention)
    "2100": "http://www.opengis.net/def/crs/EPSG/0/2100",
}


def response(
    collection: Collection, params: dict[str, str], *, head: bool = False
) -> tuple[Body, dict[str, str]]:
    """The file for `format` (default geojson) in `crs` (4326 or 2100), optional `bbox`.

    The body's close() (which the WSGI server calls when the client goes away, even before
    the first chunk) removes the temporary folder. For a HEAD (`head=True`) the query runs
    (a value it refuses is the same 400 as for a GET) but nothing is converted: the headers
    come without Content-Length (only a conversion would know it) and the body is empty."""
    name = (params.get("format") or "geojson").lower()
    fmt = FORMATS.get(name) if name in OFFERED else None
    if fmt is None:
        raise BadRequest(f"format: '{name}' is not offered; offered: {', '.join(OFFERED)}")
    code = _crs_code(params.get("crs"))
    if code not in CRS:
        raise BadRequest(
            f"crs: '{code}' is not offered for downloads; offered: EPSG:4326, EPSG:2100"
        )
    if fmt.driver == "KML":
        code = "4326"  # KML is WGS84 by definition; GDAL would reproject anyway
    # Every other parameter (bbox, datetime, property=value, filter) selects features exactly
    # as on /collections/{id}/items.
    query = {k: v for k, v in params.items() if k not in ("format", "crs", "f")}
    if CRS[code]:
        query["crs"] = CRS[code]
    chunks, headers = download_response(collection, query)
    if fmt.driver is None and CRS[code]:
        fmt = FORMATS["geojson-crs"]
    filename = f"{collection.id}-shp.zip" if name == "shp" else f"{collection.id}.{fmt.extension}"
    if fmt.driver is None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Body(chunks), headers
    if head:
        chunks.close()  # type: ignore[attr-defined]  # a generator: let go of the query
        return Body(iter(())), {
            "Content-Type": fmt.media_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    folder = Path(tempfile.mkdtemp(prefix="geoservice-download-"))
    try:
        path = _convert(chunks, folder, collection.id, fmt, int(code))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Body(_read(path), folder), {
        "Content-Type": fmt.media_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Length": str(path.stat().st_size),
    }


def _crs_code(value: str | None) -> str:
    """4326 or 2100 from '2100', 'EPSG:2100' or an OGC CRS URI (CRS84 counts as 4326)."""
    text = (value or "4326").strip()
    if text.rstrip("/").endswith("CRS84"):
        return "4326"
    return text.rstrip("/").rsplit("/", 1)[-1].removeprefix("EPSG:")


def _convert(chunks: Iterator[bytes], folder: Path, name: str, fmt: Format, epsg: int) -> Path:
    source = folder / "features.geojson"
    with open(source, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    target = folder / (name if fmt.driver == "ESRI Shapefile" else f"{name}.{fmt.extension}")
    if fmt.driver == "ESRI Shapefile":
        target.mkdir()
        target = target / f"{name}.shp"
    _translate(source, target, name, fmt, epsg)
    source.unlink()
    if fmt.driver != "ESRI Shapefile":
        return target
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in sorted(target.parent.iterdir()):
            zipped.write(part, part.name)
    return archive


def _translate(source: Path, target: Path, name: str, fmt: Format, epsg: int) -> None:
    """GeoJSON -> the format, streamed through Arrow batches: memory stays bounded."""
    # Imported here: pyogrio brings geopandas and pandas (~150 MB a worker) along.
    from pyogrio.raw import open_arrow, write_arrow

    with open_arrow(source, batch_size=BATCH, use_pyarrow=True) as (meta, batches):
        write_arrow(
            batches,
            target,
            layer=name,
            driver=fmt.driver,
            geometry_name=meta["geometry_name"] or "wkb_geometry",
            geometry_type=meta["geometry_type"] or "Unknown",
            # Our GeoJSON carries no CRS member (GDAL would assume CRS84): the coordinates
            # are in `epsg`.
            crs=f"EPSG:{epsg}",
            layer_options=dict(fmt.options) or None,
        )


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


class Body:
    """A response body that cleans up when closed or read to its end: the temporary folder
    (if any) is removed, the chunks' generator closed. A generator's own `finally` would not
    do: it never runs for a generator closed before its first chunk (a HEAD, or a client gone
    before the body started)."""

    def __init__(self, chunks: Iterator[bytes], folder: Path | None = None) -> None:
        self._chunks = chunks
        self._folder = folder

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:  # the end, or a failure: either way, done
            self.close()
            raise

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
