"""pygeoapi record provider over the catalogue (used for the catalogue's HTML pages and the
collection description; JSON items are served by records_api directly)."""

from __future__ import annotations

from typing import Any

from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)

from geoservice.errors import BadRequest, NotFound
from geoservice.server.access import Viewer
from geoservice.server.records.api import interval, record
from geoservice.server.records.search import QUERYABLES, Search, one_entry, run
from geoservice.store.db import shared_pool

JSON_TYPES = {"string": "string", "integer": "integer", "datetime": "string", "array": "array"}


class CatalogueProvider(BaseProvider):
    def __init__(self, provider_def: dict[str, Any]):
        super().__init__(provider_def)
        self.dsn = provider_def["data"]["dsn"]
        self.base_url = provider_def["data"].get("base_url", "")
        rights = provider_def["data"].get("viewer") or {}
        self.viewer = Viewer(
            "configured", frozenset(rights.get("roles", ())), frozenset(rights.get("groups", ()))
        )
        self._fields = {name: {"type": JSON_TYPES[kind]} for name, (_, kind) in QUERYABLES.items()}

    def get_fields(self) -> dict[str, Any]:
        return self._fields

    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        sortby: list[dict[str, str]] | None = None,
        q: str | None = None,
        filterq: Any = None,
        language: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        search = Search(
            q=q,
            bbox=tuple(bbox[:4]) if bbox else None,  # type: ignore[arg-type]
            datetime=interval(datetime_),
            filter=filterq,
            sortby=[(s["property"], s.get("order") == "-") for s in sortby or []],
            limit=limit,
            offset=offset,
            viewer=self.viewer,
        )
        try:
            with shared_pool(self.dsn).connection() as conn:
                result = run(conn, search)
        except BadRequest as err:
            raise ProviderInvalidQueryError(user_msg=str(err)) from err
        lang = "en" if str(language or "").startswith("en") else "el"
        features = [] if resulttype == "hits" else result.entries
        return {
            "type": "FeatureCollection",
            "features": [record(e, self.base_url, lang) for e in features],
            "numberMatched": result.matched,
            "numberReturned": len(features),
        }

    def get(self, identifier: str, language: Any = None, **kwargs: Any) -> dict[str, Any]:
        try:
            with shared_pool(self.dsn).connection() as conn:
                entry = one_entry(conn, identifier, self.viewer)
        except NotFound as err:
            raise ProviderItemNotFoundError(user_msg=str(err)) from err
        lang = "en" if str(language or "").startswith("en") else "el"
        return record(entry, self.base_url, lang)
