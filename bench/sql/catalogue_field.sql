-- bench/catalogue.py, search 'field=χωρητικοτητα': the SQL our server's search
-- (records_api.search_document) executes for it, recorded from its cursor, run by
-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.
-- The first (count, relevance order, entries; remembered per catalogue version):
--   SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.field_words @@ ((geoservice.term_query('χωρητικοτητα'))) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
--   SELECT count(*) AS n FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.field_words @@ ((geoservice.term_query('χωρητικοτητα')));
--   SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r WHERE r.id = ANY('{schools-athens-2008-09782,schools-athens-2009-02839,schools-athens-2010-02301,schools-athens-2012-09064,schools-athens-2015-03611,schools-athens-2016-08199,schools-athens-2019-00304,schools-athens-2022-05268,schools-athens-2022-06367,schools-athens-2024-03520}') AND "r".access = ANY('{public}');
SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.field_words @@ ((geoservice.term_query('χωρητικοτητα'))) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
