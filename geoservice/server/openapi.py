"""The OpenAPI document: pygeoapi's, with the fixes clients depend on.

QGIS takes its page size only from `components.parameters.limit.schema.maximum`; pygeoapi
declares `limit` inline on each path, so we declare it once and reference it everywhere.

The document is self-contained and says what we serve: pygeoapi points at OGC building
blocks on schemas.opengis.net and GitHub (which a client behind a firewall cannot fetch, and
which describe other servers' answers: no null geometries, queryables in an old shape, no
JSON-LD or HTML errors), so those references are replaced by local definitions of our
responses. tests/test_fuzz.py holds every response to this document.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.openapi import get_oas


def build_openapi(config: dict[str, Any]) -> dict[str, Any]:
    document = get_oas(config, fail_on_invalid_collection=False)
    kinds = {
        cid: resource.get("providers", [{}])[0].get("type")
        for cid, resource in config.get("resources", {}).items()
    }
    limits = config["server"].get("limits", {})
    limit = {
        "name": "limit",
        "in": "query",
        "description": "The number of features to return per page.",
        "required": False,
        "style": "form",
        "explode": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": int(limits.get("max_items", 10000)),
            "default": int(limits.get("default_items", 100)),
        },
    }
    parameters = document.setdefault("components", {}).setdefault("parameters", {})
    parameters["limit"] = limit
    parameters["cursor"] = CURSOR
    paths = document.get("paths", {})
    for path, item in list(paths.items()):
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            listed = operation.get("parameters") or []
            for i, parameter in enumerate(listed):
                if isinstance(parameter, dict) and parameter.get("name") == "limit":
                    listed[i] = {"$ref": "#/components/parameters/limit"}
            if path.endswith("/items") and "get" in item and operation is item["get"]:
                listed.append({"$ref": "#/components/parameters/cursor"})
        collection_id = path.split("/")[2] if path.startswith("/collections/") else None
        if path.endswith("/items") and "get" in item and kinds.get(collection_id) == "record":
            _catalogue_items(item)
        if path.endswith("/items") and "get" in item and kinds.get(collection_id) == "feature":
            _feature_items(item)
            paths[path[: -len("/items")] + "/download"] = _download(item["get"])
    _self_contained(document)
    return document


CURSOR = {
    "name": "cursor",
    "in": "query",
    "description": (
        "Where the page starts: the id of the last feature of the previous page. The server "
        "puts it in `next` links; following them costs the same on every page."
    ),
    "required": False,
    "schema": {"type": "string"},
}


def _download(items_get: dict[str, Any]) -> dict[str, Any]:
    """The whole (filtered) layer as one GeoJSON document, streamed."""
    kept = [
        p
        for p in items_get.get("parameters", [])
        if not (
            isinstance(p, dict) and p.get("$ref", "").endswith(("/limit", "/offset", "/cursor"))
        )
        and not (isinstance(p, dict) and p.get("name") in ("f", "offset", "resulttype"))
    ]
    return {
        "get": {
            "summary": "Download every matching feature as GeoJSON",
            "tags": items_get.get("tags", []),
            "operationId": items_get.get("operationId", "items") + "Download",
            "parameters": kept,
            "responses": {
                "200": {
                    "description": "A GeoJSON FeatureCollection (attachment)",
                    "content": {"application/geo+json": {"schema": {"type": "object"}}},
                },
                "400": {"description": "A parameter is wrong"},
                "404": {"description": "No such collection"},
            },
        }
    }


# -- parameters pygeoapi does not declare ------------------------------------------------

FILTER_PARAMETERS = [
    {"name": "filter", "in": "query", "required": False, "style": "form", "explode": False,
     "description": "A CQL2 filter (OGC API Features Part 3), text or JSON (filter-lang).",
     "schema": {"type": "string"}},
    {"name": "filter-lang", "in": "query", "required": False, "style": "form", "explode": False,
     "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}},
    {"name": "filter-crs", "in": "query", "required": False, "style": "form", "explode": False,
     "description": "The CRS of the filter's geometries (default CRS84).",
     "schema": {"type": "string", "format": "uri"}},
]  # fmt: skip
RESULTTYPE = {
    "name": "resulttype", "in": "query", "required": False, "style": "form", "explode": False,
    "description": "hits: only numberMatched, no features.",
    "schema": {"type": "string", "enum": ["results", "hits"], "default": "results"},
}  # fmt: skip


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


# The catalogue's search parameters (records_api.parse): pygeoapi declares one per queryable
# instead, which the catalogue does not read.
CATALOGUE_PARAMETERS = [
    {"$ref": "#/components/parameters/lang"},
    {"$ref": "#/components/parameters/q"},
    {"$ref": "#/components/parameters/bbox"},
    {"$ref": "#/components/parameters/limit"},
    {"$ref": "#/components/parameters/offset"},
    {"$ref": "#/components/parameters/sortby"},
    _query("datetime", {"type": "string"}, "An instant or an interval (start/end, .. = open)."),
    _query("type", {"type": "string"}, "The record type (dataset, service)."),
    _query("keywords", {"type": "string"}),
    _query("theme", {"type": "string"}, "An INSPIRE theme."),
    _query("department", {"type": "string"}),
    _query("licence", {"type": "string"}),
    _query("geometryType", {"type": "string"}),
    _query("field", {"type": "string"}, "Words of a field's name or label."),
    _query("fieldType", {"type": "string"}),
    _query("value", {"type": "string"}, "A word among the fields' example values."),
    _query("updatedAfter", {"type": "string", "format": "date-time"}),
    _query("facets", {"type": "boolean", "default": False}, "Counts per theme, keyword, ..."),
    *FILTER_PARAMETERS[:2],
]


def _feature_items(item: dict[str, Any]) -> None:
    """A feature collection's items: the filter parameters we read, formats we serve."""
    listed = item["get"].setdefault("parameters", [])
    names = {p.get("name") for p in listed if isinstance(p, dict)}
    listed.extend(p for p in [*FILTER_PARAMETERS, RESULTTYPE] if p["name"] not in names)


def _catalogue_items(item: dict[str, Any]) -> None:
    get = item["get"]
    fmt = [p for p in get.get("parameters", []) if isinstance(p, dict) and p.get("name") == "f"]
    get["parameters"] = fmt + CATALOGUE_PARAMETERS


# -- a self-contained document ------------------------------------------------------------


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def _coordinates(depth: int, minimum: int = 0) -> dict[str, Any]:
    """Nested coordinate arrays: depth 1 is a position (at least x and y)."""
    schema: dict[str, Any] = _array({"type": "number"}, minItems=2)
    for _ in range(depth - 1):
        schema = _array(schema)
    if minimum:
        schema["minItems"] = minimum
    return schema


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {"type": {"type": "string", "enum": [kind]}, "coordinates": coordinates},
    }


STRING = {"type": "string"}
ANY_OBJECT = {"type": "object"}
SCHEMAS: dict[str, Any] = {
    "exception": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": STRING, "type": STRING, "description": STRING},
    },
    "link": {
        "type": "object",
        "required": ["href"],
        "properties": {
            "href": STRING,
            "rel": STRING,
            "type": STRING,
            "hreflang": STRING,
            "title": STRING,
            "length": {"type": "integer"},
        },
    },  # fmt: skip
    "links": _array(_ref("schemas", "link")),
    "landingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {"title": STRING, "description": STRING, "links": _ref("schemas", "links")},
    },
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": _array(STRING)},
    },
    "collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": STRING,
            "title": STRING,
            "description": STRING,
            "links": _ref("schemas", "links"),
            "extent": ANY_OBJECT,
            "itemType": STRING,
            "crs": _array(STRING),
        },
    },  # fmt: skip
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _ref("schemas", "links"),
            "collections": _array(_ref("schemas", "collection")),
        },
    },
    "geometryGeoJSON": {
        "nullable": True,  # a feature without geometry, or skipGeometry=true
        "oneOf": [
            _geometry("Point", _coordinates(1)),
            _geometry("MultiPoint", _coordinates(2)),
            _geometry("LineString", _coordinates(2, minimum=2)),
            _geometry("MultiLineString", _coordinates(3)),
            _geometry("Polygon", _coordinates(3)),
            _geometry("MultiPolygon", _coordinates(4)),
            {
                "type": "object",
                "required": ["type", "geometries"],
                "properties": {
                    "type": {"type": "string", "enum": ["GeometryCollection"]},
                    "geometries": _array(ANY_OBJECT),
                },
            },
        ],
    },
    "featureGeoJSON": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [STRING, {"type": "integer"}]},
            "geometry": _ref("schemas", "geometryGeoJSON"),
            "properties": {"type": "object", "nullable": True},
            "links": _ref("schemas", "links"),
        },
    },
    "featureCollectionGeoJSON": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": _array(_ref("schemas", "featureGeoJSON")),
            "links": _ref("schemas", "links"),
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    # Queryables and schemas are JSON Schema documents (OGC API Features Part 3).
    "queryables": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["object"]},
            "title": STRING,
            "properties": {"type": "object", "additionalProperties": ANY_OBJECT},
        },
    },
    "cql2": ANY_OBJECT,  # CQL2 JSON; https://schemas.opengis.net/cql2/1.0/cql2.json in full
}


def _response(description: str, schema: dict[str, Any], media_type: str) -> dict[str, Any]:
    """A response in JSON (as `media_type`), in JSON-LD (f=jsonld) and in HTML (f=html)."""
    return {
        "description": description,
        "content": {
            media_type: {"schema": schema},
            "application/ld+json": {"schema": ANY_OBJECT},
            "text/html": {"schema": STRING},
        },
    }


def _error(description: str) -> dict[str, Any]:
    return _response(description, _ref("schemas", "exception"), "application/json")


RESPONSES: dict[str, Any] = {
    "LandingPage": _response(
        "Links to the API, its conformance and collections", _ref("schemas", "landingPage"),
        "application/json",
    ),
    "ConformanceDeclaration": _response(
        "The conformance classes this server implements", _ref("schemas", "confClasses"),
        "application/json",
    ),
    "Collections": _response(
        "The collections", _ref("schemas", "collections"), "application/json"
    ),
    "Collection": _response(
        "One collection", _ref("schemas", "collection"), "application/json"
    ),
    "Features": _response(
        "A page of features (or records)", _ref("schemas", "featureCollectionGeoJSON"),
        "application/geo+json",
    ),
    "Feature": _response(
        "One feature (or record)", _ref("schemas", "featureGeoJSON"), "application/geo+json"
    ),
    "Queryables": _response(
        "The properties a filter may use, as JSON Schema", _ref("schemas", "queryables"),
        "application/schema+json",
    ),
    "InvalidParameter": _error("A parameter is not valid; the description says which and why"),
    "NotFound": _error("No such collection or item"),
    "NotAcceptable": _error("None of the formats in Accept is served"),
    "UnsupportedMediaType": _error("A POST body must be CQL2 JSON"),
    "ServerError": _error("A server error (never a client's mistake)"),
    "ServiceUnavailable": _error("The database is not available; retry after Retry-After"),
    "URITooLong": {  # answered by gunicorn before the application sees the request
        "description": "The request line is longer than 4094 bytes; POST a long filter",
        "content": {"text/html": {"schema": STRING}},
    },
}  # fmt: skip
PARAMETERS: dict[str, Any] = {
    "featureId": {
        "name": "featureId", "in": "path", "required": True, "schema": STRING,
        "description": "The local identifier of a feature (or record)",
    },
    "datetime": {
        "name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "An RFC 3339 instant, or an interval start/end ('..' for an open end).",
        "schema": STRING,
    },
    "sortby": {
        "name": "sortby", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "Comma-separated properties; a leading '-' sorts descending.",
        "schema": _array(STRING, minItems=1),
    },
    "q": {
        "name": "q", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "Words to search for (whitespace: all words; comma: any group).",
        "schema": _array(STRING),
    },
}  # fmt: skip
# Where pygeoapi points at a whole remote file: the local definition, by the file's name.
REMOTE_FILES = {
    "sortby.yaml": _ref("parameters", "sortby"),  # OGC API Records
    "q.yaml": _ref("parameters", "q"),
    "cql2.json": _ref("schemas", "cql2"),
    "exception.yaml": _ref("schemas", "exception"),  # OGC API Processes
}


def _self_contained(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    for kind, local in (("schemas", SCHEMAS), ("responses", RESPONSES), ("parameters", PARAMETERS)):
        components.setdefault(kind, {}).update(local)
    _local_refs(document, components)
    paths = document.get("paths", {})
    # pygeoapi answers with the landing page's definition for these two.
    for path, name in (("/conformance", "ConformanceDeclaration"), ("/collections", "Collections")):
        if "get" in paths.get(path, {}):
            paths[path]["get"]["responses"]["200"] = _ref("responses", name)
    for item in paths.values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                _formats_served(parameter)
            if method == "post" and "requestBody" in operation:
                # The server reads a POSTed filter only as CQL2 JSON's own media type.
                operation["requestBody"]["content"] = {
                    "application/query-cql-json": {"schema": _ref("schemas", "cql2")}
                }
                operation["responses"]["415"] = _ref("responses", "UnsupportedMediaType")
            if method == "get":
                operation["responses"].setdefault("406", _ref("responses", "NotAcceptable"))
            if method == "options" and operation.get("parameters"):
                # An id the routes cannot hold (a line break) is not found, as with GET.
                operation["responses"].setdefault("404", _ref("responses", "NotFound"))
            operation["responses"].setdefault("503", _ref("responses", "ServiceUnavailable"))
            operation["responses"].setdefault("414", _ref("responses", "URITooLong"))


def _local_refs(node: Any, components: dict[str, Any]) -> None:
    """Every `$ref` to an OGC building block we define, pointed at the local definition."""
    if isinstance(node, list):
        for child in node:
            _local_refs(child, components)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        address, _, pointer = ref.partition("#")
        local = REMOTE_FILES.get(address.rsplit("/", 1)[-1]) if not pointer else None
        if local:
            node["$ref"] = local["$ref"]
        elif pointer.startswith("/components/") and _defined(components, pointer):
            node["$ref"] = "#" + pointer  # defined above under the same name
    for value in node.values():
        _local_refs(value, components)


def _defined(components: dict[str, Any], pointer: str) -> bool:
    kind, _, name = pointer[len("/components/") :].partition("/")
    return name in components.get(kind, {})


def _formats_served(parameter: Any) -> None:
    """pygeoapi offers f=csv on items, which this server answers with a 400."""
    if isinstance(parameter, dict) and parameter.get("name") == "f":
        enum = parameter.get("schema", {}).get("enum")
        if enum and "csv" in enum:
            enum.remove("csv")
