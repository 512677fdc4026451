-- bench/catalogue.py, search 'CQL2 title LIKE '%Θεσσαλονίκης%'': the SQL our server's search
-- (records_api.search_document) executes for it, recorded from its cursor, run by
-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.
-- The first (count, relevance order, entries; remembered per catalogue version):
--   SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND ("title_el"::text LIKE '%Θεσσαλονίκης%' ESCAPE  E'\\') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
--   SELECT count(*) AS n FROM geoservice.records r WHERE "r".access = ANY('{public}') AND ("title_el"::text LIKE '%Θεσσαλονίκης%' ESCAPE  E'\\');
--   SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r WHERE r.id = ANY('{heritage-thessaloniki-2008-01834,heritage-thessaloniki-2008-02810,heritage-thessaloniki-2008-09163,heritage-thessaloniki-2009-02095,heritage-thessaloniki-2009-05240,heritage-thessaloniki-2009-06316,heritage-thessaloniki-2009-07765,heritage-thessaloniki-2009-08065,heritage-thessaloniki-2009-09469,heritage-thessaloniki-2010-00481}') AND "r".access = ANY('{public}');
SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND ("title_el"::text LIKE '%Θεσσαλονίκης%' ESCAPE  E'\\') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
