"""Staff sign-in and sign-out pages (geoservice.server.session keeps the cookie).

A member of staff pastes the API key `geoservice keys create` gave them (or a token of the
city's identity provider); from then on the portal shows them the internal layers, as the
API does for the same key in QGIS. Only a form posted from the portal's own pages counts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, request

from geoservice.errors import Unauthorized
from geoservice.server import session
from geoservice.server.portal import i18n
from geoservice.server.portal.routes import render_page


def register(blueprint: Blueprint) -> None:
    """The sign-in and sign-out pages, on the portal's blueprint."""
    blueprint.add_url_rule("/signin", view_func=signin_form, methods=["GET"])
    blueprint.add_url_rule("/signin", view_func=signin, methods=["POST"])
    blueprint.add_url_rule("/signout", view_func=signout, methods=["POST"])


def signin_form() -> Response:
    return render_page("portal/signin.html", error=None, next=_next_page())


def signin() -> Response:
    t = i18n.translator(i18n.language())
    if not _same_origin():
        return render_page(
            "portal/signin.html", 403, error=t("Sign in from the portal's own form."), next=""
        )
    token = (request.form.get("key") or "").strip()
    try:
        who = current_app.extensions["geoservice.server.auth"].viewer(f"Bearer {token}")
    except Unauthorized:
        who = None
    if not token or who is None or who.anonymous:
        return render_page(
            "portal/signin.html",
            401,
            error=t("The key was not accepted: it is unknown, revoked or expired."),
            next=_next_page(),
        )
    response = redirect(_next_page(), 303)
    session.remember(response, token, secure=request.is_secure)
    return response


def signout() -> Response:
    response = redirect(_next_page(), 303)
    session.forget(response)
    return response


def _next_page() -> str:
    """Where to go after signing in or out: a page of this portal, never another site."""
    wanted = request.values.get("next") or ""
    parts = urlsplit(wanted)
    if parts.scheme or parts.netloc or not parts.path.startswith("/portal"):
        return "/portal/"
    return wanted


def _same_origin() -> bool:
    """The form was posted from one of our pages (browsers send Sec-Fetch-Site or Origin)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") == request.host_url.rstrip("/")
