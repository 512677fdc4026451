"""The city's data portal: search, dataset pages, downloads and a dashboard, in Greek and
English, for people who will never write an API call. A Flask blueprint under /portal."""

from flask import Blueprint

from geoservice.server.portal import routes, signin

__all__ = ["build_blueprint"]


def build_blueprint() -> Blueprint:
    """A new blueprint with every portal page registered (create_app calls it once per app:
    nothing is registered as a side effect of an import)."""
    blueprint = Blueprint(routes.NAME, __name__, template_folder="templates", url_prefix="/portal")
    routes.register(blueprint)
    signin.register(blueprint)
    return blueprint
