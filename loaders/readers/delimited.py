"""Delimited text (CSV, TSV, whitespace-separated tables) with coordinate or WKT columns, read
with pandas: GDAL's CSV driver cannot read whitespace-separated tables without a header.
coordinate_layer (which columns are the geometry) serves spreadsheets too (spreadsheet.py).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoservice.errors import EncodingError, LoadError, SourceError
from loaders import encoding as enc
from loaders.descriptor import Source
from loaders.notices import Notice
from loaders.readers.base import RawLayer, read_as

# Compared after _fold(); Greek tables write X/Y with the look-alike capitals Χ (chi), Υ (upsilon).
_X_NAMES = ("lon", "lng", "long", "longitude", "x", "easting", "x_coord", "μηκος", "χ")
_Y_NAMES = ("lat", "latitude", "y", "northing", "y_coord", "πλατος", "υ")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom")


def read_delimited(path: Path, source: Source) -> RawLayer:
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
    frame, wkt = coordinate_layer(table, source, path.name, skip + 1 + source.header)
    warnings = list(guess.warnings)
    if guess.confidence < 1.0:
        warnings.insert(0, read_as(path.name, guess))
    return RawLayer(frame, None, guess.encoding, guess.confidence, warnings, [path], None,
                    driver="delimited text", geometry_type=None if wkt else "Point")  # fmt: skip


def coordinate_layer(
    table: pd.DataFrame, source: Source, display: str, first_line: int, *, infer: bool = True
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A table's rows as features (no CRS yet): the geometry from its coordinate columns or
    its WKT column (then dropped), named or found by their usual names; text trimmed, an
    empty cell missing. `first_line`: the source line (or sheet row) of the first row, for
    errors. `infer`: types from the text (a spreadsheet's cells have their own)."""
    table = _name_columns(table, source, display)
    text = [c for c in table.columns if pd.api.types.is_string_dtype(table[c])]
    table[text] = table[text].apply(lambda s: s.str.strip()).replace("", None)
    geometry, wkt = _table_geometry(table, source, display, first_line)
    if wkt is not None:
        table = table.drop(columns=[wkt])
    if infer:
        table = _infer_types(table)
    return gpd.GeoDataFrame(table, geometry=geometry, crs=None), wkt


def _text_encoding(data: bytes, override: str | None) -> enc.EncodingGuess:
    if override:
        try:
            declared = Notice("declared in the descriptor")
            return enc.EncodingGuess(enc.canonical(override), 1.0, declared)
        except LookupError:
            raise EncodingError(f"unknown text encoding {override!r} in source.encoding") from None
    if data.startswith(b"\xef\xbb\xbf"):
        bom = Notice("the file starts with a UTF-8 byte-order mark")
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
    if pd.api.types.is_numeric_dtype(column):  # a spreadsheet's number cells
        return column.to_numpy(dtype=float, na_value=np.nan)
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
