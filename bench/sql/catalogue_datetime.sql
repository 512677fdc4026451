-- bench/catalogue.py, search 'datetime interval (overlaps)': the SQL geoservice.catalogue.search.run
-- executes for it (recorded from its cursor), run by pgbench -c 8 -j 2.
SELECT r.entry FROM geoservice.records r WHERE r.time_range && tstzrange('2015-03-01T00:00:00Z'::timestamptz, '2016-06-30T23:59:59Z'::timestamptz, '[]') ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
SELECT count(*) AS n FROM geoservice.records r WHERE r.time_range && tstzrange('2015-03-01T00:00:00Z'::timestamptz, '2016-06-30T23:59:59Z'::timestamptz, '[]');
