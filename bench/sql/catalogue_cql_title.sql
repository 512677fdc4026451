-- bench/catalogue.py, search 'CQL2 title LIKE '%Θεσσαλονίκης%'': the SQL geoservice.catalogue.search.run
-- executes for it (recorded from its cursor), run by pgbench -c 8 -j 2.
SELECT r.entry FROM geoservice.records r WHERE ("title_el"::text LIKE '%Θεσσαλονίκης%' ESCAPE  E'\\') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
SELECT count(*) AS n FROM geoservice.records r WHERE ("title_el"::text LIKE '%Θεσσαλονίκης%' ESCAPE  E'\\');
