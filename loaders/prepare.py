"""Check and normalise a read layer: prepare(raw, descriptor) -> PreparedLayer.

CRS -> geometries (nulls, Z sentinels, repair, one type) -> EPSG:4326 -> attribute schema
(names, types, include/exclude) -> identifier. Vectorised with shapely 2 and pyproj: a
million points take seconds, not minutes.

Column names: ASCII, lower case, [a-z0-9_], at most 63 bytes, unique; Greek is
transliterated ("Όνομα" -> "onoma"); a leading digit gets an "f_" prefix; names the writer
or PostgreSQL use themselves (RESERVED_COLUMNS: "geom", "geom_json", "fid", "geometry",
system columns) get a "_src" suffix; the second "name" becomes "name_2", and so on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoservice.errors import ConfigError, CRSError, GeometryError, LoadError
from loaders.crs import is_wgs84_lonlat, resolve_crs, to_wgs84
from loaders.descriptor import Descriptor, FieldType
from loaders.model import FieldInfo, PreparedLayer
from loaders.notices import Notice, joined
from loaders.readers import RawLayer

MAX_NAME = 63  # PostgreSQL identifier limit (bytes; our names are ASCII)
RESERVED_COLUMNS = frozenset(
    {
        "geom",
        "geom_json",
        "geometry",
        "fid",
        "oid",
        "tableoid",
        "xmin",
        "xmax",
        "cmin",
        "cmax",
        "ctid",
    }
)
# Z values that mean "no data" in the wild (GIS defaults, int16 and float32 minima).
Z_SENTINELS = np.array([-9999.0, -99999.0, -32768.0, -32767.0, -3.4028234663852886e38])
_Z_HUGE = 1e30
# One geometry with more vertices than this is a mistake or an attack, not a feature.
MAX_VERTICES = 5_000_000

_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        [
            "a",
            "v",
            "g",
            "d",
            "e",
            "z",
            "i",
            "th",
            "i",
            "k",
            "l",
            "m",
            "n",
            "x",
            "o",
            "p",
            "r",
            "s",
            "s",
            "t",
            "y",
            "f",
            "ch",
            "ps",
            "o",
        ],  # fmt: skip
        strict=True,
    )
)
# Shapely type ids: 0 Point, 1 LineString, 2 LinearRing, 3 Polygon, 4-6 Multi*, 7 Collection.
_FAMILY = {0: "Point", 4: "Point", 1: "LineString", 2: "LineString", 5: "LineString",
           3: "Polygon", 6: "Polygon"}  # fmt: skip
_MULTI = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings,
          "Polygon": shapely.multipolygons}  # fmt: skip
_SINGLE_ID = {"Point": 0, "LineString": 1, "Polygon": 3}
_MULTI_ID = {"Point": 4, "LineString": 5, "Polygon": 6}


def prepare(raw: RawLayer, descriptor: Descriptor) -> PreparedLayer:
    warnings = list(raw.warnings)
    crs, label, srid = resolve_crs(raw.crs, descriptor.source.crs, hint=_crs_hint(raw))
    geoms = _geometries(raw.frame)
    _check_vertices(geoms)
    geoms, nulls = _null_geometries(geoms, warnings)
    _check_finite(geoms)
    geoms, has_z = _clean_z(geoms, warnings)
    _check_coordinates(geoms, crs, label)
    with ThreadPoolExecutor(1) as thread:  # GEOS and PROJ release the GIL: validity is
        validity = thread.submit(shapely.is_valid, geoms)  # checked while projecting
        projected = _to_wgs84(geoms, crs, has_z, label)
        geoms, fixed = _repair(geoms, validity.result(), warnings)
    if fixed.any():  # the repaired ones, projected again
        projected = projected.copy()
        projected[fixed] = _to_wgs84(geoms[fixed], crs, has_z, label)
    source_bbox = _bbox(geoms)
    geoms, geometry_type = _unify_types(projected, raw.geometry_type, warnings)
    fields, columns = _schema(raw, descriptor)
    data = {f.name: values for f, values in zip(fields, columns, strict=True)}
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
    id_field = _check_identifier(descriptor, fields, frame)
    if len(frame) == 0:
        warnings.append(Notice("the layer has no features"))
    return PreparedLayer(
        frame=frame,
        fields=fields,
        geometry_type=geometry_type,
        has_z=has_z,
        source_crs=label,
        source_srid=srid,
        source_bbox=source_bbox,
        id_field=id_field,
        encoding=raw.encoding,
        encoding_confidence=raw.encoding_confidence,
        null_geometries=nulls,
        repaired_geometries=int(fixed.sum()),
        warnings=warnings,
    )


def _crs_hint(raw: RawLayer) -> str | Notice:
    if raw.driver != "delimited text" or not len(raw.frame):
        return ""
    bounds = _bbox(_geometries(raw.frame))
    if bounds and -180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90:
        return Notice(" (these coordinates look like longitude/latitude: EPSG:4326?)")
    return ""


# --- geometries ---------------------------------------------------------------------------


def _geometries(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.geometry.array, dtype=object).reshape(-1)


def _check_vertices(geoms: np.ndarray) -> None:
    counts = shapely.get_num_coordinates(geoms)
    big = np.flatnonzero(counts > MAX_VERTICES)
    if len(big):
        raise GeometryError(
            f"feature {big[0] + 1} has {counts[big[0]]:,} vertices, more than the "
            f"{MAX_VERTICES:,} one geometry may have ({len(big)} such feature(s)): simplify or "
            "split it in the source"
        )


def _bad_coordinates(
    geoms: np.ndarray, test: Callable[[np.ndarray], np.ndarray]
) -> tuple[int, int, np.ndarray] | None:
    """(features with a coordinate failing `test`, the first's index, that x/y) or None."""
    if not test(shapely.get_coordinates(geoms)).any():
        return None  # the usual case, without the index (which costs twice the coordinates)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = test(coords)
    first = int(np.argmax(bad))
    return len(np.unique(index[bad])), int(index[first]), coords[first]


def _check_finite(geoms: np.ndarray) -> None:
    """inf or NaN x/y cannot be stored (GEOS itself fails on them); only Z NaN means 'no data'."""
    found = _bad_coordinates(geoms, lambda xy: ~np.isfinite(xy).all(axis=1))
    if found:
        count, i, (x, y) = found
        raise GeometryError(
            Notice(
                "{count} feature(s) have coordinates that are not finite numbers (inf or NaN), "
                "e.g. feature {n}: x {x:.6g}, y {y:.6g}; fix or remove them in the source",
                count=count,
                n=i + 1,
                x=x,
                y=y,
            )
        )


def _null_geometries(geoms: np.ndarray, warnings: list[str]) -> tuple[np.ndarray, int]:
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    count = int(missing.sum())
    if count:
        geoms = geoms.copy()
        geoms[missing] = None
        warnings.append(
            Notice("{count} feature(s) have no geometry: kept, with a null geometry", count=count)
        )
    return geoms, count


def _clean_z(geoms: np.ndarray, warnings: list[str]) -> tuple[np.ndarray, bool]:
    """Keep real heights; sentinel 'no data' heights become NaN, or Z goes if all are such."""
    with_z = shapely.has_z(geoms)
    if not with_z.any():
        return geoms, False
    coords = shapely.get_coordinates(geoms[with_z], include_z=True)
    z = coords[:, 2]
    nodata = np.isnan(z) | np.isin(z, Z_SENTINELS) | (np.abs(z) > _Z_HUGE)
    if nodata.all():
        warnings.append(Notice("every Z value is a no-data marker (e.g. -9999) or NaN: Z dropped"))
        return shapely.force_2d(geoms), False
    if nodata.any():
        sentinels = int((nodata & ~np.isnan(z)).sum())
        if sentinels:
            coords[nodata, 2] = np.nan
            geoms = geoms.copy()
            geoms[with_z] = shapely.set_coordinates(geoms[with_z].copy(), coords)
            warnings.append(
                Notice(
                    "{count} Z value(s) are no-data markers (e.g. -9999): stored as NaN",
                    count=sentinels,
                )
            )
    return geoms, True


def _repair(
    geoms: np.ndarray, valid: np.ndarray, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """make_valid where shapely.is_valid said no; returns the geometries and which changed."""
    invalid = ~shapely.is_missing(geoms) & ~valid
    count = int(invalid.sum())
    if not count:
        return geoms, invalid
    geoms = geoms.copy()
    before = shapely.get_type_id(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid])
    lost = 0
    for i, (orig_type, geom) in enumerate(zip(before, fixed, strict=True)):
        kept = _keep_family(geom, _FAMILY.get(int(orig_type)))
        lost += kept is None
        fixed[i] = kept
    geoms[invalid] = fixed
    repaired = (
        Notice("1 invalid geometry was repaired")
        if count == 1
        else Notice("{count} invalid geometries were repaired", count=count)
    )
    if lost:
        collapsed = Notice(
            "{count} collapsed to nothing of their type and are now null", count=lost
        )
        repaired = joined([repaired, collapsed], "; ")
    warnings.append(repaired)
    return geoms, invalid


def _keep_family(geom: shapely.Geometry, family: str | None) -> shapely.Geometry | None:
    """make_valid can return a collection (polygon + stray line): keep the original kind."""
    if family is None or _FAMILY.get(shapely.get_type_id(geom)) == family:
        return geom
    parts = shapely.get_parts(shapely.get_parts(geom))  # twice: collections hold multis
    parts = parts[shapely.get_type_id(parts) == _SINGLE_ID[family]]
    if not len(parts):
        return None
    return parts[0] if len(parts) == 1 else _MULTI[family](parts)


def _unify_types(
    geoms: np.ndarray, declared: str | None, warnings: list[str]
) -> tuple[np.ndarray, str]:
    present = ~shapely.is_missing(geoms)
    ids = shapely.get_type_id(geoms[present])
    kinds = set(np.unique(ids).tolist())
    if not kinds:
        return geoms, _declared_type(declared)
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind == 2:  # a lone LinearRing is a closed line
            return _promote(geoms, present, "LineString"), "MultiLineString"
        return geoms, _type_name(kind)
    families = {_FAMILY.get(k) for k in kinds}
    if len(families) == 1 and None not in families:
        family = families.pop()
        return _promote(geoms, present, family), "Multi" + family
    names = sorted(_type_name(k) for k in kinds)
    warnings.append(
        Notice(
            "the layer mixes geometry types ({types}): published as Geometry",
            types=", ".join(names),
        )
    )
    return geoms, "Geometry"


def _type_name(type_id: int) -> str:
    return {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
            5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}[type_id]  # fmt: skip


def _promote(geoms: np.ndarray, present: np.ndarray, family: str) -> np.ndarray:
    """Polygon + MultiPolygon -> all MultiPolygon (one column type in PostGIS)."""
    geoms = geoms.copy()
    ids = np.full(len(geoms), -1)
    ids[present] = shapely.get_type_id(geoms[present])
    single = (ids >= 0) & (ids != _MULTI_ID[family])
    if family == "LineString":
        rings = ids == 2
        if rings.any():
            geoms[rings] = [shapely.LineString(g.coords) for g in geoms[rings]]
    parts = geoms[single]
    geoms[single] = _MULTI[family](parts, indices=np.arange(len(parts)))
    return geoms


def _declared_type(declared: str | None) -> str:
    if not declared:
        return "Geometry"
    name = re.sub(r"\s*(Z|M|ZM|25D)$", "", declared.strip(), flags=re.IGNORECASE)
    known = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}
    return name if name in known else "Geometry"


def _bbox(geoms: np.ndarray) -> list[float] | None:
    present = geoms[~shapely.is_missing(geoms)] if len(geoms) else geoms
    if not len(present):
        return None
    bounds = shapely.total_bounds(present)
    return None if np.isnan(bounds).any() else [float(v) for v in bounds]


def _check_coordinates(geoms: np.ndarray, crs: CRS, label: str) -> None:
    """Projected metres declared as degrees is the commonest CRS mistake: catch it here.
    Longitudes 180-360 are a convention some sources use; anything beyond is not degrees."""
    if not crs.is_geographic:
        return

    def not_degrees(xy: np.ndarray) -> np.ndarray:
        return (xy[:, 0] < -180.5) | (xy[:, 0] > 360.5) | (np.abs(xy[:, 1]) > 90.5)

    found = _bad_coordinates(geoms, not_degrees)
    if found:
        count, i, (x, y) = found
        raise CRSError(
            Notice(
                "{count} feature(s) have coordinates that are not degrees, but the CRS is "
                "{label} (e.g. feature {n}: x {x:.6g}, y {y:.6g}): declare the right CRS as "
                "`source.crs` (e.g. EPSG:2100)",
                count=count,
                label=label,
                n=i + 1,
                x=x,
                y=y,
            )
        )


def _to_wgs84(geoms: np.ndarray, crs: CRS, has_z: bool, label: str) -> np.ndarray:
    if is_wgs84_lonlat(crs) or not len(geoms):
        return geoms
    transform = to_wgs84(crs)
    if has_z:
        # A 2D shape among 3D ones is projected in 2D: with include_z it would get NaN heights,
        # and its rings would no longer close (NaN != NaN).
        flat = ~shapely.has_z(geoms)
        out = np.empty_like(geoms)
        out[flat] = shapely.transform(geoms[flat], transform)
        out[~flat] = shapely.transform(geoms[~flat], transform, include_z=True)
    else:
        out = shapely.transform(geoms, transform)

    def off_globe(lonlat: np.ndarray) -> np.ndarray:
        return ~np.isfinite(lonlat).all(axis=1) | (np.abs(lonlat) > [180.5, 90.5]).any(axis=1)

    found = _bad_coordinates(out, off_globe)
    if found:
        count, i, _ = found
        x, y = shapely.get_coordinates(geoms[i])[0]
        raise CRSError(
            Notice(
                "{count} feature(s) cannot be transformed from {label} to EPSG:4326 (e.g. "
                "feature {n}: x {x:.6g}, y {y:.6g}): the declared CRS is probably wrong; "
                "declare the right one as `source.crs`",
                count=count,
                label=label[:60],
                n=i + 1,
                x=x,
                y=y,
            )
        )
    return out


# --- attributes ---------------------------------------------------------------------------


def _schema(raw: RawLayer, descriptor: Descriptor) -> tuple[list[FieldInfo], list[pd.Series]]:
    frame = raw.frame
    geometry = frame.geometry.name
    available = [c for c in frame.columns if c != geometry]
    spec = descriptor.fields
    _check_names(available, spec.include or [], "fields.include")
    _check_names(available, spec.exclude, "fields.exclude")
    _check_names(available, list(spec.labels), "fields.labels")
    _check_names(available, list(spec.types), "fields.types")
    _check_names(available, spec.index, "fields.index")
    _check_names(available, list(spec.personal), "fields.personal")
    # Personal data marked "drop" is never loaded: as good as excluded.
    dropped = {name for name, decision in spec.personal.items() if decision == "drop"}
    excluded = [name for name in spec.index if name in spec.exclude or name in dropped]
    if excluded:
        raise ConfigError(f"fields.index names excluded fields: {', '.join(map(repr, excluded))}")
    for key, name in (
        ("identifier", descriptor.identifier),
        ("temporal_field", descriptor.temporal_field),
    ):
        if name is not None:
            _check_names(available, [name], key)
            if name in spec.exclude:
                raise ConfigError(f"{key} {name!r} is listed in fields.exclude")
            if name in dropped:
                raise ConfigError(f"{key} {name!r} is marked drop in fields.personal")
    chosen = [c for c in available if (spec.include is None or c in spec.include)]
    chosen = [c for c in chosen if c not in spec.exclude and c not in dropped]
    for name in (descriptor.identifier, descriptor.temporal_field):
        if name is not None and name not in chosen:
            chosen.append(name)
    names = column_names(chosen)
    fields: list[FieldInfo] = []
    columns: list[pd.Series] = []
    for original, name in zip(chosen, names, strict=True):
        wanted = spec.types.get(original)
        values, kind = _convert(frame[original], original, wanted, raw.field_types.get(original))
        label = spec.labels.get(original)
        fields.append(FieldInfo(name, str(original), kind, label.model_dump() if label else None))
        columns.append(values.reset_index(drop=True))
    return fields, columns


def _check_names(available: list[str], names: list[str], where: str) -> None:
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConfigError(
            f"{where}: unknown field {', '.join(map(repr, unknown))}; the source has: "
            f"{', '.join(map(str, available)) or 'no fields'}"
        )


def column_names(originals: list[str]) -> list[str]:
    """Safe, unique, lower-case PostgreSQL column names for the source's field names."""
    taken: set[str] = set()
    result = []
    for original in originals:
        base = _safe_name(str(original))
        if base in RESERVED_COLUMNS:
            base = f"{base}_src"
        name, n = base, 1
        while name in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_NAME - len(suffix)] + suffix
        taken.add(name)
        result.append(name)
    return result


def _safe_name(text: str) -> str:
    lowered = unicodedata.normalize("NFD", text.lower())
    lowered = "".join(ch for ch in lowered if not unicodedata.combining(ch))
    latin = "".join(_GREEK.get(ch, ch) for ch in lowered)
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_") or "field"
    if name[0].isdigit():
        name = f"f_{name}"
    return name[:MAX_NAME].rstrip("_")


def _convert(
    column: pd.Series, original: str, wanted: FieldType | None, declared: str | None
) -> tuple[pd.Series, FieldType]:
    if wanted is not None:
        return _CONVERTERS[wanted](column, original), wanted
    return _faithful(column, declared)


def _faithful(column: pd.Series, declared: str | None) -> tuple[pd.Series, FieldType]:
    """The source's own type: numbers stay numbers, text stays text (even '0012')."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return column, "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return column, "integer"
    if pd.api.types.is_float_dtype(dtype):
        if declared and declared.startswith(("int", "uint")):
            return column.astype("Int64"), "integer"  # pyogrio widens int with nulls to float
        if declared == "bool":
            return column.astype("boolean"), "boolean"
        return column, "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if declared == "date":
            return _as_objects(column.dt.date), "date"
        return column, "datetime"
    if declared == "date":  # pyogrio hands OFTDate over as text or date objects
        return _to_date(column, "?"), "date"
    if isinstance(dtype, pd.StringDtype):
        return _as_objects(column), "string"
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("string", "empty"):
        return _as_objects(column), "string"
    if kind == "boolean":
        return _as_objects(column), "boolean"
    if kind == "date":
        return _as_objects(column), "date"
    if kind in ("integer", "mixed-integer-float", "floating"):
        return pd.to_numeric(column), "integer" if kind == "integer" else "number"
    if column.map(_is_json_like).any():
        return _as_objects(column.map(_plain_json)), "json"
    return _as_objects(column.map(lambda v: None if _missing(v) else str(v))), "string"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _is_json_like(value: object) -> bool:
    return isinstance(value, (list, dict, tuple, np.ndarray))


def _plain_json(value: object) -> object:
    return value.tolist() if isinstance(value, np.ndarray) else value


def _as_objects(column: pd.Series) -> pd.Series:
    """Object dtype with None for missing values: what the writer serialises."""
    values = column.astype(object)
    return values.where(column.notna(), None)


def _bad_value(column: pd.Series, ok: pd.Series, original: str, target: str) -> LoadError:
    pos = int(np.flatnonzero((~ok & column.notna()).to_numpy())[0])
    return LoadError(
        f"field '{original}', row {pos + 1}: value {column.iloc[pos]!r} is not a valid {target}"
    )


def _to_integer(column: pd.Series, original: str) -> pd.Series:
    numbers = pd.to_numeric(column.astype(object).map(_strip), errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers))
    if (column.notna() & ~whole).any():
        raise _bad_value(column, whole, original, "integer")
    return numbers.astype("Int64")


def _to_number(column: pd.Series, original: str) -> pd.Series:
    numbers = pd.to_numeric(column.astype(object).map(_strip), errors="coerce")
    if (column.notna() & numbers.isna()).any():
        raise _bad_value(column, numbers.notna(), original, "number")
    return numbers.astype(float)


_TRUTH = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "ναι"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "όχι"), False),
}


def _to_boolean(column: pd.Series, original: str) -> pd.Series:
    mapped = column.map(lambda v: None if _missing(v) else _TRUTH.get(str(v).strip().lower()))
    if (column.notna() & mapped.isna()).any():
        raise _bad_value(column, mapped.notna(), original, "boolean")
    return _as_objects(mapped)


def _to_datetime(column: pd.Series, original: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    try:  # plain ISO dates, as GeoPackage and GDAL write them: one format, not value by value
        return pd.to_datetime(column, format="%Y-%m-%d", errors="raise")
    except (ValueError, TypeError):
        pass
    parsed = pd.to_datetime(column.astype(object).map(_strip), errors="coerce", format="mixed")
    if (column.notna() & parsed.isna()).any():
        raise _bad_value(column, parsed.notna(), original, "date/time")
    return parsed


def _to_date(column: pd.Series, original: str) -> pd.Series:
    parsed = _to_datetime(column, original)
    return _as_objects(parsed.dt.date)


def _to_string(column: pd.Series, original: str) -> pd.Series:
    if pd.api.types.is_float_dtype(column.dtype) and (column.dropna() % 1 == 0).all():
        column = column.astype("Int64")  # 12.0 -> "12", not "12.0"
    return _as_objects(column.map(lambda v: None if _missing(v) else str(v), na_action="ignore"))


def _to_json(column: pd.Series, original: str) -> pd.Series:
    def parse(value: object) -> object:
        if _missing(value) or not isinstance(value, str):
            return _plain_json(value)
        return json.loads(value)

    try:
        return _as_objects(column.map(parse))
    except json.JSONDecodeError:
        ok = column.map(lambda v: not isinstance(v, str) or _json_ok(v))
        raise _bad_value(column, ok, original, "JSON text") from None


def _json_ok(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


_CONVERTERS: dict[str, Callable[[pd.Series, str], pd.Series]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "string": _to_string,
    "json": _to_json,
}


# --- identifier ---------------------------------------------------------------------------


def _check_identifier(
    descriptor: Descriptor, fields: list[FieldInfo], frame: gpd.GeoDataFrame
) -> str | None:
    if descriptor.identifier is None:
        return None
    name = next(f.name for f in fields if f.original == descriptor.identifier)
    values = frame[name]
    nulls = int(values.isna().sum())
    if nulls:
        raise LoadError(
            Notice(
                "identifier '{name}' is empty in {nulls} feature(s) (e.g. row {row}); ids must "
                "be present",
                name=descriptor.identifier,
                nulls=nulls,
                row=int(np.flatnonzero(values.isna().to_numpy())[0]) + 1,
            )
        )
    duplicated = values.duplicated(keep=False)
    if duplicated.any():
        example = values[duplicated].iloc[0]
        raise LoadError(
            Notice(
                "identifier '{name}' is not unique: {count} features share {values} value(s), "
                "e.g. {example!r}",
                name=descriptor.identifier,
                count=int(duplicated.sum()),
                values=values[duplicated].nunique(),
                example=example,
            )
        )
    return name
