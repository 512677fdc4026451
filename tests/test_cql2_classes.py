"""The optional CQL2 conformance classes we declare (OGC 21-065r2), each proved over real HTTP
against the demo layers of the test server, in CQL2 text and in CQL2 JSON.

The filters take the shapes of the standard's own abstract tests (annex A of 21-065r2: LIKE
'B_r%', BETWEEN, IN, CASEI(name) = casei('KIEV'), ACCENTI(CASEI(name)), S_INTERSECTS with BBOX
and every WKT type, a box across the antimeridian, POINT(90 180) refused), on our layers'
properties. What must come back is worked out here, independently of the server, from every
feature of the layer: Python's own str.casefold() and Unicode decomposition, shapely's
predicates. Each case must select some features and leave others out, so an answer that
ignored the filter, or matched nothing, fails.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
import requests
import shapely
from shapely.geometry import shape

from geoservice.server.conformance import CLASSES, CQL2

CASES: dict[str, list[tuple[str, str, Any, Callable[[dict], bool]]]] = {}


def prop(name: str) -> dict:
    return {"property": name}


def op(name: str, *args: Any) -> dict:
    return {"op": name, "args": list(args)}


def casei(value: Any) -> dict:
    return op("casei", value)


def accenti(value: Any) -> dict:
    return op("accenti", value)


def fold(text: str) -> str:  # CASEI: Unicode full case folding
    return text.casefold()


def strip(text: str) -> str:  # ACCENTI: without the combining marks of the decomposition
    return "".join(c for c in unicodedata.normalize("NFD", text) if not 0x300 <= ord(c) <= 0x36F)


def like(pattern: str) -> Callable[[str], bool]:
    """CQL2's LIKE: % any characters, _ one, backslash escapes."""
    parts = re.findall(r"\\.|%|_|[^\\%_]+", pattern)
    regex = "".join(
        ".*" if p == "%" else "." if p == "_" else re.escape(p[-1] if p[0] == "\\" else p)
        for p in parts
    )
    return lambda text: text is not None and re.fullmatch(regex, text, re.DOTALL) is not None


def case(cls: str, layer: str, text: str, json_: Any, expected: Callable[[dict], bool]) -> None:
    CASES.setdefault(cls, []).append((layer, text, json_, expected))


def p(feature: dict, name: str) -> Any:
    return feature["properties"][name]


def geom(feature: dict) -> shapely.Geometry:
    return shape(feature["geometry"])


# --- basic-cql2 (A.2: each comparison with a text and a number, in Greek too) ---
BASIC = "basic-cql2"
for _op, _test in (
    ("=", lambda a, b: a == b),
    ("<>", lambda a, b: a != b),
    (">", lambda a, b: a > b),
    ("<", lambda a, b: a < b),
    (">=", lambda a, b: a >= b),
    ("<=", lambda a, b: a <= b),
):
    for _name, _value in (("name_gr", "Ν. ΚΙΛΚΙΣ"), ("pop", 111081)):
        _literal = f"'{_value}'" if isinstance(_value, str) else str(_value)
        case(
            BASIC,
            "prefectures",
            f"{_name}{_op}{_literal}",
            op(_op, prop(_name), _value),
            lambda f, n=_name, v=_value, t=_test: t(p(f, n), v),
        )

# --- advanced-comparison-operators (A.4 of 21-065r2: LIKE 'B_r%', BETWEEN, IN and NOT) ---
ADV = "advanced-comparison-operators"
case(
    ADV,
    "prefectures",
    "name_eng LIKE 'N. K_R%'",
    op("like", prop("name_eng"), "N. K_R%"),
    lambda f: like("N. K_R%")(p(f, "name_eng")),
)
case(
    ADV,
    "prefectures",
    "name_eng NOT LIKE 'N. K_R%'",
    op("not", op("like", prop("name_eng"), "N. K_R%")),
    lambda f: not like("N. K_R%")(p(f, "name_eng")),
)
case(
    ADV,
    "prefectures",
    "name_eng LIKE '%KE N%'",
    op("like", prop("name_eng"), "%KE N%"),
    lambda f: "KE N" in p(f, "name_eng"),
)
case(
    ADV,
    "prefectures",
    "pop BETWEEN 100000 AND 200000",
    op("between", prop("pop"), 100000, 200000),
    lambda f: 100000 <= p(f, "pop") <= 200000,
)
case(
    ADV,
    "prefectures",
    "pop NOT BETWEEN 100000 AND 200000",
    op("not", op("between", prop("pop"), 100000, 200000)),
    lambda f: not 100000 <= p(f, "pop") <= 200000,
)
NAMES = ("N. THESSALONIKIS", "N. ATHINON", "n. kilkis", "foo")
case(
    ADV,
    "prefectures",
    "name_eng IN ('N. THESSALONIKIS','N. ATHINON','n. kilkis','foo')",
    op("in", prop("name_eng"), list(NAMES)),
    lambda f: p(f, "name_eng") in NAMES,
)
case(
    ADV,
    "prefectures",
    "name_eng NOT IN ('N. THESSALONIKIS','N. ATHINON','n. kilkis','foo')",
    op("not", op("in", prop("name_eng"), list(NAMES))),
    lambda f: p(f, "name_eng") not in NAMES,
)
case(
    ADV,
    "prefectures",
    "NOT (name_eng LIKE 'N. A%' OR pop < 50000)",
    op("not", op("or", op("like", prop("name_eng"), "N. A%"), op("<", prop("pop"), 50000))),
    lambda f: not (p(f, "name_eng").startswith("N. A") or p(f, "pop") < 50000),
)
case(
    ADV,
    "prefectures",
    "pop IN (219092, 1084001, 3, 2805262)",
    op("in", prop("pop"), [219092, 1084001, 3, 2805262]),
    lambda f: p(f, "pop") in (219092, 1084001, 3, 2805262),
)

# --- case-insensitive-comparison (A.5: CASEI(name) = casei('KIEV'), LIKE, IN) ---
# Greek needs full case folding: the final sigma (ς) folds to σ, so 'ΘΕΣΣΑΛΟΝΙΚΗΣ' and
# 'θεσσαλονικης' are the same name (lower() alone says they differ).
CI = "case-insensitive-comparison"
case(
    CI,
    "prefectures",
    "CASEI(name_gr) = casei('ν. θεσσαλονικης')",
    op("=", casei(prop("name_gr")), casei("ν. θεσσαλονικης")),
    lambda f: fold(p(f, "name_gr")) == fold("ν. θεσσαλονικης"),
)
case(
    CI,
    "prefectures",
    "CASEI(name_eng) <> casei('n. thessalonikis')",
    op("<>", casei(prop("name_eng")), casei("n. thessalonikis")),
    lambda f: fold(p(f, "name_eng")) != "n. thessalonikis",
)
case(
    CI,
    "prefectures",
    "CASEI(name_eng) LIKE casei('n. k_r%')",
    op("like", casei(prop("name_eng")), casei("n. k_r%")),
    lambda f: like("n. k_r%")(fold(p(f, "name_eng"))),
)
case(
    CI,
    "prefectures",
    "CASEI(name_gr) IN (casei('ν. κιλκις'), casei('Ν. Αθηνων'), casei('foo'))",
    op("in", casei(prop("name_gr")), [casei("ν. κιλκις"), casei("Ν. Αθηνων"), casei("foo")]),
    lambda f: fold(p(f, "name_gr")) in {fold("ν. κιλκις"), fold("Ν. Αθηνων")},
)

# --- accent-insensitive-comparison (A.6: ACCENTI(name) = accenti('Chișinău'), with CASEI) ---
AI = "accent-insensitive-comparison"
case(
    AI,
    "municipalities",
    "ACCENTI(name_greek) = accenti('Θερμαικου')",
    op("=", accenti(prop("name_greek")), accenti("Θερμαικου")),
    lambda f: strip(p(f, "name_greek")) == "Θερμαικου",
)
case(
    AI,
    "municipalities",
    "ACCENTI(CASEI(name_greek)) = accenti(casei('ΑΜΠΕΛΟΚΗΠΩΝ - ΜΕΝΕΜΕΝΗΣ'))",
    op("=", accenti(casei(prop("name_greek"))), accenti(casei("ΑΜΠΕΛΟΚΗΠΩΝ - ΜΕΝΕΜΕΝΗΣ"))),
    lambda f: strip(fold(p(f, "name_greek"))) == strip(fold("ΑΜΠΕΛΟΚΗΠΩΝ - ΜΕΝΕΜΕΝΗΣ")),
)
case(
    AI,
    "settlements",
    "ACCENTI(CASEI(onoma)) LIKE accenti(casei('ΝΈΑ %'))",
    op("like", accenti(casei(prop("onoma"))), accenti(casei("ΝΈΑ %"))),
    lambda f: like(strip(fold("ΝΈΑ %")))(strip(fold(p(f, "onoma")))),
)
case(
    AI,
    "settlements",
    "ACCENTI(onoma) LIKE accenti('Άγιος %')",
    op("like", accenti(prop("onoma")), accenti("Άγιος %")),
    lambda f: like("Αγιος %")(strip(p(f, "onoma"))),
)

# --- basic-spatial-functions (A.7: S_INTERSECTS with BBOX and POINT, AND / OR / NOT) ---
BS = "basic-spatial-functions"
BOX = shapely.box(22.83, 40.58, 23.01, 40.66)
case(
    BS,
    "municipalities",
    "S_INTERSECTS(geometry, BBOX(22.83,40.58,23.01,40.66))",
    op("s_intersects", prop("geometry"), {"bbox": [22.83, 40.58, 23.01, 40.66]}),
    lambda f: geom(f).intersects(BOX),
)
case(
    BS,
    "municipalities",
    "S_INTERSECTS(geometry, POINT(22.9613 40.6288))",
    op("s_intersects", prop("geometry"), {"type": "Point", "coordinates": [22.9613, 40.6288]}),
    lambda f: geom(f).intersects(shapely.Point(22.9613, 40.6288)),
)
case(
    BS,
    "prefectures",
    "S_INTERSECTS(geometry, BBOX(21,37,24,41)) AND NOT S_INTERSECTS(geometry, BBOX(22,39,25,42))",
    op(
        "and",
        op("s_intersects", prop("geometry"), {"bbox": [21, 37, 24, 41]}),
        op("not", op("s_intersects", prop("geometry"), {"bbox": [22, 39, 25, 42]})),
    ),
    lambda f: (
        geom(f).intersects(shapely.box(21, 37, 24, 41))
        and not geom(f).intersects(shapely.box(22, 39, 25, 42))
    ),
)
case(
    BS,
    "prefectures",
    "S_INTERSECTS(geometry, BBOX(19,39,20.5,40)) OR S_INTERSECTS(geometry, BBOX(26,35,27,36))",
    op(
        "or",
        op("s_intersects", prop("geometry"), {"bbox": [19, 39, 20.5, 40]}),
        op("s_intersects", prop("geometry"), {"bbox": [26, 35, 27, 36]}),
    ),
    lambda f: (
        geom(f).intersects(shapely.box(19, 39, 20.5, 40))
        or geom(f).intersects(shapely.box(26, 35, 27, 36))
    ),
)
# West edge east of the east edge: the box crosses the antimeridian (the standard's
# BBOX(150,-90,-150,90)); here it holds everything east of 24.5°E and west of 21°E.
case(
    BS,
    "prefectures",
    "S_INTERSECTS(geometry, BBOX(24.5,-90,21,90))",
    op("s_intersects", prop("geometry"), {"bbox": [24.5, -90, 21, 90]}),
    lambda f: (
        geom(f).intersects(shapely.box(24.5, -90, 180, 90))
        or geom(f).intersects(shapely.box(-180, -90, 21, 90))
    ),
)

# --- basic-spatial-functions-plus (A.8: S_INTERSECTS with every other WKT type) ---
BSP = "basic-spatial-functions-plus"
WKT = (
    "MULTIPOINT((22.9613 40.6288), (23.7275 37.9838))",
    "LINESTRING(20 38, 26 41)",
    "MULTILINESTRING((20 38, 26 41), (24 35, 24.5 36))",
    "POLYGON((21 37, 24 37, 24 41, 21 41, 21 37), "
    "(21.5 38, 23.5 38, 23.5 40, 21.5 40, 21.5 38))",  # with a hole
    "MULTIPOLYGON(((21 37, 22 37, 22 38, 21 38, 21 37)), ((25 35, 26 35, 26 36, 25 36, 25 35)))",
    "GEOMETRYCOLLECTION(POINT(22.9613 40.6288), POLYGON((25 35, 26 35, 26 36, 25 36, 25 35)))",
)
for _wkt in WKT:
    _shape = shapely.from_wkt(_wkt)
    case(
        BSP,
        "prefectures",
        f"S_INTERSECTS(geometry, {_wkt})",
        op("s_intersects", prop("geometry"), shapely.geometry.mapping(_shape)),
        lambda f, s=_shape: geom(f).intersects(s),
    )

# --- spatial-functions (A.9: every S_* function) ---
SF = "spatial-functions"
STATION = (22.0689, 37.107)  # seismic station AAMF, where the layer puts it
for _name, _layer, _wkt in (
    ("S_CONTAINS", "prefectures", "POINT(22.9613 40.6288)"),
    ("S_CROSSES", "prefectures", "LINESTRING(20 38, 26 41)"),
    ("S_DISJOINT", "prefectures", "POLYGON((21 37, 24 37, 24 41, 21 41, 21 37))"),
    ("S_EQUALS", "seismic-stations", f"POINT({STATION[0]} {STATION[1]})"),
    ("S_OVERLAPS", "prefectures", "POLYGON((22 38, 24 38, 24 40, 22 40, 22 38))"),
    ("S_TOUCHES", "seismic-stations", f"LINESTRING({STATION[0]} {STATION[1]}, 23 38)"),
    ("S_WITHIN", "seismic-stations", "POLYGON((21 37, 24 37, 24 41, 21 41, 21 37))"),
    ("S_INTERSECTS", "seismic-stations", "MULTIPOLYGON(((21 37, 24 37, 24 41, 21 41, 21 37)))"),
):
    _shape = shapely.from_wkt(_wkt)
    _test = getattr(shapely, _name[2:].lower())
    case(
        SF,
        _layer,
        f"{_name}(geometry, {_wkt})",
        op(_name.lower(), prop("geometry"), shapely.geometry.mapping(_shape)),
        lambda f, s=_shape, t=_test: bool(t(geom(f), s)),
    )

# --- arithmetic (A.10: pop_other=1038280+8, -2*2^0, -20/10, -21 div 10, -5%2, BETWEEN, IN) ---
AR = "arithmetic"


for _text, _json, _test in (
    ("pop = 219000+92", op("=", prop("pop"), op("+", 219000, 92)), lambda v: v == 219092),
    (
        "pop >= 219092-2*2^0",
        op(">=", prop("pop"), op("-", 219092, op("*", 2, op("^", 2, 0)))),
        lambda v: v >= 219092 - 2 * 2**0,
    ),
    (
        "pop > 219092-20/10",
        op(">", prop("pop"), op("-", 219092, op("/", 20, 10))),
        lambda v: v > 219090,
    ),
    (
        "pop > 219092-21 div 10",
        op(">", prop("pop"), op("-", 219092, op("div", 21, 10))),
        lambda v: v > 219090,
    ),
    (
        "pop > 219092-5%2",
        op(">", prop("pop"), op("-", 219092, op("%", 5, 2))),
        lambda v: v > 219091,
    ),
    (
        "pop <= 219000+8*11",
        op("<=", prop("pop"), op("+", 219000, op("*", 8, 11))),
        lambda v: v <= 219088,
    ),
    (
        "pop < 219084+2^3",
        op("<", prop("pop"), op("+", 219084, op("^", 2, 3))),
        lambda v: v < 219092,
    ),
    (
        "pop <> 219094-2^1",
        op("<>", prop("pop"), op("-", 219094, op("^", 2, 1))),
        lambda v: v != 219092,
    ),
    ("pop / 2 = 980.5", op("=", op("/", prop("pop"), 2), 980.5), lambda v: v / 2 == 980.5),
    ("pop % 1000 < 100", op("<", op("%", prop("pop"), 1000), 100), lambda v: v % 1000 < 100),
    ("pop div 100000 = 1", op("=", op("div", prop("pop"), 100000), 1), lambda v: v // 100000 == 1),
    ("-pop < -1000000", op("<", op("*", -1, prop("pop")), -1000000), lambda v: -v < -1000000),
    (
        "pop BETWEEN 4000000/40 AND (3*(90000+10000))",
        op("between", prop("pop"), op("/", 4000000, 40), op("*", 3, op("+", 90000, 10000))),
        lambda v: 100000 <= v <= 300000,
    ),
    (
        "pop IN (200000+19092, 1000000+84001, 3*1000000)",
        op(
            "in",
            prop("pop"),
            [op("+", 200000, 19092), op("+", 1000000, 84001), op("*", 3, 1000000)],
        ),
        lambda v: v in (219092, 1084001),
    ),
    ("219000+92 = pop", op("=", op("+", 219000, 92), prop("pop")), lambda v: v == 219092),
):
    case(AR, "prefectures", _text, _json, lambda f, t=_test: t(p(f, "pop")))

# --- property-property (A.11: a property, not only a literal, on either side) ---
PP = "property-property"
case(
    PP,
    "seismic-stations",
    "lat < lon + 15",
    op("<", prop("lat"), op("+", prop("lon"), 15)),
    lambda f: p(f, "lat") < p(f, "lon") + 15,
)
case(
    PP,
    "seismic-stations",
    "lat - 15 > lon",
    op(">", op("-", prop("lat"), 15), prop("lon")),
    lambda f: p(f, "lat") - 15 > p(f, "lon"),
)
case(
    PP,
    "seismic-stations",
    "37 BETWEEN lat AND lon + 20",
    op("between", 37, prop("lat"), op("+", prop("lon"), 20)),
    lambda f: p(f, "lat") <= 37 <= p(f, "lon") + 20,
)
case(
    PP,
    "settlements",
    "onoma LIKE name AND CASEI(name_2) LIKE casei('k%')",
    op(
        "and",
        op("like", prop("onoma"), prop("name")),
        op("like", casei(prop("name_2")), casei("k%")),
    ),
    lambda f: like(p(f, "name"))(p(f, "onoma")) and fold(p(f, "name_2")).startswith("k"),
)
case(
    PP,
    "settlements",
    "'Κάλαμος' = onoma",
    op("=", "Κάλαμος", prop("onoma")),
    lambda f: p(f, "onoma") == "Κάλαμος",
)

_features: dict[tuple[str, str], list[dict]] = {}


def every_feature(server: str, layer: str) -> list[dict]:
    if (server, layer) not in _features:
        response = requests.get(f"{server}/collections/{layer}/items?limit=10000", timeout=60)
        body = response.json()
        assert body["numberReturned"] == body["numberMatched"]
        _features[server, layer] = body["features"]
    return _features[server, layer]


def selected(server: str, layer: str, cql: str, language: str, **more: str) -> set:
    params = {"filter": cql, "filter-lang": language, "limit": "10000", **more}
    response = requests.get(f"{server}/collections/{layer}/items", params=params, timeout=60)
    assert response.status_code == 200, (cql, response.text[:500])
    return {f["id"] for f in response.json()["features"]}


def run_class(server: str, cls: str, language: str) -> None:
    """Every case of the class: the server selects exactly the features that should be."""
    wrong = []
    for layer, text, json_, expected in CASES[cls]:
        features = every_feature(server, layer)
        wanted = {f["id"] for f in features if expected(f)}
        assert 0 < len(wanted) < len(features), f"{text} does not discriminate on {layer}"
        cql = text if language == "cql2-text" else json.dumps(json_, ensure_ascii=False)
        got = selected(server, layer, cql, language)
        if got != wanted:
            wrong.append((text, f"{len(got)} features, expected {len(wanted)}"))
    assert not wrong, wrong


@pytest.mark.parametrize("language", ["cql2-text", "cql2-json"])
@pytest.mark.parametrize("cls", list(CASES))
def test_the_class_s_filters_select_the_right_features(live_server, cls, language):
    run_class(live_server, cls, language)


def test_each_class_tested_here_is_declared_with_this_test():
    test = "test_cql2_classes::test_the_class_s_filters_select_the_right_features"
    for cls in CASES:
        assert f"{test}[{cls}]" in CLASSES[CQL2 + cls], cls
        assert f"{test}[{cls}]" in CLASSES[CQL2 + "cql2-json"], cls


@pytest.mark.parametrize(
    "cql, language, matched",
    [
        ("true", "cql2-text", 55),
        ("FALSE", "cql2-text", 0),
        ("NOT (false OR pop IS NULL)", "cql2-text", 55),
        ("pop IS NULL", "cql2-text", 0),
        ("pop IS NOT NULL AND name_gr IS NOT NULL", "cql2-text", 55),
        ("true", "cql2-json", 55),
        ("false", "cql2-json", 0),
        ('{"op": "isNull", "args": [{"property": "pop"}]}', "cql2-json", 0),
        (
            '{"op": "not", "args": [{"op": "isNull", "args": [{"property": "pop"}]}]}',
            "cql2-json",
            55,
        ),
    ],
)
def test_true_false_and_null_are_filters(live_server, cql, language, matched):
    """A.2's `true`, `false`, `IS NULL` and `IS NOT NULL` (all or none of the 55)."""
    assert len(selected(live_server, "prefectures", cql, language)) == matched


@pytest.mark.parametrize(
    "cql, language",
    [
        ("S_INTERSECTS(geometry, POINT(90 180))", "cql2-text"),  # latitude 180 (A.7)
        (
            '{"op": "s_intersects", "args": [{"property": "geometry"}, '
            '{"type": "Point", "coordinates": [90, 180]}]}',
            "cql2-json",
        ),
        ("S_INTERSECTS(geometry, MULTIPOINT((7.02 49.92), (90 180)))", "cql2-text"),  # (A.8)
        ("S_INTERSECTS(geometry, BBOX(0,-91,10,50))", "cql2-text"),
    ],
)
def test_a_coordinate_off_the_globe_is_a_400(live_server, cql, language):
    params = {"filter": cql, "filter-lang": language}
    response = requests.get(
        f"{live_server}/collections/prefectures/items", params=params, timeout=60
    )
    assert response.status_code == 400
    assert "latitude" in response.json()["description"]


def test_a_box_across_the_antimeridian_reads_the_axis_order_of_filter_crs(live_server):
    """BBOX takes its corners in filter-crs's axis order: in EPSG:4326 latitude first, so the
    same box across the antimeridian selects the same prefectures as in CRS84."""
    crs84 = selected(live_server, "prefectures", "S_INTERSECTS(geometry, BBOX(24.5,-90,21,90))",
                     "cql2-text")  # fmt: skip
    epsg4326 = selected(
        live_server,
        "prefectures",
        "S_INTERSECTS(geometry, BBOX(-90,24.5,90,21))",
        "cql2-text",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    )
    assert 0 < len(crs84) < 55 and epsg4326 == crs84
