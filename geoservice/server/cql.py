"""CQL2 (parsed by pygeofilter) to a safe SQL WHERE clause.

Every attribute is checked against the collection's queryables before it is quoted, and
every value goes in as a literal escaped by psycopg: nothing from the request is pasted.
A construct we cannot apply is a FilterError (HTTP 400), never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import shapely
import shapely.geometry
from psycopg import sql
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

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
ARITHMETIC = {
    ast.ArithmeticOp.ADD: "+",
    ast.ArithmeticOp.SUB: "-",
    ast.ArithmeticOp.MUL: "*",
    ast.ArithmeticOp.DIV: "/",
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
GEOMETRY_NAMES = ("geometry", "geom")


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
        return super().evaluate(node, adopt_result)

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        name = type(node).__name__
        raise FilterError(f"filter uses {name}, which this server does not support")

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: sql.Composable) -> sql.Composable:
        _require_condition(node.sub, "NOT")
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
        pattern = node.pattern
        if node.wildcard != "%":
            pattern = pattern.replace("%", "\\%").replace(node.wildcard, "%")
        if node.singlechar != "_":
            pattern = pattern.replace("_", "\\_").replace(node.singlechar, "_")
        op = ("NOT " if node.not_ else "") + ("ILIKE" if node.nocase else "LIKE")
        escape = node.escapechar if node.escapechar else "\\"
        return sql.SQL("({}::text {} {} ESCAPE {})").format(
            lhs, sql.SQL(op), sql.Literal(pattern), sql.Literal(escape)
        )

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: sql.Composable, *options: sql.Composable):
        word = "NOT IN" if node.not_ else "IN"
        return sql.SQL("({} {} ({}))").format(lhs, sql.SQL(word), sql.SQL(", ").join(options))

    @handle(ast.IsNull)
    def null(self, node: ast.IsNull, lhs: sql.Composable):
        return sql.SQL("({} IS {}NULL)").format(lhs, sql.SQL("NOT " if node.not_ else ""))

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs, rhs):
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
        box = shapely.geometry.box(node.minx, node.miny, node.maxx, node.maxy)
        return sql.SQL("ST_Intersects({}, {})").format(lhs, self._geometry_literal(box))

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
        return sql.SQL("({} {} {})").format(lhs, sql.SQL(ARITHMETIC[node.op]), rhs)

    @handle(ast.Function)
    def function(self, node: ast.Function, *arguments: sql.Composable):
        name = node.name.lower()
        if name in ("casei", "lower"):
            return sql.SQL("lower({}::text)").format(*arguments)
        if name == "accenti":
            return sql.SQL("{}").format(*arguments)
        if name == "upper":
            return sql.SQL("upper({}::text)").format(*arguments)
        raise FilterError(f"unknown function '{node.name}' in filter")

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
        return self._geometry_literal(shapely.geometry.box(node.x1, node.y1, node.x2, node.y2))

    def _geometry_literal(self, shape: shapely.Geometry) -> sql.Composable:
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
