"""Every warning a load gives is a Notice: English text whose Greek (any language) comes from
the shared gettext catalogue (geoservice.i18n; tests/test_i18n.py checks every message has
its Greek)."""

from __future__ import annotations

import ast
from pathlib import Path

from loaders.notices import Notice, greek, joined, stored

LOADERS = Path(__file__).resolve().parent.parent / "loaders"
MAKERS = ("Notice", "joined", "read_as")  # what makes a Notice


def _called(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else None
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _functions() -> list[tuple[str, ast.FunctionDef]]:
    found = []
    for path in sorted(set(LOADERS.rglob("*.py")) - {LOADERS / "notices.py"}):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef):
                found.append((path.name, node))
    return found


def _makes_notice(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> bool:
    if isinstance(node, ast.Call):
        return _called(node) in MAKERS
    if isinstance(node, ast.IfExp):
        return _makes_notice(node.body, assigned) and _makes_notice(node.orelse, assigned)
    if isinstance(node, ast.Name) and assigned.get(node.id):
        return all(_makes_notice(value, {}) for value in assigned[node.id])
    return False


def test_every_warning_is_a_notice():
    """A warning appended as plain text would reach the Greek dashboard in English."""
    checked = 0
    for filename, function in _functions():
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and _called(node) in ("append", "insert")):
                continue
            target = node.func.value if isinstance(node.func, ast.Attribute) else None
            if getattr(target, "attr", getattr(target, "id", "")) != "warnings":
                continue
            where = f"{filename}:{node.lineno}"
            assert _makes_notice(node.args[-1], assigned), f"{where}: a warning not a Notice"
            checked += 1
    assert checked >= 10


def test_notices_are_their_english_and_have_their_greek():
    a = Notice("{count} feature(s) have no geometry: kept, with a null geometry", count=2)
    assert a == "2 feature(s) have no geometry: kept, with a null geometry"
    assert a.el == "2 οντότητα(-ες) χωρίς γεωμετρία: κρατήθηκαν, με κενή γεωμετρία"
    b, c = Notice("phone numbers"), Notice("e-mail addresses")
    both = joined([b, c], " or ")
    assert both == "phone numbers or e-mail addresses"
    assert both.el == "αριθμοί τηλεφώνου ή διευθύνσεις e-mail"
    nested = Notice("its name says: {kind}", kind=both)  # a Notice as a value: translated too
    assert nested.el == "το όνομά του λέει: αριθμοί τηλεφώνου ή διευθύνσεις e-mail"
    assert greek(nested) == nested.el and greek("plain") == "plain"
    assert stored([b, "plain"]) == [{"en": "phone numbers", "el": "αριθμοί τηλεφώνου"}, "plain"]
    assert f"{b}: x" == "phone numbers: x"
    assert "; ".join([b, c]) == "phone numbers; e-mail addresses"


def test_a_message_missing_from_the_catalogue_reads_in_english():
    notice = Notice("no such message {n}", n=1)
    assert notice == "no such message 1" and notice.el == "no such message 1"
