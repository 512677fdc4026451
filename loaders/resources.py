"""Catalogue records of what is not a layer: a document, a web service, a dataset held elsewhere.

A resource descriptor (`collections/<id>.yml` with a `type:` key) describes it; it has a
catalogue record and no table. `geoservice load` publishes or replaces the record,
`geoservice remove` removes it. The texts, contact and access keys mean what they mean in a
layer descriptor (loaders/descriptor.py), whose types are reused: like loaders/, this module
is used by the CLI, never by the server, which only reads the records written here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import psycopg
import yaml
from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator

from geoservice.errors import ConfigError, NotFound
from geoservice.settings import Settings
from geoservice.store import db
from geoservice.store import vocabularies as voc
from geoservice.store.records import Entry, Link
from loaders import catalogue as index
from loaders.descriptor import (
    ID_PATTERN,
    Access,
    Contact,
    Frequency,
    Keywords,
    Strict,
    Text,
    _explain,
    instant,
    read_yaml,
    rfc3339,
)

# What a resource descriptor's `type` may be: the record's OGC API Records `type` (a layer's
# record is a "dataset"; a dataset we only point to is an "externalDataset").
ResourceType = Literal["document", "service", "externalDataset"]
RESOURCE_TYPES: tuple[str, ...] = ResourceType.__args__  # type: ignore[attr-defined]
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;.*)?$")


class ResourceLink(Strict):
    href: str = Field(description="an absolute http(s) URL")
    type: str = Field(description="media type, e.g. application/pdf, text/html")
    rel: str = Field(
        "related",
        pattern=r"^[a-z][a-z0-9.-]*$",
        description="enclosure (a file to download), service-desc, describedby, related, ...",
    )
    protocol: str | None = Field(None, description="a service's protocol, e.g. OGC:WMS")
    title: str | None = None

    @field_validator("href")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"'{value}' is not an absolute http(s) URL")
        return value

    @field_validator("type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        if not _MEDIA_TYPE.match(value):
            raise ValueError(f"'{value}' is not a media type (e.g. application/pdf)")
        return value


class Temporal(Strict):
    start: date | datetime | None = None  # absent: open
    end: date | datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Temporal:
        if self.start and self.end and instant(self.start) > instant(self.end):
            raise ValueError("start is after end")
        return self


class Resource(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    type: ResourceType
    title: Text
    description: Text | None = None
    keywords: Keywords = Keywords()
    licence: str | None = Field(None, validation_alias=AliasChoices("licence", "license"))
    licence_url: str | None = None
    attribution: str | None = None
    contact: Contact | None = None
    inspire_theme: str | None = None
    access: Access = "public"
    groups: list[str] = Field([], description="for access: restricted, the groups allowed")
    bbox: list[float] | None = Field(None, description="CRS84: [west, south, east, north]")
    temporal: Temporal | None = None
    update_frequency: Frequency = "unknown"
    updated: date | datetime | None = Field(None, description="last change (absent: unknown)")
    links: list[ResourceLink] = Field(min_length=1)

    # The same conveniences as a layer descriptor: one string for both languages.
    @field_validator("title", "description", mode="before")
    @classmethod
    def _one_text_for_both(cls, value: object) -> object:
        return {"el": value, "en": value} if isinstance(value, str) else value

    @field_validator("keywords", mode="before")
    @classmethod
    def _keyword_list(cls, value: object) -> object:
        return {"el": value, "en": value} if isinstance(value, list) else value

    @field_validator("inspire_theme")
    @classmethod
    def _known_theme(cls, value: str | None) -> str | None:
        if value is not None and value not in voc.INSPIRE:
            raise ValueError(f"'{value}' is not an INSPIRE theme code (e.g. au, lu, pf, tn)")
        return value

    @field_validator("bbox")
    @classmethod
    def _crs84_box(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if len(value) != 4:
            raise ValueError("needs 4 numbers: [west, south, east, north] in CRS84")
        west, south, east, north = value
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ValueError(
                "is not a CRS84 box: west <= east in -180..180, south <= north in -90..90"
            )
        return value

    @model_validator(mode="after")
    def _restricted_names_groups(self) -> Resource:
        if self.access == "restricted" and not self.groups:
            raise ValueError("access 'restricted' needs 'groups': the groups allowed to see it")
        if self.groups and self.access != "restricted":
            raise ValueError("'groups' applies only to access 'restricted'")
        return self


# -- reading descriptors ------------------------------------------------------------------


def declares_resource(path: Path | str) -> bool:
    """Whether a descriptor file describes a resource (it has `type:`) rather than a layer.
    Unreadable files say no: the layer descriptor reader then reports what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "type" in data


def parse_resource(data: object, origin: str = "resource") -> Resource:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of keys, got {type(data).__name__}")
    if "source" in data:
        raise ConfigError(
            f"{origin}: a resource ('type: ...') has links, not a 'source'; "
            "a layer descriptor has no 'type'"
        )
    if data.get("type") == "dataset":
        raise ConfigError(
            f"{origin}: 'type': 'dataset' is a layer we load (a descriptor with a 'source'); "
            "a dataset published elsewhere is 'externalDataset'"
        )
    try:
        return Resource.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{origin}: {_explain(err)}") from None


def load_resource(path: Path | str) -> Resource:
    path = Path(path)
    return parse_resource(read_yaml(path), origin=str(path))


# -- the catalogue entry ----------------------------------------------------------------


def entry_for_resource(resource: Resource, created: str | None = None) -> Entry:
    """The catalogue entry of a resource: its descriptor, no data-derived parts."""
    d = resource.model_dump(mode="json")
    temporal = resource.temporal
    return Entry(
        id=resource.id,
        kind=resource.type,
        title=d["title"],
        description=d["description"] or d["title"],
        keywords={lang: list(words) for lang, words in d["keywords"].items() if words},
        licence=resource.licence,
        licence_url=resource.licence_url,
        attribution=resource.attribution,
        contact=d["contact"],
        inspire_theme=resource.inspire_theme,
        bbox=list(resource.bbox) if resource.bbox else None,
        temporal=[rfc3339(temporal.start), rfc3339(temporal.end)]
        if temporal and (temporal.start or temporal.end)
        else None,
        created=created,
        updated=rfc3339(resource.updated),  # never the time of publication: unknown
        update_frequency=resource.update_frequency,
        access=resource.access,
        groups=list(resource.groups),
        links=[
            Link(link.href, link.rel, link.type, link.title or "", link.protocol)
            for link in resource.links
        ],
    )


# -- publishing -------------------------------------------------------------------------


def publish(conn: psycopg.Connection, resource: Resource) -> Entry:
    """Insert or replace a resource's record, in one transaction (the first publication's
    date is kept as `created`). Refused when a layer has the id."""
    with conn.transaction():
        _lock(conn, resource.id)
        if conn.execute(
            "SELECT 1 FROM geoservice.collections WHERE id = %s", (resource.id,)
        ).fetchone():
            raise ConfigError(
                f"'{resource.id}' is a published layer: give the resource an id of its own"
            )
        row = conn.execute(
            "SELECT entry->>'created', updated FROM geoservice.records WHERE id = %s",
            (resource.id,),
        ).fetchone()
        created = (row[0] or rfc3339(row[1])) if row else None
        entry = entry_for_resource(resource, created or rfc3339(datetime.now(UTC)))
        index.publish(conn, entry)
        _changed(conn)
    return entry


def remove(conn: psycopg.Connection, resource_id: str) -> None:
    """Remove a resource's record; NotFound when no resource has that id."""
    with conn.transaction():
        _lock(conn, resource_id)
        deleted = conn.execute(
            "DELETE FROM geoservice.records WHERE id = %s AND kind = ANY(%s)",
            (resource_id, list(RESOURCE_TYPES)),
        ).rowcount
        if not deleted:
            raise NotFound(f"no catalogued resource '{resource_id}'")
        _changed(conn)


def is_resource(conn: psycopg.Connection, record_id: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM geoservice.records WHERE id = %s AND kind = ANY(%s)",
            (record_id, list(RESOURCE_TYPES)),
        ).fetchone()
        is not None
    )


def list_resources(conn: psycopg.Connection) -> list[Entry]:
    rows = conn.execute(
        "SELECT entry FROM geoservice.records WHERE kind = ANY(%s) ORDER BY id",
        (list(RESOURCE_TYPES),),
    ).fetchall()
    return [Entry.from_json(row[0]) for row in rows]


def publish_file(settings: Settings, path: Path | str) -> Entry:
    """Read a resource descriptor and publish it (what `geoservice load` and `demo` do)."""
    resource = load_resource(path)
    with db.connect(settings) as conn:
        db.ensure_schema(conn)
        return publish(conn, resource)


def _lock(conn: psycopg.Connection, record_id: str) -> None:
    # The key a layer load of the same id holds (loaders/writer.lock_collection): a resource
    # and a layer cannot claim one id at the same moment.
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('geoservice.load:' || %s))", (record_id,))


def _changed(conn: psycopg.Connection) -> None:
    # Servers remember search counts and facets per catalogue version: a new version drops them.
    conn.execute("SELECT nextval('geoservice.catalogue_version')")
