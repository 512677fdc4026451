"""The error hierarchy. Each error is a message a user can act on; the CLI prints it
as one line and the HTTP layer maps it to a status code in one place (app.py)."""

from __future__ import annotations


class GeoserviceError(Exception):
    """Base of every error we raise on purpose. `str(err)` is the user-facing message."""

    http_status = 500


class ConfigError(GeoserviceError):
    """A descriptor or setting is wrong."""

    http_status = 400


class DatabaseError(GeoserviceError):
    """The database is unreachable or misbehaves."""

    http_status = 503


class LoadError(GeoserviceError):
    """A layer could not be loaded; the published layer is unchanged."""

    http_status = 400


class SourceError(LoadError):
    """The source file cannot be read (missing, corrupt, unsupported)."""


class CRSError(LoadError):
    """The source CRS is missing or unknown."""


class EncodingError(LoadError):
    """The source text cannot be decoded without loss."""


class GeometryError(LoadError):
    """Geometries that cannot be repaired or stored."""


class NotFound(GeoserviceError):
    http_status = 404


class BadRequest(GeoserviceError):
    http_status = 400


class Unauthorized(GeoserviceError):
    """A token was sent but is not valid (unknown, revoked, expired, wrong signature)."""

    http_status = 401


class Forbidden(GeoserviceError):
    """A valid token without the role an operation needs."""

    http_status = 403
