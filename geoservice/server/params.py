"""Parsing of the query parameters the Features and Records APIs share; each mistake is a
BadRequest whose message names the parameter."""

from __future__ import annotations

from geoservice.errors import BadRequest

MAX_FILTER_LENGTH = 20_000  # characters of a CQL2 filter
MAX_INTEGER = 2**31 - 1  # beyond bigint PostgreSQL fails the LIMIT or OFFSET; no page is this far


def integer(value: str | None, name: str, default: int, minimum: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not '{value[:40]}'") from None
    if number < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    if number > MAX_INTEGER:
        raise BadRequest(f"{name} must be at most {MAX_INTEGER}")
    return number


def refuse_nul(*texts: str) -> None:
    """No parameter, id or path holds a NUL character; PostgreSQL text cannot store one."""
    if any("\x00" in text for text in texts):
        raise BadRequest("the request contains a NUL character (%00)")


def bbox(value: str) -> tuple[float, float, float, float]:
    """minx,miny,maxx,maxy (a 6-number 3D bbox loses its heights)."""
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise BadRequest("bbox takes 4 numbers (minx,miny,maxx,maxy) or 6 (with z)")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadRequest("bbox values must be numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if numbers[1] > numbers[3]:
        raise BadRequest("bbox: the lower corner is above the upper corner")
    return (numbers[0], numbers[1], numbers[2], numbers[3])
