"""What a server keeps between requests: one ServerState per application
(app.extensions["geoservice"]), made by create_app. Nothing of the kind lives in a module.

Every cache of data hangs here and is keyed by what its caller may see and by the version it
was made from:
- a Snapshot is one access view (Viewer.rights) of one catalogue version: what is derived
  from its collections (the portal's places and outline, each collection's feature store and
  counts) lives on it and goes with it;
- `aggregates` and `records` (geoservice.server.memo.Memo, cachetools) hold catalogue search
  results, keyed in records/search.py and records/api.py by the viewer's rights and the
  catalogue (or row) version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from pygeoapi.api import API

from geoservice.server.access import ANONYMOUS, Viewer
from geoservice.server.features.items import Collection
from geoservice.server.memo import Memo
from geoservice.server.openapi import build_openapi
from geoservice.server.pygeoapi_config import build_config
from geoservice.server.records import api as records_api
from geoservice.server.records import search as records_search
from geoservice.settings import Settings
from geoservice.store import db, registry

LOGGER = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0  # how stale the list of collections may be
VIEWS_KEPT = 64  # access views (distinct rights) with a snapshot of the current version
T = TypeVar("T")
_MISSING: Any = object()


@dataclass(frozen=True)
class Snapshot:
    """What the server serves to one audience (viewers of equal rights), as of one catalogue
    version. Values derived from it (derived(), in_background()) are kept on it: they are
    therefore per access view and per version, and are dropped with it."""

    api: API
    collections: dict[str, Collection]
    version: int  # the catalogue version it was built from
    rights: tuple = ANONYMOUS.rights  # whose view it is (Viewer.rights)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def derived(self, name: str, compute: Callable[[Snapshot], T]) -> T:
        """compute(self), once per snapshot (lock-free once known)."""
        value = self._derived.get(name, _MISSING)
        if value is _MISSING:
            with self._lock:
                value = self._derived.get(name, _MISSING)
                if value is _MISSING:
                    value = compute(self)
                    self._derived[name] = value
        return value

    def in_background(self, name: str, compute: Callable[[Snapshot], T], default: T) -> T:
        """compute(self) run once in a background thread; `default` until it has finished."""
        value = self._derived.get(name, _MISSING)
        if value is not _MISSING:
            return value
        started = f"{name}:started"
        with self._lock:
            if started not in self._derived:
                self._derived[started] = True
                threading.Thread(
                    target=self._compute_later, args=(name, compute), daemon=True
                ).start()
        return default

    def _compute_later(self, name: str, compute: Callable[[Snapshot], Any]) -> None:
        value = compute(self)
        with self._lock:
            self._derived[name] = value


@dataclass(frozen=True)
class Published:
    """Every published collection, as of one catalogue version."""

    records: dict[str, registry.CollectionRecord]
    version: int


class ServerState:
    """The current snapshots, rebuilt when the catalogue changes, and the catalogue's caches.

    Callers with the same rights (geoservice.server.access) share one pygeoapi configuration
    holding only what they may see, so a hidden collection is absent from every surface
    pygeoapi renders (collection lists, OpenAPI, HTML, queryables), not filtered page by page.
    """

    def __init__(self, settings: Settings, refresh_seconds: float = REFRESH_SECONDS):
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._published: Published | None = None
        # By the viewer's rights. Read without the lock on every request (the feature paths):
        # never changed in place, replaced by a new dict under the lock (copy on write).
        self._views: dict[tuple, Snapshot] = {}
        self._checked = 0.0
        # Catalogue searches: counts, facets and relevance order per filter, and each record's
        # JSON (keys: records/search.py _key, records/api.py search_document).
        self.aggregates = Memo(records_search.AGGREGATES_KEPT)
        self.records = Memo(records_api.RECORDS_KEPT)

    def api(self, viewer: Viewer = ANONYMOUS) -> API:
        return self.current(viewer).api

    def current(self, viewer: Viewer = ANONYMOUS) -> Snapshot:
        published = self.published()
        rights = viewer.rights
        snapshot = self._views.get(rights)
        if snapshot is not None and snapshot.version == published.version:
            return snapshot
        with self._lock:
            snapshot = self._views.get(rights)
            if snapshot is None or snapshot.version != published.version:
                records = [
                    r for r in published.records.values() if viewer.can_see_descriptor(r.descriptor)
                ]
                snapshot = self._build(records, published.version, viewer)
                views = {r: s for r, s in self._views.items() if s.version == published.version}
                if len(views) >= VIEWS_KEPT:
                    del views[next(iter(views))]  # the oldest view
                views[rights] = snapshot
                self._views = views
            return snapshot

    def published(self) -> Published:
        published = self._published
        if published is not None and time.monotonic() - self._checked < self.refresh_seconds:
            return published
        with self._lock:
            if (
                self._published is not None
                and time.monotonic() - self._checked < self.refresh_seconds
            ):
                return self._published
            try:
                with db.shared_pool(self.settings.dsn).connection() as conn:
                    version = registry.catalogue_version(conn)
                    if self._published is None or version != self._published.version:
                        records = {r.id: r for r in registry.list_collections(conn)}
                        self._published = Published(records, version)
                        self._views = {}
            except psycopg.Error:
                if self._published is None:
                    raise
                LOGGER.warning("database unavailable; serving the last known catalogue")
            self._checked = time.monotonic()
            return self._published

    def _build(
        self, records: list[registry.CollectionRecord], version: int, viewer: Viewer
    ) -> Snapshot:
        config = build_config(self.settings, records, viewer)
        api = API(config, build_openapi(config))
        # pygeoapi logs every client error (400, 404) with a trace; we log server errors.
        logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)
        collections = {
            cid: Collection.from_resource(cid, resource, config["server"])
            for cid, resource in config["resources"].items()
            if resource["providers"][0]["type"] == "feature"
        }
        return Snapshot(api, collections, version, viewer.rights)
