"""The OpenAPI document: pygeoapi's, with the fixes clients depend on.

Every query parameter comes from its declaration in params.py, defined once as a component and
referenced by each operation that reads it (QGIS takes its page size only from
`components.parameters.limit.schema.maximum`; pygeoapi declares `limit` inline per path).

The document is self-contained and says what we serve: pygeoapi points at OGC building
blocks on schemas.opengis.net and GitHub (which a client behind a firewall cannot fetch, and
which describe other servers' answers: no null geometries, queryables in an old shape, no
JSON-LD or HTML errors), so those references are replaced by local definitions of our
responses. tests/test_fuzz.py holds every response to this document.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.openapi import get_oas

from geoservice.server import params


def build_openapi(config: dict[str, Any]) -> dict[str, Any]:
    document = get_oas(config, fail_on_invalid_collection=False)
    kinds = {
        cid: resource.get("providers", [{}])[0].get("type")
        for cid, resource in config.get("resources", {}).items()
    }
    components = document.setdefault("components", {}).setdefault("parameters", {})
    for parameter in params.DECLARED:
        components[parameter.name] = parameter.openapi()
    limits = config["server"].get("limits", {})
    components["limit"] = params.LIMIT.openapi(
        maximum=int(limits.get("max_items", 10000)), default=int(limits.get("default_items", 100))
    )
    components.pop("vendorSpecificParameters", None)  # an unknown parameter is a 400 here
    paths = document.get("paths", {})
    for path, item in list(paths.items()):
        get = item.get("get")
        if not isinstance(get, dict):
            continue
        declared = _declared(path, kinds)
        if declared is None:
            continue
        names = declared.names
        # Keep what pygeoapi declares beyond ours: path parameters, and on items one query
        # parameter per property (GDAL sends `-where prop=value` only for those it lists).
        kept = [
            p
            for p in get.get("parameters", [])
            if not _is_query(p) or (declared.properties and "name" in p and p["name"] not in names)
        ]
        get["parameters"] = kept + [_ref("parameters", p.name) for p in declared]
        if declared is params.ITEMS:
            paths[path[: -len("/items")] + "/download"] = _download(get, kept)
    paths["/portal/datasets/{datasetId}/download"] = _portal_download()
    _self_contained(document)
    return document


def _declared(path: str, kinds: dict[str, Any]) -> params.Parameters | None:
    """The declared parameters of a GET on `path` (None: a path we do not serve)."""
    if path in ("/", "/conformance", "/collections"):
        return params.PAGE
    if path == "/openapi":
        return params.OPENAPI
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "collections":
        return None
    kind = kinds.get(parts[2])
    rest = parts[3:]
    if rest in ([], ["queryables"], ["schema"]):
        return params.PAGE
    if rest == ["items"]:
        return params.RECORDS if kind == "record" else params.ITEMS
    if len(rest) == 2 and rest[0] == "items":
        return params.RECORD if kind == "record" else params.ITEM
    return None


def _is_query(parameter: Any) -> bool:
    if not isinstance(parameter, dict):
        return False
    if "$ref" in parameter:
        return not parameter["$ref"].endswith("/featureId")
    return parameter.get("in") == "query"


def _download(items_get: dict[str, Any], properties: list[Any]) -> dict[str, Any]:
    """The whole (filtered) layer as one GeoJSON document, streamed."""
    return {
        "get": {
            "summary": "Download every matching feature as GeoJSON",
            "tags": items_get.get("tags", []),
            "operationId": items_get.get("operationId", "items") + "Download",
            "parameters": properties + [_ref("parameters", p.name) for p in params.DOWNLOAD],
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


BINARY = {"type": "string", "format": "binary"}


def _portal_download() -> dict[str, Any]:
    """The portal's file download (GeoPackage, Shapefile, CSV, KML, GeoJSON), its parameters
    as params.PORTAL_DOWNLOAD declares them."""
    dataset = {"name": "datasetId", "in": "path", "required": True, "schema": {"type": "string"}}
    files = ("application/geo+json", "text/csv; charset=utf-8", "application/zip",
             "application/geopackage+sqlite3", "application/vnd.google-earth.kml+xml")  # fmt: skip
    return {
        "get": {
            "summary": "Download a dataset as a file (GeoJSON, CSV, GeoPackage, Shapefile, KML)",
            "tags": ["portal"],
            "operationId": "portalDownload",
            "parameters": [dataset] + [p.openapi() for p in params.PORTAL_DOWNLOAD],
            "responses": {
                "200": {
                    "description": "The file (attachment)",
                    "content": {t: {"schema": BINARY} for t in files},
                },
                "400": {"description": "A parameter is wrong"},
                "404": {"description": "No such dataset, or none with features"},
            },
        }
    }


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
