"""Small presentation helpers the templates use: mini extents, dates, freshness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from geoservice.server.portal.i18n import FREQUENCIES

# The mini-map's frame: Greece (CRS84), a little wider than the country.
FRAME = (19.0, 34.5, 30.0, 42.0)
MINI_WIDTH, MINI_HEIGHT = 110, 75
MIN_MARK = 4  # px: an extent smaller than this is drawn as a mark of this size


@dataclass(frozen=True)
class MiniExtent:
    x: float
    y: float
    width: float
    height: float


def mini_extent(bbox: list[float] | None) -> MiniExtent | None:
    """The dataset's extent as a rectangle in the mini-map's pixel frame."""
    if not bbox:
        return None
    fx0, fy0, fx1, fy1 = FRAME
    sx, sy = MINI_WIDTH / (fx1 - fx0), MINI_HEIGHT / (fy1 - fy0)
    x0 = min(max((bbox[0] - fx0) * sx, 0), MINI_WIDTH)
    x1 = min(max((bbox[2] - fx0) * sx, 0), MINI_WIDTH)
    y0 = min(max((fy1 - bbox[3]) * sy, 0), MINI_HEIGHT)
    y1 = min(max((fy1 - bbox[1]) * sy, 0), MINI_HEIGHT)
    width, height = max(x1 - x0, MIN_MARK), max(y1 - y0, MIN_MARK)
    x0 = min(x0 - (width - (x1 - x0)) / 2, MINI_WIDTH - width)
    y0 = min(y0 - (height - (y1 - y0)) / 2, MINI_HEIGHT - height)
    return MiniExtent(round(max(x0, 0), 1), round(max(y0, 0), 1), round(width, 1), round(height, 1))


def outline_path(rings: list[list[tuple[float, float]]]) -> str:
    """SVG path data of outline rings in the mini-map's pixel frame."""
    fx0, fy0, fx1, fy1 = FRAME
    sx, sy = MINI_WIDTH / (fx1 - fx0), MINI_HEIGHT / (fy1 - fy0)
    parts = []
    for ring in rings:
        points = [f"{(x - fx0) * sx:.1f} {(fy1 - y) * sy:.1f}" for x, y in ring]
        parts.append("M" + " L".join(points) + " Z")
    return " ".join(parts)


GREEK_LETTERS = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")


def in_language(counts: dict[str, int], lang: str) -> dict[str, int]:
    """Facet values in the visitor's language: the catalogue indexes departments and keywords
    in both, so each would otherwise be listed twice (Greek is told by its letters)."""
    wanted = {v: n for v, n in counts.items() if bool(GREEK_LETTERS.search(v)) == (lang == "el")}
    return wanted or counts


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date(value: str | datetime | None) -> str:
    parsed = parse_time(value)
    return parsed.strftime("%Y-%m-%d") if parsed else ""


def date_time(value: str | datetime | None) -> str:
    parsed = parse_time(value)
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if parsed else ""


@dataclass(frozen=True)
class Freshness:
    age_days: int | None  # None: the data's own date is unknown
    allowed_days: int | None  # None: no schedule to be late against
    stale: bool

    @property
    def undated(self) -> bool:
        """Scheduled, but when the data last changed is unknown: neither stale nor up to date
        can be said (the time it was loaded or catalogued is no such date)."""
        return self.age_days is None and self.allowed_days is not None


def freshness(updated: str | None, frequency: str | None, now: datetime | None = None) -> Freshness:
    """How old the data is against its declared update frequency (stale = overdue)."""
    now = now or datetime.now(UTC)
    parsed = parse_time(updated)
    allowed = FREQUENCIES.get(frequency or "unknown", FREQUENCIES["unknown"])[0]
    if parsed is None:
        return Freshness(None, allowed, False)
    age = (now - parsed).days
    return Freshness(age, allowed, allowed is not None and age > allowed)


def growth(added: list[datetime]) -> list[tuple[str, int, int]]:
    """(month, datasets added that month, catalogue size at its end) for every month from the
    first addition to the last, months without additions included (the size carries on)."""
    months = sorted(d.astimezone(UTC).strftime("%Y-%m") for d in added)
    if not months:
        return []
    counts: dict[str, int] = {}
    for month in months:
        counts[month] = counts.get(month, 0) + 1
    year, month = map(int, months[0].split("-"))
    rows, total = [], 0
    while (key := f"{year:04d}-{month:02d}") <= months[-1]:
        total += counts.get(key, 0)
        rows.append((key, counts.get(key, 0), total))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows
