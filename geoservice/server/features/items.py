"""The fast path for `/collections/{id}/items` as GeoJSON.

PostgreSQL writes the features' JSON; we wrap it in the FeatureCollection envelope without
parsing it again. Parameters mean what they mean in pygeoapi (same names, same errors);
pages carry a keyset cursor in their `next` link, so following links costs the same on the
last page as on the first, while `offset` keeps working for clients that compute it.
HTML and JSON-LD stay with pygeoapi (app.py decides).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pyproj

from geoservice.errors import BadRequest
from geoservice.server import cql
from geoservice.server.features.store import FeatureStore, Layer, Matched, Query, output_crs
from geoservice.server.http_policy import QUERYABLES_REL, link_header
from geoservice.server.params import ITEM, ITEMS
from geoservice.server.params import bbox as parse_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DOWNLOAD_BATCH = 1_000  # features per chunk written to the client


@dataclass
class ItemsRequest:
    """The parsed parameters of an items request."""

    query: Query
    limit: int
    offset: int
    cursor: Any
    hits_only: bool
    crs_uri: str


@dataclass
class Collection:
    """What the fast path needs of one collection (built with the API configuration)."""

    id: str
    layer: Layer
    crs: list[str]  # supported CRS URIs
    store: FeatureStore
    limit_default: int
    limit_max: int

    @classmethod
    def from_resource(cls, collection_id: str, resource: dict, server: dict) -> Collection:
        provider = resource["providers"][0]
        limits = {**server.get("limits", {}), **resource.get("limits", {})}
        return cls(
            collection_id,
            Layer.from_provider(provider),
            list(provider.get("crs", [CRS84])),
            FeatureStore(provider["data"]["dsn"]),
            int(limits.get("default_items", 100)),
            int(limits.get("max_items", 10000)),
        )


def parse_items_request(
    collection: Collection, params: dict[str, str], body: bytes = b""
) -> ItemsRequest:
    layer = collection.layer
    ITEMS.refuse_unknown(params, layer.types)
    limit = min(ITEMS["limit"].read(params, collection.limit_default), collection.limit_max)
    offset = ITEMS["offset"].read(params)
    crs_uri = _offered_crs(params.get("crs"), collection)
    properties = _names(params.get("properties"), layer, "properties")
    sortby = _sortby(params.get("sortby"), layer)
    cursor = params.get("cursor")
    if cursor is not None:
        try:
            cursor = layer.key(cursor)
        except BadRequest:
            raise BadRequest("cursor is not valid for this collection") from None
        if sortby:
            raise BadRequest("cursor cannot be combined with sortby (use offset)")
    query = Query(
        bbox=_bbox(params.get("bbox"), params.get("bbox-crs")),
        datetime=params.get("datetime") or None,
        equals=[(k, v) for k, v in params.items() if k not in ITEMS.names and k in layer.types],
        sortby=sortby,
        properties=properties,
        skip_geometry=ITEMS["skipGeometry"].read(params),
        output=output_crs(None if crs_uri == CRS84 else crs_uri),
    )
    query = _with_filter(query, params, body, collection.crs)
    hits_only = ITEMS["resulttype"].read(params) == "hits"
    return ItemsRequest(query, limit, offset, cursor, hits_only, crs_uri)


def items_response(
    collection: Collection, request: ItemsRequest, params: dict[str, str], base_url: str
) -> tuple[list[bytes], dict[str, str]]:
    """The FeatureCollection, as parts to send in turn (the features are PostgreSQL's bytes,
    never copied into one body), and its headers."""
    store, layer = collection.store, collection.layer
    matched = store.matched(layer, request.query)
    if request.hits_only:
        features, returned, last_key = b"[]", 0, None
    else:
        page = store.page(layer, request.query, request.limit, request.offset, request.cursor)
        features, returned, last_key = page.features_json, page.returned, page.last_key
    links = _links(collection, request, params, base_url, matched, returned, last_key)
    envelope = {
        "numberMatched": matched.count,
        "numberReturned": returned,
        "links": links,
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    if not matched.exact:
        envelope["numberMatchedEstimated"] = True  # a planner estimate: more than COUNT_CAP
    tail = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    parts = [b'{"type":"FeatureCollection","features":', features, b"," + tail[1:].encode()]
    headers = {
        "Content-Type": "application/geo+json",
        "Content-Crs": f"<{request.crs_uri}>",
        "Link": link_header(links),
    }
    return parts, headers


def item_response(
    collection: Collection, item_id: str, params: dict[str, str], base_url: str
) -> tuple[bytes, dict[str, str]]:
    """One feature; its links are spliced onto the JSON PostgreSQL wrote."""
    ITEM.refuse_unknown(params)
    crs_uri = _offered_crs(params.get("crs"), collection)
    query = Query(output=output_crs(None if crs_uri == CRS84 else crs_uri))
    feature = collection.store.one(collection.layer, item_id, query)
    items_url = f"{base_url}/collections/{collection.id}/items"
    links = [
        {"rel": "self", "type": "application/geo+json", "href": f"{items_url}/{item_id}"},
        {"rel": "alternate", "type": "text/html", "href": f"{items_url}/{item_id}?f=html"},
        {"rel": "collection", "type": "application/json",
         "href": f"{base_url}/collections/{collection.id}"},
    ]  # fmt: skip
    links_json = json.dumps(links, separators=(",", ":"))
    body = feature.rstrip()[:-1] + b',"links":' + links_json.encode() + b"}"
    headers = {"Content-Type": "application/geo+json", "Content-Crs": f"<{crs_uri}>"}
    return body, {**headers, "Link": link_header(links)}


def download_response(
    collection: Collection, params: dict[str, str]
) -> tuple[Iterator[bytes], dict[str, str]]:
    """Every matching feature as one GeoJSON document (UTF-8), streamed in bounded memory."""
    request = parse_items_request(collection, {**params, "limit": "1"})
    rows = collection.store.stream(collection.layer, request.query)
    # Run the query before the 200 goes out: a value the database refuses (a property value
    # of the wrong type, a date out of range) is then a 400, not a response cut short.
    head = next(rows, None)
    rows = itertools.chain([] if head is None else [head], rows)

    def chunks() -> Iterator[bytes]:
        yield b'{"type":"FeatureCollection","features":['
        batch: list[bytes] = []
        first = True
        for text in rows:
            batch.append(text)
            if len(batch) == DOWNLOAD_BATCH:
                yield (b"" if first else b",") + b",".join(batch)
                batch, first = [], False
        if batch:
            yield (b"" if first else b",") + b",".join(batch)
        yield b"]}"

    headers = {
        "Content-Type": "application/geo+json",
        "Content-Crs": f"<{request.crs_uri}>",
        "Content-Disposition": f'attachment; filename="{collection.id}.geojson"',
    }
    return chunks(), headers


# -- links ------------------------------------------------------------------------


def _links(
    collection: Collection,
    request: ItemsRequest,
    params: dict[str, str],
    base_url: str,
    matched: Matched,
    returned: int,
    last_key: Any,
) -> list[dict[str, str]]:
    items_url = f"{base_url}/collections/{collection.id}/items"
    keep = {k: v for k, v in params.items() if k not in ("f", "offset", "cursor")}

    def href(fmt: str, **extra: Any) -> str:
        return f"{items_url}?{urlencode({'f': fmt, **keep, **extra})}"

    position = request.offset
    links = [
        {"rel": "self", "type": "application/geo+json", "title": "This document as GeoJSON",
         "href": href("json", **_position(request))},
        {"rel": "alternate", "type": "text/html", "title": "This document as HTML",
         "href": href("html", **_position(request))},
        {"rel": "collection", "type": "application/json", "title": "The collection",
         "href": f"{base_url}/collections/{collection.id}"},
        {"rel": QUERYABLES_REL, "type": "application/schema+json", "title": "Queryables",
         "href": f"{base_url}/collections/{collection.id}/queryables"},
    ]  # fmt: skip
    more = (position + returned < matched.count) if matched.exact else returned == request.limit
    if returned == request.limit and more:
        following: dict[str, Any] = {"offset": position + request.limit}
        if not request.query.sortby and last_key is not None:
            following["cursor"] = last_key
        links.append(
            {"rel": "next", "type": "application/geo+json", "title": "Next page",
             "href": href("json", **following)}
        )  # fmt: skip
    if position > 0:
        links.append(
            {"rel": "prev", "type": "application/geo+json", "title": "Previous page",
             "href": href("json", offset=max(0, position - request.limit))}
        )  # fmt: skip
    return links


def _position(request: ItemsRequest) -> dict[str, Any]:
    position: dict[str, Any] = {"offset": request.offset} if request.offset else {}
    if request.cursor is not None:
        position["cursor"] = request.cursor
    return position


# -- parameters ---------------------------------------------------------------------


def _offered_crs(value: str | None, collection: Collection) -> str:
    crs_uri = value or CRS84
    if crs_uri not in collection.crs:
        raise BadRequest(f"crs '{crs_uri}' is not offered; offered: {', '.join(collection.crs)}")
    return crs_uri


def _names(value: str | None, layer: Layer, what: str) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in layer.types]
    if unknown:
        raise BadRequest(
            f"unknown {what}: {', '.join(unknown)}; known: {', '.join(sorted(layer.types))}"
        )
    return names


def _sortby(value: str | None, layer: Layer) -> list[tuple[str, bool]]:
    if not value:
        return []
    keys = []
    for item in value.split(","):
        item = item.strip()
        descending = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in layer.types and name != layer.id_field:
            raise BadRequest(f"sortby: unknown property '{name}'")
        keys.append((name, descending))
    return keys


def _bbox(value: str | None, bbox_crs: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        if bbox_crs:
            raise BadRequest("bbox-crs given without bbox")
        return None
    numbers = parse_bbox(value)
    if not bbox_crs or bbox_crs == CRS84:
        return numbers
    return _to_crs84(list(numbers), bbox_crs)


def _to_crs84(bbox: list[float], crs_uri: str) -> tuple[float, float, float, float]:
    try:
        source = pyproj.CRS.from_user_input(crs_uri)
    except pyproj.exceptions.CRSError:
        raise BadRequest(f"unknown bbox-crs '{crs_uri}'") from None
    # The client gives the corners in the CRS's own axis order (OGC API Features Part 2).
    transformer = pyproj.Transformer.from_crs(source, "OGC:CRS84", always_xy=False)
    try:
        return tuple(transformer.transform_bounds(*bbox, densify_pts=21))  # type: ignore[return-value]
    except pyproj.exceptions.ProjError as err:
        raise BadRequest(f"bbox cannot be expressed in CRS84: {err}") from None


def _with_filter(query: Query, params: dict[str, str], body: bytes, offered: list[str]) -> Query:
    language = params.get("filter-lang")
    text = params.get("filter")
    if body and text is None:
        text, language = body.decode("utf-8", errors="replace"), "cql2-json"
    if text is None:
        if language or params.get("filter-crs"):
            raise BadRequest(f"{'filter-lang' if language else 'filter-crs'} given without filter")
        return query
    ITEMS["filter"].parse(text)  # its length
    if language not in (None, "cql2-text", "cql-text", "cql2-json", "cql-json"):
        raise BadRequest("filter-lang must be cql2-text or cql2-json")
    try:
        ast = cql.parsed(text, language in ("cql2-json", "cql-json"))
    except Exception as err:  # pygeofilter raises many kinds  # noqa: BLE001
        raise BadRequest(f"filter is not valid {language or 'cql2-text'}: {_short(err)}") from None
    srid, flip = _filter_crs(params.get("filter-crs"), offered)
    return replace(query, filter=ast, filter_srid=srid, filter_flip=flip)


def _filter_crs(crs_uri: str | None, offered: list[str]) -> tuple[int, bool]:
    """The SRID of the filter's geometries, and whether they give latitude first. The
    collection's CRSs are accepted, any other is a 400 (OGC API Features Part 3,
    /req/filter/filter-crs-param C)."""
    if not crs_uri or crs_uri == CRS84:
        return 4326, False
    if crs_uri not in offered:
        raise BadRequest(f"filter-crs '{crs_uri}' is not offered; offered: {', '.join(offered)}")
    try:
        crs = pyproj.CRS.from_user_input(crs_uri)
        srid = crs.to_epsg()
    except pyproj.exceptions.CRSError:
        srid = None
    if srid is None:
        raise BadRequest(f"unknown filter-crs '{crs_uri}'")
    return srid, crs.axis_info[0].direction.lower() in ("north", "south")


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
