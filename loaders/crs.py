"""Which coordinate reference system a layer is in, and its EPSG code when it has one.

resolve_crs(source_crs, override, hint="") -> (pyproj.CRS, label, srid)
  label is "EPSG:2100", "OGC:CRS84" or the WKT when no authority code matches.
to_wgs84(crs) -> a function projecting an (n, 2|3) coordinate array to lon/lat.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from geoservice.errors import CRSError
from loaders.notices import Notice

CRS84 = CRS.from_user_input("OGC:CRS84")
# From this many coordinates a projection is split across the CPUs: PROJ releases the GIL
# and pyproj gives each thread its own transformer.
PARALLEL_COORDINATES = 50_000
# Below this pyproj match confidence we fall back on our own table of national grids.
MIN_CONFIDENCE = 70

# Transverse Mercator grids that ESRI-style .prj files describe by parameters only:
# (central meridian, scale factor, false easting, false northing, semi-major axis) -> EPSG.
_TM_GRIDS: dict[tuple[float, float, float, float, float], int] = {
    (24.0, 0.9996, 500000.0, 0.0, 6378137.0): 2100,  # GGRS87 / Greek Grid
    (15.0, 0.9996, 500000.0, 0.0, 6378137.0): 3006,  # SWEREF99 TM
}
_NAMES: dict[str, int] = {
    "ggrs87greekgrid": 2100,
    "ggrs1987greekgrid": 2100,
    "greekgrid": 2100,
    "sweref99tm": 3006,
}


def parse_crs(text: str, origin: str = "source.crs") -> CRS:
    """A CRS from "EPSG:2100", "2100", a WKT or a PROJ string; CRSError naming it otherwise."""
    value = text.strip()
    if re.fullmatch(r"\d{4,6}", value):
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except ProjCRSError:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise CRSError(
            Notice(
                "unknown CRS {shown!r} in {origin}: use an EPSG code like EPSG:2100, a WKT or a "
                "PROJ string",
                shown=shown,
                origin=origin,
            )
        ) from None


def resolve_crs(
    source_crs: CRS | None, override: str | None = None, hint: str | Notice = ""
) -> tuple[CRS, str, int | None]:
    """The descriptor's CRS wins over the source's; a layer without any is refused."""
    if override:
        crs = parse_crs(override)
    elif source_crs is not None:
        crs = source_crs
    else:
        raise CRSError(
            Notice(
                "the source declares no coordinate reference system (e.g. a shapefile without "
                ".prj): declare it as `source.crs` in the descriptor (e.g. EPSG:2100) or pass "
                "--crs on the command line{hint}",
                hint=hint,
            )
        )
    return crs, *label_of(crs)


def label_of(crs: CRS) -> tuple[str, int | None]:
    if crs.equals(CRS84):
        return "OGC:CRS84", 4326
    code = epsg_code(crs)
    if code is not None:
        return f"EPSG:{code}", code
    return crs.to_wkt(), None


def epsg_code(crs: CRS) -> int | None:
    """The EPSG code, from pyproj's matcher or from our table of national grids."""
    code = crs.to_epsg(min_confidence=MIN_CONFIDENCE)
    if code is not None:
        return code
    name = re.sub(r"[^a-z0-9]", "", crs.name.lower())
    if name in _NAMES:
        return _NAMES[name]
    return _match_tm_grid(crs)


def _match_tm_grid(crs: CRS) -> int | None:
    if not crs.is_projected or crs.coordinate_operation is None:
        return None
    params = {p.name.lower(): p.value for p in crs.coordinate_operation.params}
    try:
        key = (
            round(params["longitude of natural origin"], 6),
            round(params["scale factor at natural origin"], 6),
            round(params["false easting"], 3),
            round(params["false northing"], 3),
            round(crs.ellipsoid.semi_major_metre, 3) if crs.ellipsoid else 0.0,
        )
    except KeyError:
        return None
    return _TM_GRIDS.get(key)


def is_wgs84_lonlat(crs: CRS) -> bool:
    """True when coordinates need no reprojection to EPSG:4326 (lon/lat order aside)."""
    return crs.equals(CRS84) or crs.equals(CRS.from_epsg(4326), ignore_axis_order=True)


def to_wgs84(crs: CRS) -> Callable[[np.ndarray], np.ndarray]:
    """A projection of (n, 2) or (n, 3) coordinates from `crs` to EPSG:4326 lon/lat(/h)."""
    transformer = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords, dtype=np.float64)

        def part(rows: slice) -> None:
            for axis, values in enumerate(transformer.transform(*coords[rows].T)):
                out[rows, axis] = values

        workers = min(os.cpu_count() or 1, max(1, len(coords) // PARALLEL_COORDINATES))
        if workers == 1:
            part(slice(None))
            return out
        edges = np.linspace(0, len(coords), workers + 1).astype(int)
        slices = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
        with ThreadPoolExecutor(workers - 1) as pool:
            others = [pool.submit(part, rows) for rows in slices[1:]]
            part(slices[0])
            for done in others:
                done.result()
        return out

    return project
