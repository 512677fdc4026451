"""The web application: a thin Flask app around pygeoapi's API functions.

We own the pygeoapi `API` object (built from the generated configuration) and rebuild it
when the catalogue version changes, so a load or removal shows up without a restart.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import psycopg
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
from flask import (
    Flask,
    Response,
    g,
    jsonify,
    make_response,
    request,
    send_from_directory,
    stream_with_context,
)
from psycopg_pool import PoolTimeout
from pygeoapi.api import API, APIRequest
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from geoservice.errors import Forbidden, GeoserviceError, NotFound, Unauthorized
from geoservice.server import http_policy, identity, params, portal, pygeoapi_patches, session
from geoservice.server.access import ANONYMOUS, Viewer
from geoservice.server.auth import Authenticator
from geoservice.server.conformance import conformance as declared_conformance
from geoservice.server.features.items import (
    CRS84,
    Collection,
    download_response,
    item_response,
    items_response,
    parse_items_request,
)
from geoservice.server.features.shortcut import GeoJSONShortcut, wants_geojson
from geoservice.server.params import refuse_nul
from geoservice.server.pygeoapi_config import PACKAGE_DIR
from geoservice.server.records import api as catalogue_api
from geoservice.server.records import search as catalogue_search
from geoservice.server.records.api import CATALOGUE_ID
from geoservice.server.state import REFRESH_SECONDS, ServerState, Snapshot
from geoservice.settings import Settings
from geoservice.store import db, registry
from geoservice.store.records import Entry

LOGGER = logging.getLogger(__name__)
ERROR_CODES = {
    400: "InvalidParameterValue",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    503: "ServiceUnavailable",
}
GEOJSON = "application/geo+json"
CQL2_JSON = "application/query-cql-json"


def create_app(settings: Settings, refresh_seconds: float = REFRESH_SECONDS) -> Flask:
    pygeoapi_patches.apply()  # idempotent: patches pygeoapi once per process, here, not on import
    app = Flask("geoservice", static_folder=None)
    app.url_map.strict_slashes = False
    state = ServerState(settings, refresh_seconds)  # every cache of data hangs on it (state.py)
    authenticator = Authenticator(settings)
    app.extensions["geoservice"] = state
    app.extensions["geoservice.server.auth"] = authenticator  # the portal's sign-in checks keys
    static_dir = PACKAGE_DIR / "static"

    @app.before_request
    def no_nul_characters() -> None:
        # A NUL in an id or parameter would reach PostgreSQL, which cannot store one (a 500).
        refuse_nul(request.path, *(f"{k}={v}" for k, v in request.args.items(multi=True)))

    @app.before_request
    def identify() -> None:
        g.viewer = ANONYMOUS  # also for the error handlers, should the token be refused
        try:
            g.viewer = authenticator.viewer(session.credential(request))
        except Unauthorized:
            if not session.from_cookie(request):
                raise
            g.signed_out = True  # a sign-in whose key was revoked or expired: anonymous now

    @app.before_request
    def only_declared_parameters() -> None:
        """A 400 naming a query parameter the endpoint does not define (params.py)."""
        declared = ENDPOINT_PARAMETERS.get(request.endpoint or "")
        if declared is None or not request.args:
            return
        collection_id = (request.view_args or {}).get("collection_id")
        if collection_id == CATALOGUE_ID:
            declared = CATALOGUE_PARAMETERS.get(request.endpoint or "", declared)
        properties: frozenset[str] | dict = frozenset()
        if declared.properties:
            collection = state.current(viewer()).collections.get(collection_id or "")
            if collection is None:
                return  # not a feature collection this caller sees: its 404 follows
            properties = collection.layer.types
        declared.refuse_unknown(request.args.keys(), properties)

    @app.after_request
    def policy(response: Response) -> Response:
        if g.get("signed_out") and not session.sets_cookie(response):
            session.forget(response)
        return http_policy.apply(response, settings, g.get("viewer", ANONYMOUS))

    def viewer() -> Viewer:
        return g.get("viewer", ANONYMOUS)

    def run(function: Callable, *args: Any, body_as_filter: bool = False) -> Response:
        api = state.api(viewer())
        source = _filter_in_body(request) if body_as_filter else request
        api_request = APIRequest.from_flask(source, api.locales)
        if not api_request.is_valid():
            headers, status, content = api.get_format_exception(api_request)
        else:
            headers, status, content = function(api, api_request, *args)
        if int(status) >= 500:
            LOGGER.error(
                "%s %s -> %s: %s", request.method, request.full_path, status, content[:500]
            )
        response = make_response(content, status, headers or {})
        if int(status) == HTTPStatus.SERVICE_UNAVAILABLE:
            response.headers["Retry-After"] = "5"
        return response

    def geojson_type(response: Response) -> Response:
        # QGIS and OWSLib expect GeoJSON's own media type for features.
        if response.status_code == 200 and response.mimetype == "application/json":
            response.headers["Content-Type"] = GEOJSON
        return response

    def fast_path(collection_id: str) -> tuple[Snapshot, Collection] | None:
        """The collection, when the request wants GeoJSON (else pygeoapi renders it)."""
        snapshot = state.current(viewer())
        collection = snapshot.collections.get(collection_id)
        if collection is None:
            return None
        return (snapshot, collection) if _wants_geojson() else None

    @app.get("/")
    def landing_page() -> Response:
        return run(core_api.landing_page)

    @app.get("/openapi")
    def openapi() -> Response:
        return run(core_api.openapi_)

    @app.get("/conformance")
    def conformance() -> Response:
        return run(declared_conformance)

    @app.get("/collections")
    @app.get("/collections/<path:collection_id>")
    def collections(collection_id: str | None = None) -> Response:
        return run(_with_catalogue_crs, collection_id)

    @app.get("/collections/<path:collection_id>/queryables")
    def queryables(collection_id: str) -> Response:
        return run(_labelled_queryables, collection_id)

    @app.get("/collections/<path:collection_id>/schema")
    def schema(collection_id: str) -> Response:
        return run(core_api.get_collection_schema, collection_id)

    @app.route("/collections/<path:collection_id>/items", methods=["GET", "POST"])
    def items(collection_id: str) -> Response:
        if request.method == "POST" and request.mimetype != CQL2_JSON:
            return _error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "InvalidParameterValue",
                f"POST a CQL2 JSON filter with Content-Type: {CQL2_JSON}",
            )
        if collection_id == CATALOGUE_ID:
            catalogue_api.refuse_other_crs(request.args.to_dict())  # any format
            if _wants_geojson():
                return _search_catalogue(state, viewer())
        if found := fast_path(collection_id):
            params = request.args.to_dict()
            body = request.get_data() if request.method == "POST" else b""
            parsed = parse_items_request(found[1], params, body)
            parts, headers = items_response(found[1], parsed, params, settings.base_url)
            return Response(parts, 200, headers)  # a list: Werkzeug sets Content-Length
        return geojson_type(
            run(itemtypes_api.get_collection_items, collection_id, body_as_filter=True)
        )

    @app.get("/collections/<path:collection_id>/items/<path:item_id>")
    def item(collection_id: str, item_id: str) -> Response:
        if collection_id == CATALOGUE_ID:
            catalogue_api.refuse_other_crs(request.args.to_dict())  # any format
            if _wants_geojson():
                return _one_record(settings, item_id, viewer())
        if found := fast_path(collection_id):
            body, headers = item_response(
                found[1], item_id, request.args.to_dict(), settings.base_url
            )
            return Response(body, 200, headers)
        return geojson_type(run(itemtypes_api.get_collection_item, collection_id, item_id))

    @app.get("/collections/catalogue/dcat")
    def catalogue_dcat() -> Response:
        """The whole catalogue as DCAT-AP, for national and European portals to harvest."""
        with db.shared_pool(settings.dsn).connection() as conn:
            entries = catalogue_search.visible_entries(conn, viewer())
        return _dcat([Entry.from_json(e) for e in entries], settings)

    @app.get("/collections/catalogue/items/<record_id>/<any(dcat, iso19139):encoding>")
    def record_export(record_id: str, encoding: str) -> Response:
        """One record as DCAT-AP or ISO 19139 / INSPIRE XML."""
        with db.shared_pool(settings.dsn).connection() as conn:
            entry = Entry.from_json(catalogue_search.one_entry(conn, record_id, viewer()))
        if encoding == "iso19139":
            from geoservice.server.records import iso19139  # pygeometa: loaded on first use

            xml = iso19139.iso19139(entry, settings.base_url, identity.of(settings))
            return Response(xml, 200, {"Content-Type": "application/xml"})
        return _dcat([entry], settings)

    @app.get("/collections/<path:collection_id>/download")
    def download(collection_id: str) -> Response:
        snapshot = state.current(viewer())
        collection = snapshot.collections.get(collection_id)
        if collection is None:
            raise NotFound(f"no collection '{collection_id}'")
        params = request.args.to_dict()
        chunks, headers = download_response(collection, params)
        return Response(stream_with_context(chunks), 200, headers)

    @app.get("/admin/loads")
    def recent_loads() -> Response:
        """The latest load attempts of every collection, with their warnings (admins only)."""
        if not viewer().admin:
            raise Forbidden("this needs an admin key or token")
        with db.shared_pool(settings.dsn).connection() as conn:
            loads = registry.recent_loads(conn, limit=100)
        return Response(
            json.dumps(loads, default=str, ensure_ascii=False),
            200,
            {"Content-Type": "application/json"},
        )

    @app.get("/static/<path:filename>")
    def static(filename: str) -> Response:
        return send_from_directory(static_dir, filename)

    @app.errorhandler(GeoserviceError)
    def our_error(err: GeoserviceError) -> Response:
        if err.http_status >= 500:
            LOGGER.error("%s %s: %s", request.method, request.full_path, err)
        response = _error(
            err.http_status, ERROR_CODES.get(err.http_status, "NoApplicableCode"), str(err)
        )
        if err.http_status == HTTPStatus.SERVICE_UNAVAILABLE:
            response.headers["Retry-After"] = "5"
        if err.http_status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        return _error(
            err.code or 500,
            "NotFound" if err.code == 404 else "InvalidRequest",
            err.description or err.name,
        )

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_down(err: Exception) -> Response:
        LOGGER.error("database unavailable: %s", err)
        response = _error(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the database is not available; try again shortly",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        LOGGER.exception("unexpected error")  # the trace goes to the log, never to the client
        return _error(
            HTTPStatus.INTERNAL_SERVER_ERROR, "NoApplicableCode", "internal server error (logged)"
        )

    # The data portal (geoservice/server/portal): HTML pages for people, under /portal.
    app.register_blueprint(portal.build_blueprint())
    # Public GeoJSON features, pages and by id, skip Flask's machinery (features/shortcut.py).
    app.wsgi_app = GeoJSONShortcut(app.wsgi_app, state, settings.base_url)  # type: ignore[method-assign]
    return app


# The query parameters each endpoint (view function) defines; the portal's pages and static
# files are not part of the API.
ENDPOINT_PARAMETERS: dict[str, params.Parameters] = {
    "landing_page": params.PAGE,
    "openapi": params.OPENAPI,
    "conformance": params.PAGE,
    "collections": params.PAGE,
    "queryables": params.PAGE,
    "schema": params.PAGE,
    "items": params.ITEMS,
    "item": params.ITEM,
    "download": params.DOWNLOAD,
    "catalogue_dcat": params.EXPORT,
    "record_export": params.EXPORT,
    "recent_loads": params.NONE,
}
CATALOGUE_PARAMETERS = {"items": params.RECORDS, "item": params.RECORD}


def _wants_geojson() -> bool:
    return wants_geojson(request.args, request.accept_mimetypes)


def _dcat(entries: list[Entry], settings: Settings) -> Response:
    # rdflib (with pygeometa, a large part of a worker's memory) is loaded when a harvester
    # first asks.
    from geoservice.server.records import dcat

    base_url, who = settings.base_url, identity.of(settings)
    if (request.args.get("f") or "").lower() in ("jsonld", "json-ld"):
        body, mimetype = dcat.dcat_jsonld(entries, base_url, who), "application/ld+json"
    else:
        body, mimetype = dcat.dcat_turtle(entries, base_url, who), "text/turtle; charset=utf-8"
    return Response(body, 200, {"Content-Type": mimetype})


def _language() -> str:
    wanted = request.args.get("lang") or request.accept_languages.best_match(["el", "en"]) or "el"
    return "en" if wanted.lower().startswith("en") else "el"


def _search_catalogue(state: ServerState, viewer: Viewer) -> Response:
    settings, version = state.settings, state.published().version
    params = request.args.to_dict()
    body = request.get_data() if request.method == "POST" else b""
    search = catalogue_api.parse(params, body)
    search.viewer = viewer
    lang = _language()
    with db.shared_pool(settings.dsn).connection() as conn:
        text, links = catalogue_api.search_page(
            conn, search, params, settings.base_url, lang, version, state.aggregates, state.records
        )
    headers = {
        "Content-Type": GEOJSON,
        "Content-Language": lang,
        "Content-Crs": f"<{CRS84}>",
        "Link": http_policy.link_header(links),
    }
    return Response(text, 200, headers)


def _one_record(settings: Settings, record_id: str, viewer: Viewer) -> Response:
    with db.shared_pool(settings.dsn).connection() as conn:
        entry = catalogue_search.one_entry(conn, record_id, viewer)
    document = catalogue_api.record(entry, settings.base_url, _language())
    headers = {
        "Content-Type": GEOJSON,
        "Content-Crs": f"<{CRS84}>",
        "Link": http_policy.link_header(document["links"]),
    }
    return Response(json.dumps(document, ensure_ascii=False), 200, headers)


def _with_catalogue_crs(api: API, api_request: APIRequest, collection_id: str | None):
    """pygeoapi lists the CRSs of feature collections only; the catalogue's records are
    features too, in CRS84 (Features Part 2, /req/crs/fc-md-crs-list: a collection object
    lists the CRSs the server supports for it)."""
    headers, status, content = core_api.describe_collections(api, api_request, collection_id)
    if status != HTTPStatus.OK or headers.get("Content-Type") != "application/json":
        return headers, status, content
    document = json.loads(content)
    for collection in document.get("collections", [document]):
        if collection.get("id") == CATALOGUE_ID:
            collection.update({"crs": [CRS84], "storageCrs": CRS84})
    return headers, status, json.dumps(document, ensure_ascii=False)


def _labelled_queryables(api: API, api_request: APIRequest, collection_id: str):
    """pygeoapi titles each queryable with its column name; we give the field's label
    (in the request's language) and keep the source's own field name beside it. As OGC API
    Features Part 3 requires (/req/queryables/get-queryables-response B, G): JSON Schema
    2020-12, `$id` the resource's URI without its query, and `additionalProperties: false`,
    since a filter on any other property is refused (400)."""
    headers, status, content = itemtypes_api.get_collection_queryables(
        api, api_request, collection_id
    )
    if status != HTTPStatus.OK or api_request.format not in (None, "json"):
        return headers, status, content
    document = json.loads(content)
    provider = api.config["resources"][collection_id]["providers"][0]
    lang = "en" if str(api_request.locale).startswith("en") else "el"
    for field in provider.get("fields", []):
        entry = document.get("properties", {}).get(field["name"])
        if entry is None:
            continue
        label = field.get("label") or {}
        entry["title"] = label.get(lang) or label.get("en") or field["original"]
        if field["original"] != field["name"]:
            entry["x-source-name"] = field["original"]
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["$id"] = document.get("$id", "").split("?", 1)[0]
    document["additionalProperties"] = False
    return headers, status, json.dumps(document, ensure_ascii=False)


def _filter_in_body(original: Request) -> Request:
    """`filter-lang=cql2-json` on a GET: pygeoapi reads CQL2 JSON only from a request body, so
    it is given a request whose body is the filter (and whose query does not hold it)."""
    args = original.args
    if args.get("filter-lang") != "cql2-json" or not args.get("filter"):
        return original
    body = args["filter"].encode()
    query = [(k, v) for k, v in args.items(multi=True) if k != "filter"]
    environ = {
        **original.environ,
        "QUERY_STRING": urlencode(query),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    return Request(environ)


def _error(status: int, code: str, description: str) -> Response:
    response = jsonify({"code": code, "description": description})
    response.status_code = int(status)
    return response
