"""Spreadsheets (XLSX, ODS) with coordinate or WKT columns, and CAD drawings (DXF), through
GDAL's drivers.

A spreadsheet's sheet is a table: GDAL reads its cells with their types (numbers, text,
dates), delimited.coordinate_layer finds the geometry columns as for a CSV. Both formats are
zip archives: the archive guards (archives.check_archive: zip bombs, members outside it)
come before GDAL opens one. A DXF drawing has no coordinate reference system: it is refused
unless one is declared. GDAL reads a DXF's text in the code page its header names
($DWGCODEPAGE, e.g. ANSI_1253 for Greek) and its points, lines, polygons and texts as one
layer (each entity's CAD layer in the field Layer, a text's words in Text).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoservice.errors import CRSError, EncodingError, SourceError
from loaders import encoding as enc
from loaders.descriptor import Source
from loaders.readers.archives import check_archive
from loaders.readers.base import RawLayer
from loaders.readers.delimited import coordinate_layer
from loaders.readers.gdal import _declared_types, _pick_layer, read_gdal


def read_spreadsheet(path: Path, source: Source) -> RawLayer:
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, path.name)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name} is not a valid spreadsheet (a damaged file?)") from None
    dataset = str(path)
    sheet = _pick_layer(dataset, path.name, source.layer)  # a sheet: source.layer names it
    # The first row is the header unless source.header is false (GDAL would guess: a sheet of
    # text only would have none); cells keep their types (FIELD_TYPES' default, AUTO).
    headers = "FORCE" if source.header else "DISABLE"
    with _gdal_config(OGR_XLSX_HEADERS=headers, OGR_ODS_HEADERS=headers):
        info = pyogrio.read_info(dataset, layer=sheet)
        table = pyogrio.read_dataframe(dataset, layer=sheet, read_geometry=False)
    display = f"{path.name}, sheet {sheet!r}"
    frame, wkt = coordinate_layer(
        pd.DataFrame(table), source, display, first_line=1 + source.header, infer=False
    )
    declared = _declared_types(info)
    return RawLayer(
        frame,
        None,
        None,
        None,
        [],
        [path],
        sheet,
        driver=info.get("driver") or "",
        geometry_type=None if wkt else "Point",
        field_types={n: t for n, t in declared.items() if n in frame.columns},
    )


@contextmanager
def _gdal_config(**options: str) -> Iterator[None]:
    """GDAL configuration options for one read: these drivers take these choices from
    configuration options only (process-wide: set, then put back)."""
    before = {name: pyogrio.get_gdal_config_option(name) for name in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(before)


def read_dxf(path: Path, source: Source) -> RawLayer:
    if not source.crs:
        raise CRSError(
            f"{path.name}: a CAD drawing (DXF) does not say which coordinate reference system "
            "it was drawn in: declare it as `source.crs` in the descriptor (e.g. EPSG:2100 for "
            "ΕΓΣΑ87) or pass --crs on the command line"
        )
    # A declared encoding wins over the code page the header names ($DWGCODEPAGE).
    declared = _declared_encoding(source.encoding) if source.encoding else None
    with _gdal_config(**({"DXF_ENCODING": declared} if declared else {})):
        raw = read_gdal(str(path), path.name, source, [path])
    if declared:
        raw.encoding, raw.encoding_confidence = declared, 1.0
    column = raw.frame.geometry.name
    raw.frame[column] = gpd.array.from_shapely(_heights(raw.frame[column].to_numpy()))
    return raw


def _declared_encoding(name: str) -> str:
    try:
        return enc.canonical(name)
    except LookupError:
        raise EncodingError(f"unknown text encoding {name!r} in source.encoding") from None


def _heights(geoms: np.ndarray) -> np.ndarray:
    """One dimension for the drawing. GDAL reads texts and blocks as 3D points and hatches
    as 2D polygons: a flat drawing (every height 0) is 2D; in one with heights, an entity
    without any lies at elevation 0, as in CAD."""
    has_z = shapely.has_z(geoms)
    if not has_z.any():
        return geoms
    heights = shapely.get_coordinates(geoms[has_z], include_z=True)[:, 2]
    if np.all((heights == 0) | np.isnan(heights)):
        return shapely.force_2d(geoms)
    return shapely.force_3d(geoms, 0.0)
