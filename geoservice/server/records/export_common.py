"""What the ISO 19139 and the DCAT-AP exports (iso19139.py, dcat.py) share: the languages of
their texts, and how an entry's links and IRIs are made absolute.

`base_url` is the server's public root (no trailing slash needed): entries' relative link
hrefs are resolved against it.
"""

from __future__ import annotations

from geoservice.server.records.api import CATALOGUE_ID
from geoservice.store.records import Bilingual, Entry, Link

DEFAULT_LANGUAGE = "el"
ALTERNATE_LANGUAGE = "en"


def root_url(base_url: str) -> str:
    return base_url.rstrip("/")


def absolute_url(link: Link, base_url: str) -> str:
    """A link's absolute URL (the loader stores hrefs relative to the server root)."""
    if link.href.startswith(("http://", "https://")):
        return link.href
    return root_url(base_url) + "/" + link.href.lstrip("/")


def find_link(entry: Entry, rel: str) -> Link | None:
    return next((lk for lk in entry.links if lk.rel == rel), None)


def resource_uri(entry: Entry, base_url: str) -> str:
    """The resource's IRI: its OGC API collection when it has one, else its catalogue record
    (a document, service or external dataset lives elsewhere; its record is ours)."""
    coll = find_link(entry, "collection")
    if coll:
        return absolute_url(coll, base_url)
    return f"{root_url(base_url)}/collections/{CATALOGUE_ID}/items/{entry.id}"


def is_layer(entry: Entry) -> bool:
    """A layer served here (kind "dataset"), not a catalogued resource (resources.py)."""
    return entry.kind == "dataset"


def text_in(texts: Bilingual | None, lang: str) -> str | None:
    """The text in a language, falling back to the other one (a one-language descriptor)."""
    if not texts:
        return None
    return texts.get(lang) or next((t for t in texts.values() if t), None)
