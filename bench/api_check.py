"""Correctness before timing: every server must return the same features as ours.

Same ids (in the same order when both sides define one, else compared sorted), same
properties (the id field may or may not be repeated among the properties: it is left out of
the comparison), geometries equal within a tolerance (shapely `equals_exact`).
"""

from __future__ import annotations

import json
from typing import Any

import shapely.geometry
from shapely import equals_exact

from bench.api_scenarios import Scenario

UNORDERED = {"pygeoapi", "pygeoapi_nocount"}  # no ORDER BY without sortby


def features_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document.get("type") == "Feature":
        return [document]
    return list(document.get("features") or [])


def _key(feature: dict[str, Any]) -> str:
    return str(feature.get("id"))


def _properties(feature: dict[str, Any], id_field: str) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    props.pop(id_field, None)
    return props


def _same_geometry(a: dict | None, b: dict | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return bool(equals_exact(shapely.geometry.shape(a), shapely.geometry.shape(b), tolerance))


def compare(
    reference: dict[str, Any], other: dict[str, Any], scenario: Scenario, ordered: bool
) -> list[str]:
    """Differences of `other` from `reference`, as short sentences (empty: identical)."""
    ref, got = features_of(reference), features_of(other)
    if not ordered:
        ref, got = sorted(ref, key=_key), sorted(got, key=_key)
    problems: list[str] = []
    if len(ref) != len(got):
        problems.append(f"{len(got)} features instead of {len(ref)}")
    ref_ids, got_ids = [_key(f) for f in ref], [_key(f) for f in got]
    if ref_ids != got_ids:
        missing = len(set(ref_ids) - set(got_ids))
        order = " (order differs)" if missing == 0 else ""
        problems.append(f"ids differ{order}: {missing} of ours missing, e.g. got {got_ids[:3]}")
        return problems
    bad_props = [
        (a, b)
        for a, b in zip(ref, got, strict=True)
        if _properties(a, scenario.id_field) != _properties(b, scenario.id_field)
    ]
    if bad_props:
        a, b = bad_props[0]
        problems.append(
            f"properties differ on {len(bad_props)} features, e.g. id {_key(a)}: "
            f"ours {json.dumps(_properties(a, scenario.id_field), ensure_ascii=False)[:160]} "
            f"vs {json.dumps(_properties(b, scenario.id_field), ensure_ascii=False)[:160]}"
        )
    bad_geoms = [
        _key(a)
        for a, b in zip(ref, got, strict=True)
        if not _same_geometry(a.get("geometry"), b.get("geometry"), scenario.tolerance)
    ]
    if bad_geoms:
        problems.append(
            f"geometry differs (> {scenario.tolerance:g}) on {len(bad_geoms)} features, "
            f"e.g. id {bad_geoms[0]}"
        )
    return problems
