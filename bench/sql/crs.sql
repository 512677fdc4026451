-- Output in EPSG:2100 (mm precision): /collections/bench_points/items?crs=EPSG:2100&limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT json_build_object('type', 'Feature', 'id', id, 'geometry', ST_AsGeoJSON(ST_Transform(geom, 2100), 3, 0)::json, 'properties', json_build_object('id', id, 'code', code, 'value', value, 'name', name, 'obs_date', obs_date)) AS feature
  FROM data.bench_points ORDER BY id LIMIT :limit
) f;
