-- A deep page, by deferred join (the ids first from the primary key, then the features):
-- /collections/bench_points/items?offset=:offset&limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature ORDER BY f.id), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT p.id, json_build_object('type', 'Feature', 'id', p.id, 'geometry', ST_AsGeoJSON(p.geom, 7, 0)::json, 'properties', json_build_object('id', p.id, 'code', p.code, 'value', p.value, 'name', p.name, 'obs_date', p.obs_date)) AS feature
  FROM data.bench_points p JOIN (SELECT id FROM data.bench_points ORDER BY id LIMIT :limit OFFSET :offset) k ON k.id = p.id
) f;
