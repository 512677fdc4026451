"""Read a source file into a GeoDataFrame in its own CRS: read_source(descriptor) -> RawLayer.

GDAL (through pyogrio) reads Shapefile (also zipped), GeoPackage, GeoJSON, GeoJSON
sequences, GML and FlatGeobuf. We read two formats ourselves because GDAL loses data there:
- KML: GDAL's drivers drop SchemaData fields with non-ASCII names (sample 06's "Όνομα") and
  merge a "Name" field into <name>; kml.py-style parsing with lxml keeps every field.
- Delimited text: GDAL's CSV driver cannot read whitespace-separated tables without a header.
Every GDAL failure becomes a SourceError with one sentence naming the file.
"""

from __future__ import annotations

import io
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from lxml import etree
from pyproj import CRS

from geoservice.errors import EncodingError, GeoserviceError, LoadError, SourceError
from loaders import encoding as enc
from loaders.crs import CRS84
from loaders.descriptor import Descriptor, Source
from loaders.notices import Notice, greek

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
}
# Compared after _fold(); Greek tables write X/Y with the look-alike capitals Χ (chi), Υ (upsilon).
_X_NAMES = ("lon", "lng", "long", "longitude", "x", "easting", "x_coord", "μηκος", "χ")
_Y_NAMES = ("lat", "latitude", "y", "northing", "y_coord", "πλατος", "υ")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom")

# Archives are never extracted (GDAL streams /vsizip/, KML is read into memory), but a hostile
# one can still unpack to far more than the disk or memory holds: refuse it before reading.
MAX_ARCHIVE_BYTES = 2 << 30  # total uncompressed size of all members
MAX_RATIO = 200  # uncompressed / compressed, for members bigger than RATIO_FLOOR
RATIO_FLOOR = 8 << 20
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
                       "geopackage": "an SQLite database"}  # fmt: skip
_SHP_MAGIC = b"\x00\x00\x27\x0a"


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


def read_source(descriptor: Descriptor) -> RawLayer:
    path = descriptor.source_path
    if not path.exists():
        raise SourceError(f"source file not found: {path}")
    kind = _format_of(path, descriptor.source)
    _check_signature(path, kind)
    reader = _READERS[kind]
    try:
        raw = reader(path, descriptor.source)
    except GeoserviceError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise SourceError(f"cannot read {path.name}: {_first_line(err)}") from None
    except UnicodeDecodeError as err:
        raise EncodingError(
            f"{path.name}: the text does not decode as {err.encoding} ({err.reason}); set "
            "source.encoding in the descriptor"
        ) from None
    except Exception as err:  # GDAL and parsers raise many kinds; none may escape raw
        raise SourceError(
            f"cannot read {path.name}: {type(err).__name__}: {_first_line(err)}"
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
        raise SourceError(f"{path.name} is empty (0 bytes): an interrupted copy or download?")
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
    if suffix in FORMAT_BY_SUFFIX:
        return FORMAT_BY_SUFFIX[suffix]
    if source.x_field or source.wkt_field or source.delimiter or not source.header:
        return "delimited"
    known = ", ".join(sorted(FORMAT_BY_SUFFIX))
    raise SourceError(
        f"{path.name}: unsupported file type {suffix or '(no extension)'!r}; supported: {known}"
        " (set source.format for a coordinates table with another extension)"
    )


# --- GDAL formats -------------------------------------------------------------------------


def _read_gdal(
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
    # Arrow batches read several times faster than pyogrio's per-field path.
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


def _read_shapefile(path: Path, source: Source) -> RawLayer:
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
    return _shapefile_layer(str(path), path.name, source, files, dbf, shx, cpg)


def _shapefile_layer(
    dataset: str,
    display: str,
    source: Source,
    files: list[Path],
    dbf: bytes,
    shx: bytes,
    cpg: str | None,
) -> RawLayer:
    shape_type = _check_shp_header(dataset, display)
    types = _record_types(dataset, display, shx, shape_type)
    guess = _dbf_encoding(dbf, cpg, source.encoding, display)
    raw = _read_gdal(dataset, display, source, files, encoding=guess)
    _check_shapes_read(raw.frame, types, display)
    raw.warnings.extend(enc.truncation_warnings(dbf))
    raw.warnings.insert(0, _read_as(display, guess))
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


def _record_types(dataset: str, display: str, shx: bytes, shape_type: int) -> np.ndarray:
    """The shape type of every record, read where the .shx says the record is. Garbage bytes
    where a record should be are refused: GDAL would read them as a null geometry."""
    if len(shx) < 100 or shx[:4] != _SHP_MAGIC or (len(shx) - 100) % 8:
        raise SourceError(f"{display}: its index (.shx) is corrupt")
    index = np.frombuffer(shx, ">i4", offset=100).reshape(-1, 2).astype(np.int64) * 2
    if len(index) and (
        index[:, 0].min() < 100 or (index.sum(axis=1) + 8).max() > _byte_size(dataset)
    ):
        raise SourceError(f"{display}: its index (.shx) points outside the .shp (not its index?)")
    order = np.argsort(index[:, 0], kind="stable")
    offsets = index[order, 0]
    heads = np.zeros((len(offsets), 12), np.uint8)
    done, base, buf = 0, 0, b""
    with _open_bytes(dataset) as handle:  # in chunks: a zipped .shp is not seekable cheaply
        while done < len(offsets) and (chunk := handle.read(1 << 24)):
            buf += chunk
            end = int(np.searchsorted(offsets, base + len(buf) - 12, side="right"))
            rel = offsets[done:end] - base
            heads[done:end] = np.frombuffer(buf, np.uint8)[rel[:, None] + np.arange(12)]
            done, base, buf = end, base + len(buf) - 12, buf[-12:]
    types = np.empty(len(offsets), np.int32)
    types[order] = heads[:, 8:12].copy().view("<i4").ravel()
    wrong = np.flatnonzero((types != 0) & (types != shape_type))
    if len(wrong):
        raise SourceError(
            f"{display} is corrupt: {len(wrong):,} record(s) hold no valid shape, e.g. record "
            f"{wrong[0] + 1} (garbage bytes?)"
        )
    return types


def _check_shapes_read(frame: gpd.GeoDataFrame, types: np.ndarray, display: str) -> None:
    """A record GDAL cannot decode (or a .dbf row with no record) comes back as a null
    geometry: more nulls than null records means features lost. Counted, not matched row by
    row, because GDAL skips the rows a .dbf marks deleted."""
    nulls = frame.geometry.isna().to_numpy()
    lost = int(nulls.sum()) - int((types == 0).sum())
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
            f"the .cpg file says {guess.encoding} but field '{bad[0]}' does not decode as such "
            f"(e.g. {bad[1]!r}); detected {fallback.encoding} instead",
            f"το αρχείο .cpg δηλώνει {guess.encoding}, αλλά το πεδίο '{bad[0]}' δεν "
            f"αποκωδικοποιείται έτσι (π.χ. {bad[1]!r})· ανιχνεύθηκε {fallback.encoding}",
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


def _read_zip(path: Path, source: Source) -> RawLayer:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name} is not a valid zip archive") from None
    with archive:
        _check_archive(archive, path.name)
        names = [
            n for n in archive.namelist() if not n.startswith("__MACOSX") and not n.endswith("/")
        ]
        member = _zip_member(path, names, source.layer)
        dataset = f"/vsizip/{path.resolve()}/{member}"
        suffix = Path(member).suffix.lower()
        if suffix == ".shp":
            stem = member[: -len(suffix)]
            by_ext = {Path(n).suffix.lower(): n for n in names if n[: -len(Path(n).suffix)] == stem}
            for ext in (".shx", ".dbf"):
                if ext not in by_ext:
                    raise SourceError(f"{path.name}: the zipped shapefile {member} has no {ext}")
            dbf = _read_member(archive, by_ext[".dbf"], path.name)
            shx = _read_member(archive, by_ext[".shx"], path.name)
            cpg = _read_member(archive, by_ext[".cpg"], path.name) if ".cpg" in by_ext else None
    if suffix == ".shp":
        zipped = source.model_copy(update={"layer": None})
        cpg_text = cpg.decode("latin-1") if cpg is not None else None
        display = f"{path.name}/{member}"
        return _shapefile_layer(dataset, display, zipped, [path], dbf, shx, cpg_text)
    return _read_gdal(dataset, f"{path.name}/{member}", source, [path])


def _check_archive(archive: zipfile.ZipFile, display: str) -> None:
    """Refuse members named outside the archive, symbolic links and zip bombs (by the sizes
    the archive declares; _read_member bounds what is actually read)."""
    total = 0
    for info in archive.infolist():
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise SourceError(f"{display}: the member {name!r} points outside the archive")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise SourceError(f"{display}: the member {name!r} is a symbolic link")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise SourceError(
                f"{display}: the member {name!r} unpacks to {ratio:,.0f} times its packed size "
                "(a zip bomb?)"
            )
        total += info.file_size
    if total > MAX_ARCHIVE_BYTES:
        raise SourceError(
            f"{display} unpacks to {total:,} bytes, more than the {MAX_ARCHIVE_BYTES:,} allowed"
        )


def _read_member(archive: zipfile.ZipFile, name: str, display: str) -> bytes:
    with archive.open(name) as stream:
        data = stream.read(MAX_ARCHIVE_BYTES + 1)  # the declared size may lie
    if len(data) > MAX_ARCHIVE_BYTES:
        raise SourceError(f"{display}: {name} unpacks to more than {MAX_ARCHIVE_BYTES:,} bytes")
    return data


def _zip_member(path: Path, names: list[str], wanted: str | None) -> str:
    data = [n for n in names if FORMAT_BY_SUFFIX.get(Path(n).suffix.lower()) not in (None, "zip")]
    if wanted:
        matches = [n for n in data if wanted in (n, Path(n).name, Path(n).stem)]
        if matches:
            return matches[0]
    if len(data) == 1:
        return data[0]
    if not data:
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        hint = (
            "; a shapefile's .shp is missing"
            if any(n.lower().endswith((".dbf", ".shx")) for n in names)
            else ""
        )
        raise SourceError(
            f"{path.name} holds no file of a supported format ({shown or 'it is empty'}){hint}"
        )
    raise SourceError(
        f"{path.name} holds {len(data)} datasets ({', '.join(data)}): name one as source.layer"
    )


def _read_plain(path: Path, source: Source) -> RawLayer:
    return _read_gdal(str(path), path.name, source, [path])


def _read_geopackage(path: Path, source: Source) -> RawLayer:
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
    return _read_gdal(str(path), path.name, source, [path])


def _read_gml(path: Path, source: Source) -> RawLayer:
    files = [path] + [p for p in (path.with_suffix(".xsd"), path.with_suffix(".gfs")) if p.exists()]
    # WRITE_GFS=NO: never write a .gfs next to the user's file.
    return _read_gdal(str(path), path.name, source, files, WRITE_GFS="NO")


def _read_geojson(path: Path, source: Source) -> RawLayer:
    try:
        raw = _read_gdal(str(path), path.name, source, [path])
    except pyogrio.errors.DataSourceError as err:
        # A .json holding newline-delimited features is a GeoJSON text sequence. Anything
        # else (cut short, a number GDAL cannot parse) reads as an empty sequence: refuse it.
        try:
            raw = _read_gdal(f"GeoJSONSeq:{path}", path.name, source, [path])
        except pyogrio.errors.DataSourceError:
            raw = None
        if raw is None or not len(raw.frame):
            raise SourceError(
                f"{path.name} is not valid GeoJSON (cut short or corrupt?): {_first_line(err)}"
            ) from None
    _geojson_crs(raw)
    return raw


def _read_geojsonseq(path: Path, source: Source) -> RawLayer:
    raw = _read_gdal(f"GeoJSONSeq:{path}", path.name, source, [path])
    _geojson_crs(raw)
    return raw


def _geojson_crs(raw: RawLayer) -> None:
    """RFC 7946: GeoJSON without a crs member is CRS84 (GDAL reports EPSG:4326 in lon/lat)."""
    if raw.crs is None or raw.crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        raw.crs = CRS84
        raw.frame = raw.frame.set_crs(CRS84, allow_override=True)


# --- KML ----------------------------------------------------------------------------------

_KML_TYPES = {"int": "int", "uint": "int", "short": "int", "ushort": "int", "float": "float",
              "double": "float", "bool": "bool"}  # fmt: skip
_GEOMETRY_TAGS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _read_kml(path: Path, source: Source) -> RawLayer:
    return _parse_kml(path.read_bytes(), path.name, source, [path])


def _read_kmz(path: Path, source: Source) -> RawLayer:
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, path.name)
            kmls = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not kmls:
                raise SourceError(f"{path.name} holds no .kml document")
            name = "doc.kml" if "doc.kml" in kmls else kmls[0]
            data = _read_member(archive, name, path.name)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name} is not a valid KMZ (zip) archive") from None
    return _parse_kml(data, path.name, source, [path])


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _parse_kml(data: bytes, display: str, source: Source, files: list[Path]) -> RawLayer:
    try:
        root = etree.fromstring(data, etree.XMLParser(huge_tree=True, recover=False))
    except etree.XMLSyntaxError as err:
        raise SourceError(f"{display} is not valid KML (XML error: {err})") from None
    schema_types = {
        sf.get("name"): _KML_TYPES.get((sf.get("type") or "").lower(), "string")
        for sf in root.iter("{*}SimpleField")
    }
    placemarks = list(root.iter("{*}Placemark"))
    names: dict[etree._Element, str | None] = {}  # Folder -> name: a folder may hold 10k marks
    owner = [_folder_of(p, names) for p in placemarks]
    if source.layer is not None:
        folders = sorted({f for f in owner if f is not None})
        placemarks = [p for p, f in zip(placemarks, owner, strict=True) if f == source.layer]
        if not placemarks:
            raise SourceError(
                f"{display} has no folder {source.layer!r}; its folders: {', '.join(folders)}"
            )
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry | None] = []
    for pm in placemarks:
        rows.append(_kml_properties(pm))
        geoms.append(_kml_geometry(pm))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    frame = pd.DataFrame(rows, columns=columns or None)
    for name in frame.columns:
        kind = schema_types.get(name, "string")
        if kind != "string":
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
            if kind == "int":
                frame[name] = frame[name].astype("Int64")
    geo = gpd.GeoDataFrame(frame, geometry=_drop_flat_z(np.array(geoms, dtype=object)), crs=CRS84)
    clashes = [k for k in columns if k.lower() in ("name", "description") and k != k.lower()]
    warnings = [
        Notice(
            f"{display}: the ExtendedData field '{k}' has the same name as the placemark "
            f"<{k.lower()}>: both kept, under distinct column names",
            f"{display}: το πεδίο ExtendedData '{k}' έχει το ίδιο όνομα με το <{k.lower()}> "
            "του placemark: κρατήθηκαν και τα δύο, σε στήλες με διαφορετικά ονόματα",
        )
        for k in clashes
    ]
    layer = source.layer or (owner[0] if owner and len(set(owner)) == 1 else None)
    return RawLayer(geo, CRS84, None, None, warnings, files, layer, driver="KML (lxml)",
                    geometry_type=None)  # fmt: skip


def _folder_of(pm: etree._Element, names: dict[etree._Element, str | None]) -> str | None:
    """The name of the nearest named Folder or Document around a placemark."""
    parent = pm.getparent()
    while parent is not None:
        if parent not in names:
            node = parent.find("{*}name") if _local(parent.tag) in ("Folder", "Document") else None
            names[parent] = node.text.strip() if node is not None and node.text else None
        if names[parent] is not None:
            return names[parent]
        parent = parent.getparent()
    return None


def _kml_properties(pm: etree._Element) -> dict[str, object]:
    row: dict[str, object] = {}
    for tag in ("name", "description"):
        node = pm.find("{*}" + tag)
        if node is not None and node.text is not None:
            row[tag] = node.text.strip()
    for data in pm.iterfind("{*}ExtendedData/{*}Data"):
        value = data.find("{*}value")
        row[data.get("name", "")] = value.text if value is not None else None
    for data in pm.iterfind("{*}ExtendedData/{*}SchemaData/{*}SimpleData"):
        row[data.get("name", "")] = data.text
    return row


def _kml_geometry(pm: etree._Element) -> shapely.Geometry | None:
    for child in pm:
        if _local(child.tag) in _GEOMETRY_TAGS:
            return _kml_shape(child)
    return None


def _kml_shape(node: etree._Element) -> shapely.Geometry | None:
    kind = _local(node.tag)
    if kind == "Point":
        coords = _kml_coords(node)
        return shapely.Point(coords[0]) if coords else None
    if kind in ("LineString", "LinearRing"):
        coords = _kml_coords(node)
        return shapely.LineString(coords) if len(coords) >= 2 else None
    if kind == "Polygon":
        outer = node.find("{*}outerBoundaryIs/{*}LinearRing")
        if outer is None:
            return None
        holes = [_kml_coords(r) for r in node.iterfind("{*}innerBoundaryIs/{*}LinearRing")]
        return shapely.Polygon(_kml_coords(outer), holes)
    if kind == "MultiGeometry":
        parts = [g for c in node if _local(c.tag) in _GEOMETRY_TAGS if (g := _kml_shape(c))]
        types = {p.geom_type for p in parts}
        if types == {"Point"}:
            return shapely.MultiPoint(parts)
        if types == {"LineString"}:
            return shapely.MultiLineString(parts)
        if types == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts) if parts else None
    return None


def _kml_coords(node: etree._Element) -> list[tuple[float, ...]]:
    text = node.findtext("{*}coordinates") or ""
    return [tuple(float(v) for v in tup.split(",")) for tup in text.split()]


def _drop_flat_z(geoms: np.ndarray) -> np.ndarray:
    """KML writes altitude 0 for ground features: an all-zero Z carries no information."""
    if not shapely.has_z(geoms).any():
        return geoms
    z = shapely.get_coordinates(geoms, include_z=True)[:, 2]
    return shapely.force_2d(geoms) if np.all((z == 0) | np.isnan(z)) else geoms


# --- Delimited text -----------------------------------------------------------------------


def _read_delimited(path: Path, source: Source) -> RawLayer:
    data = path.read_bytes()
    guess = _text_encoding(data, source.encoding)
    text = data.decode(guess.encoding, errors="strict")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].lstrip().startswith("#")):
        skip += 1
    if skip == len(lines):
        raise SourceError(f"{path.name} holds no data lines")
    sep = _delimiter(source.delimiter, lines[skip])
    table = pd.read_csv(
        io.StringIO("\n".join(lines[skip:])),
        sep=sep,
        header=0 if source.header else None,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
        engine="python" if sep not in (",", ";", "\t", "|", r"\s+") else "c",
    )
    table = _name_columns(table, source, path.name)
    table = table.apply(lambda s: s.str.strip()).replace("", None)
    geometry, wkt = _table_geometry(table, source, path.name, first_line=skip + 1 + source.header)
    if wkt is not None:
        table = table.drop(columns=[wkt])
    table = _infer_types(table)
    frame = gpd.GeoDataFrame(table, geometry=geometry, crs=None)
    warnings = list(guess.warnings)
    if guess.confidence < 1.0:
        warnings.insert(0, _read_as(path.name, guess))
    return RawLayer(frame, None, guess.encoding, guess.confidence, warnings, [path], None,
                    driver="delimited text", geometry_type=None if wkt else "Point")  # fmt: skip


def _read_as(name: str, guess: enc.EncodingGuess) -> Notice:
    return Notice(
        f"{name}: text read as {guess.encoding}: {guess.reason}",
        f"{name}: το κείμενο διαβάστηκε ως {guess.encoding}: {greek(guess.reason)}",
    )


def _text_encoding(data: bytes, override: str | None) -> enc.EncodingGuess:
    if override:
        try:
            declared = Notice("declared in the descriptor", "δηλωμένη στην περιγραφή")
            return enc.EncodingGuess(enc.canonical(override), 1.0, declared)
        except LookupError:
            raise EncodingError(f"unknown text encoding {override!r} in source.encoding") from None
    if data.startswith(b"\xef\xbb\xbf"):
        bom = Notice(
            "the file starts with a UTF-8 byte-order mark",
            "το αρχείο αρχίζει με σήμα σειράς byte (BOM) του UTF-8",
        )
        return enc.EncodingGuess("utf-8", 1.0, bom)
    return enc.detect_encoding(data)


def _delimiter(declared: str | None, first: str) -> str:
    if declared:
        named = {"tab": "\t", "\\t": "\t", "whitespace": r"\s+", " ": r"\s+", "space": r"\s+"}
        return named.get(declared.lower(), declared)
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else r"\s+"


def _name_columns(table: pd.DataFrame, source: Source, display: str) -> pd.DataFrame:
    if source.header:
        table.columns = [str(c).strip() for c in table.columns]
        return table
    if source.columns:
        if len(source.columns) != len(table.columns):
            raise SourceError(
                f"{display} has {len(table.columns)} columns but source.columns names "
                f"{len(source.columns)}"
            )
        table.columns = source.columns
    else:
        table.columns = [f"field_{i}" for i in range(1, len(table.columns) + 1)]
    return table


def _column(table: pd.DataFrame, spec: str | None, names: tuple[str, ...], what: str) -> str | None:
    columns = list(table.columns)
    if spec is not None:
        if spec in columns:
            return spec
        if spec.isdigit() and 1 <= int(spec) <= len(columns):
            return columns[int(spec) - 1]
        folded = {_fold(c): c for c in columns}
        if _fold(spec) in folded:
            return folded[_fold(spec)]
        raise LoadError(
            f"source.{what} {spec!r} is not a column; the columns: {', '.join(map(str, columns))}"
        )
    folded = {_fold(c): c for c in columns}
    return next((folded[_fold(n)] for n in names if _fold(n) in folded), None)


def _fold(name: object) -> str:
    """Case- and accent-insensitive form of a column name ("Πλάτος" ~ "πλατος")."""
    decomposed = unicodedata.normalize("NFD", str(name).strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _wkt_column(table: pd.DataFrame, source: Source) -> str | None:
    if source.x_field or source.y_field:
        return None
    return _column(table, source.wkt_field, _WKT_NAMES, "wkt_field")


def _table_geometry(
    table: pd.DataFrame, source: Source, display: str, first_line: int
) -> tuple[np.ndarray, str | None]:
    """The geometries, and the WKT column they came from (None for x/y columns)."""
    wkt = _wkt_column(table, source)
    if wkt is not None:
        return _parse_wkt(table[wkt], display, first_line), wkt
    x = _column(table, source.x_field, _X_NAMES, "x_field")
    y = _column(table, source.y_field, _Y_NAMES, "y_field")
    if x is None or y is None:
        raise SourceError(
            f"{display}: no coordinate columns found (columns: "
            f"{', '.join(map(str, table.columns))}); name them with source.x_field and "
            "source.y_field, or source.wkt_field"
        )
    xs = _numbers(table[x], display, first_line)
    ys = _numbers(table[y], display, first_line)
    table[x], table[y] = xs, ys
    geoms = shapely.points(np.column_stack([xs, ys]))
    geoms[np.isnan(xs) | np.isnan(ys)] = None
    return geoms, None


def _numbers(column: pd.Series, display: str, first_line: int) -> np.ndarray:
    text = column.str.replace(",", ".", regex=False)  # decimal comma (Greek spreadsheets)
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise LoadError(
            f"{display}, line {first_line + pos}: coordinate {column.iloc[pos]!r} in column "
            f"'{column.name}' is not a number"
        )
    return values.to_numpy(dtype=float)


def _parse_wkt(column: pd.Series, display: str, first_line: int) -> np.ndarray:
    values = column.astype(object).where(column.notna(), None).to_numpy()
    geoms = shapely.from_wkt(values, on_invalid="ignore")
    bad = shapely.is_missing(geoms) & pd.notna(values)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LoadError(
            f"{display}, line {first_line + pos}: {str(values[pos])[:60]!r} in column "
            f"'{column.name}' is not valid WKT"
        )
    return geoms


_INT = r"[+-]?(?:0|[1-9]\d*)"  # a leading zero marks a code ("007"): stays a string
_FLOAT = r"[+-]?(?:(?:0|[1-9]\d*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PARSERS: list[tuple[str, str, Callable[[pd.Series], pd.Series]]] = [
    ("integer", _INT, lambda s: pd.to_numeric(s).astype("Int64")),
    ("number", _FLOAT, lambda s: pd.to_numeric(s)),
    ("boolean", r"(?i:true|false)", lambda s: s.str.lower().map({"true": True, "false": False})),
]


def _infer_types(table: pd.DataFrame) -> pd.DataFrame:
    """Text tables have no declared types: numbers only when every value is one."""
    for name in table.columns:
        column = table[name]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        values = column.dropna()
        if values.empty:
            continue
        for _, pattern, parse in _PARSERS:
            if values.str.fullmatch(pattern).all():
                table[name] = parse(column)
                break
    return table


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    text = re.sub(r"\s+", " ", text.splitlines()[0] if text else type(err).__name__)
    return text[:300]


_READERS: dict[str, Callable[[Path, Source], RawLayer]] = {
    "shapefile": _read_shapefile,
    "zip": _read_zip,
    "geopackage": _read_geopackage,
    "flatgeobuf": _read_plain,
    "gml": _read_gml,
    "geojson": _read_geojson,
    "geojsonseq": _read_geojsonseq,
    "kml": _read_kml,
    "kmz": _read_kmz,
    "delimited": _read_delimited,
}
