"""Keeps the translation catalogues (geoservice/locale) in step with the code: extracts every
message, adds the new ones to each language's messages.po, compiles messages.mo.

    .venv/bin/python -m geoservice.i18n_build        # then translate the new empty msgstr

Babel's Python API, with the sources and keywords below (what `pybabel extract -F` would
read from a mapping file): the loaders' notices, the portal's views and templates, our
overrides of pygeoapi's templates and pygeoapi's own templates (whose messages its pages
show). A development tool: nothing at run time imports it (geoservice.i18n reads the .mo).
tests/test_i18n.py runs the same extraction to check every message has its Greek and that
the committed .mo files are what the .po files compile to.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from geoservice.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# Python: Notice(message, **values), joined(parts, separator), t(message) and
# translate(message, lang) with a literal message, N_(message) where one is only defined.
PYTHON_KEYWORDS = {"Notice": (1,), "joined": (2,), "t": (1,), "translate": (1,), "N_": (1,)}
JINJA_KEYWORDS = {"t": (1,), "tn": (1, 2), "_": (1,), "gettext": (1,), "ngettext": (1, 2)}
JINJA = {"extensions": "jinja2.ext.i18n"}


def _pygeoapi_templates() -> Path:
    from pygeoapi.util import TEMPLATESDIR

    return Path(TEMPLATESDIR)


def sources() -> list[tuple[Path, str, dict[str, tuple[int, ...]]]]:
    """(folder, extraction method, keywords) for every place messages are written."""
    python, jinja = "python", "jinja2.ext:babel_extract"
    return [
        (ROOT / "loaders", python, PYTHON_KEYWORDS),
        (PACKAGE / "server" / "portal", python, PYTHON_KEYWORDS),
        (PACKAGE / "server" / "portal" / "templates", jinja, JINJA_KEYWORDS),
        (PACKAGE / "server" / "templates", jinja, JINJA_KEYWORDS),
        (_pygeoapi_templates(), jinja, JINJA_KEYWORDS),
    ]


def extract() -> Iterator[tuple[str | tuple[str, str], str, int]]:
    """(message, file, line) for every message the code and templates use, a message with
    plural forms as (singular, plural); the file relative to the project (pygeoapi's: to the
    folder it is installed in, "pygeoapi/templates/...")."""
    for folder, method, keywords in sources():
        pattern = "**.py" if method == "python" else "**.html"
        options = {} if method == "python" else {pattern: JINJA}
        found = extract_from_dir(
            str(folder), [(pattern, method)], options, keywords, strip_comment_tags=True
        )
        base = folder.parent.parent if folder == _pygeoapi_templates() else ROOT
        for filename, line, message, _comments, _context in found:
            text = message
            if isinstance(message, tuple):  # (singular, plural) or gettext's (message, None)
                text = message if all(message) and len(message) == 2 else message[0]
            if text:
                yield text, (folder / filename).relative_to(base).as_posix(), line


def template() -> Catalog:
    """Every message used, as a catalogue without translations (a .pot)."""
    catalog = Catalog(project="geoservice", charset="utf-8")
    for message, filename, line in extract():
        catalog.add(message, locations=[(filename, line)])
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as stream:
        return read_po(stream, locale=lang, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    """The .mo of a catalogue (what `pybabel compile` writes; fuzzy entries left out)."""
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def write(lang: str, catalog: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as stream:
        # Files without line numbers: code moving about leaves the catalogues as they are.
        write_po(stream, catalog, width=100, include_previous=True, include_lineno=False)
    path.with_suffix(".mo").write_bytes(compiled(read(lang)))


def update() -> None:
    """Each language's .po gains the new messages (untranslated) and keeps its translations;
    then every .mo is compiled."""
    pot = template()
    for lang in LANGUAGES:
        catalog = read(lang)
        catalog.update(pot, no_fuzzy_matching=True, update_creation_date=False)
        write(lang, catalog)


if __name__ == "__main__":
    update()
