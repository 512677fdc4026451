"""What a prepared layer looks like: the contract between reading/checking and writing."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from loaders.descriptor import FieldType


@dataclass
class FieldInfo:
    name: str  # column name in PostGIS: sanitised, lower-case, unique
    original: str  # the name in the source file (may be Greek, mixed case, too long)
    type: FieldType  # string | integer | number | boolean | date | datetime | json
    label: dict[str, str] | None = None  # {"el": ..., "en": ...} from the descriptor

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "original": self.original,
            "type": self.type,
            "label": self.label,
        }


@dataclass
class PreparedLayer:
    """A layer ready to be written.

    `frame` holds one column per FieldInfo (by `name`) plus the active geometry column,
    already in EPSG:4326 with lon/lat axis order; None where a feature has no geometry.
    """

    frame: gpd.GeoDataFrame
    fields: list[FieldInfo]
    geometry_type: str  # Point, LineString, Polygon, Multi*, or Geometry when mixed
    has_z: bool
    source_crs: str  # "EPSG:2100", or WKT when no authority code matches
    source_srid: int | None
    source_bbox: list[float] | None  # in the source CRS
    id_field: str | None = None  # column (FieldInfo.name) holding unique ids, if the source has one
    encoding: str | None = None  # the text encoding used to read the source, if it had a choice
    encoding_confidence: float | None = None  # 0..1
    null_geometries: int = 0
    repaired_geometries: int = 0
    warnings: list[str] = field(default_factory=list)
