"""API keys: created and revoked with the CLI, checked by the server (geoservice.server.auth).

A key looks like `gsk_<prefix>_<secret>`; it is shown once, at creation. The database keeps
its prefix (to find it) and a SHA-256 of the whole key (to check it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from geoservice.errors import ConfigError, NotFound
from geoservice.server.access import ADMIN, STAFF

ROLES = (STAFF, ADMIN)
KEY_PATTERN = re.compile(r"^gsk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$")
NAME_PATTERN = re.compile(r"^[\w.@-]{1,100}$")


@dataclass(frozen=True)
class KeyInfo:
    name: str
    prefix: str
    roles: list[str]
    groups: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        now = datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def create(
    conn: psycopg.Connection,
    name: str,
    roles: list[str],
    groups: list[str],
    days: int | None = None,
) -> str:
    """Store a new key and return it (the only time it is seen in full)."""
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"key name {name!r}: letters, digits, '.', '@', '_' or '-' only")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ConfigError(f"unknown role(s) {sorted(unknown)}; roles: {', '.join(ROLES)}")
    prefix = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
    key = f"gsk_{prefix}_{secrets.token_urlsafe(32)}"
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    try:
        conn.execute(
            "INSERT INTO geoservice.api_keys (name, prefix, key_hash, roles, groups, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (name, prefix, _digest(key), sorted(set(roles)), sorted(set(groups)), expires),
        )
    except psycopg.errors.UniqueViolation:
        raise ConfigError(
            f"a key named '{name}' exists; delete it (geoservice keys delete) or choose another "
            "name"
        ) from None
    return key


def find(conn: psycopg.Connection, key: str) -> KeyInfo | None:
    """The active key's details, or None when the key is unknown, revoked or expired."""
    match = KEY_PATTERN.match(key)
    if not match:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT name, prefix, key_hash, roles, groups, created_at, expires_at, revoked_at "
            "FROM geoservice.api_keys WHERE prefix = %s",
            (match.group(1),),
        ).fetchone()
    if row is None or not hmac.compare_digest(row.pop("key_hash"), _digest(key)):
        return None
    info = KeyInfo(**row)
    return info if info.active else None


def list_keys(conn: psycopg.Connection) -> list[KeyInfo]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT name, prefix, roles, groups, created_at, expires_at, revoked_at "
            "FROM geoservice.api_keys ORDER BY name"
        ).fetchall()
    return [KeyInfo(**row) for row in rows]


def revoke(conn: psycopg.Connection, name: str) -> None:
    row = conn.execute(
        "UPDATE geoservice.api_keys SET revoked_at = now() "
        "WHERE name = %s AND revoked_at IS NULL RETURNING name",
        (name,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no active key named '{name}'")


def delete(conn: psycopg.Connection, name: str) -> None:
    """Remove a key, active or revoked: it stops working as revoke() does, and its name can
    be given to a new key."""
    row = conn.execute(
        "DELETE FROM geoservice.api_keys WHERE name = %s RETURNING name", (name,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no key named '{name}'")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
