-- The catalogue: one row per resource, kept current by the loader (publish and removal).
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

-- Case- and accent-insensitive text ("Σχολεία" and "σχολεια" fold to the same). unaccent() is
-- only STABLE; naming the dictionary makes this safe to declare IMMUTABLE for indexes. Final
-- sigma folds to σ: lower() makes "ΠΛΑΤΕΙΕΣ" "πλατειεσ" but keeps "Πλατείες" "πλατειες".
CREATE OR REPLACE FUNCTION geoservice.fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT translate(lower(public.unaccent('public.unaccent'::regdictionary, $1)), 'ς', 'σ') $$;

-- Greek and English stemming plus exact words, so "σχολεια", "σχολείο", "schools" and
-- "school" all find "Σχολεία / Schools".
CREATE OR REPLACE FUNCTION geoservice.words(el text, en text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('pg_catalog.greek', coalesce(geoservice.fold(el), ''))
              || to_tsvector('pg_catalog.english', coalesce(geoservice.fold(en), ''))
              || to_tsvector('pg_catalog.simple', coalesce(geoservice.fold(el), '') || ' '
                                                   || coalesce(geoservice.fold(en), '')) $$;

-- One search term (letters and digits only; the caller splits the query): its Greek stem,
-- its English stem, or any word it begins ("καλαμαρια" finds "Καλαμαριάς").
CREATE OR REPLACE FUNCTION geoservice.term_query(term text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT plainto_tsquery('pg_catalog.greek', geoservice.fold(term))
              || plainto_tsquery('pg_catalog.english', geoservice.fold(term))
              || to_tsquery('pg_catalog.simple', quote_literal(geoservice.fold(term)) || ':*') $$;

CREATE TABLE IF NOT EXISTS geoservice.records (
    id              text PRIMARY KEY,
    kind            text NOT NULL,
    entry           jsonb NOT NULL,          -- the catalogue Entry (model.py) as JSON
    title_el        text NOT NULL,
    title_en        text NOT NULL,
    extent          geometry(Polygon, 4326), -- CRS84 bounding box
    time_range      tstzrange,               -- temporal extent; NULL when none
    themes          text[] NOT NULL DEFAULT '{}',
    departments     text[] NOT NULL DEFAULT '{}',
    keywords        text[] NOT NULL DEFAULT '{}',   -- folded, both languages
    field_names     text[] NOT NULL DEFAULT '{}',   -- folded names, source names, labels
    field_types     text[] NOT NULL DEFAULT '{}',
    geometry_type   text,
    licence         text,
    feature_count   bigint,
    updated         timestamptz,
    search          tsvector NOT NULL,       -- weighted: titles A, keywords B, descriptions C, fields D
    value_words     tsvector NOT NULL,       -- example values of text fields
    field_words     tsvector NOT NULL        -- field names, source names and labels, as words
);
CREATE INDEX IF NOT EXISTS records_extent_idx ON geoservice.records USING gist (extent);
CREATE INDEX IF NOT EXISTS records_time_idx ON geoservice.records USING gist (time_range);
CREATE INDEX IF NOT EXISTS records_search_idx ON geoservice.records USING gin (search);
CREATE INDEX IF NOT EXISTS records_values_idx ON geoservice.records USING gin (value_words);
CREATE INDEX IF NOT EXISTS records_field_words_idx ON geoservice.records USING gin (field_words);
CREATE INDEX IF NOT EXISTS records_fields_idx ON geoservice.records USING gin (field_names);
CREATE INDEX IF NOT EXISTS records_keywords_idx ON geoservice.records USING gin (keywords);
CREATE INDEX IF NOT EXISTS records_themes_idx ON geoservice.records USING gin (themes);
-- The default order: a broad search reads records in this index until it has a page.
CREATE INDEX IF NOT EXISTS records_order_idx ON geoservice.records (title_el, id);

-- Who may find each record (geoservice/access.py applies the same rule in SQL).
CREATE OR REPLACE FUNCTION geoservice.json_texts(jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(v), '{}') FROM jsonb_array_elements_text(
              CASE WHEN jsonb_typeof($1) = 'array' THEN $1 ELSE '[]' END) v $$;
ALTER TABLE geoservice.records ADD COLUMN IF NOT EXISTS access text
    GENERATED ALWAYS AS (coalesce(entry->>'access', 'public')) STORED;
ALTER TABLE geoservice.records ADD COLUMN IF NOT EXISTS access_groups text[]
    GENERATED ALWAYS AS (geoservice.json_texts(entry->'groups')) STORED;
-- Newest first (sortby=-updated), with the anonymous rule's column: a page far on skips its
-- offset in this index alone (search._page finds the ids first).
CREATE INDEX IF NOT EXISTS records_updated_idx
    ON geoservice.records (updated DESC NULLS LAST, title_el, id) INCLUDE (access);

-- Records folded before final sigma folded to σ keep ς in their folded columns (two facets for
-- one keyword; a prefix search that misses): fold them again. Rows without a ς are left alone,
-- so this costs nothing once done. A tsvector is rebuilt lexeme by lexeme with its positions
-- and weights (lexemes that become one merge, as tsvector input does).
CREATE OR REPLACE FUNCTION geoservice.sigma_folded(v tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(string_agg(
              '''' || replace(replace(translate(lexeme, 'ς', 'σ'), '\', '\\'), '''', '''''') || ''''
              || coalesce(':' || (SELECT string_agg(p::text || w, ',')
                                  FROM unnest(positions, weights) AS u(p, w)), ''),
              ' ')::tsvector, ''::tsvector)
          FROM unnest(v) $$;
UPDATE geoservice.records SET
    keywords = ARRAY(SELECT DISTINCT translate(k, 'ς', 'σ') FROM unnest(keywords) k),
    field_names = ARRAY(SELECT DISTINCT translate(k, 'ς', 'σ') FROM unnest(field_names) k),
    search = geoservice.sigma_folded(search),
    value_words = geoservice.sigma_folded(value_words),
    field_words = geoservice.sigma_folded(field_words)
WHERE strpos(array_to_string(keywords, ' ') || array_to_string(field_names, ' ')
             || search::text || value_words::text || field_words::text, 'ς') > 0;
