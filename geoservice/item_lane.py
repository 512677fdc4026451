"""A short lane for the commonest small request: one public feature by id, as GeoJSON.

A web map's popups and QGIS's identify tool ask for single features all the time. For them
Flask's request and response machinery costs several times what the lookup itself does
(a prepared statement and a splice of the text PostgreSQL wrote), so this WSGI layer answers
the plain case before Flask sees it: GET, an anonymous caller, no Origin (CORS answers per
origin), no query parameters but `f=json`, an Accept that wants JSON. Everything else, and
every error (unknown collection or id, an unavailable database), goes on to the Flask app,
which answers exactly as it would have.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from geoservice import http_policy
from geoservice.errors import GeoserviceError
from geoservice.items_api import item_response

ITEM_PATH = re.compile(r"/collections/([A-Za-z0-9_.-]+)/items/([A-Za-z0-9_.~-]+)/?")
PLAIN_QUERIES = {"", "f=json", "f=geojson"}
JSON_ACCEPTS = ("application/geo+json", "application/json")


class ItemLane:
    def __init__(self, app: Callable, state: Any, base_url: Callable[[], str]):
        self.app = app  # the Flask WSGI app, for everything else
        self.state = state  # app.ServerState: the collections the anonymous caller sees
        self.base_url = base_url

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self._answer(environ) if _plain(environ) else None
        if answer is None:
            return self.app(environ, start_response)
        body, headers = answer
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _answer(self, environ: dict) -> tuple[bytes, list[tuple[str, str]]] | None:
        match = ITEM_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        try:
            collection = self.state.current().collections.get(match[1])
            if collection is None:  # the catalogue, a hidden or an unknown collection
                return None
            body, headers = item_response(collection, match[2], {}, self.base_url())
        except (GeoserviceError, OSError, ValueError):
            return None  # Flask says what is wrong
        return body, [
            *headers.items(),
            *http_policy.BASE_HEADERS,
            ("Vary", http_policy.VARY),
        ]


def _plain(environ: dict) -> bool:
    query = environ.get("QUERY_STRING", "")
    if environ.get("REQUEST_METHOD") != "GET" or query not in PLAIN_QUERIES:
        return False
    if "HTTP_AUTHORIZATION" in environ or "HTTP_ORIGIN" in environ:
        return False
    if query:  # f=json decides the format whatever Accept says
        return True
    accept = environ.get("HTTP_ACCEPT", "*/*").strip()
    return accept in ("", "*/*") or accept.startswith(JSON_ACCEPTS)
