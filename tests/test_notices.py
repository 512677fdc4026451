"""Every warning a load gives is written in English and in Greek (loaders.notices)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from loaders.notices import Notice, greek, joined, stored

LOADERS = Path(__file__).resolve().parent.parent / "loaders"
GREEK = re.compile("[α-ωΑ-Ωά-ώ]")


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted(set(LOADERS.glob("*.py")) - {LOADERS / "notices.py"}):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.append((f"{path.name}:{node.lineno}", node))
    return found


def _text(node: ast.expr) -> str:
    """The literal parts of a string expression (constants, f-strings, concatenations)."""
    return "".join(
        part.value for part in ast.walk(node) if isinstance(part, ast.Constant) and
        isinstance(part.value, str)
    )  # fmt: skip


def test_every_notice_has_its_greek():
    notices = _calls("Notice")
    assert len(notices) > 20
    for where, call in notices:
        english, el = call.args
        if isinstance(english, ast.Name) and isinstance(el, ast.Name):
            continue  # built up above the call (prepare._repair's count and losses)
        composed = any(  # of other notices' Greek: greek(x) or x.el
            (isinstance(n, ast.Name) and n.id == "greek")
            or (isinstance(n, ast.Attribute) and n.attr == "el")
            for n in ast.walk(el)
        )
        assert GREEK.search(_text(el)) or composed, f"{where}: the second text is not Greek"
        named = re.sub("ΑΦΜ|ΑΜΚΑ|ΑΔΤ|Ά", "", _text(english))  # Greek names English text uses
        assert not GREEK.search(named), f"{where}: the first text should be English"


def test_every_warning_is_a_notice():
    """A warning appended as plain text would reach the Greek dashboard in English."""
    checked = 0
    for method in ("append", "insert"):
        for where, call in _calls(method):
            target = call.func.value if isinstance(call.func, ast.Attribute) else None
            name = getattr(target, "attr", getattr(target, "id", ""))
            if name != "warnings":
                continue
            item = call.args[-1]
            made = isinstance(item, ast.Call) and getattr(item.func, "id", "") in (
                "Notice",
                "_read_as",
            )
            assert made, f"{where}: a warning that is not a Notice"
            checked += 1
    assert checked >= 8


def test_notices_are_their_english_and_keep_their_greek():
    a, b = Notice("one", "ένα"), Notice("two", "δύο")
    both = joined([a, b], " or ", " ή ")
    assert both == "one or two" and both.el == "ένα ή δύο"
    assert greek(both) == "ένα ή δύο" and greek("plain") == "plain"
    assert stored([a, "plain"]) == [{"en": "one", "el": "ένα"}, "plain"]
    assert f"{a}: x" == "one: x" and "; ".join([a, b]) == "one; two"
