-- One page of the polygons layer in id order: /collections/bench_polygons/items?limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties', json_build_object('id', id, 'code', code, 'value', value, 'name', name, 'obs_date', obs_date)) AS feature
  FROM data.bench_polygons ORDER BY id LIMIT :limit
) f;
