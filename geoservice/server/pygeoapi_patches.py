"""Where third-party code is wrong for us: pygeoapi 0.24's translation cache, and
pygeofilter 0.4's CQL2 parsers.

pygeoapi.l10n.translate_struct caches the translated configuration per locale in a
module-wide dict, whatever configuration it is given: once one configuration has rendered a
page in Greek, every other one (a newer catalogue after a load, or another caller's view with
other collections) renders with the first one's resources, i.e. stale pages and 500s, or
another caller's collections. We key the cache by configuration instead.

Upstream: pygeoapi/l10n.py `translate_struct`, `_cfg_cache.get(locale_) if is_config` (0.24,
and still so on pygeoapi's master as read in December 2026); no issue about it was found in
pygeoapi's tracker, so none is cited yet. tests/test_patches.py fails when pygeoapi fixes it
(the patch can then go) or moves the internals the patch relies on.

pygeofilter's CQL2 text grammar (0.4.0, pygeofilter/parsers/cql2_text/grammar.lark) falls
short of CQL2 text (OGC 21-065r2) in four rules: a string literal runs from `'` to the next
`'`, so the escapes of a quote (`''` or `\'`, /req/cql2-text/escaping) are refused and a
name with an apostrophe cannot be filtered on; NOT takes one predicate, so `NOT (a OR b)` is
refused; arithmetic lacks `%`, `div` and `^`; `true` alone is not a filter. We build its
parser again from its own grammar with those rules changed (tests/test_patches.py fails when
the grammar no longer has a rule we replace, or when pygeofilter reads such filters itself).
Its CQL2 JSON reader knows an older draft (BETWEEN's bounds as one array, no ACCENTI, no
GeometryCollection, no % div ^): each object now goes through cql.older_draft first.

Nothing happens on import: create_app calls apply(), which may run any number of times.
The translations stay in this module, beside the function pygeoapi calls in place of its own
(pygeoapi has no way to hand it the application): they are keyed by the configuration object
itself, and each configuration belongs to one snapshot (one access view of one catalogue
version, state.Snapshot), so a caller only ever gets its own configuration's translation.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path
from typing import Any

import cachetools
import lark
from pygeoapi import l10n
from pygeofilter import ast
from pygeofilter.parsers.cql2_json import parser as cql2_json
from pygeofilter.parsers.cql2_text import parser as cql2_text

from geoservice.server import cql

_original = l10n.translate_struct  # pygeoapi's own: apply() has not replaced it yet
_lock = threading.Lock()  # pygeoapi's translation (it uses its module-wide _cfg_cache)
_cache_lock = threading.Lock()  # ours (cachetools' caches are not thread-safe)
KEPT = 64  # configurations x locales
# (id of the configuration, locale) -> (the configuration, its translation); the configuration
# is kept with it so that its id is not reused while the entry lives.
_translated: cachetools.LRUCache = cachetools.LRUCache(KEPT)


def translate_struct(struct: Any, locale_: Any, is_config: bool = False) -> Any:
    if not is_config:
        return _original(struct, locale_, is_config)
    key = (id(struct), str(locale_))
    with _cache_lock:
        hit = _translated.get(key)
    if hit is not None and hit[0] is struct:  # the same object, not a reused id
        return hit[1]
    with _lock:
        l10n._cfg_cache.clear()
        result = _original(struct, locale_, True)
        l10n._cfg_cache.clear()
    with _cache_lock:
        _translated[key] = (struct, result)
    return result


# pygeofilter's rules, and ours. A quote inside a string literal is written '' or \'.
SINGLE_QUOTED = 'SINGLE_QUOTED: "\'" /.*?/ "\'"'
OUR_SINGLE_QUOTED = r"""SINGLE_QUOTED: /'(?:[^'\\]|''|\\.)*'/"""
# NOT applies to any condition, a parenthesised OR among them (pygeofilter's: one predicate).
NOT = """            | "NOT"i predicate                                               -> not_
            | "NOT"i "(" predicate ")"                                       -> not_
"""
OUR_NOT = """            | "NOT"i condition_1 -> not_
"""
# CQL2's arithmetic has %, div and ^ besides + - * / (OGC 21-065r2, BNF arithmeticExpression).
PRODUCT = """?product: atom
        | product "*" atom                                                  -> mul
        | product "/" atom                                                  -> div
"""
OUR_PRODUCT = """?product: power
        | product "*" power -> mul
        | product "/" power -> div
        | product "%" power -> mod
        | product "div"i power -> intdiv
?power: atom
      | atom "^" power -> pow
"""
# `true` and `false` are filters by themselves (/req/basic-cql2/cql2-filter; the ATS sends
# them): where a condition may stand, a boolean that a condition's end follows is one.
CONDITION = """?condition_1: predicate
"""
OUR_CONDITION = """?condition_1: predicate
            | BOOLEAN_CONDITION
"""
BOOLEAN = """BOOLEAN.2: ( "TRUE"i | "FALSE"i)
"""
OUR_BOOLEAN = (
    BOOLEAN
    + r"""BOOLEAN_CONDITION.3: /(true|false)(?=\s*($|\)|and\b|or\b))/i
"""
)
RULES = {
    SINGLE_QUOTED: OUR_SINGLE_QUOTED,
    NOT: OUR_NOT,
    PRODUCT: OUR_PRODUCT,
    CONDITION: OUR_CONDITION,
    BOOLEAN: OUR_BOOLEAN,
}
# The escapes of /req/cql2-text/escaping; any other backslash stays (LIKE reads \% and \_).
ESCAPES = {"'": "'", "\\": "\\", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v"}
ESCAPES |= {"f": "\f", "r": "\r"}
_ESCAPE = re.compile(r"''|\\(.)", re.DOTALL)


def unquote(token: str) -> str:
    """The value of a CQL2 text string literal (with its quotes)."""

    def one(match: re.Match) -> str:
        if match.group(0) == "''":
            return "'"
        return ESCAPES.get(match.group(1), match.group(0))

    return _ESCAPE.sub(one, token[1:-1])


@lark.v_args(inline=True)  # as pygeofilter's: a rule's children as arguments
class _Transformer(cql2_text.CQLTransformer):
    def SINGLE_QUOTED(self, token: Any) -> str:  # noqa: N802 - lark's terminal name
        return unquote(str(token))

    def BOOLEAN_CONDITION(self, token: Any) -> bool:  # noqa: N802 - lark's terminal name
        return str(token).lower() == "true"

    def mod(self, lhs: Any, rhs: Any) -> cql.Modulo:
        return cql.Modulo(lhs, rhs)

    def intdiv(self, lhs: Any, rhs: Any) -> cql.IntegerDivision:
        return cql.IntegerDivision(lhs, rhs)

    def pow(self, lhs: Any, rhs: Any) -> cql.Power:
        return cql.Power(lhs, rhs)

    def neg(self, value: Any) -> Any:
        """pygeofilter negates the value in Python, which fails for `-pop`."""
        return -value if isinstance(value, int | float) else ast.Sub(0, value)


@functools.cache
def _cql2_text_parser() -> lark.Lark:
    path = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar = path.read_text(encoding="utf-8")
    for theirs, ours in RULES.items():
        if grammar.count(theirs) != 1:
            raise RuntimeError(f"pygeofilter's {path} no longer has the rule we replace")
        grammar = grammar.replace(theirs, ours)
    return lark.Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        source_path=str(path),
        import_paths=[str(path.parent.parent)],
    )


_original_walk = cql2_json.walk_cql_json  # pygeofilter's own: apply() has not replaced it yet


def walk_cql_json(node: Any) -> Any:
    """pygeofilter's CQL2 JSON reader, each object first brought to the older draft it reads
    (cql.older_draft: BETWEEN with three arguments, ACCENTI, GeometryCollection, % div ^).
    pygeoapi parses the filters of the HTML and JSON-LD pages, and the catalogue's, with it."""
    return _original_walk(cql.older_draft(node))


def apply() -> None:
    """Put our translate_struct in pygeoapi's place, and our CQL2 parsers in pygeofilter's
    (its `parse` functions read the module's `parser` and `walk_cql_json` on each call, so
    pygeoapi's imported copies of them use ours too); idempotent."""
    l10n.translate_struct = translate_struct
    cql2_text.parser = _cql2_text_parser()
    cql2_json.walk_cql_json = walk_cql_json
