"""Settings: everything that differs between deployments, each declared once below with its
default and meaning, and read from the environment (GEOSERVICE_*, and DATABASE_URL) by
pydantic-settings when the program starts (`Settings.from_env()`, in the CLI).

Built with keywords (`Settings(data_dir=..., db_port=...)`, as tests and benchmarks do), a
Settings reads nothing from the environment: only what it is given, and the defaults. A
wrong value is a ConfigError naming the variable, not a trace.

The README's Configuration table lists the same variables (tests/test_settings.py checks).
The city's identity (publisher, catalogue texts, the portal's map) is not here but in
config/server.yml (`server_config`), read by geoservice.server.identity.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from geoservice.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "GEOSERVICE_"
Port = Annotated[int, Field(ge=1, le=65535)]


class Settings(BaseSettings):
    """Everything that differs between deployments.

    `database_url` empty means: use the embedded cluster in `data_dir`.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        populate_by_name=True,  # Settings(database_url=...) beside the DATABASE_URL alias
        validate_default=True,
    )

    database_url: str = Field(
        "",
        validation_alias="DATABASE_URL",
        description="an existing PostGIS; unset = the embedded cluster",
    )
    data_dir: Path = Field(
        PROJECT_ROOT / ".geoservice",
        description="where the embedded cluster lives (and the pseudonym key file)",
    )
    db_port: Port = Field(54329, description="the embedded cluster's port (127.0.0.1 only)")
    pg_bin: str = Field(
        "",
        description="folder of the PostgreSQL server programs for the embedded cluster; "
        "unset: Debian's newest, then PATH",
    )
    host: str = Field("127.0.0.1", description="where `serve` listens")
    port: Port = Field(5000, description="the port `serve` listens on")
    public_url: str = Field(
        "",
        description="the base URL the API advertises behind a proxy; unset: http://HOST:PORT",
    )
    collections_dir: Path = Field(
        PROJECT_ROOT / "collections", description="descriptors `demo` loads"
    )
    server_config: Path = Field(
        PROJECT_ROOT / "config" / "server.yml",
        description="server texts, page limits, basemap, and the city's identity "
        "(publisher, catalogue texts, the portal's map area)",
    )
    keep_days: float = Field(
        7,
        ge=0,
        description="days a replaced or removed layer's last version is kept for "
        "`geoservice undo` (0: not kept)",
    )
    feature_loss_limit: float = Field(
        0.05,
        ge=0,
        le=1,
        description="share of its features a reload may lose before it stops "
        "(see Reloads that change a layer)",
    )
    pseudonym_key: SecretStr = Field(
        SecretStr(""),
        description="secret for pseudonymised fields (see Personal data); "
        "unset: a key file in the data dir",
    )
    # Origins whose web pages may call the API ("*": any; empty: none).
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        ("*",),
        description="origins whose pages may call the API (comma-separated; empty: none)",
    )
    # Tokens from the city's identity provider (Keycloak, Azure AD): JWTs checked against
    # the provider's published keys. Empty issuer: only the project's own API keys work.
    oidc_issuer: str = Field(
        "", description="the `iss` tokens must carry; unset: API keys only (see Who sees what)"
    )
    oidc_audience: str = Field("", description="the `aud` tokens must carry (empty: not checked)")
    oidc_jwks_url: str = Field("", description="the identity provider's signing keys (JWKS)")
    oidc_groups_claim: str = Field("groups", description="claim (dotted path) with the groups")
    oidc_roles_claim: str = Field("roles", description="claim (dotted path) with the roles")
    oidc_admin_role: str = Field("geoservice-admin", description="the administrators' role")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise ConfigError(_explain(type(self), err)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the keywords given: the environment is read by from_env, on purpose.
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings from environment variables (os.environ, or the mapping given)."""
        source = _Variables(cls, os.environ if env is None else env)
        try:
            values = source()
        except Exception as err:  # pydantic-settings' own parsing (SettingsError)
            raise ConfigError(f"invalid setting: {err}") from None
        return cls(**values)

    @classmethod
    def variable(cls, field: str) -> str:
        """The environment variable that sets a field: GEOSERVICE_<FIELD>, or its alias."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every field's environment variable -> the field's description."""
        return {
            cls.variable(name): field.description or "" for name, field in cls.model_fields.items()
        }

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated like a new one."""
        return type(self)(**{**dict(self), **changes})

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):  # the variable: comma-separated
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

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


class _Variables(EnvSettingsSource):
    """pydantic-settings' environment source, over a given mapping (tests pass a dict)."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str]):
        self._variables = variables
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._variables.items()}


def _explain(cls: type[Settings], err: ValidationError) -> str:
    """One line naming each wrong variable, its value (secrets hidden) and what is wrong."""
    problems = []
    for error in err.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if field not in cls.model_fields:  # by alias, or unknown
            known = {cls.variable(n).lower(): n for n in cls.model_fields}
            field = known.get(field.lower(), field)
        if field not in cls.model_fields:
            problems.append(f"unknown setting {field!r}")
            continue
        value = error.get("input")
        shown = "" if field == "pseudonym_key" or isinstance(value, dict) else f"={value!r}"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{cls.variable(field)}{shown}: {message}")
    return "invalid setting: " + "; ".join(problems)
