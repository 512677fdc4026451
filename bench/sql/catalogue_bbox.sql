-- bench/catalogue.py, search 'bbox Thessaloniki': the SQL geoservice.catalogue.search.run
-- executes for it (recorded from its cursor), run by pgbench -c 8 -j 2.
SELECT r.entry FROM geoservice.records r WHERE r.extent && ST_MakeEnvelope(22.8737, 40.5512, 23.0468, 40.6971, 4326) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
SELECT count(*) AS n FROM geoservice.records r WHERE r.extent && ST_MakeEnvelope(22.8737, 40.5512, 23.0468, 40.6971, 4326);
