"""One translation mechanism: the gettext catalogues in geoservice/locale hold the Greek of
every message the loaders, the portal and pygeoapi's templates use (geoservice.i18n looks
them up; `python -m geoservice.i18n_build` extracts, updates and compiles them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
import jinja2.nodes
import pytest

from geoservice import i18n, i18n_build

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sd]")


@pytest.fixture(scope="module")
def used() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message, filename, line in i18n_build.extract():
        found.setdefault(message, []).append(f"{filename}:{line}")
    return found


def test_every_message_used_has_its_greek(used):
    greek = i18n_build.read("el")
    missing = [f"{m!r} ({where[0]})" for m, where in used.items() if not _translated(greek, m)]
    assert missing == [], "no Greek for these messages (run python -m geoservice.i18n_build)"
    assert len(used) > 250  # pygeoapi's, the portal's and the loaders' messages


def test_translations_keep_the_placeholders(used):
    greek = i18n_build.read("el")
    for message in used:
        texts = greek[message].string
        # plural forms: each keeps the placeholders of the singular (the same as the plural's)
        for text in texts if isinstance(texts, tuple) else [texts]:
            wanted = message[0] if isinstance(message, tuple) else message
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(wanted)), message


def test_compiled_catalogues_are_current():
    """The committed .mo files (what pygeoapi and geoservice.i18n read) are what the .po
    sources compile to."""
    for lang in i18n.LANGUAGES:
        mo = i18n_build.po_path(lang).with_suffix(".mo")
        assert mo.read_bytes() == i18n_build.compiled(i18n_build.read(lang)), (
            f"{mo} is stale: run python -m geoservice.i18n_build"
        )


def test_lookup_in_both_languages():
    assert i18n.translate("Data portal", "el") == "Πύλη δεδομένων"
    assert i18n.translate("Data portal", "en") == "Data portal"
    assert i18n.translate("Page {page} of {pages}", "el", page=2, pages=5) == "Σελίδα 2 από 5"
    assert i18n.translate("text_direction", "en") == "ltr"  # pygeoapi's templates ask for it
    assert i18n.translate("not in the catalogue", "el") == "not in the catalogue"


def test_python_messages_are_literals_and_all_extracted(used):
    """Babel finds a message only when it is a literal argument (and misses some calls nested
    in another's arguments): every call that names a message must give one Babel finds."""
    calls = {name: spec[0] - 1 for name, spec in i18n_build.PYTHON_KEYWORDS.items()}
    for folder, method, _ in i18n_build.sources():
        if method != "python":
            continue
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                name = _name(node)
                if name not in calls or path.name in ("notices.py", "i18n.py"):
                    continue  # the definitions pass messages on as variables
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                arg = node.args[calls[name]] if len(node.args) > calls[name] else None
                if name == "t" and not isinstance(arg, ast.Constant):
                    continue  # a template's t passed along (render_page)
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), (
                    f"{where}: {name}() needs its message as a literal string"
                )
                assert arg.value in used, f"{where}: Babel does not extract {arg.value!r}"


def test_templates_translate_literal_messages():
    """t('status_' ~ x) would name a message no extraction can find."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    for folder, method, keywords in i18n_build.sources()[:-1]:  # ours, not pygeoapi's
        if method == "python":
            continue
        for path in sorted(folder.rglob("*.html")):
            tree = env.parse(path.read_text())
            for call in tree.find_all(jinja2.nodes.Call):
                if isinstance(call.node, jinja2.nodes.Name) and call.node.name in keywords:
                    first = call.args[0] if call.args else None
                    assert isinstance(first, jinja2.nodes.Const), (
                        f"{path.relative_to(ROOT)}:{call.lineno}: {call.node.name}() of an "
                        "expression"
                    )


def _translated(catalog, message: str | tuple[str, str]) -> bool:
    found = catalog.get(message)
    forms = found.string if found and isinstance(found.string, tuple) else [found and found.string]
    return bool(found and all(forms) and not found.fuzzy)


def _name(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        return ""
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
