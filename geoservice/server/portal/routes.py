"""The portal's pages: search (home), dataset, download, dashboard.

Server-rendered with Flask's Jinja: the page is complete HTML on first paint (text, results,
facets, metadata, history work without JavaScript); the maps and the attribute table read
the OGC API endpoints from the browser.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    stream_with_context,
)

from geoservice.errors import BadRequest, NotFound
from geoservice.server import identity
from geoservice.server.features import downloads
from geoservice.server.params import PORTAL_DOWNLOAD
from geoservice.server.portal import catalogue, display, finding, i18n
from geoservice.server.portal.places import outline, places
from geoservice.store import db
from geoservice.store.vocabularies import INSPIRE

NAME = "portal"  # the blueprint's name: its endpoints are portal.home, portal.dataset, ...
PREVIEW_LIMIT = 1000  # features the preview map asks for at once
TABLE_PAGE = 20


def _state():
    return current_app.extensions["geoservice"]


def _snapshot():
    """The server's snapshot for this caller (only the collections it may see)."""
    who = catalogue.viewer()
    return _state().current(who) if who is not None else _state().current()


def _connection():
    return db.shared_pool(_state().settings.dsn).connection()


def render_page(template: str, status: int = 200, **context: Any) -> Response:
    lang = i18n.language()
    t = i18n.translator(lang)
    base_url = _state().settings.base_url
    snapshot = _snapshot()
    basemap = snapshot.api.config["server"].get("map") or {}
    args = request.args.to_dict()
    other = "en" if lang == "el" else "el"
    switch = f"{request.path}?{urlencode({**args, 'lang': other})}"
    here = request.full_path.rstrip("?")  # where sign-in and sign-out come back to
    body = render_template(
        template,
        lang=lang,
        t=t,
        tn=i18n.plural_translator(lang),
        pick=lambda texts: i18n.pick(texts, lang),
        frequency=lambda code: i18n.frequency(code, lang),
        theme_name=lambda code: _theme_name(code, lang),
        display=display,
        base_url=base_url,
        switch_url=switch,
        other_lang=other,
        basemap={"url": basemap.get("url") or "", "attribution": basemap.get("attribution") or ""},
        who=catalogue.viewer(),
        here=here,
        signin_url=f"/portal/signin?{urlencode({'next': here})}",
        **context,
    )
    response = make_response(body, status)
    response.headers["Content-Language"] = lang
    response.vary.add("Cookie")
    if request.args.get("lang") in i18n.LANGUAGES:  # remember an explicit choice
        i18n.remember(response, lang)
    return response


def register(blueprint: Blueprint) -> None:
    """The pages of this module and the hooks they need, on the portal's blueprint."""
    blueprint.before_app_request(_language_of_pygeoapi_pages)
    blueprint.after_app_request(_remember_language)
    blueprint.add_url_rule("/", view_func=home, methods=["GET"])
    blueprint.add_url_rule("/datasets/<dataset_id>", view_func=dataset, methods=["GET"])
    blueprint.add_url_rule("/datasets/<dataset_id>/download", view_func=download, methods=["GET"])
    blueprint.add_url_rule("/dashboard", view_func=dashboard, methods=["GET"])


def _language_of_pygeoapi_pages() -> None:
    """pygeoapi's HTML pages speak the portal's language: ?lang=, else the visitor's
    remembered choice (the cookie), else Greek, as the portal's own pages do. pygeoapi reads
    only ?lang= and Accept-Language, so the choice reaches it as Accept-Language. Requests
    for JSON and the other encodings keep their Accept-Language negotiation."""
    if request.blueprint == NAME or request.args.get("lang") or not _wants_html():
        return
    request.environ["HTTP_ACCEPT_LANGUAGE"] = i18n.language()


def _remember_language(response: Response) -> Response:
    """A language chosen on one of pygeoapi's pages (?lang=) is remembered like the portal's."""
    if request.blueprint != NAME and response.mimetype == "text/html":
        response.vary.add("Cookie")
        if request.args.get("lang") in i18n.LANGUAGES:
            i18n.remember(response, request.args["lang"])
    return response


def _wants_html() -> bool:
    fmt = request.args.get("f")
    if fmt is not None:
        return fmt.lower() == "html"
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _theme_name(code: str | None, lang: str) -> str:
    theme = INSPIRE.get(code or "")
    if theme is None:
        return code or ""
    return theme.el if lang == "el" else theme.en


def home() -> Response:
    form = request.args.to_dict()
    snapshot = _snapshot()
    known_places = places(snapshot)  # the caller's view: only what it may see
    place = next((p for p in known_places if p.id == form.get("place")), None)
    bbox = (form.get("bbox") or "").strip() or (place.bbox_text if place else None)
    error = None
    parsed = result = None
    spellings: dict[str, str] = {}
    try:
        params = catalogue.search_params(form, bbox, i18n.language())
        with _connection() as conn:
            parsed, result = catalogue.search(conn, params, snapshot.version)
            spellings = catalogue.keyword_spellings(conn, snapshot.version)
    except BadRequest as err:
        error = str(err)
    active = [(name, form[name]) for name in (*catalogue.FACET_PARAMS, "fresh") if form.get(name)]
    return render_page(
        "portal/home.html",
        status=400 if error else 200,
        form=form,
        bbox=bbox or "",
        place=place,
        places=known_places,
        error=error,
        search=parsed,
        result=result,
        active=active,
        page_size=catalogue.PAGE,
        freshness_days=catalogue.FRESHNESS_DAYS,
        facet_names=catalogue.FACET_PARAMS,
        sorts=catalogue.SORTS,
        spellings=spellings,
        link=lambda **changes: _link(form, **changes),
        outline=display.outline_path(outline(snapshot)),
        search_area=identity.of(_state().settings).portal.search_area,  # config/server.yml
    )


def _link(form: dict[str, str], **changes: str | None) -> str:
    """The home page with the current search changed (None removes a parameter)."""
    values = {k: v for k, v in form.items() if k not in ("offset", "lang")}
    values.update(changes)
    values = {k: v for k, v in values.items() if v not in (None, "")}
    return "?" + urlencode(values) if values else "?"


def dataset(dataset_id: str) -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        try:
            entry = catalogue.entry(conn, dataset_id, snapshot.version)
        except NotFound as err:
            return render_page("portal/not_found.html", status=404, message=str(err))
        history = catalogue.history(conn, dataset_id)
    latest = next((h for h in history if h["status"] == "published"), None)
    # A search of the features' text fields (?find=), on the caller's own snapshot.
    words = (request.args.get("find") or "").strip()
    text_fields = [f["name"] for f in entry.get("fields") or [] if f.get("type") == "string"]
    collection = snapshot.collections.get(dataset_id)
    found = error = None
    if words and collection is not None and text_fields:
        try:
            found = finding.find(collection, text_fields, words)
        except BadRequest as err:
            error = str(err)
    return render_page(
        "portal/dataset.html",
        status=400 if error else 200,
        find=words,
        found=found,
        find_error=error,
        text_fields=text_fields,
        entry=entry,
        history=history,
        latest=latest,
        has_features=dataset_id in snapshot.collections,
        preview_limit=PREVIEW_LIMIT,
        field_labels=lambda e: _field_labels(e, i18n.language()),
        table_page=TABLE_PAGE,
    )


def _field_labels(entry: dict[str, Any], lang: str) -> list[list[str]]:
    """[[field name, its label in `lang`], ...] in the table's order: what the map's popups
    show for a feature's properties (the attribute table's headings, the same words)."""
    return [
        [f["name"], i18n.pick(f.get("label"), lang) or f.get("original") or f["name"]]
        for f in entry.get("fields") or []
    ]


def download(dataset_id: str) -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        catalogue.entry(conn, dataset_id, snapshot.version)  # 404 unless the visitor may see it
    collection = snapshot.collections.get(dataset_id)
    if collection is None:
        raise NotFound(f"dataset '{dataset_id}' has no features to download")
    PORTAL_DOWNLOAD.refuse_unknown(request.args)  # a typo is a 400, never the whole layer
    params = {k: v for k, v in request.args.items() if k != "lang" and v}  # the file's choices
    chunks, headers = downloads.response(collection, params, head=request.method == "HEAD")
    response = Response(stream_with_context(chunks), 200, headers)
    response.call_on_close(chunks.close)  # even unread: stream_with_context would not close it
    return response


def _joined(entry: dict[str, Any], first_load: Any) -> Any:
    return (
        display.parse_time(entry.get("created"))
        or first_load
        or display.parse_time(entry.get("updated"))
    )


def dashboard() -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        everything = catalogue.everything(conn, snapshot.version)
        # Loads are read only for what the caller's search found (layers have loads;
        # catalogued documents and services do not).
        layers = [e["id"] for e in everything.entries if e["id"] in snapshot.collections]
        loads = catalogue.recent_loads(conn, layers)
        first_loads = catalogue.first_published(conn, layers)
    rows = []
    for entry in everything.entries:
        fresh = display.freshness(entry.get("updated"), entry.get("update_frequency"))
        rows.append((entry, fresh))
    rows.sort(key=lambda r: (not r[1].stale, not r[1].undated, -(r[1].age_days or 0)))
    titles = {e["id"]: e["title"] for e in everything.entries}
    # Catalogue growth: when each visible entry joined the catalogue (its own creation date,
    # else its layer's first successful load, else its last update: the earliest we know).
    joined = [_joined(e, first_loads.get(e["id"])) for e in everything.entries]
    growth = display.growth([d for d in joined if d is not None])
    lang = i18n.language()
    departments = Counter(
        i18n.pick((e.get("contact") or {}).get("department"), lang)
        or i18n.translate("(no department)", lang)
        for e in everything.entries
    )
    return render_page(
        "portal/dashboard.html",
        departments=dict(departments.most_common()),
        facets=everything.facets or {},
        matched=everything.matched,
        rows=rows,
        stale=sum(1 for _, f in rows if f.stale),
        undated=sum(1 for _, f in rows if f.undated),
        unscheduled=sum(1 for _, f in rows if f.allowed_days is None and not f.stale),
        loads=loads,
        titles=titles,
        growth=growth,
        largest=max((total for _, _, total in growth), default=1),
    )
