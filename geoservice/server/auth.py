"""Who is calling: `Authorization: Bearer <token>` -> a Viewer.

Two kinds of token: the project's own API keys (`gsk_...`, geoservice.api_keys) and, when the
city runs an identity provider (Keycloak, Azure AD), its JWTs, checked with PyJWT against the
provider's published keys (signature, issuer, audience, expiry). No token: anonymous. A token
that is present but not valid is a 401, never a silent downgrade to anonymous.
"""

from __future__ import annotations

from typing import Any

import jwt

from geoservice.errors import Unauthorized
from geoservice.server import api_keys
from geoservice.server.access import ADMIN, ANONYMOUS, STAFF, Viewer
from geoservice.server.memo import Memo
from geoservice.settings import Settings
from geoservice.store import db

KEY_CACHE_SECONDS = 10.0  # a revoked key stops working within this time
KEYS_KEPT = 10_000
_UNKNOWN = (None,)  # what the key cache holds for a key that is not valid
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class Authenticator:
    def __init__(self, settings: Settings):
        self.settings = settings
        # API key -> its Viewer (or _UNKNOWN), for KEY_CACHE_SECONDS. On the application
        # (app.extensions), keyed by the key itself: a caller gets only its own key's rights.
        self._keys = Memo(KEYS_KEPT, ttl=KEY_CACHE_SECONDS)
        self._jwks = (
            jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300, timeout=5)
            if settings.oidc_issuer and settings.oidc_jwks_url
            else None
        )

    def viewer(self, authorization: str | None) -> Viewer:
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send 'Authorization: Bearer <API key or token>'")
        if token.startswith("gsk_"):
            return self._api_key(token)
        if self._jwks is not None:
            return self._jwt(token)
        raise Unauthorized("unknown token: not an API key of this service")

    def _api_key(self, key: str) -> Viewer:
        viewer = self._keys.get(key)
        if viewer is None:
            with db.shared_pool(self.settings.dsn).connection() as conn:
                info = api_keys.find(conn, key)
            viewer = (
                Viewer(info.name, frozenset(info.roles), frozenset(info.groups))
                if info
                else _UNKNOWN
            )
            self._keys.put(key, viewer)
        if viewer is _UNKNOWN:
            raise Unauthorized("the API key is unknown, revoked or expired")
        return viewer

    def _jwt(self, token: str) -> Viewer:
        s = self.settings
        assert self._jwks is not None
        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=JWT_ALGORITHMS,
                issuer=s.oidc_issuer,
                audience=s.oidc_audience or None,
                options={"require": ["exp", "iss"], "verify_aud": bool(s.oidc_audience)},
                leeway=30,
            )
        except jwt.PyJWKClientConnectionError:
            raise Unauthorized(
                "the identity provider's keys cannot be fetched; try again"
            ) from None
        except jwt.PyJWTError as err:
            raise Unauthorized(f"the token is not valid: {err}") from None
        roles = set(_claim(claims, s.oidc_roles_claim))
        # Anyone the city's identity provider vouches for is municipal staff.
        granted = {STAFF} | ({ADMIN} if s.oidc_admin_role in roles else set())
        name = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
        return Viewer(name, frozenset(granted), frozenset(_claim(claims, s.oidc_groups_claim)))


def _claim(claims: dict[str, Any], path: str) -> list[str]:
    """A list-valued claim by dotted path; Keycloak's group paths lose their leading '/'."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        value = [value]
    return [str(v).lstrip("/") for v in value or [] if isinstance(v, str | int)]
