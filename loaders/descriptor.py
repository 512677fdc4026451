"""Dataset descriptors (`collections/<id>.yml`): what to publish and how to describe it.

Validated strictly: an unknown key is an error naming that key, never a silent default.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from geoservice.errors import ConfigError

ID_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
# ISO 19115 MD_MaintenanceFrequencyCode values.
Frequency = Literal[
    "continual",
    "daily",
    "weekly",
    "fortnightly",
    "monthly",
    "quarterly",
    "biannually",
    "annually",
    "asNeeded",
    "irregular",
    "notPlanned",
    "unknown",
]
# Who may see a collection (and its catalogue record): anyone, any municipal staff member
# with a token, or only the named groups.
Access = Literal["public", "internal", "restricted"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "json"]
PersonalDecision = Literal["drop", "pseudonymise", "keep"]
# What a reload may change that stops it unless accepted (loaders/changes.py).
ChangeKind = Literal["fields", "features"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text in Greek and English; a plain string in the YAML means the same in both."""

    el: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.el


class Keywords(Strict):
    el: list[str] = []
    en: list[str] = []


class Contact(Strict):
    department: Text | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None


SourceFormat = Literal[
    "shapefile", "geopackage", "geojson", "geojsonseq", "kml", "delimited", "gml", "flatgeobuf",
    "spreadsheet", "dxf",
]  # fmt: skip


class Source(Strict):
    """Where the features come from.

    Coordinates tables (CSV, TSV, whitespace-delimited text):
    - `delimiter`: one character (",", ";", "|"), "tab", or "whitespace" (runs of spaces and
      tabs); detected from the first data line when absent.
    - `header: false` when the first data line holds values; the columns are then named
      `columns` if given, else field_1, field_2, ... (1-based, as GDAL does).
    - `x_field` / `y_field` / `wkt_field`: a column name, or a 1-based column number as a
      string ("3"). Absent: detected from common names (lon/lng/longitude/x/easting/μήκος,
      lat/latitude/y/northing/πλάτος, wkt/geometry/geom/the_geom).
    - Leading lines that start with "#" are comments and are skipped.
    - `format` forces a reader when the extension says nothing (e.g. "delimited" for .sta).
    """

    path: str = Field(description="file path, relative to the descriptor's folder")
    format: SourceFormat | None = None
    columns: list[str] | None = Field(None, description="column names of a table without header")
    layer: str | None = None
    crs: str | None = Field(None, description="override or declare the source CRS, e.g. EPSG:2100")
    encoding: str | None = Field(None, description="override the text encoding, e.g. cp1253")
    # Coordinates tables (CSV and delimited text)
    x_field: str | None = None
    y_field: str | None = None
    wkt_field: str | None = None
    delimiter: str | None = None
    header: bool = True
    allow_lossy_text: bool = Field(
        False, description="publish text that no encoding decodes cleanly (with a warning)"
    )


class Fields(Strict):
    include: list[str] | None = None  # publish only these (source names)
    exclude: list[str] = []
    labels: dict[str, Text] = {}  # source name -> label
    types: dict[str, FieldType] = {}  # source name -> type override
    # Fields users filter on (CQL2, property=value): each gets a B-tree index at load time.
    index: list[str] = []
    # Personal data (loaders/personal.py): source name -> drop (never loaded), pseudonymise
    # (a keyed hash: stable, joinable, not reversible) or keep (decided: may be published).
    personal: dict[str, PersonalDecision] = {}


class Descriptor(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: Text
    description: Text | None = None
    keywords: Keywords = Keywords()
    # An SPDX id (CC-BY-4.0, ODbL-1.0, ...; LicenseRef-... for others): never assumed. Absent,
    # the licence is "not stated" everywhere, and a public layer is refused (loaders/pipeline.py).
    licence: str | None = Field(None, validation_alias=AliasChoices("licence", "license"))
    licence_url: str | None = None
    attribution: str | None = None
    contact: Contact | None = None
    source: Source
    # When the data itself last changed (not when it was loaded): overrides what the source
    # says (a GeoPackage's last_change, a DBF header's date); neither: "unknown".
    data_updated: date | datetime | None = None
    identifier: str | None = Field(None, description="source field holding a unique feature id")
    fields: Fields = Fields()
    temporal_field: str | None = None
    update_frequency: Frequency = "unknown"
    inspire_theme: str | None = None
    access: Access = "public"
    groups: list[str] = Field([], description="for access: restricted, the groups allowed")
    # Changes a reload may make without the operator's --accept-changes (loaders/changes.py):
    # "fields" (removed, renamed or retyped), "features" (more lost than the limit).
    accept_changes: list[ChangeKind] = Field([], description="changes a reload may make")

    # Where the descriptor file lives (relative source paths resolve against it).
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("title", "description", mode="before")
    @classmethod
    def _one_text_for_both(cls, value: object) -> object:
        return {"el": value, "en": value} if isinstance(value, str) else value

    @field_validator("keywords", mode="before")
    @classmethod
    def _keyword_list(cls, value: object) -> object:
        return {"el": value, "en": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _restricted_names_groups(self) -> Descriptor:
        if self.access == "restricted" and not self.groups:
            raise ValueError("access 'restricted' needs 'groups': the groups allowed to see it")
        if self.groups and self.access != "restricted":
            raise ValueError("'groups' applies only to access 'restricted'")
        if (self.licence or "").startswith("LicenseRef-") and not self.licence_url:
            raise ValueError(
                f"licence '{self.licence}' is no SPDX licence: give its text's address as "
                "'licence_url'"
            )
        return self

    @property
    def source_path(self) -> Path:
        path = Path(self.source.path).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def public_dict(self) -> dict:
        """What the server and catalogue keep of the descriptor."""
        return self.model_dump(mode="json", exclude={"base_dir"})


def instant(value: date | datetime) -> datetime:
    """A date or datetime as an aware datetime (UTC when it says no zone)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def rfc3339(value: date | datetime | str | None) -> str | None:
    """A date as RFC 3339 text: a day stays a day ("2011-05-17"), an instant is in UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return instant(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def require_stated_licence(descriptor: Descriptor) -> None:
    """A public layer says under which licence it is published: none is ever assumed."""
    if descriptor.access == "public" and not descriptor.licence:
        raise ConfigError(
            f"'{descriptor.id}' is public and states no licence (none is assumed): write it in "
            "the descriptor as `licence: <SPDX id>` (e.g. CC-BY-4.0, ODbL-1.0, CC0-1.0; "
            "LicenseRef-<name> with `licence_url:` for any other), or --licence ID with a data "
            "file; a layer whose licence is unknown can be published as `access: internal`"
        )


def parse_descriptor(
    data: object, base_dir: Path = Path("."), origin: str = "descriptor"
) -> Descriptor:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of keys, got {type(data).__name__}")
    try:
        return Descriptor.model_validate({**data, "base_dir": base_dir})
    except ValidationError as err:
        raise ConfigError(f"{origin}: {_explain(err)}") from None


def read_yaml(path: Path) -> object:
    """A descriptor file's content (a layer's or a resource's), or a one-line ConfigError."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"descriptor not found: {path}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {_first_line(str(err))}") from None


def load_descriptor(path: Path | str) -> Descriptor:
    path = Path(path)
    return parse_descriptor(read_yaml(path), path.resolve().parent, origin=str(path))


def descriptor_for_file(
    path: Path,
    collection_id: str,
    title: str | None = None,
    licence: str | None = None,
    licence_url: str | None = None,
    **source: object,
) -> Descriptor:
    """Sensible defaults for `geoservice load FILE --id ID` (no descriptor written); the
    licence only when stated (--licence): it is never assumed."""
    title = title or re.sub(r"[_-]+", " ", Path(path).stem).strip() or collection_id
    return parse_descriptor(
        {
            "id": collection_id,
            "title": title,
            **({"licence": licence} if licence else {}),
            **({"licence_url": licence_url} if licence_url else {}),
            "source": {
                "path": str(Path(path).resolve()),
                **{k: v for k, v in source.items() if v is not None},
            },
        },
        origin=f"--id {collection_id}",
    )


def _explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "descriptor"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key '{where}'")
        elif e["type"] == "missing":
            parts.append(f"missing required key '{where}'")
        elif e["type"] == "string_pattern_mismatch" and where == "id":
            parts.append(
                f"id {e['input']!r} must be lower-case letters, digits, '_' or '-', "
                "starting with a letter"
            )
        elif e["type"] == "value_error":
            reason = str(e.get("ctx", {}).get("error", e["msg"]))
            parts.append(reason if where == "descriptor" else f"'{where}': {reason}")
        else:
            parts.append(f"'{where}': {e['msg']}")
    return "; ".join(parts)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
