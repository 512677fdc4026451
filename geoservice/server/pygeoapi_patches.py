"""Where pygeoapi 0.24's behaviour is wrong for a server that runs several configurations.

pygeoapi.l10n.translate_struct caches the translated configuration per locale in a
module-wide dict, whatever configuration it is given: once one configuration has rendered a
page in Greek, every other one (a newer catalogue after a load, or another caller's view with
other collections) renders with the first one's resources, i.e. stale pages and 500s, or
another caller's collections. We key the cache by configuration instead.
"""

from __future__ import annotations

import threading
from typing import Any

from pygeoapi import l10n

_original = l10n.translate_struct
_lock = threading.Lock()
_translated: dict[tuple[int, str], tuple[Any, Any]] = {}
KEPT = 64  # configurations x locales


def translate_struct(struct: Any, locale_: Any, is_config: bool = False) -> Any:
    if not is_config:
        return _original(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    hit = _translated.get(key)
    if hit is not None and hit[0] is struct:  # the same object, not a reused id
        return hit[1]
    with _lock:
        l10n._cfg_cache.clear()
        result = _original(struct, locale_, True)
        l10n._cfg_cache.clear()
        if len(_translated) >= KEPT:
            _translated.clear()
        _translated[key] = (struct, result)
    return result


def apply() -> None:
    l10n.translate_struct = translate_struct
