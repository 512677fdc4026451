"""The requests the API benchmark times, and the raw SQL (bench/sql/*.sql) for each."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.api_data import GREECE, Sizes

SQL_DIR = Path(__file__).parent / "sql"
EPSG_2100 = "http://www.opengis.net/def/crs/EPSG/0/2100"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    collection: str
    id_field: str
    params: dict[str, str] = field(default_factory=dict)
    item: str | None = None  # one feature by id instead of a page
    sql_file: str = "items.sql"
    sql_vars: dict[str, str] = field(default_factory=dict)
    tolerance: float = 1e-7  # geometry equality (CRS units)
    unsupported: dict[str, str] = field(default_factory=dict)  # server -> reason

    def path(self, collection: str) -> str:
        base = f"/collections/{collection}/items"
        if self.item is not None:
            return f"{base}/{self.item}"
        return f"{base}?{urlencode(self.params)}" if self.params else base

    def sql(self) -> str:
        return (SQL_DIR / self.sql_file).read_text(encoding="utf-8")

    def sql_with_values(self) -> str:
        """The script with pgbench's :variables substituted (for the correctness check)."""
        text = self.sql()
        for name, value in self.sql_vars.items():
            text = re.sub(rf"(?<!:):{name}\b", value, text)
        return text


TIPG_NO_CRS = "tipg 1.6 has no `crs` parameter (OGC API Features Part 2)"


def bbox_for(points: int, features: int = 500) -> list[float]:
    """A square box holding about `features` of the uniformly spread points."""
    minx, miny, maxx, maxy = GREECE
    side = math.sqrt(features * (maxx - minx) * (maxy - miny) / points)
    x0, y0 = 23.0, 40.0
    return [x0, y0, round(x0 + side, 6), round(y0 + side, 6)]


def scenarios(sizes: Sizes) -> list[Scenario]:
    box = bbox_for(sizes.points)
    offset = sizes.points // 2
    item_id = str(sizes.points // 2 + 4321)
    pts = {"collection": "bench_points", "id_field": "id"}
    return [
        Scenario(
            "limit100", "points, limit=100", **pts, params={"limit": "100"},
            sql_vars={"limit": "100", "offset": "0"},
        ),
        Scenario(
            "limit1000", "points, limit=1000", **pts, params={"limit": "1000"},
            sql_vars={"limit": "1000", "offset": "0"},
        ),
        Scenario(
            "bbox", "points, bbox (~500 of them), limit=1000", **pts,
            params={"bbox": ",".join(map(str, box)), "limit": "1000"},
            sql_file="bbox.sql",
            sql_vars={"limit": "1000", **dict(zip(["minx", "miny", "maxx", "maxy"],
                                                  map(str, box), strict=True))},
        ),
        Scenario(
            "offset", f"points, offset={offset}, limit=100", **pts,
            params={"offset": str(offset), "limit": "100"},
            sql_file="offset.sql", sql_vars={"limit": "100", "offset": str(offset)},
        ),
        Scenario(
            "item", "points, one item by id", **pts, item=item_id,
            sql_file="item.sql", sql_vars={"fid": item_id},
        ),
        Scenario(
            "polygons", f"polygons ({sizes.polygons}, 20 vertices), limit=1000",
            collection="bench_polygons", id_field="id", params={"limit": "1000"},
            sql_file="polygons.sql", sql_vars={"limit": "1000"},
        ),
        Scenario(
            "nomoi", "55 prefectures (224,590 vertices), all",
            collection="bench_nomoi", id_field="esye_id", params={"limit": "100"},
            sql_file="nomoi.sql", sql_vars={"limit": "100"},
        ),
        Scenario(
            "filter", "points, CQL2 filter code = 42, limit=100", **pts,
            params={"filter-lang": "cql2-text", "filter": "code = 42", "limit": "100"},
            sql_file="filter.sql", sql_vars={"code": "42", "limit": "100"},
        ),
        Scenario(
            "crs", "points, crs=EPSG:2100, limit=1000", **pts,
            params={"crs": EPSG_2100, "limit": "1000"},
            sql_file="crs.sql", sql_vars={"limit": "1000"},
            tolerance=1e-3,  # metres; ours and raw SQL write millimetres
            unsupported={"tipg": TIPG_NO_CRS},
        ),
        Scenario(
            "properties", "points, properties=code,name, limit=1000", **pts,
            params={"properties": "code,name", "limit": "1000"},
            sql_file="properties.sql", sql_vars={"limit": "1000"},
        ),
    ]  # fmt: skip
