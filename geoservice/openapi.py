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
    document.setdefault("components", {}).setdefault("parameters", {})["limit"] = limit
    for path in document.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters") or []
            for i, parameter in enumerate(parameters):
                if isinstance(parameter, dict) and parameter.get("name") == "limit":
                    parameters[i] = {"$ref": "#/components/parameters/limit"}
    return document
