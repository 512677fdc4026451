"""CQL2 (parsed by pygeofilter) to a safe SQL WHERE clause.

Every attribute is checked against the collection's queryables before it is quoted, and
every value goes in as a literal escaped by psycopg: nothing from the request is pasted.
A construct we cannot apply is a FilterError (HTTP 400), never silently ignored.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any, ClassVar

import shapely
import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from geoservice.errors import BadRequest

MAX_NODES = 500  # a filter bigger than this is refused (cheap guard against abuse)
MAX_DEPTH = 64  # and one nested deeper (evaluation recurses once per level)

COMPARISON = {
    ast.ComparisonOp.EQ: "=",
    ast.ComparisonOp.NE: "<>",
    ast.ComparisonOp.LT: "<",
    ast.ComparisonOp.LE: "<=",
    ast.ComparisonOp.GT: ">",
    ast.ComparisonOp.GE: ">=",
}


class MoreArithmeticOp(Enum):
    """CQL2's arithmetic operators that pygeofilter 0.4 has no node for."""

    MOD = "%"
    DIV = "div"
    POW = "^"


@dataclass
class Modulo(ast.Arithmetic):
    op: ClassVar = MoreArithmeticOp.MOD


@dataclass
class IntegerDivision(ast.Arithmetic):
    op: ClassVar = MoreArithmeticOp.DIV


@dataclass
class Power(ast.Arithmetic):
    op: ClassVar = MoreArithmeticOp.POW


# CQL2 divides as numbers do (5 / 2 is 2.5), PostgreSQL's / on integers truncates: numeric.
ARITHMETIC = {
    ast.ArithmeticOp.ADD: "({} + {})",
    ast.ArithmeticOp.SUB: "({} - {})",
    ast.ArithmeticOp.MUL: "({} * {})",
    ast.ArithmeticOp.DIV: "({}::numeric / {}::numeric)",
    MoreArithmeticOp.MOD: "mod({}::numeric, {}::numeric)",
    MoreArithmeticOp.DIV: "div({}::numeric, {}::numeric)",
    MoreArithmeticOp.POW: "power({}::numeric, {}::numeric)",
}
SPATIAL = {
    ast.SpatialComparisonOp.INTERSECTS: "ST_Intersects",
    ast.SpatialComparisonOp.DISJOINT: "ST_Disjoint",
    ast.SpatialComparisonOp.CONTAINS: "ST_Contains",
    ast.SpatialComparisonOp.WITHIN: "ST_Within",
    ast.SpatialComparisonOp.TOUCHES: "ST_Touches",
    ast.SpatialComparisonOp.CROSSES: "ST_Crosses",
    ast.SpatialComparisonOp.OVERLAPS: "ST_Overlaps",
    ast.SpatialComparisonOp.EQUALS: "ST_Equals",
}
ARRAY = {
    ast.ArrayComparisonOp.AEQUALS: "=",
    ast.ArrayComparisonOp.ACONTAINS: "@>",
    ast.ArrayComparisonOp.ACONTAINEDBY: "<@",
    ast.ArrayComparisonOp.AOVERLAPS: "&&",
}
GEOMETRY_NAMES = ("geometry",)  # the queryable that names the geometry


class FilterError(BadRequest):
    """A filter that names an unknown property or uses something we cannot apply."""


class SQLFilter(Evaluator):
    """Evaluates a pygeofilter AST to a psycopg sql.Composable.

    `columns` maps queryable names to column names; `geometry_column` is the geometry's column
    (stored in EPSG:4326); `filter_srid` is the SRID of geometry literals in the filter.
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        geometry_column: str,
        filter_srid: int = 4326,
        filter_flip: bool = False,
    ):
        self.columns = columns
        self.geometry_column = geometry_column
        self.filter_srid = filter_srid
        self.filter_flip = filter_flip  # the filter's CRS puts latitude first (EPSG:4326)
        self.nodes = 0

    def evaluate(self, node: Any, adopt_result: bool = True) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(f"filter too complex (more than {MAX_NODES} terms)")
        if isinstance(node, ast.Function):
            return self.function(node)
        return super().evaluate(node, adopt_result)

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        name = type(node).__name__
        raise FilterError(f"filter uses {name}, which this server does not support")

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: sql.Composable) -> sql.Composable:
        _require_condition(node.sub_node, "NOT")
        return sql.SQL("(NOT {})").format(sub)

    @handle(ast.And, ast.Or)
    def combination(self, node: ast.Combination, lhs: sql.Composable, rhs: sql.Composable):
        _require_condition(node.lhs, node.op.value)
        _require_condition(node.rhs, node.op.value)
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(node.op.value), rhs)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: ast.Comparison, lhs: sql.Composable, rhs: sql.Composable):
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(COMPARISON[node.op]), rhs)

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs, low, high):
        word = "NOT BETWEEN" if node.not_ else "BETWEEN"
        return sql.SQL("({} {} {} AND {})").format(lhs, sql.SQL(word), low, high)

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: sql.Composable):
        """CQL2's LIKE is SQL's: `%` any characters, `_` one, `\\` escapes (OGC 21-065r2
        /req/advanced-comparison-operators/like-predicate E, H, K). pygeofilter's parsers
        say the single character is `.` (a CQL1 leftover): we ignore what they say. The
        pattern may be an expression (`CASEI(name) LIKE casei('b_r%')`)."""
        if isinstance(node.pattern, str):
            pattern: sql.Composable = self.literal(node.pattern)
        else:
            _require_text(node.pattern, "LIKE")
            pattern = self.evaluate(node.pattern)
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        return sql.SQL("({}::text {} {} ESCAPE '\\')").format(lhs, sql.SQL(op), pattern)

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: sql.Composable, *options: sql.Composable):
        word = "NOT IN" if node.not_ else "IN"
        return sql.SQL("({} {} ({}))").format(lhs, sql.SQL(word), sql.SQL(", ").join(options))

    @handle(ast.IsNull)
    def null(self, node: ast.IsNull, lhs: sql.Composable):
        return sql.SQL("({} IS {}NULL)").format(lhs, sql.SQL("NOT " if node.not_ else ""))

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs, rhs):
        _require_geometry(node.lhs, node.op.name)
        _require_geometry(node.rhs, node.op.name)
        return sql.SQL("{}({}, {})").format(sql.SQL(SPATIAL[node.op]), lhs, rhs)

    @handle(ast.DistanceWithin, ast.DistanceBeyond)
    def distance(self, node: ast.SpatialDistancePredicate, lhs, rhs):
        metres = _metres(node.distance, node.units)
        test = sql.SQL("ST_DWithin({}::geography, {}::geography, {})").format(
            lhs, rhs, sql.Literal(metres)
        )
        return test if isinstance(node, ast.DistanceWithin) else sql.SQL("(NOT {})").format(test)

    @handle(ast.BBox)
    def bbox(self, node: ast.BBox, lhs: sql.Composable):
        corners = [node.minx, node.miny, node.maxx, node.maxy]
        return sql.SQL("ST_Intersects({}, {})").format(lhs, self._box(corners))

    @handle(ast.ArrayPredicate, subclasses=True)
    def array(self, node: ast.ArrayPredicate, lhs, rhs):
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(ARRAY[node.op]), rhs)

    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> sql.Composable:
        if node.name in GEOMETRY_NAMES:
            return sql.Identifier(self.geometry_column)
        column = self.columns.get(node.name)
        if column is None:
            known = ", ".join(sorted(self.columns)) or "none"
            raise FilterError(f"unknown property '{node.name}' in filter; queryables are: {known}")
        return sql.Identifier(column)

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node: ast.Arithmetic, lhs, rhs):
        return sql.SQL(ARITHMETIC[node.op]).format(lhs, rhs)

    def function(self, node: ast.Function) -> sql.Composable:
        """CASEI, ACCENTI (CQL2), and BBOX(...), the CQL2 text literal of a box, which
        pygeofilter parses as a function call. Not a @handle: BBOX's arguments are read as
        numbers, not evaluated to SQL."""
        name = node.name.lower()
        if name == "bbox":
            return self._box(node.arguments)
        if name not in TEXT_FUNCTIONS:
            raise FilterError(f"unknown function '{node.name}' in filter")
        shown = "CASEI" if name == "lower" else name.upper()  # pygeofilter renames CASEI
        if len(node.arguments) != 1:
            raise FilterError(f"{shown}() takes one argument")
        _require_text(node.arguments[0], shown)
        argument = self.evaluate(node.arguments[0])
        return sql.SQL(TEXT_FUNCTIONS[name]).format(argument)

    def _box(self, corners: list) -> sql.Composable:
        """A box (minx, miny, maxx, maxy, or with minz and maxz) in the filter's CRS. In a
        geographic CRS a box whose west edge is east of its east edge crosses the
        antimeridian (OGC 21-065r2, and its test BBOX(150,-90,-150,90))."""
        if len(corners) not in (4, 6) or not all(_is_number(c) for c in corners):
            raise FilterError("BBOX takes 4 or 6 numbers")
        if len(corners) == 6:
            corners = [corners[0], corners[1], corners[3], corners[4]]
        x1, y1, x2, y2 = (float(c) for c in corners)
        west, east = (y1, y2) if self.filter_flip else (x1, x2)
        if self.filter_srid == 4326 and west > east:
            if self.filter_flip:
                parts = [shapely.box(x1, west, x2, 180), shapely.box(x1, -180, x2, east)]
            else:
                parts = [shapely.box(west, y1, 180, y2), shapely.box(-180, y1, east, y2)]
            return self._geometry_literal(shapely.MultiPolygon(parts))
        return self._geometry_literal(shapely.box(x1, y1, x2, y2))

    @handle(list)
    def list_(self, node: list, *items: sql.Composable):
        return sql.SQL("ARRAY[{}]").format(sql.SQL(", ").join(items))

    @handle(str, float, int, bool, datetime, date, time, timedelta)
    def literal(self, node: Any) -> sql.Composable:
        if isinstance(node, str) and "\x00" in node:
            raise FilterError("a text value in the filter contains a NUL character")
        return sql.Literal(node)

    @handle(values.Interval)
    def interval(self, node: values.Interval, start: Any, end: Any):
        raise FilterError("time intervals in filters are not supported; use datetime=")

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> sql.Composable:
        try:
            shape = shapely.geometry.shape(node.geometry)
        except (ValueError, TypeError, AttributeError) as err:
            raise FilterError(f"invalid geometry in filter: {err}") from None
        return self._geometry_literal(shape)

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> sql.Composable:
        """CQL2 JSON's {"bbox": [minx, miny, maxx, maxy]}: pygeofilter passes the four
        numbers in that order to Envelope(x1, x2, y1, y2), so its names do not say which
        is which; the order does."""
        return self._box([node.x1, node.x2, node.y1, node.y2])

    def _geometry_literal(self, shape: shapely.Geometry) -> sql.Composable:
        if self.filter_srid == 4326:
            _check_degrees(shape, self.filter_flip)
        if not shapely.is_valid(shape) and shape.geom_type not in ("Point", "MultiPoint"):
            shape = shapely.make_valid(shape)
        literal: sql.Composable = sql.SQL("ST_GeomFromWKB({}, {})").format(
            sql.Literal(shapely.to_wkb(shape)), sql.Literal(self.filter_srid)
        )
        if self.filter_flip:
            literal = sql.SQL("ST_FlipCoordinates({})").format(literal)
        if self.filter_srid != 4326:
            return sql.SQL("ST_Transform({}, 4326)").format(literal)
        return literal


# CQL2's text functions, as SQL. CASEI is Unicode full case folding; PostgreSQL 15 has no
# casefold(), so lower() and then the foldings lower() does not do that Greek and German
# text needs: final sigma (ς) and the Greek symbol forms fold to the plain letter, ß to ss.
# ACCENTI strips what Unicode's canonical decomposition (NFD) sets apart as combining marks
# (U+0300-U+036F): Greek tonos and dialytika, Latin accents, cedillas and the like.
CASE_FOLD = "replace(translate(lower({}::text), 'ςϐϑϕϖϰϱϵ', 'σβθφπκρε'), 'ß', 'ss')"
ACCENT_FOLD = "regexp_replace(normalize({}::text, NFD), '[\u0300-\u036f]', '', 'g')"
TEXT_FUNCTIONS = {"casei": CASE_FOLD, "lower": CASE_FOLD, "accenti": ACCENT_FOLD}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _require_text(node: Any, where: str) -> None:
    """A text function's argument, or a LIKE pattern: text, a property, or a function."""
    if not isinstance(node, str | ast.Attribute | ast.Function):
        raise FilterError(f"{where} takes text, a property or a function, not {node!r}"[:120])


def _require_geometry(node: Any, where: str) -> None:
    """A spatial function's argument: the geometry property or a geometry literal."""
    if isinstance(node, ast.Attribute) and node.name in GEOMETRY_NAMES:
        return
    if isinstance(node, values.Geometry | values.Envelope):
        return
    if isinstance(node, ast.Function) and node.name.lower() == "bbox":
        return
    raise FilterError(f"S_{where} takes geometries, not {node!r}"[:120])


def _check_degrees(shape: shapely.Geometry, latitude_first: bool) -> None:
    """A coordinate outside [-180, 180] x [-90, 90] in CRS84 (or EPSG:4326) is a client's
    mistake, not an empty answer (OGC 21-065r2 tests S_INTERSECTS(geom, POINT(90 180)))."""
    if shape.is_empty:
        return
    minx, miny, maxx, maxy = shapely.bounds(shape)
    if latitude_first:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise FilterError(
            "a coordinate in the filter is outside longitude -180..180, latitude -90..90"
        )


def to_where(
    node: Any,
    columns: Mapping[str, str],
    geometry_column: str,
    filter_srid: int = 4326,
    filter_flip: bool = False,
) -> sql.Composable:
    _require_condition(node, "a filter")
    _check_size(node)
    try:
        return SQLFilter(columns, geometry_column, filter_srid, filter_flip).evaluate(node)
    except RecursionError:
        raise FilterError("filter nested too deeply") from None


# A pure function cache (kept at module level on purpose): the text of a filter -> its parse
# tree, the same for every caller; it holds no data (the layer or the catalogue, and the
# viewer, are applied later). Feature items and catalogue searches both parse through it.
@functools.lru_cache(maxsize=512)
def parsed(text: str, is_json: bool) -> Any:
    """A web map sends the same filter with every pan: pygeofilter's parser (lark) costs more
    than the rest of the request, so each text is parsed once (its AST is only read)."""
    return parse_json(json.loads(text)) if is_json else parse_cql2_text(text)


def parse_json(document: Any) -> Any:
    """CQL2 JSON (OGC 21-065r2) to pygeofilter's AST. pygeofilter 0.4 reads an older draft:
    BETWEEN's bounds as one array, no ACCENTI, no GeometryCollection, no `%`, `div`, `^`;
    each object is brought to that form first (a copy: the caller's is not changed). The
    server's own pygeofilter JSON parser does the same (pygeoapi_patches), for pygeoapi."""
    return parse_cql2_json(_older_draft_tree(document))


MORE_ARITHMETIC = {"%": Modulo, "div": IntegerDivision, "^": Power}


def _older_draft_tree(node: Any) -> Any:
    if isinstance(node, list):
        return [_older_draft_tree(item) for item in node]
    if isinstance(node, dict) and not _is_collection(node):
        node = {key: _older_draft_tree(value) for key, value in node.items()}
    return older_draft(node)


def _is_collection(node: dict) -> bool:
    return node.get("type") == "GeometryCollection" and "geometries" in node


def older_draft(node: Any) -> Any:
    """One CQL2 JSON object in the form pygeofilter 0.4 reads (its members are not visited)."""
    if not isinstance(node, dict):
        return node
    if _is_collection(node):
        return values.Geometry(node)  # pygeofilter knows a geometry only by its coordinates
    op, args = node.get("op"), node.get("args")
    if op == "between" and isinstance(args, list) and len(args) == 3:
        return {**node, "args": [args[0], args[1:]]}
    if op == "accenti" and isinstance(args, list):
        return {"function": {"name": "accenti", "arguments": args}}
    if op in MORE_ARITHMETIC and isinstance(args, list) and len(args) == 2:
        return MORE_ARITHMETIC[op](*(parse_cql2_json(arg) for arg in args))
    return node


def _check_size(root: Any) -> None:
    """Counted without recursion, before the (recursive) evaluation starts."""
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise FilterError(f"filter too complex (more than {MAX_NODES} terms)")
        if depth > MAX_DEPTH:
            raise FilterError(f"filter nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Node):
            children = node.get_sub_nodes()
        else:
            children = node if isinstance(node, list) else []  # an array literal, or a value
        stack.extend((child, depth + 1) for child in children)


# What may stand where a true/false is expected. pygeofilter parses any CQL2 JSON value
# ([], 5, "x", a property) as a filter; in SQL those fail as type errors, or worse.
CONDITIONS = (ast.Condition, ast.Predicate, bool)


def _require_condition(node: Any, where: str) -> None:
    if not isinstance(node, CONDITIONS):
        kind = type(node).__name__ if isinstance(node, ast.Node) else f"the value {node!r}"[:60]
        raise FilterError(f"{where} takes conditions (comparisons, spatial tests), not {kind}")


def _metres(distance: float, units: str) -> float:
    factors = {
        "meters": 1.0,
        "metres": 1.0,
        "m": 1.0,
        "kilometers": 1000.0,
        "km": 1000.0,
        "feet": 0.3048,
        "ft": 0.3048,
        "miles": 1609.344,
        "mi": 1609.344,
    }
    factor = factors.get((units or "meters").lower())
    if factor is None:
        raise FilterError(f"unknown distance unit '{units}'")
    return float(distance) * factor
