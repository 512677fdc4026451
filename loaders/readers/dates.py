"""The data's own date of last change, where a format has a standard place for it.

- Shapefile: the .dbf header's "date of last update" (bytes 1-3: years since 1900, month,
  day; dBASE III+ file structure), which GDAL reports as the layer metadata item
  DBF_DATE_LAST_UPDATE (YYYY-MM-DD).
- GeoPackage: the layer's row of gpkg_contents, whose last_change is "timestamp of last
  change to content in ISO 8601 format" (OGC GeoPackage 1.x, table gpkg_contents).
- No other format we read has one: GeoJSON (RFC 7946) defines no metadata members; a KML 2.2
  Feature has atom:author, atom:link, address, Snippet, description, a TimeStamp/TimeSpan
  (when the feature is shown, not when the file changed) and ExtendedData, but no date of
  change; GML, FlatGeobuf and CSV neither.
Nothing is guessed (a file's modification time changes with every copy or unzip): a source
that does not say gives None, shown as "unknown". A date that is not a real date, or lies in
the future, says nothing either.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from loaders.descriptor import rfc3339

DBF_METADATA = "DBF_DATE_LAST_UPDATE"  # GDAL's Shapefile driver, layer metadata
# What shapelib's DBFCreate writes when its caller sets no date ("dummy date", dbfopen.c):
# the demo's prefectures (drawn long after) carry it. It says nothing of the data.
SHAPELIB_DUMMY = date(1995, 7, 26)


def from_gdal_metadata(info: dict) -> str | None:
    """The date GDAL read from the layer's metadata (the .dbf header's, for a shapefile)."""
    value = (info.get("layer_metadata") or {}).get(DBF_METADATA)
    try:
        day = date.fromisoformat(str(value)) if value else None
    except ValueError:  # "1900-00-00" and the like: a header with no date
        return None
    return rfc3339(day) if day and day != SHAPELIB_DUMMY and _credible(day) else None


def gpkg_last_change(path: Path, layer: str | None) -> str | None:
    """gpkg_contents.last_change of the layer (None when absent or not a timestamp)."""
    if layer is None:
        return None
    try:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute(
                "SELECT last_change FROM gpkg_contents WHERE table_name = ?", (layer,)
            ).fetchone()
    except sqlite3.Error:
        return None
    try:
        stamp = datetime.fromisoformat(str(row[0])) if row and row[0] else None
    except ValueError:
        return None
    return rfc3339(stamp) if stamp and _credible(stamp) else None


def _credible(value: date | datetime) -> bool:
    moment = value if isinstance(value, datetime) else datetime(*value.timetuple()[:3])
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment <= datetime.now(UTC) + timedelta(days=1)
