"""Translations: the one gettext catalogue the portal, pygeoapi's templates and the load notices
share, looked up here by both the loaders and the server.

The messages are English text (the msgid is the English: an untranslated message reads as
English); `geoservice/locale/<lang>/LC_MESSAGES/messages.po` holds each language's
translations and `messages.mo` their compiled form, committed beside them (pygeoapi reads the
.mo from `server.locale_dir`, this module through the standard library's gettext).
`python -m geoservice.i18n_build` extracts the messages from the code and templates, updates
the .po files and compiles them; tests/test_i18n.py checks every message has its Greek and
the .mo files are current.

Messages here use str.format placeholders ("{count} feature(s) have no geometry"); pygeoapi's
own templates keep their %-style ones.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"  # pygeoapi's (babel's Translations.load default): one domain for all
LANGUAGES = ("el", "en")


@cache
def catalogue(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of `lang` (none: the messages as they are, i.e. English)."""
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def translate(message: str, lang: str, /, **values: object) -> str:
    """`message` in `lang`, its {placeholders} filled with `values`."""
    text = catalogue(lang).gettext(message)
    return text.format(**values) if values else text


def translate_plural(singular: str, plural: str, n: int, lang: str, /, **values: object) -> str:
    """The form of `singular`/`plural` for the count `n` in `lang` (gettext's ngettext, by the
    catalogue's Plural-Forms), its {placeholders} filled with `values` and {n}."""
    return catalogue(lang).ngettext(singular, plural, n).format(n=n, **values)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark for extraction")
    """Marks a message for extraction where it is defined, to be translated later."""
    return message
