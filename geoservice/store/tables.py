"""The names the loaders write and the server reads: schemas, tables, columns, the page-anchor
step.

The one contract between `loaders/` (which creates the tables) and `geoservice.server` (which
queries them); both import it, neither imports the other.
"""

from __future__ import annotations

import hashlib

DATA_SCHEMA = "data"  # one table per published collection
STAGING_SCHEMA = "staging"  # tables being loaded, swapped into DATA_SCHEMA when complete
GEOMETRY_COLUMN = "geom"  # EPSG:4326
GEOJSON_COLUMN = "geom_json"  # CRS84 GeoJSON of each heavy geometry, precomputed at load
ANCHOR_STEP = 1_000  # the loader notes every ANCHOR_STEP-th key (registry page_anchors)

# -- table names -------------------------------------------------------------
#
# Collection ids match ^[a-z][a-z0-9_-]{0,62}$ (loaders/descriptor.py): at most 63 ASCII
# bytes, PostgreSQL's identifier limit (NAMEDATALEN - 1). Every name below is used quoted
# (psycopg.sql.Identifier), so "-" needs no replacing.

MAX_IDENTIFIER = 63  # bytes; PostgreSQL truncates longer names (and two could then meet)
STAGING_SEPARATOR = "~"  # in no collection id: a staging name never reads as another's
_STAGING_READABLE = 23  # the id's first characters, for whoever lists the staging schema
_STAGING_HASH = 10  # hex digits of SHA-256 of the whole id (40 bits)


def table_name(collection_id: str) -> str:
    """The published table of a collection, in DATA_SCHEMA: the id itself.

    Injective by construction (two ids, two names) and within MAX_IDENTIFIER, as ids are;
    hyphens are kept, the name being always quoted. A database may hold a layer whose table
    is named by the id with "-" replaced by "_" (a naming under which `a-b` and `a_b` meet):
    it keeps that name (the registry's table_name, which readers go by) until its next load
    moves it here."""
    _check_id(collection_id)
    return collection_id


def staging_prefix(collection_id: str) -> str:
    """What every staging table of the collection starts with: its first characters, then
    a hash of the whole id between two STAGING_SEPARATORs, e.g. `roads-2024~1a2b3c4d5e~`.

    The hash tells apart ids that share their first characters; the separator, which no id
    contains, ends the readable part, so one id's prefix is never a prefix of another's
    staging name unless the two ids share their first characters and the hash (a 2^-40
    chance). Use is_staging_of, not the prefix alone, to recognise a collection's tables."""
    _check_id(collection_id)
    digest = hashlib.sha256(collection_id.encode()).hexdigest()[:_STAGING_HASH]
    sep = STAGING_SEPARATOR
    return f"{collection_id[:_STAGING_READABLE]}{sep}{digest}{sep}"


def staging_name(collection_id: str, load_id: int) -> str:
    """The staging table of one load (load ids are unique): staging_prefix + the load id.

    At most 23 + 12 + 19 (a bigint) = 54 bytes, so the index names the writer derives from
    it (+ "_pkey", "_geom_idx", "_idxN") are not truncated either; they keep that name in
    DATA_SCHEMA, where the separator keeps them apart from every table (an id)."""
    return f"{staging_prefix(collection_id)}{int(load_id)}"


def is_staging_of(table: str, collection_id: str) -> bool:
    """Whether `table` (in STAGING_SCHEMA) is a staging table of this collection: its
    prefix followed by a load id and nothing else."""
    rest = table.removeprefix(staging_prefix(collection_id))
    return rest != table and rest.isascii() and rest.isdigit()


def _check_id(collection_id: str) -> None:
    size = len(collection_id.encode())
    if not 0 < size <= MAX_IDENTIFIER or STAGING_SEPARATOR in collection_id:
        raise ValueError(f"not a collection id: {collection_id!r}")
