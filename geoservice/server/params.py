"""Every query parameter the API reads, declared once.

A `Param` is a parameter's name, JSON Schema (type, bounds, enum, default) and description in
English and Greek. From these declarations come the parsing (each mistake a BadRequest naming
the parameter), the 400 for a parameter an endpoint does not define (OGC API Features
/req/core/query-param-unknown) with the list of those it does, and the endpoints' parameters in
the OpenAPI document (openapi.py). A parameter cannot be read without being declared, nor
declared without being documented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geoservice.errors import BadRequest

MAX_FILTER_LENGTH = 20_000  # characters of a CQL2 filter
MAX_INTEGER = 2**31 - 1  # beyond bigint PostgreSQL fails the LIMIT or OFFSET; no page is this far
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class Param:
    name: str
    en: str  # what it does, in English (the OpenAPI document)
    el: str  # and in Greek (the pages)
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    aliases: tuple[str, ...] = ()  # other names read for it (older drafts, spelling)

    def raw(self, params: Mapping[str, str]) -> str | None:
        """The value sent under the name or an alias; an empty value counts as absent."""
        for name in (self.name, *self.aliases):
            value = params.get(name)
            if value is not None and value != "":
                return value
        return None

    def read(self, params: Mapping[str, str], default: Any = None) -> Any:
        """The parsed value, or `default` (else the declared default) when absent."""
        value = self.raw(params)
        if value is None:
            return default if default is not None else self.schema.get("default")
        return self.parse(value)

    def parse(self, value: str) -> Any:
        kind = self.schema.get("type")
        if kind == "integer":
            return self._integer(value)
        if kind == "boolean":
            if value.lower() in TRUE:
                return True
            if value.lower() in FALSE:
                return False
            raise BadRequest(f"{self.name} must be true or false, not '{value[:40]}'")
        if "enum" in self.schema and value not in self.schema["enum"]:
            offered = ", ".join(self.schema["enum"])
            raise BadRequest(f"{self.name} must be one of {offered}, not '{value[:40]}'")
        longest = self.schema.get("maxLength")
        if longest is not None and len(value) > longest:
            raise BadRequest(f"{self.name} longer than {longest} characters")
        return value

    def _integer(self, value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise BadRequest(f"{self.name} must be an integer, not '{value[:40]}'") from None
        minimum = self.schema.get("minimum", 0)
        if number < minimum:
            raise BadRequest(f"{self.name} must be at least {minimum}")
        if number > MAX_INTEGER:
            raise BadRequest(f"{self.name} must be at most {MAX_INTEGER}")
        return number

    def openapi(self, **schema: Any) -> dict[str, Any]:
        """The OpenAPI parameter object; `schema` overrides parts of the declared schema."""
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": self.en,
            "schema": {**self.schema, **schema},
        }


class Parameters:
    """The query parameters one endpoint defines."""

    def __init__(self, *params: Param, properties: bool = False):
        self.params = {p.name: p for p in params}
        self.names = frozenset(n for p in params for n in (p.name, *p.aliases))
        self.properties = properties  # also `property=value` for the collection's properties

    def __getitem__(self, name: str) -> Param:
        return self.params[name]

    def __iter__(self):
        return iter(self.params.values())

    def refuse_unknown(self, names: Iterable[str], properties: Iterable[str] = ()) -> None:
        """A 400 naming the first parameter this endpoint does not define, with those it does."""
        known = self.names | frozenset(properties if self.properties else ())
        for name in names:
            if name not in known:
                accepted = ", ".join(sorted(self.names, key=str.lower)) or "none"
                more = " and the collection's property names" if self.properties else ""
                raise BadRequest(
                    f"unknown query parameter '{name[:60]}'; accepted: {accepted}{more}"
                )


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


def refuse_nul(*texts: str) -> None:
    """No parameter, id or path holds a NUL character; PostgreSQL text cannot store one."""
    if any("\x00" in text for text in texts):
        raise BadRequest("the request contains a NUL character (%00)")


STRING = {"type": "string"}

# -- the declarations -------------------------------------------------------------------------

F = Param(
    "f", "The response format (json, html, jsonld); else the Accept header decides.",
    "Η μορφή της απάντησης (json, html, jsonld)· αλλιώς αποφασίζει η κεφαλίδα Accept.",
    {"type": "string", "enum": ["json", "html", "jsonld", "geojson"]},
)  # fmt: skip
LANG = Param(
    "lang", "The language of texts: el (default) or en; else Accept-Language decides.",
    "Η γλώσσα των κειμένων: el (προεπιλογή) ή en· αλλιώς αποφασίζει το Accept-Language.",
)  # fmt: skip
LIMIT = Param(
    "limit", "The number of items per page (a larger one is served as the largest allowed).",
    "Πόσα στοιχεία ανά σελίδα (μεγαλύτερος αριθμός δίνει τον μέγιστο επιτρεπτό).",
    {"type": "integer", "minimum": 1},
)  # fmt: skip
OFFSET = Param(
    "offset", "How many items to skip before the page.",
    "Πόσα στοιχεία παραλείπονται πριν από τη σελίδα.",
    {"type": "integer", "minimum": 0, "default": 0},
)  # fmt: skip
CURSOR = Param(
    "cursor", "Where the page starts: the id of the last feature of the previous page, as the "
    "server puts it in `next` links (following them costs the same on every page).",
    "Πού αρχίζει η σελίδα: το αναγνωριστικό του τελευταίου στοιχείου της προηγούμενης, όπως "
    "στους συνδέσμους `next`.",
)  # fmt: skip
BBOX = Param(
    "bbox", "minx,miny,maxx,maxy (or 6 numbers with heights), in CRS84 unless bbox-crs says.",
    "minx,miny,maxx,maxy (ή 6 αριθμοί με υψόμετρα), σε CRS84 εκτός αν ορίζει το bbox-crs.",
    {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
)  # fmt: skip
BBOX_CRS = Param(
    "bbox-crs", "The CRS of bbox, as a URI (OGC API Features Part 2).",
    "Το σύστημα αναφοράς του bbox, ως URI.", {"type": "string", "format": "uri"},
)  # fmt: skip
CRS = Param(
    "crs", "The CRS of the response's geometries, as a URI among the collection's `crs`.",
    "Το σύστημα αναφοράς των γεωμετριών της απάντησης, ως URI.",
    {"type": "string", "format": "uri"},
)  # fmt: skip
DATETIME = Param(
    "datetime", "An RFC 3339 instant, or an interval start/end ('..' for an open end).",
    "Μια χρονική στιγμή RFC 3339 ή ένα διάστημα αρχή/τέλος ('..' για ανοιχτό άκρο).",
)  # fmt: skip
PROPERTIES = Param(
    "properties", "Comma-separated properties to return (none: all).",
    "Οι ιδιότητες που επιστρέφονται, χωρισμένες με κόμμα (καμία: όλες).",
    {"type": "array", "items": {"type": "string"}},
)  # fmt: skip
SORTBY = Param(
    "sortby", "Comma-separated properties; a leading '-' sorts descending.",
    "Ιδιότητες χωρισμένες με κόμμα· το '-' μπροστά ταξινομεί φθίνουσα.",
    {"type": "array", "items": {"type": "string"}, "minItems": 1},
)  # fmt: skip
SKIP_GEOMETRY = Param(
    "skipGeometry", "true: features without their geometry.",
    "true: στοιχεία χωρίς τη γεωμετρία τους.", {"type": "boolean", "default": False},
)  # fmt: skip
FILTER = Param(
    "filter", "A CQL2 filter (OGC API Features Part 3), as text or JSON (see filter-lang).",
    "Ένα φίλτρο CQL2, ως κείμενο ή JSON (βλ. filter-lang).",
    {"type": "string", "maxLength": MAX_FILTER_LENGTH},
)  # fmt: skip
FILTER_LANG = Param(
    "filter-lang", "The language of filter; cql-text is read as cql2-text (GDAL sends a filter "
    "to the server only when it finds cql-text here).",
    "Η γλώσσα του filter· το cql-text διαβάζεται ως cql2-text.",
    {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
)  # fmt: skip
FILTER_CRS = Param(
    "filter-crs", "The CRS of the filter's geometries, one of the collection's CRSs (default "
    "CRS84).",
    "Το σύστημα αναφοράς των γεωμετριών του φίλτρου, ένα από του συνόλου (προεπιλογή CRS84).",
    {"type": "string", "format": "uri-reference"},
)  # fmt: skip
RESULTTYPE = Param(
    "resulttype", "hits: only numberMatched, no features.",
    "hits: μόνο το πλήθος (numberMatched), χωρίς στοιχεία.",
    {"type": "string", "enum": ["results", "hits"], "default": "results"},
)  # fmt: skip
UI = Param(
    "ui", "The HTML viewer of the OpenAPI document: swagger (default) or redoc.",
    "Η προβολή HTML του εγγράφου OpenAPI: swagger ή redoc.",
    {"type": "string", "enum": ["swagger", "redoc"]},
)  # fmt: skip

# The catalogue's search (records/api.py): OGC API Records' parameters and our facets.
Q = Param(
    "q", "Words to search for (whitespace: all words; comma: any group).",
    "Λέξεις αναζήτησης (κενό: όλες οι λέξεις· κόμμα: οποιαδήποτε ομάδα).",
    {"type": "array", "items": {"type": "string"}},
)  # fmt: skip
RECORD_PARAMS = (
    Param("type", "The record type (dataset, document, service, externalDataset).",
          "Το είδος του πόρου (σύνολο δεδομένων, έγγραφο, υπηρεσία)."),
    Param("keywords", "A keyword.", "Μια λέξη-κλειδί.", aliases=("keyword",)),
    Param("theme", "An INSPIRE theme (code).", "Ένα θέμα INSPIRE (κωδικός)."),
    Param("department", "The department that keeps the data.", "Η υπηρεσία που τηρεί τα δεδομένα."),
    Param("licence", "A licence (SPDX id).", "Μια άδεια χρήσης (SPDX).", aliases=("license",)),
    Param("geometryType", "A geometry type (Point, Polygon, ...).", "Ένας τύπος γεωμετρίας."),
    Param("field", "Words of a field's name or label.",
          "Λέξεις του ονόματος ή της ετικέτας πεδίου."),
    Param("fieldType", "A field type (integer, text, date, ...).", "Ένας τύπος πεδίου."),
    Param("value", "A word among the fields' example values.",
          "Μια λέξη ανάμεσα στις ενδεικτικές τιμές των πεδίων."),
    Param("updatedAfter", "Records updated after this RFC 3339 instant.",
          "Εγγραφές που ενημερώθηκαν μετά από αυτή τη στιγμή.",
          {"type": "string", "format": "date-time"}),
    Param("facets", "true: counts per theme, keyword, department, ...",
          "true: πλήθη ανά θέμα, λέξη-κλειδί, υπηρεσία, ...",
          {"type": "boolean", "default": False}),
)  # fmt: skip

# -- the endpoints -------------------------------------------------------------------------------

PAGE = Parameters(F, LANG)  # landing page, conformance, collections, a collection, queryables
OPENAPI = Parameters(F, LANG, UI)
SELECTION = (BBOX, BBOX_CRS, CRS, DATETIME, PROPERTIES, SORTBY, SKIP_GEOMETRY)
FILTERING = (FILTER, FILTER_LANG, FILTER_CRS)
ITEMS = Parameters(
    F, LANG, LIMIT, OFFSET, CURSOR, *SELECTION, *FILTERING, RESULTTYPE, properties=True
)
ITEM = Parameters(F, LANG, CRS)
DOWNLOAD = Parameters(*SELECTION, *FILTERING, properties=True)
# The catalogue's records are features too (OGC API Records builds on Features), so they take
# the CRS parameters Features Part 2 gives every 'features' and 'feature' resource
# (/req/crs/fc-crs-definition, /req/crs/fc-bbox-crs-definition): CRS84 is their one CRS.
RECORDS = Parameters(
    F, LANG, Q, BBOX, BBOX_CRS, CRS, DATETIME, *RECORD_PARAMS, FILTER, FILTER_LANG, SORTBY, LIMIT,
    OFFSET,
)  # fmt: skip
RECORD = Parameters(F, LANG, CRS)
EXPORT = Parameters(F)  # the catalogue as DCAT (f=jsonld), a record as DCAT or ISO 19139
NONE = Parameters()
# The portal's file download (/portal/datasets/{id}/download), the form on a dataset's page.
PORTAL_DOWNLOAD = Parameters(
    Param("format", "The file format.", "Η μορφή του αρχείου.",
          {"type": "string", "enum": ["geojson", "csv", "gpkg", "shp", "kml"]}),
    Param("crs", "The file's CRS: 4326 or 2100 (or EPSG:..., an OGC CRS URI).",
          "Το σύστημα αναφοράς του αρχείου: 4326 ή 2100."),
    Param("bom", "CSV only: true starts the file with a UTF-8 byte order mark, so that Excel "
          "reads its Greek text right.",
          "Μόνο CSV: true βάζει στην αρχή του αρχείου το σήμα BOM του UTF-8, ώστε το Excel να "
          "διαβάζει σωστά τα ελληνικά.", {"type": "boolean", "default": False}),
    Param("geometry", "CSV only: the geometry as WKT (wkt), or for a point layer as X and Y "
          "columns in the file's CRS beside the WKT (wkt-xy) or instead of it (xy).",
          "Μόνο CSV: η γεωμετρία ως WKT (wkt), ή για σημειακό επίπεδο ως στήλες X και Y στο "
          "σύστημα αναφοράς του αρχείου δίπλα στο WKT (wkt-xy) ή αντί γι' αυτό (xy).",
          {"type": "string", "enum": ["wkt", "wkt-xy", "xy"], "default": "wkt"}),
    BBOX,
    LANG,
)  # fmt: skip
# Each declared once in the OpenAPI document's components, referenced by the operations.
DECLARED = (
    F, LANG, UI, LIMIT, OFFSET, CURSOR, *SELECTION, *FILTERING, RESULTTYPE, Q, *RECORD_PARAMS
)  # fmt: skip
