-- One feature by id: /collections/bench_points/items/:fid
SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties', json_build_object('id', id, 'code', code, 'value', value, 'name', name, 'obs_date', obs_date))::text
FROM data.bench_points WHERE id = :fid;
