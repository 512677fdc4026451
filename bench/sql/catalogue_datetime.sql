-- bench/catalogue.py, search 'datetime interval (overlaps)': the SQL our server's search
-- (records_api.search_document) executes for it, recorded from its cursor, run by
-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.
-- The first (count, relevance order, entries; remembered per catalogue version):
--   SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.time_range && tstzrange('2015-03-01T00:00:00+00:00'::timestamptz, '2016-06-30T23:59:59+00:00'::timestamptz, '[]') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
--   SELECT count(*) AS n FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.time_range && tstzrange('2015-03-01T00:00:00+00:00'::timestamptz, '2016-06-30T23:59:59+00:00'::timestamptz, '[]');
--   SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r WHERE r.id = ANY('{trees-athens-2011-03111,trees-athens-2015-09285,trees-ampelokipoi-menemeni-2011-08636,trees-ampelokipoi-menemeni-2016-05101,trees-volos-2009-09103,trees-volos-2013-08790,trees-volos-2014-09374,trees-delta-2012-08096,trees-delta-2015-02201,trees-thermi-2009-06598}') AND "r".access = ANY('{public}');
SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.time_range && tstzrange('2015-03-01T00:00:00+00:00'::timestamptz, '2016-06-30T23:59:59+00:00'::timestamptz, '[]') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
