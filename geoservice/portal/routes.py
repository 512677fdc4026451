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

from geoservice import db, downloads
from geoservice.catalogue.vocabularies import INSPIRE
from geoservice.errors import BadRequest, NotFound
from geoservice.portal import catalogue, display, i18n
from geoservice.portal.places import outline, places

blueprint = Blueprint("portal", __name__, template_folder="templates", url_prefix="/portal")
PREVIEW_LIMIT = 1000  # features the preview map asks for at once
TABLE_PAGE = 20
SEARCH_AREA = (22.80, 40.52, 23.10, 40.72)  # the home map's first view: Thessaloniki


def _state():
    return current_app.extensions["geoservice"]


def _snapshot():
    """The server's snapshot for this caller (only the collections it may see)."""
    who = catalogue.viewer()
    return _state().current(who) if who is not None else _state().current()


def _connection():
    return db.shared_pool(_state().settings.dsn).connection()


def _render(template: str, status: int = 200, **context: Any) -> Response:
    lang = i18n.language()
    t = i18n.translator(lang)
    base_url = _state().settings.base_url
    snapshot = _snapshot()
    basemap = snapshot.api.config["server"].get("map") or {}
    args = request.args.to_dict()
    other = "en" if lang == "el" else "el"
    switch = f"{request.path}?{urlencode({**args, 'lang': other})}"
    body = render_template(
        template,
        lang=lang,
        t=t,
        pick=lambda texts: i18n.pick(texts, lang),
        frequency=lambda code: i18n.frequency(code, lang),
        theme_name=lambda code: _theme_name(code, lang),
        display=display,
        base_url=base_url,
        switch_url=switch,
        other_lang=other,
        basemap={"url": basemap.get("url") or "", "attribution": basemap.get("attribution") or ""},
        **context,
    )
    response = make_response(body, status)
    response.headers["Content-Language"] = lang
    if request.args.get("lang") in i18n.LANGUAGES:  # remember an explicit choice for a year
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _theme_name(code: str | None, lang: str) -> str:
    theme = INSPIRE.get(code or "")
    if theme is None:
        return code or ""
    return theme.el if lang == "el" else theme.en


@blueprint.get("/")
def home() -> Response:
    form = request.args.to_dict()
    snapshot = _snapshot()
    known_places = places(snapshot.collections, snapshot.version)
    place = next((p for p in known_places if p.id == form.get("place")), None)
    bbox = (form.get("bbox") or "").strip() or (place.bbox_text if place else None)
    error = None
    parsed = result = None
    try:
        params = catalogue.search_params(form, bbox)
        with _connection() as conn:
            parsed, result = catalogue.search(conn, params, snapshot.version)
    except BadRequest as err:
        error = str(err)
    active = [(name, form[name]) for name in (*catalogue.FACET_PARAMS, "fresh") if form.get(name)]
    return _render(
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
        link=lambda **changes: _link(form, **changes),
        outline=display.outline_path(outline(snapshot.collections, snapshot.version)),
        search_area=SEARCH_AREA,
    )


def _link(form: dict[str, str], **changes: str | None) -> str:
    """The home page with the current search changed (None removes a parameter)."""
    values = {k: v for k, v in form.items() if k not in ("offset", "lang")}
    values.update(changes)
    values = {k: v for k, v in values.items() if v not in (None, "")}
    return "?" + urlencode(values) if values else "?"


@blueprint.get("/datasets/<dataset_id>")
def dataset(dataset_id: str) -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        try:
            entry = catalogue.entry(conn, dataset_id, snapshot.version)
        except NotFound as err:
            return _render("portal/not_found.html", status=404, message=str(err))
        history = catalogue.history(conn, dataset_id)
    latest = next((h for h in history if h["status"] == "published"), None)
    return _render(
        "portal/dataset.html",
        entry=entry,
        history=history,
        latest=latest,
        has_features=dataset_id in snapshot.collections,
        preview_limit=PREVIEW_LIMIT,
        table_page=TABLE_PAGE,
    )


@blueprint.get("/datasets/<dataset_id>/download")
def download(dataset_id: str) -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        catalogue.entry(conn, dataset_id, snapshot.version)  # 404 unless the visitor may see it
    collection = snapshot.collections.get(dataset_id)
    if collection is None:
        raise NotFound(f"dataset '{dataset_id}' has no features to download")
    params = {k: v for k, v in request.args.items() if k in ("format", "crs", "bbox") and v}
    chunks, headers = downloads.response(collection, params)
    return Response(stream_with_context(chunks), 200, headers)


@blueprint.get("/dashboard")
def dashboard() -> Response:
    snapshot = _snapshot()
    with _connection() as conn:
        everything = catalogue.everything(conn, snapshot.version)
        # Loads exist for published collections only (the visible ones are in the snapshot).
        histories = {
            e["id"]: catalogue.history(conn, e["id"], 50)
            for e in everything.entries
            if e["id"] in snapshot.collections
        }
    rows = []
    for entry in everything.entries:
        fresh = display.freshness(entry.get("updated"), entry.get("update_frequency"))
        rows.append((entry, fresh))
    rows.sort(key=lambda r: (not r[1].stale, -(r[1].age_days or 0)))
    loads = sorted(
        (load for found in histories.values() for load in found),
        key=lambda h: h["started_at"],
        reverse=True,
    )[:15]
    titles = {e["id"]: e["title"] for e in everything.entries}
    first_loads = Counter(
        min(h["started_at"] for h in found if h["status"] == "published").strftime("%Y-%m")
        for found in histories.values()
        if any(h["status"] == "published" for h in found)
    )
    growth, total = [], 0
    for month in sorted(first_loads):
        total += first_loads[month]
        growth.append((month, first_loads[month], total))
    lang = i18n.language()
    departments = Counter(
        i18n.pick((e.get("contact") or {}).get("department"), lang)
        or i18n.translator(lang)("unknown_department")
        for e in everything.entries
    )
    return _render(
        "portal/dashboard.html",
        departments=dict(departments.most_common()),
        facets=everything.facets or {},
        matched=everything.matched,
        rows=rows,
        stale=sum(1 for _, f in rows if f.stale),
        loads=loads,
        titles=titles,
        growth=growth,
    )
