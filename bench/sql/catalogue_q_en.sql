-- bench/catalogue.py, search 'q=schools': the SQL geoservice.catalogue.search.run
-- executes for it (recorded from its cursor), run by pgbench -c 8 -j 2.
SELECT r.entry FROM geoservice.records r WHERE r.search @@ ((geoservice.term_query('schools'))) ORDER BY ts_rank_cd(r.search, ((geoservice.term_query('schools')))) DESC, r.title_el LIMIT 10 OFFSET 0;
SELECT count(*) AS n FROM geoservice.records r WHERE r.search @@ ((geoservice.term_query('schools')));
