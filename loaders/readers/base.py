"""What every reader shares: RawLayer (a source as read), the formats known by suffix, and
the texts of two messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from loaders import encoding as enc
from loaders.notices import Notice

RASTER_SUFFIXES = {".tif", ".tiff", ".hgt", ".asc", ".img", ".jp2", ".dem", ".vrt", ".nc", ".dt0"}
FORMAT_BY_SUFFIX = {
    ".shp": "shapefile",
    ".zip": "zip",
    ".gpkg": "geopackage",
    ".geojson": "geojson",
    ".json": "geojson",
    ".geojsonl": "geojsonseq",
    ".geojsons": "geojsonseq",
    ".geojsonseq": "geojsonseq",
    ".ndjson": "geojsonseq",
    ".jsonl": "geojsonseq",
    ".kml": "kml",
    ".kmz": "kmz",
    ".csv": "delimited",
    ".tsv": "delimited",
    ".txt": "delimited",
    ".gml": "gml",
    ".fgb": "flatgeobuf",
    ".xlsx": "spreadsheet",
    ".ods": "spreadsheet",
    ".dxf": "dxf",
}


@dataclass
class RawLayer:
    """A source as read: attributes and geometries in the source CRS, nothing checked yet."""

    frame: gpd.GeoDataFrame
    crs: CRS | None
    encoding: str | None  # None when the format fixes it (GeoJSON, GeoPackage, KML ...)
    encoding_confidence: float | None
    warnings: list[str]
    source_files: list[Path]  # every file that makes up the source, for a checksum
    layer: str | None
    driver: str = ""
    geometry_type: str | None = None  # as the source declares it (used for empty layers)
    field_types: dict[str, str] = field(default_factory=dict)  # declared: int32, bool, date ...
    # When the data last changed, where the format has a place for it (readers/dates.py):
    # RFC 3339 text, None when the source does not say.
    data_updated: str | None = None


def read_as(name: str, guess: enc.EncodingGuess) -> Notice:
    """How the text was read, in one warning (only for a guess: a declared encoding is a fact,
    not news); a weak guess says how to be sure."""
    if guess.confidence < enc.SURE:
        return Notice(
            "{name}: text read as {encoding}, a guess: {reason}; to be sure, set "
            "source.encoding (--encoding on the command line) or add a .cpg file",
            name=name,
            encoding=guess.encoding,
            reason=guess.reason,
        )
    return Notice(
        "{name}: text read as {encoding}: {reason}",
        name=name,
        encoding=guess.encoding,
        reason=guess.reason,
    )


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    text = re.sub(r"\s+", " ", text.splitlines()[0] if text else type(err).__name__)
    return text[:300]
