"""A dataset page's search of its features: the features one of whose text fields holds the
words typed, whatever their case and accents ("καλαμαρια" finds "Καλαμαριάς").

The search is a CQL2 filter (OGC API Features Part 3) read by the same parser and run by the
same feature store as the items API's `filter=`, on the caller's snapshot: a dataset the caller
may not see has no page, and its features are never read. The page links to the same filter
on the items API for every match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from geoservice.errors import BadRequest
from geoservice.server import cql
from geoservice.server.features.items import Collection
from geoservice.server.features.store import Query

MAX_LENGTH = 100  # characters of a search
SHOWN = 50  # matches listed on the page; the API link has them all


@dataclass(frozen=True)
class Found:
    features: list[dict[str, Any]]  # id and properties, without geometry
    matched: int
    exact: bool  # False: matched is a lower bound (the store stops counting at its cap)
    api_url: str  # every match, as the items API's HTML page


def text_filter(fields: list[str], words: str) -> dict[str, Any]:
    """CQL2 JSON: one of `fields` contains `words`, case and accents ignored (LIKE's %, _ and
    \\ in the words are taken literally)."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    def folded(node: Any) -> dict[str, Any]:
        return {"op": "accenti", "args": [{"op": "casei", "args": [node]}]}

    likes = [
        {"op": "like", "args": [folded({"property": name}), folded(f"%{escaped}%")]}
        for name in fields
    ]
    return likes[0] if len(likes) == 1 else {"op": "or", "args": likes}


def find(collection: Collection, fields: list[str], words: str) -> Found:
    """The first SHOWN features whose `fields` contain `words`, and how many match."""
    if len(words) > MAX_LENGTH:
        raise BadRequest(f"find: at most {MAX_LENGTH} characters")
    document = text_filter(fields, words)
    query = Query(filter=cql.parse_json(document), skip_geometry=True)
    page = collection.store.page(collection.layer, query, SHOWN)
    matched = collection.store.matched(collection.layer, query)
    features = [
        {"id": f.get("id"), "properties": f.get("properties") or {}}
        for f in json.loads(page.features_json)
    ]
    params = {"f": "html", "filter-lang": "cql2-json", "filter": json.dumps(document)}
    api_url = f"/collections/{collection.id}/items?{urlencode(params)}"
    return Found(features, matched.count, matched.exact, api_url)
