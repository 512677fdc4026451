"""Settings, read from the environment once by whoever starts the program (CLI or tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything that differs between deployments.

    `database_url` empty means: use the embedded cluster in `data_dir`.
    """

    database_url: str = ""
    data_dir: Path = PROJECT_ROOT / ".geoservice"
    db_port: int = 54329
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = ""  # base URL the API advertises; default http://host:port
    collections_dir: Path = PROJECT_ROOT / "collections"
    # Tokens from the city's identity provider (Keycloak, Azure AD): JWTs checked against
    # the provider's published keys. Empty issuer: only the project's own API keys work.
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_groups_claim: str = "groups"  # a dotted path, e.g. realm_access.roles
    oidc_roles_claim: str = "roles"
    oidc_admin_role: str = "geoservice-admin"
    # Origins whose web pages may call the API ("*": any; empty: none).
    cors_origins: tuple[str, ...] = ("*",)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", ""),
            data_dir=Path(env.get("GEOSERVICE_DATA_DIR", base.data_dir)),
            db_port=int(env.get("GEOSERVICE_DB_PORT", base.db_port)),
            host=env.get("GEOSERVICE_HOST", base.host),
            port=int(env.get("GEOSERVICE_PORT", base.port)),
            public_url=env.get("GEOSERVICE_PUBLIC_URL", ""),
            collections_dir=Path(env.get("GEOSERVICE_COLLECTIONS_DIR", base.collections_dir)),
            oidc_issuer=env.get("GEOSERVICE_OIDC_ISSUER", ""),
            oidc_audience=env.get("GEOSERVICE_OIDC_AUDIENCE", ""),
            oidc_jwks_url=env.get("GEOSERVICE_OIDC_JWKS_URL", ""),
            oidc_groups_claim=env.get("GEOSERVICE_OIDC_GROUPS_CLAIM", base.oidc_groups_claim),
            oidc_roles_claim=env.get("GEOSERVICE_OIDC_ROLES_CLAIM", base.oidc_roles_claim),
            oidc_admin_role=env.get("GEOSERVICE_OIDC_ADMIN_ROLE", base.oidc_admin_role),
            cors_origins=tuple(
                o.strip()
                for o in env.get("GEOSERVICE_CORS_ORIGINS", ",".join(base.cors_origins)).split(",")
                if o.strip()
            ),
        )

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def dsn(self) -> str:
        """The connection string: DATABASE_URL, or the embedded cluster's."""
        if self.database_url:
            return self.database_url
        return f"postgresql://geoservice@127.0.0.1:{self.db_port}/geoservice"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
