"""A catalogue entry: everything the catalogue knows of one resource, in plain values.

Built from a collection's descriptor plus what the data says (extent, counts, fields);
stored in geoservice.records; turned into OGC API Records GeoJSON, DCAT-AP and ISO 19139.
Texts are bilingual: {"el": ..., "en": ...}; Greek is the default language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["dataset", "document", "service", "externalDataset"]
Bilingual = dict[str, str]  # {"el": ..., "en": ...}


@dataclass
class FieldEntry:
    name: str  # the published property name
    original: str  # the name in the source file
    type: str  # string | integer | number | boolean | date | datetime | json
    label: Bilingual | None = None
    examples: list[str] = field(default_factory=list)  # a few distinct values (text fields)


@dataclass
class Link:
    href: str
    rel: str  # collection, items, queryables, enclosure (download), describedby, ...
    type: str  # media type
    title: str = ""
    protocol: str | None = None  # a web service's, e.g. "OGC:WMS" (catalogued resources)


@dataclass
class Entry:
    id: str
    kind: Kind
    title: Bilingual
    description: Bilingual
    keywords: dict[str, list[str]]  # {"el": [...], "en": [...]}
    licence: str | None  # an SPDX-style id, e.g. CC-BY-4.0; None: not stated (never assumed)
    licence_url: str | None = None
    attribution: str | None = None
    contact: dict[str, Any] | None = None  # {department: Bilingual, name, email, phone, url}
    inspire_theme: str | None = None  # INSPIRE theme code, e.g. "au", "gn", "tn"
    bbox: list[float] | None = None  # CRS84 [minx, miny, maxx, maxy]
    source_crs: str | None = None  # e.g. "EPSG:2100"
    source_bbox: list[float] | None = None
    temporal: list[str | None] | None = None  # RFC 3339 [start, end]
    geometry_type: str | None = None
    feature_count: int | None = None
    fields: list[FieldEntry] = field(default_factory=list)
    created: str | None = None  # RFC 3339
    # RFC 3339: when the data itself last changed (the descriptor's data_updated or what the
    # source says); None: unknown. Not the load time (the load history has that).
    updated: str | None = None
    update_frequency: str = "unknown"  # ISO 19115 MD_MaintenanceFrequencyCode
    links: list[Link] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: ["el", "en"])
    # Who may find it: public, internal (staff), restricted (these groups).
    access: str = "public"
    groups: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        """The inverse of dataclasses.asdict (how geoservice.records stores an entry)."""
        values = dict(data)
        values["fields"] = [FieldEntry(**f) for f in values.get("fields", [])]
        values["links"] = [Link(**link) for link in values.get("links", [])]
        return cls(**values)
