"""The city's data portal: search, dataset pages, downloads and a dashboard, in Greek and
English, for people who will never write an API call. A Flask blueprint under /portal."""

from geoservice.server.portal import signin  # noqa: F401  (its pages join the blueprint)
from geoservice.server.portal.routes import blueprint

__all__ = ["blueprint"]
