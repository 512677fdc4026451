-- The 55 heavy prefecture polygons: /collections/bench_nomoi/items?limit=:limit
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json), 'numberReturned', count(*))::text FROM (
  SELECT json_build_object('type', 'Feature', 'id', esye_id, 'geometry', ST_AsGeoJSON(geom, 7, 0)::json, 'properties',
    json_build_object('parent', parent, 'esye_id', esye_id, 'name_gr', name_gr, 'name_eng', name_eng,
      'pop', pop, 'edra', edra, 'shape_leng', shape_leng, 'shape_area', shape_area)) AS feature
  FROM data.bench_nomoi ORDER BY esye_id LIMIT :limit
) f;
