"""Shapefiles, plain or zipped: the checks GDAL does not make (a corrupt or truncated .shp, an
index pointing elsewhere, records GDAL would read as null geometries) and the .dbf's
encoding (a .cpg that lies).
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np

from geoservice.errors import EncodingError, SourceError
from loaders import encoding as enc
from loaders.descriptor import Source
from loaders.notices import Notice
from loaders.readers.base import RawLayer, read_as
from loaders.readers.gdal import read_gdal

_SHP_MAGIC = b"\x00\x00\x27\x0a"
_PARTS_TYPES = frozenset({3, 5, 13, 15, 23, 25, 31})  # PolyLine, Polygon (Z, M), MultiPatch
_MULTIPOINT_TYPES = frozenset({8, 18, 28})


def read_shapefile(path: Path, source: Source) -> RawLayer:
    sidecars = _sidecars(path)
    for ext in (".shx", ".dbf"):
        if ext not in sidecars:
            raise SourceError(
                f"{path.name}: the shapefile is incomplete, {path.stem}{ext} is missing"
            )
    dbf = sidecars[".dbf"].read_bytes()
    shx = sidecars[".shx"].read_bytes()
    cpg = sidecars[".cpg"].read_text(errors="replace") if ".cpg" in sidecars else None
    files = list(sidecars.values())
    return shapefile_layer(str(path), path.name, source, files, dbf, shx, cpg)


def shapefile_layer(
    dataset: str,
    display: str,
    source: Source,
    files: list[Path],
    dbf: bytes,
    shx: bytes,
    cpg: str | None,
) -> RawLayer:
    shape_type = _check_shp_header(dataset, display)
    types, empty = _record_types(dataset, display, shx, shape_type)
    guess = _dbf_encoding(dbf, cpg, source.encoding, display)
    raw = read_gdal(dataset, display, source, files, encoding=guess)
    _check_shapes_read(raw.frame, int((types == 0).sum()) + empty, display)
    raw.warnings.extend(enc.truncation_warnings(dbf))
    if guess.confidence < 1.0:  # declared (--encoding, a .cpg) or certain: no warning
        raw.warnings.insert(0, read_as(display, guess))
    return raw


def _check_shp_header(dataset: str, display: str) -> int:
    """Refuse what GDAL would half-read: garbage it opens as an empty layer (the magic number
    says otherwise) and a truncated file it reads with the lost features as null geometries
    (the header's file length says how big the file must be). Returns the shape type."""
    with _open_bytes(dataset) as handle:
        head = handle.read(100)
    actual = _byte_size(dataset)
    if head[:4] != _SHP_MAGIC:
        raise SourceError(f"{display} is not a valid shapefile (corrupt or not a .shp file)")
    declared = int.from_bytes(head[24:28], "big") * 2  # in 16-bit words
    if actual < declared:
        raise SourceError(
            f"{display} is truncated: its header says {declared:,} bytes, the file has "
            f"{actual:,} (an interrupted copy or download?)"
        )
    return int.from_bytes(head[32:36], "little")


def _record_types(
    dataset: str, display: str, shx: bytes, shape_type: int
) -> tuple[np.ndarray, int]:
    """The shape type of every record, read where the .shx says the record is, and how many
    records are empty shapes of the layer's type (zero parts or points, as ArcGIS writes for a
    deleted geometry: legal, and read by GDAL as a null geometry). Garbage bytes where a record
    should be are refused: GDAL would read them as a null geometry too."""
    # Record header (8 bytes), then the shape type; for multi-part and multipoint shapes the
    # bounding box and the counts follow (numParts at 44, numPoints at 48 from the record's start).
    width = 52 if shape_type in _PARTS_TYPES | _MULTIPOINT_TYPES else 12
    if len(shx) < 100 or shx[:4] != _SHP_MAGIC or (len(shx) - 100) % 8:
        raise SourceError(f"{display}: its index (.shx) is corrupt")
    index = np.frombuffer(shx, ">i4", offset=100).reshape(-1, 2).astype(np.int64) * 2
    if len(index) and (
        index[:, 0].min() < 100 or (index.sum(axis=1) + 8).max() > _byte_size(dataset)
    ):
        raise SourceError(f"{display}: its index (.shx) points outside the .shp (not its index?)")
    order = np.argsort(index[:, 0], kind="stable")
    offsets = index[order, 0]
    heads = np.zeros((len(offsets), width), np.uint8)
    done, base, buf = 0, 0, b""
    with _open_bytes(dataset) as handle:  # in chunks: a zipped .shp is not seekable cheaply
        while done < len(offsets):
            chunk = handle.read(1 << 24)
            buf += chunk or bytes(width)  # at the end: a short (null) record reads as zeros
            end = int(np.searchsorted(offsets, base + len(buf) - width, side="right"))
            rel = offsets[done:end] - base
            heads[done:end] = np.frombuffer(buf, np.uint8)[rel[:, None] + np.arange(width)]
            done, base, buf = end, base + len(buf) - width, buf[-width:]
            if not chunk:
                break
    types = np.empty(len(offsets), np.int32)
    types[order] = heads[:, 8:12].copy().view("<i4").ravel()
    counts = np.zeros((len(offsets), 2), np.int32)  # numParts (or numPoints), numPoints
    if width == 52:
        counts[order] = heads[:, 44:52].copy().view("<i4").reshape(-1, 2)
    if shape_type in _PARTS_TYPES:
        empty_shapes = (types == shape_type) & ((counts[:, 0] == 0) | (counts[:, 1] == 0))
    else:
        empty_shapes = (types == shape_type) & (counts[:, 0] == 0) & (width == 52)
    wrong = np.flatnonzero((types != 0) & (types != shape_type))
    if len(wrong):
        raise SourceError(
            f"{display} is corrupt: {len(wrong):,} record(s) hold no valid shape, e.g. record "
            f"{wrong[0] + 1} (garbage bytes?)"
        )
    return types, int(empty_shapes.sum())


def _check_shapes_read(frame: gpd.GeoDataFrame, without_shape: int, display: str) -> None:
    """A record GDAL cannot decode (or a .dbf row with no record) comes back as a null
    geometry: more nulls than records without a shape (null or empty ones) means features
    lost. Counted, not matched row by row, because GDAL skips the rows a .dbf marks deleted."""
    nulls = frame.geometry.isna().to_numpy()
    lost = int(nulls.sum()) - without_shape
    if lost > 0:
        raise SourceError(
            f"{display} is corrupt: {lost:,} shape(s) cannot be decoded (garbage bytes?), "
            f"e.g. feature {int(np.argmax(nulls)) + 1}"
        )


def _open_bytes(dataset: str) -> io.BufferedIOBase:
    """Open a plain path or a /vsizip/ member for reading a few bytes."""
    if dataset.startswith("/vsizip/"):
        archive, member = _split_vsizip(dataset)
        return zipfile.ZipFile(archive).open(member)  # type: ignore[return-value]
    return open(dataset, "rb")


def _byte_size(dataset: str) -> int:
    if dataset.startswith("/vsizip/"):
        archive, member = _split_vsizip(dataset)
        with zipfile.ZipFile(archive) as zf:
            return zf.getinfo(member).file_size
    return os.path.getsize(dataset)


def _split_vsizip(dataset: str) -> tuple[str, str]:
    rest = dataset[len("/vsizip/") :]
    cut = rest.lower().index(".zip/") + 4
    return rest[:cut], rest[cut + 1 :]


def _dbf_encoding(
    dbf: bytes, cpg: str | None, override: str | None, display: str
) -> enc.EncodingGuess:
    guess = enc.resolve_dbf_encoding(dbf, cpg, override)
    if guess.confidence < 1.0:
        return guess
    bad = _undecodable(dbf, guess.encoding)
    if bad is None:
        return guess
    if override:
        raise EncodingError(
            f"{display}: field '{bad[0]}' does not decode as {guess.encoding} (declared in "
            f"source.encoding), e.g. bytes {bad[1]!r}"
        )
    fallback = enc.resolve_dbf_encoding(dbf)
    fallback.warnings.insert(
        0,
        Notice(
            "the .cpg file says {declared} but field '{field}' does not decode as such "
            "(e.g. {example!r}); detected {detected} instead",
            declared=guess.encoding,
            field=bad[0],
            example=bad[1],
            detected=fallback.encoding,
        ),
    )
    return fallback


def _undecodable(dbf: bytes, encoding: str) -> tuple[str, bytes] | None:
    for name, block in enc.parse_dbf(dbf).char_fields.items():
        data = block.tobytes()
        try:
            data.decode(encoding)
        except UnicodeDecodeError as err:
            return name, data[max(0, err.start - 10) : err.end + 10]
    return None


def _sidecars(path: Path) -> dict[str, Path]:
    """The files of a shapefile by lower-case suffix (.SHP/.DBF spelt any case)."""
    found = {path.suffix.lower(): path}
    for other in path.parent.iterdir():
        if other.stem == path.stem and other != path:
            suffix = other.suffix.lower()
            if suffix in {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx"}:
                found[suffix] = other
    return found
