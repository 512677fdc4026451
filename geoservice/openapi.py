"""The OpenAPI document: pygeoapi's, with the fixes clients depend on.

QGIS takes its page size only from `components.parameters.limit.schema.maximum`; pygeoapi
declares `limit` inline on each path, so we declare it once and reference it everywhere.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.openapi import get_oas


def build_openapi(config: dict[str, Any]) -> dict[str, Any]:
    document = get_oas(config, fail_on_invalid_collection=False)
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
        if path.endswith("/items") and "get" in item:
            paths[path[: -len("/items")] + "/download"] = _download(item["get"])
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
        and not (isinstance(p, dict) and p.get("name") in ("f", "offset"))
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
