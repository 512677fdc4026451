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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from geoservice.errors import BadRequest
from geoservice.server.features.items import Collection, download_response
from geoservice.server.params import PORTAL_DOWNLOAD

CHUNK = 64 * 1024
BATCH = 50_000  # features converted at a time


@dataclass(frozen=True)
class Format:
    driver: str | None  # GDAL driver; None = our own GeoJSON stream
    extension: str
    media_type: str
    options: tuple[tuple[str, str], ...] = ()  # GDAL layer creation options
    dataset_options: tuple[tuple[str, str], ...] = ()  # GDAL dataset creation options
    xy: bool = False  # X and Y columns from the (point) geometries


FORMATS = {
    "geojson": Format(None, "geojson", "application/geo+json"),
    # GeoJSON in another CRS than CRS84: GDAL writes the (pre-RFC 7946) "crs" member, so
    # GDAL and QGIS read the coordinates in the right CRS.
    "geojson-crs": Format("GeoJSON", "geojson", "application/geo+json"),
    "csv": Format("CSV", "csv", "text/csv; charset=utf-8", (("GEOMETRY", "AS_WKT"),)),
    # GeoPackage 1.2, what GDAL 3.6 (Debian 12's, QGIS 3.28's) writes and reads without a
    # warning; GDAL >= 3.7 writes 1.4 by default, which 3.6 opens with "may only be partially
    # supported". Nothing we write needs 1.3 or 1.4.
    "gpkg": Format(
        "GPKG", "gpkg", "application/geopackage+sqlite3", dataset_options=(("VERSION", "1.2"),)
    ),
    "shp": Format("ESRI Shapefile", "zip", "application/zip", (("ENCODING", "UTF-8"),)),
    "kml": Format("KML", "kml", "application/vnd.google-earth.kml+xml"),
}
OFFERED = ("geojson", "csv", "gpkg", "shp", "kml")
CSV_CHOICES = ("bom", "geometry")  # the parameters of CSV files only
XY = ("X", "Y")  # the columns' names (GDAL's CSV driver and QGIS find them by these)
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
    fmt = _csv_choices(collection, fmt, params)
    # Every other parameter (bbox, datetime, property=value, filter) selects features exactly
    # as on /collections/{id}/items.
    query = {k: v for k, v in params.items() if k not in ("format", "crs", "f", *CSV_CHOICES)}
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


def _csv_choices(collection: Collection, fmt: Format, params: dict[str, str]) -> Format:
    """CSV for Excel: a UTF-8 byte order mark (`bom`; Excel reads a file without one in the
    system's code page, and Greek comes out garbled); for a point layer, X and Y columns in the
    file's CRS beside the WKT (`geometry=wkt-xy`) or instead of it (`geometry=xy`)."""
    bom = PORTAL_DOWNLOAD["bom"].read(params)
    geometry = PORTAL_DOWNLOAD["geometry"].read(params)
    if fmt.driver != "CSV":  # the defaults (the portal's form sends them) change nothing
        if bom or geometry != "wkt":
            raise BadRequest(f"{'bom' if bom else 'geometry'}: applies to CSV files only")
        return fmt
    kind = collection.layer.geometry_type
    if geometry != "wkt" and kind != "Point":
        raise BadRequest(
            f"geometry: X/Y columns are for point layers; '{collection.id}' holds {kind} "
            "geometries (geometry=wkt)"
        )
    options = dict(fmt.options)
    if bom:
        options["WRITE_BOM"] = "YES"
    if geometry == "xy":
        del options["GEOMETRY"]  # GDAL's CSV driver then writes no geometry column
    return replace(fmt, options=tuple(options.items()), xy=geometry != "wkt")


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
        geometry = meta["geometry_name"] or "wkb_geometry"
        # A CSV without GEOMETRY=AS_WKT has no geometry column: X and Y only.
        keep = fmt.driver != "CSV" or "GEOMETRY" in dict(fmt.options)
        if fmt.xy:
            batches = _with_xy(batches, geometry, keep)
        write_arrow(
            batches,
            target,
            layer=name,
            driver=fmt.driver,
            geometry_name=geometry if keep else None,
            geometry_type=(meta["geometry_type"] or "Unknown") if keep else None,
            # Our GeoJSON carries no CRS member (GDAL would assume CRS84): the coordinates
            # are in `epsg`.
            crs=f"EPSG:{epsg}",
            layer_options=dict(fmt.options) or None,
            dataset_options=dict(fmt.dataset_options) or None,
        )


def _with_xy(batches: Any, geometry: str, keep: bool) -> Any:
    """The batches with X and Y columns (first, as GDAL's own GEOMETRY=AS_XY puts them) taken
    from the point geometries, empty for a feature without one; the geometry column kept or
    not. A property already called X or Y keeps its name: the columns become _X and _Y (__X ...
    while taken)."""
    import pyarrow as pa
    import shapely

    taken = {n.casefold() for n in batches.schema.names}
    names = XY
    while {n.casefold() for n in names} & taken:
        names = tuple(f"_{n}" for n in names)
    kept = [f for f in batches.schema if keep or f.name != geometry]
    fields = [pa.field(n, pa.float64()) for n in names]
    schema = pa.schema(fields + kept, metadata=batches.schema.metadata)

    def batch_with_xy(batch: pa.RecordBatch) -> pa.RecordBatch:
        points = shapely.from_wkb(batch.column(geometry).to_numpy(zero_copy_only=False))
        columns = [
            pa.array(shapely.get_x(points), from_pandas=True),  # NaN (no point): null
            pa.array(shapely.get_y(points), from_pandas=True),
        ]
        columns += [batch.column(f.name) for f in kept]
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, (batch_with_xy(b) for b in batches))


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
