"""A shortcut for the commonest requests: public features as GeoJSON, pages and by id.

QGIS pages through layers, a web map asks for a bbox on every pan and for a feature on
every popup. For them Flask's request and response machinery cost about as much as our
part of the work (PostgreSQL writes the JSON; we wrap it), so this WSGI layer answers the
plain case before Flask sees it: GET, an anonymous caller, no Origin (CORS answers per
origin), a request for GeoJSON (`f=json`, or an Accept that prefers JSON). Everything else,
and every error (a bad parameter, an unknown collection or id, an unavailable database),
goes on to the Flask app, which answers exactly as it would have.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.wrappers import Request

from geoservice.server import http_policy, session
from geoservice.server.features.items import item_response, items_response, parse_items_request

FEATURES_PATH = re.compile(r"/collections/([A-Za-z0-9_.-]+)/items(?:/([A-Za-z0-9_.~-]+)/?)?")
JSON_TYPES = ["application/geo+json", "application/json"]
OTHER_TYPES = ["text/html", "application/ld+json"]
# Accept headers that can only mean GeoJSON here (what GDAL, OWSLib and QGIS send, or
# none): read as they are, without werkzeug's parsing.
PLAIN_ACCEPTS = {"", "*/*", "application/geo+json", "application/json",
                 "application/geo+json, application/json"}  # fmt: skip
# What http_policy.apply adds to an anonymous caller's GeoJSON without an Origin.
LANE_HEADERS = (*http_policy.BASE_HEADERS, ("Vary", http_policy.VARY))


def wants_geojson(args: MultiDict, accept: MIMEAccept) -> bool:
    """f=json, or an Accept header that prefers JSON (QGIS: geo+json; OWSLib: */*)."""
    fmt = args.get("f")
    if fmt is not None:
        return fmt.lower() in ("json", "geojson")
    best = accept.best_match(JSON_TYPES + OTHER_TYPES, default=JSON_TYPES[0])
    return best in JSON_TYPES or best is None


class GeoJSONShortcut:
    def __init__(self, app: Callable, state: Any, base_url: str):
        self.app = app  # the Flask WSGI app, for everything else
        self.state = state  # app.ServerState: the collections the anonymous caller sees
        self.base_url = base_url

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        answer = self._answer(environ) if _plain(environ) else None
        if answer is None:
            return self.app(environ, start_response)
        parts, headers = answer
        length = str(sum(len(p) for p in parts))
        start_response("200 OK", [*headers.items(), *LANE_HEADERS, ("Content-Length", length)])
        return parts

    def _answer(self, environ: dict) -> tuple[list[bytes], dict[str, str]] | None:
        match = FEATURES_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        if not environ.get("QUERY_STRING") and environ.get("HTTP_ACCEPT", "") in PLAIN_ACCEPTS:
            params: dict[str, str] = {}  # the commonest request: nothing to parse
        else:
            request = Request(environ)  # werkzeug's, as Flask's: the same parameters
            args = request.args
            if not wants_geojson(args, request.accept_mimetypes):
                return None
            params = args.to_dict()
            if any("\x00" in text for pair in params.items() for text in pair):
                return None  # Flask refuses it
        try:
            collection = self.state.current().collections.get(match[1])
            if collection is None:  # the catalogue, a hidden or an unknown collection
                return None
            if match[2] is not None:
                body, headers = item_response(collection, match[2], params, self.base_url)
                return [body], headers
            parsed = parse_items_request(collection, params)
            return items_response(collection, parsed, params, self.base_url)
        except Exception:  # noqa: BLE001 (a client's mistake or ours: Flask answers it as always)
            return None


def _plain(environ: dict) -> bool:
    if environ.get("REQUEST_METHOD") != "GET":
        return False
    if "HTTP_AUTHORIZATION" in environ or "HTTP_ORIGIN" in environ:
        return False
    return session.COOKIE not in environ.get("HTTP_COOKIE", "")  # signed in: Flask decides
