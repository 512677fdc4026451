-- A subset of the properties: /collections/bench_points/items?properties=code,name&limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties', json_build_object('code', code, 'name', name)) AS feature
  FROM data.bench_points ORDER BY id LIMIT :limit
) f;
