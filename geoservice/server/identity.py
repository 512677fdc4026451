"""The city a deployment serves, from the `identity:` section of config/server.yml (or the file
GEOSERVICE_SERVER_CONFIG names): who publishes the data, the catalogue's own texts, where the
portal's map opens. The DCAT-AP and ISO 19139 exports and the portal read it here; no city's
name is in the code.

Validated when read: a missing or wrong value is a ConfigError naming the file and the key.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from geoservice.errors import ConfigError
from geoservice.settings import Settings

LANGUAGES = ("el", "en")  # every text in both


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _bilingual(value: dict[str, str]) -> dict[str, str]:
    missing = [lang for lang in LANGUAGES if not (value.get(lang) or "").strip()]
    if missing:
        raise ValueError(f"needs a text in {' and '.join(missing)}")
    return value


class Publisher(_Part):
    name: dict[str, str]  # el, en
    url: str  # its web site: the DCAT publisher's IRI, the ISO contact's online resource
    email: str  # the ISO contact's address where a record names none

    _name = field_validator("name")(_bilingual)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value.strip("@"):
            raise ValueError("is not an e-mail address")
        return value


class Catalogue(_Part):
    title: dict[str, str]
    description: dict[str, str]

    _texts = field_validator("title", "description")(_bilingual)


class Lineage(_Part):
    published: dict[str, str]  # a layer served here ("Published by ... through OGC API Features")
    catalogued: dict[str, str]  # a resource held elsewhere ("Catalogued by ...")

    _texts = field_validator("published", "catalogued")(_bilingual)


class Portal(_Part):
    search_area: tuple[float, float, float, float]  # minx, miny, maxx, maxy (CRS84)

    @model_validator(mode="after")
    def _area(self) -> Portal:
        minx, miny, maxx, maxy = self.search_area
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise ValueError("search_area: minx, miny, maxx, maxy in degrees, min below max")
        return self


class Identity(_Part):
    publisher: Publisher
    catalogue: Catalogue
    lineage: Lineage
    portal: Portal


def of(settings: Settings) -> Identity:
    """The deployment's identity (settings.server_config)."""
    return load(settings.server_config)


def default() -> Identity:
    """The identity in the default configuration file (for callers without settings)."""
    return load(Settings.model_fields["server_config"].default)


def load(path: Path) -> Identity:
    """The identity section of a server configuration file; read again when the file changes."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as err:
        raise ConfigError(
            f"{path}: cannot read the server configuration ({err.strerror})"
        ) from None
    return _load(path, stamp)


@functools.lru_cache(maxsize=8)
def _load(path: Path, stamp: int) -> Identity:
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.safe_load(stream) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    section = document.get("identity") if isinstance(document, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no identity section (publisher, catalogue, lineage, portal)")
    try:
        return Identity.model_validate(section)
    except ValidationError as err:
        problems = "; ".join(
            ".".join(("identity", *map(str, e["loc"])))
            + ": "
            + e["msg"].removeprefix("Value error, ")
            for e in err.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
