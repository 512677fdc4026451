"""Where pygeoapi 0.24's behaviour is wrong for a server that runs several configurations.

pygeoapi.l10n.translate_struct caches the translated configuration per locale in a
module-wide dict, whatever configuration it is given: once one configuration has rendered a
page in Greek, every other one (a newer catalogue after a load, or another caller's view with
other collections) renders with the first one's resources, i.e. stale pages and 500s, or
another caller's collections. We key the cache by configuration instead.

Upstream: pygeoapi/l10n.py `translate_struct`, `_cfg_cache.get(locale_) if is_config` (0.24,
and still so on pygeoapi's master as read in December 2026); no issue about it was found in
pygeoapi's tracker, so none is cited yet. tests/test_patches.py fails when pygeoapi fixes it
(the patch can then go) or moves the internals the patch relies on.

Nothing happens on import: create_app calls apply(), which may run any number of times.
The translations stay in this module, beside the function pygeoapi calls in place of its own
(pygeoapi has no way to hand it the application): they are keyed by the configuration object
itself, and each configuration belongs to one snapshot (one access view of one catalogue
version, state.Snapshot), so a caller only ever gets its own configuration's translation.
"""

from __future__ import annotations

import threading
from typing import Any

import cachetools
from pygeoapi import l10n

_original = l10n.translate_struct  # pygeoapi's own: apply() has not replaced it yet
_lock = threading.Lock()  # pygeoapi's translation (it uses its module-wide _cfg_cache)
_cache_lock = threading.Lock()  # ours (cachetools' caches are not thread-safe)
KEPT = 64  # configurations x locales
# (id of the configuration, locale) -> (the configuration, its translation); the configuration
# is kept with it so that its id is not reused while the entry lives.
_translated: cachetools.LRUCache = cachetools.LRUCache(KEPT)


def translate_struct(struct: Any, locale_: Any, is_config: bool = False) -> Any:
    if not is_config:
        return _original(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    with _cache_lock:
        hit = _translated.get(key)
    if hit is not None and hit[0] is struct:  # the same object, not a reused id
        return hit[1]
    with _lock:
        l10n._cfg_cache.clear()
        result = _original(struct, locale_, True)
        l10n._cfg_cache.clear()
    with _cache_lock:
        _translated[key] = (struct, result)
    return result


def apply() -> None:
    """Put our translate_struct in pygeoapi's place (idempotent)."""
    l10n.translate_struct = translate_struct
