"""Loaders: read a municipal file, validate and normalise it, publish it into PostGIS atomically.

The path of a layer: descriptor.py (what to load) -> readers/ (file -> GeoDataFrame)
-> prepare.py (CRS, encoding, geometry, schema checks) -> writer.py (COPY, index, swap)
-> pipeline.py (runs the steps and records the load).
"""
