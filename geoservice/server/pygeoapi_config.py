"""The pygeoapi configuration, generated: server settings from config/server.yml plus one
resource per published collection from the registry. Nobody edits pygeoapi YAML by hand."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from geoservice import i18n
from geoservice.server.access import ANONYMOUS, Viewer
from geoservice.server.records.api import CATALOGUE_ID, queryable_fields
from geoservice.settings import Settings
from geoservice.store import vocabularies as voc
from geoservice.store.registry import CollectionRecord
from geoservice.store.tables import DATA_SCHEMA

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OFFERED_EPSG = [4326, 2100, 3857, 4258, 3035]  # always offered, plus each layer's own
PACKAGE_DIR = Path(str(resources.files("geoservice.server")))


def epsg_uri(code: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{code}"


def base_config(settings: Settings, server_yml: Path | None = None) -> dict[str, Any]:
    """pygeoapi's server and metadata sections: config/server.yml (settings.server_config) over
    our defaults. Its `identity` section is geoservice's own (geoservice.server.identity)."""
    with open(server_yml or settings.server_config, encoding="utf-8") as stream:
        user = yaml.safe_load(stream) or {}
    server = {
        "bind": {"host": settings.host, "port": settings.port},
        "url": settings.base_url,
        "mimetype": "application/json; charset=UTF-8",
        "encoding": "utf-8",
        "gzip": False,
        "languages": ["el", "en"],
        "pretty_print": False,
        "limits": {"default_items": 100, "max_items": 10000},  # config/server.yml overrides
        "map": {"url": "", "attribution": ""},
        "templates": {
            "path": str(PACKAGE_DIR / "templates"),
            "static": str(PACKAGE_DIR / "static"),
        },
        # pygeoapi ships no Greek: its templates' messages are in our gettext catalogues
        # (geoservice/locale, shared with the portal and the loaders; its default is ./locale).
        "locale_dir": str(i18n.LOCALE_DIR),
        **user.get("server", {}),
    }
    return {
        "server": server,
        "logging": {"level": "ERROR"},
        "metadata": user.get("metadata", {}),
        "resources": {},
    }


def build_config(
    settings: Settings, collections: list[CollectionRecord], viewer: Viewer = ANONYMOUS
) -> dict[str, Any]:
    """The configuration for one viewer: `collections` are those it may see."""
    config = base_config(settings)
    config["resources"][CATALOGUE_ID] = catalogue_resource(settings, viewer)
    for record in collections:
        config["resources"][record.id] = collection_resource(settings, record)
    return config


def catalogue_resource(settings: Settings, viewer: Viewer = ANONYMOUS) -> dict[str, Any]:
    """The catalogue itself: an OGC API Records collection of every published resource."""
    return {
        "type": "collection",
        "title": {"el": "Κατάλογος δεδομένων", "en": "Data catalogue"},
        "description": {
            "el": "Όλα τα δημοσιευμένα δεδομένα: αναζήτηση με περιοχή, λέξεις και πεδία.",
            "en": "Every published dataset: search by area, words and fields.",
        },
        "keywords": {"el": ["κατάλογος", "μεταδεδομένα"], "en": ["catalogue", "metadata"]},
        "links": [],
        "extents": {"spatial": {"bbox": [-180, -90, 180, 90], "crs": CRS84}},
        "providers": [
            {
                "type": "record",
                "name": "geoservice.server.records.provider.CatalogueProvider",
                "data": {
                    "dsn": settings.dsn,
                    "base_url": settings.base_url,
                    # the records this configuration's viewers may find
                    "viewer": {"roles": sorted(viewer.roles), "groups": sorted(viewer.groups)},
                },
                "id_field": "id",
                "title_field": "title",
                "fields": queryable_fields(),  # titles of the queryables, Greek and English
            }
        ],
    }


def collection_resource(settings: Settings, record: CollectionRecord) -> dict[str, Any]:
    d = record.descriptor
    crs_list = [CRS84] + [epsg_uri(c) for c in OFFERED_EPSG]
    if record.source_srid and epsg_uri(record.source_srid) not in crs_list:
        crs_list.append(epsg_uri(record.source_srid))
    extents: dict[str, Any] = {
        "spatial": {"bbox": record.bbox or [-180, -90, 180, 90], "crs": CRS84}
    }
    if record.temporal_extent:
        begin, end = record.temporal_extent
        extents["temporal"] = {"begin": begin, "end": end}
    links = []
    licence_page = voc.licence_page(d.get("licence"), d.get("licence_url"))
    if licence_page:  # a stated licence; none stated: no link (pages say "not stated")
        links.append(
            {
                "type": "text/html",
                "rel": "license",
                "title": d.get("licence") or licence_page,
                "href": licence_page,
            }
        )
    keywords = d.get("keywords") or {}
    return {
        "type": "collection",
        "title": copy.deepcopy(d["title"]),
        "description": copy.deepcopy(d.get("description") or d["title"]),
        "keywords": {lang: words for lang, words in keywords.items() if words} or ["geodata"],
        "links": links,
        "extents": extents,
        "providers": [
            {
                "type": "feature",
                "name": "geoservice.server.features.provider.PostGISProvider",
                "data": {"dsn": settings.dsn, "schema": DATA_SCHEMA, "table": record.table_name},
                "id_field": record.id_field,
                "id_type": _id_type(record),
                "time_field": record.temporal_field,
                # pygeoapi renames the filter's geometry queryable to this before our
                # provider sees it (HTML, JSON-LD): keep the queryable's own name.
                "geom_field": "geometry",
                "storage_crs": CRS84,
                "crs": crs_list,
                "fields": record.fields,
                "feature_count": record.feature_count,
                "geojson_column": record.geojson_column,
                "page_anchors": record.page_anchors,
                "mean_vertices": record.mean_vertices,
                "geometry_type": record.geometry_type,
            }
        ],
    }


def _id_type(record: CollectionRecord) -> str:
    if record.id_field == "fid":
        return "integer"
    for f in record.fields:
        if f["name"] == record.id_field:
            return "integer" if f["type"] == "integer" else "string"
    return "string"
