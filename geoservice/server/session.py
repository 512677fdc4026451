"""Staff sign-in for browsers: the credential a page cannot send as `Authorization`.

The portal's sign-in form checks an API key (or the city's identity-provider token) and
keeps it in a cookie; every request without an `Authorization` header then reads the
cookie as if it were `Bearer <cookie>`: the portal's pages and the API GETs their maps
make. The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page
makes the browser send it, so none can read or act as the signed-in user), Secure behind
HTTPS, and lasts a working day. A key revoked or expired meanwhile signs its holder out at
the next request (the cookie is dropped, the caller is anonymous).
"""

from __future__ import annotations

from flask import Request, Response

COOKIE = "geoservice_session"
LIFETIME_SECONDS = 8 * 3600


def from_cookie(request: Request) -> bool:
    """No `Authorization` header, but a sign-in cookie: the cookie speaks for the caller."""
    return not request.headers.get("Authorization") and bool(request.cookies.get(COOKIE))


def credential(request: Request) -> str | None:
    """The request's `Authorization` header, else the sign-in cookie as a Bearer one."""
    if from_cookie(request):
        return f"Bearer {request.cookies[COOKIE]}"
    return request.headers.get("Authorization")


def remember(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")


def sets_cookie(response: Response) -> bool:
    """The response already signs in or out (a new sign-in over a stale cookie)."""
    return any(v.startswith(f"{COOKIE}=") for v in response.headers.getlist("Set-Cookie"))
