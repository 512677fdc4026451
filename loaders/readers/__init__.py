"""Read a source file into a GeoDataFrame in its own CRS: read_source(descriptor) -> RawLayer.

GDAL (through pyogrio) reads Shapefile (also zipped), GeoPackage, GeoJSON, GeoJSON
sequences, GML and FlatGeobuf. We read two formats ourselves because GDAL loses data there:
- KML: GDAL's drivers drop SchemaData fields with non-ASCII names (sample 06's "Όνομα") and
  merge a "Name" field into <name>; kml.py-style parsing with lxml keeps every field.
- Delimited text: GDAL's CSV driver cannot read whitespace-separated tables without a header.
Every GDAL failure becomes a SourceError with one sentence naming the file.

One module per job: dispatch (read_source: which reader, what the first bytes say, errors as
one sentence), base (RawLayer, the formats by suffix), gdal (the formats GDAL reads well),
shapefile (its checks and .dbf encoding), archives (zip layers and the guards of every
archive), kml, delimited (CSV and other text tables), spreadsheet (XLSX and ODS sheets, DXF
drawings), dates (the data's own date of last change, where the format has a place for it).
"""

from loaders.readers.archives import MAX_ARCHIVE_BYTES, MAX_RATIO, RATIO_FLOOR
from loaders.readers.base import FORMAT_BY_SUFFIX, RASTER_SUFFIXES, RawLayer
from loaders.readers.dispatch import read_source

__all__ = [
    "FORMAT_BY_SUFFIX",
    "MAX_ARCHIVE_BYTES",
    "MAX_RATIO",
    "RASTER_SUFFIXES",
    "RATIO_FLOOR",
    "RawLayer",
    "read_source",
]
