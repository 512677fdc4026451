"""The formats GDAL (through pyogrio) reads well: GeoPackage, GeoJSON, GeoJSON sequences, GML,
FlatGeobuf; and read_gdal, which the shapefile and archive readers use too.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
from pyproj import CRS

from geoservice.errors import SourceError
from loaders import encoding as enc
from loaders.crs import CRS84
from loaders.descriptor import Source
from loaders.readers import dates
from loaders.readers.base import RawLayer, first_line


def read_gdal(
    dataset: str,
    display: str,
    source: Source,
    files: list[Path],
    *,
    encoding: enc.EncodingGuess | None = None,
    **open_options: str,
) -> RawLayer:
    layer = _pick_layer(dataset, display, source.layer)
    kwargs: dict = {"layer": layer, **open_options}
    if encoding is not None:
        kwargs["encoding"] = _gdal_encoding(encoding.encoding)
    info = pyogrio.read_info(dataset, **kwargs)
    # Arrow batches: pyogrio's per-field path is the slower way to read the attributes.
    frame = pyogrio.read_dataframe(dataset, use_arrow=True, **kwargs)
    crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
    warnings = list(encoding.warnings) if encoding else []
    return RawLayer(
        frame=frame,
        crs=crs,
        encoding=encoding.encoding if encoding else None,
        encoding_confidence=encoding.confidence if encoding else None,
        warnings=warnings,
        source_files=files,
        layer=layer,
        driver=info.get("driver") or "",
        geometry_type=info.get("geometry_type"),
        field_types=_declared_types(info),
        data_updated=dates.from_gdal_metadata(info),
    )


def _declared_types(info: dict) -> dict[str, str]:
    """Field dtypes as GDAL declares them ("date" for OFTDate, which pandas cannot hold)."""
    pairs = zip(info["fields"], info["dtypes"], info.get("ogr_types") or [], strict=False)
    return {str(n): "date" if ogr == "OFTDate" else str(dtype) for n, dtype, ogr in pairs}


def _gdal_encoding(name: str) -> str:
    # pyogrio mishandles some lower-case spellings ("iso-8859-1"); ASCII is a subset of UTF-8.
    return "UTF-8" if name == "ascii" else name.upper()


def _pick_layer(dataset: str, display: str, wanted: str | None) -> str:
    layers = [str(name) for name, _ in pyogrio.list_layers(dataset)]
    if wanted is not None:
        if wanted not in layers:
            raise SourceError(
                f"{display} has no layer {wanted!r}; its layers: {', '.join(layers) or 'none'}"
            )
        return wanted
    if len(layers) == 1:
        return layers[0]
    if not layers:
        raise SourceError(f"{display} holds no layers")
    raise SourceError(
        f"{display} holds {len(layers)} layers ({', '.join(layers)}): name one as source.layer"
    )


def read_plain(path: Path, source: Source) -> RawLayer:
    return read_gdal(str(path), path.name, source, [path])


def read_geopackage(path: Path, source: Source) -> RawLayer:
    """SQLite reports a cut file as 'database disk image is malformed': say what happened."""
    with open(path, "rb") as handle:
        head = handle.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        raise SourceError(f"{path.name} is not a GeoPackage (no SQLite header): corrupt?")
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")  # valid when bytes 92-96 match the counter
    declared, actual = page_size * pages, path.stat().st_size
    if head[24:28] == head[92:96] and actual < declared:
        raise SourceError(
            f"{path.name} is truncated: its header says {declared:,} bytes, the file has "
            f"{actual:,} (an interrupted copy or download?)"
        )
    raw = read_gdal(str(path), path.name, source, [path])
    raw.data_updated = dates.gpkg_last_change(path, raw.layer)
    return raw


def read_gml(path: Path, source: Source) -> RawLayer:
    files = [path] + [p for p in (path.with_suffix(".xsd"), path.with_suffix(".gfs")) if p.exists()]
    # WRITE_GFS=NO: never write a .gfs next to the user's file.
    return read_gdal(str(path), path.name, source, files, WRITE_GFS="NO")


def read_geojson(path: Path, source: Source) -> RawLayer:
    try:
        raw = read_gdal(str(path), path.name, source, [path])
    except pyogrio.errors.DataSourceError as err:
        # A .json holding newline-delimited features is a GeoJSON text sequence. Anything
        # else (cut short, a number GDAL cannot parse) reads as an empty sequence: refuse it.
        try:
            raw = read_gdal(f"GeoJSONSeq:{path}", path.name, source, [path])
        except pyogrio.errors.DataSourceError:
            raw = None
        if raw is None or not len(raw.frame):
            raise SourceError(
                f"{path.name} is not valid GeoJSON (cut short or corrupt?): {first_line(err)}"
            ) from None
    _geojson_crs(raw)
    return raw


def read_geojsonseq(path: Path, source: Source) -> RawLayer:
    raw = read_gdal(f"GeoJSONSeq:{path}", path.name, source, [path])
    _geojson_crs(raw)
    return raw


def _geojson_crs(raw: RawLayer) -> None:
    """RFC 7946: GeoJSON without a crs member is CRS84 (GDAL reports EPSG:4326 in lon/lat)."""
    if raw.crs is None or raw.crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        raw.crs = CRS84
        raw.frame = raw.frame.set_crs(CRS84, allow_override=True)
