"""Keeps the catalogue current: the loader calls publish() in the transaction that swaps a
layer in, and remove() in the one that drops it, so no separate step can be forgotten."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from geoservice.errors import ConfigError
from geoservice.store.records import Entry, FieldEntry, Link

EXAMPLES = 5  # example values shown per text field
SEARCHED_VALUES = 100  # distinct values per text field that value= searches
EXAMPLE_SCAN = 2_000  # rows looked at to find them (cheap on any table size)


def entry_for_collection(record: dict[str, Any], examples: dict[str, list[str]]) -> Entry:
    """The catalogue entry of a published collection: its descriptor plus what the data says.

    Links are relative to the server's base URL (the loader does not know it)."""
    d = record["descriptor"]
    cid = record["id"]
    temporal = record.get("temporal_extent")
    return Entry(
        id=cid,
        kind="dataset",
        title=d["title"],
        description=d.get("description") or d["title"],
        keywords={lang: list(words) for lang, words in (d.get("keywords") or {}).items()},
        licence=d.get("licence") or None,  # never assumed: None is "not stated"
        licence_url=d.get("licence_url"),
        attribution=d.get("attribution"),
        contact=d.get("contact"),
        inspire_theme=d.get("inspire_theme"),
        bbox=record.get("bbox"),
        source_crs=record.get("source_crs"),
        source_bbox=record.get("source_bbox"),
        temporal=[_iso(t) for t in temporal] if temporal else None,
        geometry_type=record.get("geometry_type"),
        feature_count=record.get("feature_count"),
        fields=[
            FieldEntry(
                f["name"], f["original"], f["type"], f.get("label"), examples.get(f["name"], [])
            )
            for f in record["fields"]
        ],
        # The data's own last change (descriptor or source), None when unknown: never the
        # load time, which the load history keeps.
        updated=record.get("data_updated"),
        update_frequency=d.get("update_frequency") or "unknown",
        access=d.get("access") or "public",
        groups=list(d.get("groups") or []),
        links=[
            Link(f"/collections/{cid}", "collection", "application/json", "The collection"),
            Link(f"/collections/{cid}/items", "items", "application/geo+json", "Features"),
            Link(
                f"/collections/{cid}/queryables",
                "queryables",
                "application/schema+json",
                "Queryable properties",
            ),
            Link(
                f"/collections/{cid}/download",
                "enclosure",
                "application/geo+json",
                "Download (GeoJSON)",
            ),
        ],  # fmt: skip
    )


def field_examples(conn: psycopg.Connection, table: sql.Composable, fields: list[dict]) -> dict:
    """A few frequent values of each text field (what the catalogue shows and searches)."""
    result: dict[str, list[str]] = {}
    for f in fields:
        if f["type"] != "string" or f.get("personal") == "pseudonymise":
            continue  # pseudonyms (loaders/personal.py) are no examples to show or search
        column = sql.Identifier(f["name"])
        rows = conn.execute(
            sql.SQL(
                "SELECT v FROM (SELECT {c} AS v FROM {t} WHERE {c} IS NOT NULL AND {c} <> '' "
                "LIMIT {scan}) s GROUP BY v ORDER BY count(*) DESC, v LIMIT {n}"
            ).format(
                c=column, t=table, scan=sql.Literal(EXAMPLE_SCAN), n=sql.Literal(SEARCHED_VALUES)
            )
        ).fetchall()
        result[f["name"]] = [str(r[0])[:200] for r in rows]
    return result


def publish(conn: psycopg.Connection, entry: Entry) -> None:
    """Insert or replace the entry (in the caller's transaction).

    A layer (kind "dataset") never replaces the record of a catalogued resource (a document,
    service or external dataset, catalogue/resources.py) that has its id: the load fails."""
    if entry.kind == "dataset":
        row = conn.execute(
            "SELECT kind FROM geoservice.records WHERE id = %s", (entry.id,)
        ).fetchone()
        if row and row[0] != "dataset":
            raise ConfigError(
                f"'{entry.id}' is the id of a catalogued {row[0]}: give the layer another id "
                f"(or `geoservice remove {entry.id}` first)"
            )
    department = ((entry.contact or {}).get("department") or {}) if entry.contact else {}
    keywords = [w for words in entry.keywords.values() for w in words]
    field_words = [w for f in entry.fields for w in _field_words(f)]
    values = " ".join(v for f in entry.fields for v in f.examples)
    for f in entry.fields:
        f.examples = f.examples[:EXAMPLES]  # the entry shows a few; the index keeps them all
    conn.execute(
        """
        INSERT INTO geoservice.records (
            id, kind, entry, title_el, title_en, extent, time_range, themes, departments,
            keywords, field_names, field_types, geometry_type, licence, feature_count, updated,
            search, value_words, field_words)
        VALUES (
            %(id)s, %(kind)s, %(entry)s, %(title_el)s, %(title_en)s,
            CASE WHEN %(bbox)s::float8[] IS NULL THEN NULL
                 ELSE ST_MakeEnvelope(%(bbox)s[1], %(bbox)s[2], %(bbox)s[3], %(bbox)s[4], 4326) END,
            CASE WHEN %(t0)s::timestamptz IS NULL AND %(t1)s::timestamptz IS NULL THEN NULL
                 ELSE tstzrange(%(t0)s, %(t1)s, '[]') END,
            %(themes)s, %(departments)s,
            ARRAY(SELECT DISTINCT geoservice.fold(k) FROM unnest(%(keywords)s::text[]) k),
            ARRAY(SELECT DISTINCT geoservice.fold(k) FROM unnest(%(field_words)s::text[]) k),
            %(field_types)s, %(geometry_type)s, %(licence)s, %(feature_count)s, %(updated)s,
            setweight(geoservice.words(%(title_el)s, %(title_en)s), 'A')
              || setweight(geoservice.words(%(keywords_el)s, %(keywords_en)s), 'B')
              || setweight(geoservice.words(%(description_el)s, %(description_en)s), 'C')
              || setweight(geoservice.words(%(fields_text)s, %(fields_text)s), 'D'),
            to_tsvector('pg_catalog.simple', coalesce(geoservice.fold(%(values)s), '')),
            geoservice.words(%(fields_text)s, %(fields_text)s))
        ON CONFLICT (id) DO UPDATE SET
            kind = EXCLUDED.kind, entry = EXCLUDED.entry, title_el = EXCLUDED.title_el,
            title_en = EXCLUDED.title_en, extent = EXCLUDED.extent,
            time_range = EXCLUDED.time_range, themes = EXCLUDED.themes,
            departments = EXCLUDED.departments, keywords = EXCLUDED.keywords,
            field_names = EXCLUDED.field_names, field_types = EXCLUDED.field_types,
            geometry_type = EXCLUDED.geometry_type, licence = EXCLUDED.licence,
            feature_count = EXCLUDED.feature_count, updated = EXCLUDED.updated,
            search = EXCLUDED.search, value_words = EXCLUDED.value_words,
            field_words = EXCLUDED.field_words
        """,
        {
            "id": entry.id,
            "kind": entry.kind,
            "entry": Jsonb(json.loads(json.dumps(asdict(entry), default=str))),
            "title_el": entry.title.get("el", ""),
            "title_en": entry.title.get("en", ""),
            "bbox": entry.bbox,
            "t0": entry.temporal[0] if entry.temporal else None,
            "t1": entry.temporal[1] if entry.temporal else None,
            "themes": [entry.inspire_theme] if entry.inspire_theme else [],
            "departments": [v for v in department.values() if v],
            "keywords": keywords,
            "field_words": field_words,
            "field_types": sorted({f.type for f in entry.fields}),
            "geometry_type": entry.geometry_type,
            "licence": entry.licence,
            "feature_count": entry.feature_count,
            "updated": entry.updated,
            "keywords_el": " ".join(entry.keywords.get("el", [])),
            "keywords_en": " ".join(entry.keywords.get("en", [])),
            "description_el": entry.description.get("el", ""),
            "description_en": entry.description.get("en", ""),
            "fields_text": " ".join(field_words).replace("_", " "),
            "values": values,
        },
    )


def remove(conn: psycopg.Connection, record_id: str) -> None:
    conn.execute("DELETE FROM geoservice.records WHERE id = %s", (record_id,))


def _field_words(f: FieldEntry) -> list[str]:
    words = [f.name, f.original]
    if f.label:
        words += [v for v in f.label.values() if v]
    return list(dict.fromkeys(words))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
