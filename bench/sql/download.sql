-- The whole points layer, one GeoJSON Feature per row, in id order (bench/api.py runs it with \copy to /dev/null)
SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties', json_build_object('id', id, 'code', code, 'value', value, 'name', name, 'obs_date', obs_date)) FROM data.bench_points ORDER BY id;
