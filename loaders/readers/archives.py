"""Zip archives: the layer inside a .zip, and the guards every archive (.zip, .kmz) passes:
members named outside it, symbolic links, zip bombs (check_archive), bounded reads
(read_member).
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

from geoservice.errors import SourceError
from loaders.descriptor import Source
from loaders.readers.base import FORMAT_BY_SUFFIX, RawLayer
from loaders.readers.gdal import read_gdal
from loaders.readers.shapefile import shapefile_layer

# Archives are never extracted (GDAL streams /vsizip/, KML is read into memory), but a hostile
# one can still unpack to far more than the disk or memory holds: refuse it before reading.
MAX_ARCHIVE_BYTES = 2 << 30  # total uncompressed size of all members
MAX_RATIO = 200  # uncompressed / compressed, for members bigger than RATIO_FLOOR
RATIO_FLOOR = 8 << 20


def read_zip(path: Path, source: Source) -> RawLayer:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name} is not a valid zip archive") from None
    with archive:
        check_archive(archive, path.name)
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
            dbf = read_member(archive, by_ext[".dbf"], path.name)
            shx = read_member(archive, by_ext[".shx"], path.name)
            cpg = read_member(archive, by_ext[".cpg"], path.name) if ".cpg" in by_ext else None
    if suffix == ".shp":
        zipped = source.model_copy(update={"layer": None})
        cpg_text = cpg.decode("latin-1") if cpg is not None else None
        display = f"{path.name}/{member}"
        return shapefile_layer(dataset, display, zipped, [path], dbf, shx, cpg_text)
    return read_gdal(dataset, f"{path.name}/{member}", source, [path])


def check_archive(archive: zipfile.ZipFile, display: str) -> None:
    """Refuse members named outside the archive, symbolic links and zip bombs (by the sizes
    the archive declares; read_member bounds what is actually read)."""
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


def read_member(archive: zipfile.ZipFile, name: str, display: str) -> bytes:
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
