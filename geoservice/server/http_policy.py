"""Headers every response carries: security headers, CORS as the deployment configures it,
and cache rules that keep what a token unlocked out of shared caches."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request

from geoservice.server.access import Viewer
from geoservice.settings import Settings

# Pages load only what we serve (no CDN); map tiles may come from the configured tile server.
# pygeoapi's templates use inline scripts and styles, hence 'unsafe-inline'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: http: https:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
)
EXPOSED = "Content-Crs, Link, Retry-After, WWW-Authenticate, Content-Disposition"
# On every response; what a response holds depends on the caller's token, hence the Vary.
BASE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
)
VARY = "Authorization, Cookie"  # who is asking: a token, or the portal's sign-in cookie
# A filterable resource links its queryables with this relation (OGC API Features Part 3).
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
URI_CHARACTERS = "!#$%&'()*+,-./:;=?@[]_~"  # RFC 3986's reserved and unreserved: kept as they are


def link_header(links: list[dict[str, str]]) -> str:
    """A body's links as an RFC 8288 `Link` header: OGC API Features Part 1 recommends it
    (Recommendation /rec/core/link-header), Part 3 recommends it for the queryables link, and
    clients that look only at headers (ogctests' filtering suite) find the page's media types
    there. Titles stay in the body: a header is ASCII, titles are Greek."""
    return ", ".join(
        f'<{quote(link["href"], safe=URI_CHARACTERS)}>; rel="{link["rel"]}"'
        + (f'; type="{link["type"]}"' if link.get("type") else "")
        for link in links
    )


def apply(response: Response, settings: Settings, viewer: Viewer) -> Response:
    headers = response.headers
    for name, value in BASE_HEADERS:
        headers.setdefault(name, value)
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.add("Vary", VARY)
    if not viewer.anonymous:
        headers["Cache-Control"] = "private, no-store"
    _cors(response, settings.cors_origins)
    return response


def _cors(response: Response, allowed: tuple[str, ...]) -> None:
    origin = request.headers.get("Origin")
    if not origin or not allowed:
        return
    headers = response.headers
    if "*" in allowed:
        headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
        headers.add("Vary", "Origin")
    else:
        return
    headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":  # a preflight
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, Accept, Accept-Language"
        )
        headers["Access-Control-Max-Age"] = "600"
