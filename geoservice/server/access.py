"""Who may see what: the one rule every surface applies (collections, items, catalogue, exports).

A collection or catalogue record is `public` (anyone), `internal` (any municipal staff member
with a token) or `restricted` (only the named groups). Admins see everything. The rule lives
here once, as Python (for the server's collection list) and as SQL (for catalogue searches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg import sql

PUBLIC, INTERNAL, RESTRICTED = "public", "internal", "restricted"
ADMIN, STAFF = "admin", "staff"  # roles


@dataclass(frozen=True)
class Viewer:
    """The caller of one request, as established from its token (anonymous: no token)."""

    name: str | None = None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    @property
    def anonymous(self) -> bool:
        return self.name is None

    @property
    def admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def staff(self) -> bool:
        return self.admin or STAFF in self.roles

    def can_see(self, access: str | None, groups: Any = ()) -> bool:
        access = access or PUBLIC
        if access == PUBLIC or self.admin:
            return True
        if access == INTERNAL:
            return self.staff
        return bool(self.groups & set(groups or ()))

    def can_see_descriptor(self, descriptor: Mapping[str, Any]) -> bool:
        return self.can_see(descriptor.get("access"), descriptor.get("groups"))

    def sql_condition(self, alias: str = "r") -> sql.Composable | None:
        """The same rule over geoservice.records' `access`/`access_groups` columns
        (None: no restriction)."""
        if self.admin:
            return None
        access = sql.SQL("{}.access").format(sql.Identifier(alias))
        allowed = [PUBLIC, INTERNAL] if self.staff else [PUBLIC]
        condition = sql.SQL("{} = ANY({})").format(access, sql.Literal(allowed))
        if self.groups:
            condition = sql.SQL("({} OR ({} = {} AND {}.access_groups && {}))").format(
                condition,
                access,
                sql.Literal(RESTRICTED),
                sql.Identifier(alias),
                sql.Literal(sorted(self.groups)),
            )
        return condition

    @property
    def rights(self) -> tuple[frozenset[str], frozenset[str]]:
        """What decides what a viewer sees: viewers with equal rights see the same."""
        return (self.roles, self.groups)


ANONYMOUS = Viewer()
