-- CQL2 attribute filter: /collections/bench_points/items?filter=code = :code&limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties', json_build_object('id', id, 'code', code, 'value', value, 'name', name, 'obs_date', obs_date)) AS feature
  FROM data.bench_points WHERE code = :code ORDER BY id LIMIT :limit
) f;
