"""OGC API Records over the catalogue: HTTP parameters -> Search -> record GeoJSON.

The catalogue is the collection `catalogue` (itemType record). Its JSON items come from
here; pygeoapi renders its HTML through catalogue/provider.py, which uses the same search.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import psycopg

from geoservice.errors import BadRequest
from geoservice.server import cql
from geoservice.server.features.items import CRS84
from geoservice.server.http_policy import QUERYABLES_REL
from geoservice.server.params import RECORDS
from geoservice.server.params import bbox as parse_bbox
from geoservice.server.records import search as catalogue_search
from geoservice.server.records.search import QUERYABLES, Search

if TYPE_CHECKING:
    from geoservice.server.memo import Memo

CATALOGUE_ID = "catalogue"
LIMIT_DEFAULT = 10
LIMIT_MAX = 1000
INSPIRE_THEMES = "http://inspire.ec.europa.eu/theme"
RECORD_CORE = "http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"
# A record's own links (self, alternate, collection), titled: pages show a link by its title.
LINK_TITLES = {
    "el": ("Η εγγραφή (GeoJSON)", "Η εγγραφή (HTML)", "Ο κατάλογος"),
    "en": ("This record (GeoJSON)", "This record (HTML)", "The catalogue"),
}


# What each record queryable (search.QUERYABLES) means, for /collections/catalogue/queryables.
QUERYABLE_TITLES: dict[str, dict[str, str]] = {
    "id": {"el": "Αναγνωριστικό", "en": "Identifier"},
    "type": {
        "el": "Είδος πόρου (σύνολο δεδομένων, έγγραφο, υπηρεσία)",
        "en": "Resource type (dataset, document, service)",
    },
    "title": {"el": "Τίτλος (ελληνικά)", "en": "Title (Greek)"},
    "title_en": {"el": "Τίτλος (αγγλικά)", "en": "Title (English)"},
    "theme": {"el": "Θέμα INSPIRE (κωδικός)", "en": "INSPIRE theme (code)"},
    "keywords": {"el": "Λέξεις-κλειδιά", "en": "Keywords"},
    "department": {"el": "Υπηρεσία", "en": "Department"},
    "fieldNames": {"el": "Ονόματα πεδίων", "en": "Field names"},
    "fieldTypes": {"el": "Τύποι πεδίων", "en": "Field types"},
    "geometryType": {"el": "Τύπος γεωμετρίας", "en": "Geometry type"},
    "licence": {"el": "Άδεια χρήσης", "en": "Licence"},
    "featureCount": {"el": "Πλήθος στοιχείων", "en": "Number of features"},
    "updated": {"el": "Τελευταία ενημέρωση δεδομένων", "en": "Data last updated"},
}


def queryable_fields() -> list[dict[str, Any]]:
    """The record queryables in the shape of a layer's `fields` (name, source name, label),
    which is what the queryables endpoint titles properties from."""
    return [
        {"name": name, "original": name, "label": QUERYABLE_TITLES[name]} for name in QUERYABLES
    ]


def parse(params: dict[str, str], body: bytes = b"") -> Search:
    """The search the parameters declare (params.RECORDS); callers refuse unknown ones."""
    declared = RECORDS
    text = declared["bbox"].raw(params)
    return Search(
        q=declared["q"].read(params),
        bbox=parse_bbox(text) if text else None,
        datetime=interval(declared["datetime"].raw(params)),
        kind=declared["type"].read(params),
        keyword=declared["keywords"].read(params),
        theme=declared["theme"].read(params),
        department=declared["department"].read(params),
        licence=declared["licence"].read(params),
        geometry_type=declared["geometryType"].read(params),
        field_name=declared["field"].read(params),
        field_type=declared["fieldType"].read(params),
        value=declared["value"].read(params),
        updated_after=_instant(declared["updatedAfter"].raw(params), "updatedAfter"),
        filter=_filter(params, body),
        sortby=_sortby(declared["sortby"].raw(params)),
        limit=min(declared["limit"].read(params, LIMIT_DEFAULT), LIMIT_MAX),
        offset=declared["offset"].read(params),
        facets=declared["facets"].read(params),
    )


def refuse_other_crs(params: dict[str, str]) -> None:
    """Records are served in CRS84 alone: another `crs` or `bbox-crs` is a 400 (Features
    Part 2, /req/crs/fc-crs-valid-value and /req/crs/fc-bbox-crs-valid-value)."""
    for name in ("crs", "bbox-crs"):
        value = params.get(name)
        if value is not None and value != CRS84:
            raise BadRequest(f"{name} '{value}' is not offered by the catalogue; offered: {CRS84}")


def record(entry: dict[str, Any], base_url: str, lang: str = "el") -> dict[str, Any]:
    """One catalogue entry as an OGC API Records record (GeoJSON)."""
    other = "en" if lang == "el" else "el"
    bbox = entry.get("bbox")
    geometry = (
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [bbox[0], bbox[1]],
                    [bbox[2], bbox[1]],
                    [bbox[2], bbox[3]],
                    [bbox[0], bbox[3]],
                    [bbox[0], bbox[1]],
                ]
            ],
        }  # fmt: skip
        if bbox
        else None
    )
    temporal = entry.get("temporal")
    contact = entry.get("contact") or {}
    department = (contact.get("department") or {}) if contact else {}
    properties = {
        "type": entry["kind"],
        "title": entry["title"].get(lang) or entry["title"].get(other),
        "description": entry["description"].get(lang) or entry["description"].get(other),
        "keywords": entry["keywords"].get(lang, []) or entry["keywords"].get(other, []),
        "language": {"code": lang},
        "languages": [{"code": code} for code in entry.get("languages", ["el", "en"])],
        "translations": {
            other: {
                "title": entry["title"].get(other),
                "description": entry["description"].get(other),
                "keywords": entry["keywords"].get(other, []),
            }
        },
        "themes": (
            [
                {
                    "concepts": [
                        {
                            "id": entry["inspire_theme"],
                            "url": f"{INSPIRE_THEMES}/{entry['inspire_theme']}",
                        }
                    ],
                    "scheme": INSPIRE_THEMES,
                }
            ]  # fmt: skip
            if entry.get("inspire_theme")
            else []
        ),
        # Only what is known: a licence is an SPDX id (Records' record-core/license), never
        # assumed, and absent when not stated; `updated` is when the data last changed,
        # absent when unknown (the load time is in the load history, not here).
        **({"license": entry["licence"]} if entry.get("licence") else {}),
        "rights": entry.get("attribution"),
        **({"updated": entry["updated"]} if entry.get("updated") else {}),
        "updateFrequency": entry.get("update_frequency"),
        "contacts": (
            [
                {
                    "organization": department.get(lang) or department.get(other),
                    "emails": [{"value": contact["email"]}] if contact.get("email") else [],
                    "roles": ["pointOfContact"],
                }
            ]  # fmt: skip
            if contact
            else []
        ),
        "geometryType": entry.get("geometry_type"),
        "featureCount": entry.get("feature_count"),
        "sourceCrs": entry.get("source_crs"),
        "fields": [
            {
                "name": f["name"],
                "sourceName": f["original"],
                "type": f["type"],
                "title": (f.get("label") or {}).get(lang) or f["original"],
                "examples": f.get("examples", []),
            }
            for f in entry.get("fields", [])
        ],
    }
    links = [
        {
            **{k: v for k, v in link.items() if v is not None},  # e.g. no protocol
            "href": base_url + link["href"] if link["href"].startswith("/") else link["href"],
        }
        for link in entry.get("links", [])
    ]
    record_url = f"{base_url}/collections/{CATALOGUE_ID}/items/{entry['id']}"
    titles = LINK_TITLES["el" if lang == "el" else "en"]
    links += [
        {"rel": "self", "type": "application/geo+json", "title": titles[0], "href": record_url},
        {"rel": "alternate", "type": "text/html", "title": titles[1],
         "href": f"{record_url}?f=html"},
        {"rel": "collection", "type": "application/json", "title": titles[2],
         "href": f"{base_url}/collections/{CATALOGUE_ID}"},
    ]  # fmt: skip
    return {
        "id": entry["id"],
        "type": "Feature",
        "conformsTo": [RECORD_CORE],
        "geometry": geometry,
        "time": {"interval": [temporal[0] or "..", temporal[1] or ".."]} if temporal else None,
        "properties": properties,
        "links": links,
    }


def search_document(
    conn: psycopg.Connection, search: Search, params: dict[str, str], base_url: str, *args: Any
) -> str:
    """The items document of a search (search_page's, without its links)."""
    return search_page(conn, search, params, base_url, *args)[0]


def search_page(
    conn: psycopg.Connection,
    search: Search,
    params: dict[str, str],
    base_url: str,
    lang: str,
    version: int | None = None,
    aggregates: Memo | None = None,
    records: Memo | None = None,
) -> tuple[str, list[dict[str, str]]]:
    """The items document of a search (OGC API Records, GeoJSON), and its links.

    With the server's memos (state.ServerState.aggregates and .records), counts are kept per
    filter, rights and catalogue `version` (search.find), and each record's JSON per viewer's
    rights, row version (search.find), language and base URL, so a page whose records are all
    known reads only their ids from the database: no entry is decoded, turned into a record
    and encoded again."""
    page = catalogue_search.find(conn, search, version, aggregates)
    prefix = (catalogue_search.database(conn), search.viewer.rights)
    texts: dict[str, str] = {}
    if records is not None:
        for record_id, row_version in page.rows:
            text = records.get((*prefix, record_id, row_version, lang, base_url))
            if text is not None:
                texts[record_id] = text
    missing = [record_id for record_id, _ in page.rows if record_id not in texts]
    if missing:
        for record_id, row_version, entry in catalogue_search.entries(conn, missing, search.viewer):
            text = _json(record(entry, base_url, lang))
            texts[record_id] = text
            if records is not None:
                records.put((*prefix, record_id, row_version, lang, base_url), text)
    # A record removed between the two statements is left out (the next request counts it).
    features = [texts[record_id] for record_id, _ in page.rows if record_id in texts]
    return _document(features, page.matched, page.facets, search, params, base_url)


RECORDS_KEPT = 2_000  # the size of a server's records memo (state.ServerState)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _document(
    features: list[str],
    matched: int,
    facets: dict[str, dict[str, int]] | None,
    search: Search,
    params: dict[str, str],
    base_url: str,
) -> tuple[str, list[dict[str, str]]]:
    """The FeatureCollection around the records' JSON texts (spliced in, not re-encoded), and
    its links."""
    items_url = f"{base_url}/collections/{CATALOGUE_ID}/items"
    keep = {k: v for k, v in params.items() if k not in ("offset", "f")}
    links = [
        {"rel": "self", "type": "application/geo+json",
         "href": f"{items_url}?{urlencode({**keep, 'offset': search.offset})}"},
        {"rel": "alternate", "type": "text/html",
         "href": f"{items_url}?{urlencode({**keep, 'offset': search.offset, 'f': 'html'})}"},
        {"rel": "collection", "type": "application/json",
         "href": f"{base_url}/collections/{CATALOGUE_ID}"},
        {"rel": QUERYABLES_REL, "type": "application/schema+json",
         "href": f"{base_url}/collections/{CATALOGUE_ID}/queryables"},
    ]  # fmt: skip
    returned = len(features)
    if search.offset + returned < matched:
        links.append(
            {"rel": "next", "type": "application/geo+json",
             "href": f"{items_url}?{urlencode({**keep, 'offset': search.offset + search.limit})}"}
        )  # fmt: skip
    if search.offset > 0:
        previous = max(0, search.offset - search.limit)
        links.append(
            {"rel": "prev", "type": "application/geo+json",
             "href": f"{items_url}?{urlencode({**keep, 'offset': previous})}"}
        )  # fmt: skip
    rest: dict[str, Any] = {
        "numberMatched": matched,
        "numberReturned": returned,
        "links": links,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if facets is not None:
        rest["facets"] = facets
    # {"type":"FeatureCollection","features":[...],"numberMatched":...}
    text = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]," + _json(rest)[1:]
    return text, links


# -- parameters ----------------------------------------------------------------------


def _instant(value: str | None, name: str) -> str | None:
    if value in (None, "", ".."):
        return None
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # In UTC: PostgreSQL reads offsets up to 15:59 only, Python's up to 23:59.
        if instant.tzinfo is not None:
            instant = instant.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"{name}: '{value}' is not an RFC 3339 date or date-time") from None
    return instant.isoformat() if instant.tzinfo is not None else value


def interval(value: str | None) -> tuple[str | None, str | None] | None:
    """datetime: an instant, or start/end with '..' for open ends; matches overlapping extents."""
    if not value:
        return None
    if "/" in value:
        start, end = value.split("/", 1)
        return _instant(start, "datetime"), _instant(end, "datetime")
    instant = _instant(value, "datetime")
    return instant, instant


def _sortby(value: str | None) -> list[tuple[str, bool]]:
    if not value:
        return []
    return [(item.strip().lstrip("+-"), item.strip().startswith("-")) for item in value.split(",")]


def _filter(params: dict[str, str], body: bytes) -> Any:
    text = params.get("filter")
    language = params.get("filter-lang")
    if body and text is None:
        text, language = body.decode("utf-8", errors="replace"), "cql2-json"
    if text is None:
        return None
    RECORDS["filter"].parse(text)  # its length
    try:
        # Parsed once per text (cql.parsed): parsing was a third of a simple search's time.
        return cql.parsed(text, language in ("cql2-json", "cql-json"))
    except Exception as err:  # noqa: BLE001 - pygeofilter raises many kinds
        raise BadRequest(
            f"filter is not valid {language or 'cql2-text'}: {str(err)[:200]}"
        ) from None
