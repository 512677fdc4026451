"""A bounded map of derived values that a server's threads share.

Instances live on the application's state (geoservice.server.state.ServerState), never in a
module: two applications in one process (tests, or one per database) keep apart, and what a
cache holds goes away with its server. Each user of a Memo puts into its keys everything the
value depends on, including what the caller may see (geoservice.server.access.Viewer.rights).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import cachetools


class Memo:
    """cachetools' LRU cache behind a short lock (cachetools' caches are not thread-safe: a
    lookup reorders the LRU list). Values are computed outside the lock; two threads that miss
    together both compute, and both answers are the same."""

    def __init__(self, maxsize: int, ttl: float | None = None):
        """Least recently used entries go first; with `ttl` (seconds), entries also expire."""
        self._cache: cachetools.Cache = (
            cachetools.LRUCache(maxsize)
            if ttl is None
            else cachetools.TTLCache(maxsize, ttl, timer=time.monotonic)
        )
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            return self._cache.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._cache[key] = value

    def remembered(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept under `key`, else compute() (outside the lock), kept."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def known(self) -> list[Hashable]:
        """The keys held now (a copy)."""
        with self._lock:
            return list(self._cache.keys())

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
