"""geoservice: a city's spatial layers in PostGIS, served as OGC API Features and Records."""

__version__ = "0.1.0"
