"""The names the loaders write and the server reads: schemas, columns, the page-anchor step.

The one contract between `loaders/` (which creates the tables) and `geoservice.server` (which
queries them); both import it, neither imports the other.
"""

from __future__ import annotations

DATA_SCHEMA = "data"  # one table per published collection
STAGING_SCHEMA = "staging"  # tables being loaded, swapped into DATA_SCHEMA when complete
GEOMETRY_COLUMN = "geom"  # EPSG:4326
GEOJSON_COLUMN = "geom_json"  # CRS84 GeoJSON of each heavy geometry, precomputed at load
ANCHOR_STEP = 1_000  # the loader notes every ANCHOR_STEP-th key (registry page_anchors)
