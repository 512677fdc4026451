-- bench/catalogue.py, search 'field=χωρητικοτητα': the SQL geoservice.catalogue.search.run
-- executes for it (recorded from its cursor), run by pgbench -c 8 -j 2.
SELECT r.entry FROM geoservice.records r WHERE r.field_words @@ ((geoservice.term_query('χωρητικοτητα'))) ORDER BY r.title_el, r.id LIMIT 10 OFFSET 0;
SELECT count(*) AS n FROM geoservice.records r WHERE r.field_words @@ ((geoservice.term_query('χωρητικοτητα')));
