-- bench/catalogue.py, search 'bbox Thessaloniki': the SQL our server's search
-- (records_api.search_document) executes for it, recorded from its cursor, run by
-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.
-- The first (count, relevance order, entries; remembered per catalogue version):
--   SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.extent && ST_MakeEnvelope(22.8737, 40.5512, 23.0468, 40.6971, 4326) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
--   SELECT count(*) AS n FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.extent && ST_MakeEnvelope(22.8737, 40.5512, 23.0468, 40.6971, 4326);
--   SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r WHERE r.id = ANY('{heritage-ampelokipoi-menemeni-2008-08092,heritage-ampelokipoi-menemeni-2011-02127,heritage-ampelokipoi-menemeni-2011-04166,heritage-ampelokipoi-menemeni-2012-04014,heritage-ampelokipoi-menemeni-2013-07040,heritage-ampelokipoi-menemeni-2014-03514,heritage-ampelokipoi-menemeni-2014-06158,heritage-ampelokipoi-menemeni-2014-08442,heritage-ampelokipoi-menemeni-2016-04414,heritage-ampelokipoi-menemeni-2018-04905}') AND "r".access = ANY('{public}');
SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE "r".access = ANY('{public}') AND r.extent && ST_MakeEnvelope(22.8737, 40.5512, 23.0468, 40.6971, 4326) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
