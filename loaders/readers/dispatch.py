"""read_source(descriptor) -> RawLayer: which reader a file goes to (by source.format, else its
suffix), what its first bytes say it really is, and every failure as one sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyogrio

from geoservice.errors import EncodingError, GeoserviceError, SourceError
from loaders import encoding as enc
from loaders.descriptor import Descriptor, Source
from loaders.notices import Notice
from loaders.readers.archives import read_zip
from loaders.readers.base import FORMAT_BY_SUFFIX, RASTER_SUFFIXES, RawLayer, first_line
from loaders.readers.delimited import read_delimited
from loaders.readers.gdal import (
    read_geojson,
    read_geojsonseq,
    read_geopackage,
    read_gml,
    read_plain,
)
from loaders.readers.kml import read_kml, read_kmz
from loaders.readers.shapefile import read_shapefile
from loaders.readers.spreadsheet import read_dxf, read_spreadsheet

# A renamed file is told by its first bytes: a clear refusal instead of a parser's complaint.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
    b"SQLite format 3\x00": "an SQLite database",
}
_EXPECTED_SIGNATURE = {"zip": "a zip archive", "kmz": "a zip archive",
                       "spreadsheet": "a zip archive",  # XLSX and ODS are zip archives
                       "geopackage": "an SQLite database"}  # fmt: skip


def read_source(descriptor: Descriptor) -> RawLayer:
    path = descriptor.source_path
    if not path.exists():
        raise SourceError(Notice("source file not found: {path}", path=str(path)))
    kind = _format_of(path, descriptor.source)
    _check_signature(path, kind)
    reader = _READERS[kind]
    try:
        raw = reader(path, descriptor.source)
    except GeoserviceError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise SourceError(
            Notice("cannot read {name}: {reason}", name=path.name, reason=first_line(err))
        ) from None
    except UnicodeDecodeError as err:
        raise EncodingError(
            f"{path.name}: the text does not decode as {err.encoding} ({err.reason}); set "
            "source.encoding in the descriptor"
        ) from None
    except Exception as err:  # GDAL and parsers raise many kinds; none may escape raw
        raise SourceError(
            f"cannot read {path.name}: {type(err).__name__}: {first_line(err)}"
        ) from None
    raw.warnings.extend(
        enc.check_lossy_text(raw.frame, descriptor.source.allow_lossy_text, path.name)
    )
    return raw


def _check_signature(path: Path, kind: str) -> None:
    if not path.is_file():
        return
    with open(path, "rb") as handle:
        head = handle.read(16)
    if not head:
        raise SourceError(
            Notice("{name} is empty (0 bytes): an interrupted copy or download?", name=path.name)
        )
    what = next((name for sig, name in _SIGNATURES.items() if head.startswith(sig)), None)
    if what is not None and what != _EXPECTED_SIGNATURE.get(kind):
        raise SourceError(f"{path.name} is {what}, not a {kind} file (wrong file extension?)")


def _format_of(path: Path, source: Source) -> str:
    if source.format:
        return source.format
    suffix = path.suffix.lower()
    if path.is_dir():
        raise SourceError(f"{path} is a folder: name the file to load")
    if suffix in RASTER_SUFFIXES:
        raise SourceError(f"{path.name} is a raster (grid) file: only vector layers can be loaded")
    if suffix == ".xls":  # GDAL's XLS driver (FreeXL) is not in our build
        raise SourceError(f"{path.name} is an old binary Excel file: save it as .xlsx")
    if suffix in FORMAT_BY_SUFFIX:
        return FORMAT_BY_SUFFIX[suffix]
    if source.x_field or source.wkt_field or source.delimiter or not source.header:
        return "delimited"
    known = ", ".join(sorted(FORMAT_BY_SUFFIX))
    raise SourceError(
        f"{path.name}: unsupported file type {suffix or '(no extension)'!r}; supported: {known}"
        " (set source.format for a coordinates table with another extension)"
    )


_READERS: dict[str, Callable[[Path, Source], RawLayer]] = {
    "shapefile": read_shapefile,
    "zip": read_zip,
    "geopackage": read_geopackage,
    "flatgeobuf": read_plain,
    "gml": read_gml,
    "geojson": read_geojson,
    "geojsonseq": read_geojsonseq,
    "kml": read_kml,
    "kmz": read_kmz,
    "delimited": read_delimited,
    "spreadsheet": read_spreadsheet,
    "dxf": read_dxf,
}
