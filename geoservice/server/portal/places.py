"""Named places for choosing an area without a map: the municipalities layer's features,
read through the same feature store as the items API, with their bounding boxes.

Both are derived from the caller's snapshot (geoservice.server.state.Snapshot): computed once
per access view and catalogue version and kept on that snapshot, so a caller only ever gets
places and outlines made from collections it may see (a layer changes only through a load)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shapely.geometry

from geoservice.server.features.items import Collection
from geoservice.server.features.store import Query

if TYPE_CHECKING:
    from geoservice.server.state import Snapshot

# (collection, Greek name field, English name field): the first one published is used.
LOGGER = logging.getLogger(__name__)
PLACE_LAYERS = (("municipalities", "name_greek", "name"),)
MAX_PLACES = 500


@dataclass(frozen=True)
class Place:
    id: str
    name_el: str
    name_en: str
    bbox: tuple[float, float, float, float]

    def name(self, lang: str) -> str:
        return (self.name_en if lang == "en" else self.name_el) or self.name_el or self.name_en

    @property
    def bbox_text(self) -> str:
        return ",".join(f"{v:.5f}" for v in self.bbox)


def places(snapshot: Snapshot) -> list[Place]:
    """The places of the first place layer the snapshot's viewers may see."""
    return snapshot.derived("portal.places", lambda s: _read(s.collections))


def _read(collections: dict[str, Collection]) -> list[Place]:
    for collection_id, el_field, en_field in PLACE_LAYERS:
        collection = collections.get(collection_id)
        if collection is None:
            continue
        names = [n for n in (el_field, en_field) if n in collection.layer.types]
        page = collection.store.page(collection.layer, Query(properties=names), MAX_PLACES)
        found = []
        for feature in json.loads(page.features_json):
            if not feature.get("geometry"):
                continue
            props = feature.get("properties") or {}
            bounds = shapely.geometry.shape(feature["geometry"]).bounds
            found.append(
                Place(
                    f"{collection_id}:{feature['id']}",
                    str(props.get(el_field) or ""),
                    str(props.get(en_field) or ""),
                    tuple(round(b, 5) for b in bounds),
                )
            )
        return sorted(found, key=lambda p: p.name_el)
    return []


# The mini-maps' background: the country's outline from the prefectures layer, simplified.
# Merging the full-resolution polygons takes seconds, so it runs in a background thread once
# per snapshot (access view and catalogue version); until it is ready the mini-maps show a
# plain frame.
OUTLINE_LAYER = "prefectures"


def outline(snapshot: Snapshot) -> list[list[tuple[float, float]]]:
    """Rings (CRS84) of the country outline, simplified to ~3 km; [] until computed or when
    the layer is not published or not visible to the snapshot's viewers."""
    return snapshot.in_background("portal.outline", _compute_outline, [])


def _compute_outline(snapshot: Snapshot) -> list[list[tuple[float, float]]]:
    try:
        return _read_outline(snapshot.collections.get(OUTLINE_LAYER))
    except Exception:  # noqa: BLE001 - a background nicety: log it, never break a page
        LOGGER.exception("the mini-map outline could not be computed")
        return []


def _read_outline(collection: Collection | None) -> list[list[tuple[float, float]]]:
    if collection is None:
        return []
    page = collection.store.page(collection.layer, Query(properties=[]), MAX_PLACES)
    shapes = [
        shapely.geometry.shape(f["geometry"]).simplify(0.02)
        for f in json.loads(page.features_json)
        if f.get("geometry")
    ]
    if not shapes:
        return []
    merged = shapely.union_all(shapes).simplify(0.03)
    polygons = getattr(merged, "geoms", [merged])
    return [
        [(round(x, 3), round(y, 3)) for x, y in p.exterior.coords]
        for p in polygons
        if p.area > 0.005
    ]
