-- The metadata that tells the server what is published. Data tables live in schema "data";
-- staging tables (a load in progress) in "staging" until they are swapped in.
CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public;
CREATE SCHEMA IF NOT EXISTS geoservice;
CREATE SCHEMA IF NOT EXISTS data;
CREATE SCHEMA IF NOT EXISTS staging;

-- One row per published collection: written by the loader in the same transaction that
-- swaps the data table in, so the server never sees a table without its metadata.
CREATE TABLE IF NOT EXISTS geoservice.collections (
    id              text PRIMARY KEY,
    table_name      text NOT NULL UNIQUE,
    descriptor      jsonb NOT NULL,         -- the validated descriptor (titles, licence, ...)
    fields          jsonb NOT NULL,         -- [{name, original, type, label}]
    id_field        text NOT NULL,          -- column holding the feature id
    geometry_type   text NOT NULL,          -- Point, MultiPolygon, ... or Geometry
    has_z           boolean NOT NULL DEFAULT false,
    source_crs      text NOT NULL,          -- e.g. EPSG:2100 (geometries are stored in EPSG:4326)
    source_srid     integer,
    bbox            double precision[],     -- CRS84 [minx, miny, maxx, maxy]
    source_bbox     double precision[],     -- the same in the source CRS
    temporal_field  text,
    temporal_extent timestamptz[],
    feature_count   bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Added after the first release: kept idempotent for existing databases.
ALTER TABLE geoservice.collections ADD COLUMN IF NOT EXISTS geojson_column text;
-- Every 1000th key in key order, for deep pages without OFFSET scans.
ALTER TABLE geoservice.collections ADD COLUMN IF NOT EXISTS page_anchors jsonb;
-- Vertices per feature, measured at load: the server pages big features one row each.
ALTER TABLE geoservice.collections ADD COLUMN IF NOT EXISTS mean_vertices real;
-- When the data itself last changed (RFC 3339 date or instant; NULL: unknown), which the
-- descriptor or the source says: not the load time (updated_at, and the load history).
ALTER TABLE geoservice.collections ADD COLUMN IF NOT EXISTS data_updated text;

-- Bumped by every publish/removal: a running server compares it to rebuild its configuration.
CREATE SEQUENCE IF NOT EXISTS geoservice.catalogue_version;

-- Every load attempt, successful or not.
CREATE TABLE IF NOT EXISTS geoservice.loads (
    load_id         bigserial PRIMARY KEY,
    collection_id   text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text NOT NULL,          -- running, published, failed
    source          text,
    source_checksum text,                   -- sha256 of the source file(s)
    feature_count   bigint,
    null_geometries bigint,
    repaired_geometries bigint,
    bbox            double precision[],
    encoding        text,
    warnings        jsonb NOT NULL DEFAULT '[]',
    error           text,
    seconds         double precision
);
CREATE INDEX IF NOT EXISTS loads_collection_idx ON geoservice.loads (collection_id, started_at DESC);
-- A failed load's error in each language ({"en", "el"}) when the loader wrote it so (a Notice,
-- loaders/notices.py); `error` keeps the English.
ALTER TABLE geoservice.loads ADD COLUMN IF NOT EXISTS error_texts jsonb;

-- The last version of a replaced or removed layer, kept GEOSERVICE_KEEP_DAYS for
-- `geoservice undo`: its table (moved to schema "kept") and its registry row (as JSON; the
-- catalogue record is made again from them). One per collection: the newest replaces it.
CREATE SCHEMA IF NOT EXISTS kept;
CREATE TABLE IF NOT EXISTS geoservice.kept_versions (
    collection_id   text PRIMARY KEY,
    version_id      bigserial UNIQUE,
    kept_at         timestamptz NOT NULL DEFAULT now(),
    reason          text NOT NULL,          -- replaced, removed
    kept_table      text NOT NULL,          -- in schema kept
    collection      jsonb NOT NULL          -- its geoservice.collections row
);

-- What changed a layer besides its loads: removals and undos (`geoservice history`).
CREATE TABLE IF NOT EXISTS geoservice.layer_events (
    event_id        bigserial PRIMARY KEY,
    collection_id   text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    action          text NOT NULL,          -- removed, undone
    detail          text
);
CREATE INDEX IF NOT EXISTS layer_events_collection_idx
    ON geoservice.layer_events (collection_id, at DESC);

-- API keys for municipal staff and partners (geoservice keys create|list|revoke). Only a
-- SHA-256 of each key is kept: keys are 256-bit random, so a slow password hash adds nothing.
CREATE TABLE IF NOT EXISTS geoservice.api_keys (
    name            text PRIMARY KEY,
    prefix          text NOT NULL UNIQUE,   -- the key's visible start, to find and name it
    key_hash        text NOT NULL,          -- sha256 hex of the whole key
    roles           text[] NOT NULL DEFAULT '{}',   -- staff, admin
    groups          text[] NOT NULL DEFAULT '{}',   -- for restricted collections
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz
);
