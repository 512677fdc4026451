-- bench/catalogue.py, search 'sortby=-updated, offset 5,000': the SQL our server's search
-- (records_api.search_document) executes for it, recorded from its cursor, run by
-- pgbench -c 8 -j 2: what every request but a worker's first for this filter runs.
-- The first (count, relevance order, entries; remembered per catalogue version):
--   SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE r.id = ANY(ARRAY(SELECT r.id FROM geoservice.records r WHERE "r".access = ANY('{public}') ORDER BY r."updated" DESC NULLS LAST, r.title_el, r.id LIMIT 10 OFFSET 5000)) ORDER BY r."updated" DESC NULLS LAST, r.title_el, r.id;
--   SELECT count(*) AS n FROM geoservice.records r WHERE "r".access = ANY('{public}');
--   SELECT r.id, r.xmin::text, r.entry FROM geoservice.records r WHERE r.id = ANY('{census-thermi-2023-05482,land_use-thermi-2021-08427,roads-kordelio-evosmos-2009-01973,cycle-thessaloniki-2013-08767,census-thessaloniki-2013-07311,cycle-thessaloniki-2008-04901,trees-oraiokastro-2014-03473,air-pylaia-chortiatis-2023-08512,census-athens-2025-04535,bus_stops-kordelio-evosmos-2025-09744}') AND "r".access = ANY('{public}');
SELECT r.id, r.xmin::text AS row_version FROM geoservice.records r WHERE r.id = ANY(ARRAY(SELECT r.id FROM geoservice.records r WHERE "r".access = ANY('{public}') ORDER BY r."updated" DESC NULLS LAST, r.title_el, r.id LIMIT 10 OFFSET 5000)) ORDER BY r."updated" DESC NULLS LAST, r.title_el, r.id;
