"""KML and KMZ, parsed with lxml: GDAL's drivers drop SchemaData fields with non-ASCII names
(sample 06's "Όνομα") and merge a "Name" field into <name>; here every field is kept.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from lxml import etree

from geoservice.errors import SourceError
from loaders.crs import CRS84
from loaders.descriptor import Source
from loaders.notices import Notice
from loaders.readers.archives import check_archive, read_member
from loaders.readers.base import RawLayer

_KML_TYPES = {"int": "int", "uint": "int", "short": "int", "ushort": "int", "float": "float",
              "double": "float", "bool": "bool"}  # fmt: skip
_GEOMETRY_TAGS = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def read_kml(path: Path, source: Source) -> RawLayer:
    return _parse_kml(path.read_bytes(), path.name, source, [path])


def read_kmz(path: Path, source: Source) -> RawLayer:
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, path.name)
            kmls = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not kmls:
                raise SourceError(f"{path.name} holds no .kml document")
            name = "doc.kml" if "doc.kml" in kmls else kmls[0]
            data = read_member(archive, name, path.name)
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
            "{source}: the ExtendedData field '{field}' has the same name as the placemark "
            "<{element}>: both kept, under distinct column names",
            source=display,
            field=k,
            element=k.lower(),
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
