"""The visitor's language, and the portal's texts in it.

Greek is the default; `?lang=en|el` switches and a cookie remembers the choice. The texts are
English messages translated by the shared gettext catalogue (geoservice.i18n): a message
missing from a language reads in English (never an error).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, request

from geoservice.i18n import N_, translate, translate_plural

LANGUAGES = ("el", "en")
DEFAULT = "el"
COOKIE = "lang"

FREQUENCIES = {  # ISO 19115 maintenance frequency -> (days allowed, what it reads as)
    "continual": (1, N_("continually")),
    "daily": (2, N_("daily")),
    "weekly": (8, N_("weekly")),
    "fortnightly": (15, N_("fortnightly")),
    "monthly": (32, N_("monthly")),
    "quarterly": (93, N_("quarterly")),
    "biannually": (184, N_("twice a year")),
    "annually": (366, N_("annually")),
    "asNeeded": (None, N_("as needed")),
    "irregular": (None, N_("irregularly")),
    "notPlanned": (None, N_("not planned")),
    "unknown": (None, N_("unknown")),
}


def language() -> str:
    """The visitor's language: ?lang=, else the remembered cookie, else Greek."""
    wanted = (request.args.get("lang") or request.cookies.get(COOKIE) or DEFAULT).lower()[:2]
    return wanted if wanted in LANGUAGES else DEFAULT


def remember(response: Response, lang: str) -> None:
    """Remember an explicit choice for a year (every page under / reads it)."""
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", path="/")


def translator(lang: str) -> Callable[..., str]:
    """t(message, **values) for templates and views: `message` in `lang`, formatted."""

    def t(message: str, **values: object) -> str:
        return translate(message, lang, **values)

    return t


def plural_translator(lang: str) -> Callable[..., str]:
    """tn(singular, plural, n, **values): the form for the count n ("1 σύνολο δεδομένων",
    "2 σύνολα δεδομένων"), formatted; {n} is the count."""

    def tn(singular: str, plural: str, n: int, **values: object) -> str:
        return translate_plural(singular, plural, n, lang, **values)

    return tn


def pick(texts: dict | str | None, lang: str) -> str:
    """A bilingual value ({el, en}) in `lang`, falling back to the other language."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("en" if lang == "el" else "el") or ""


def frequency(code: str | None, lang: str) -> str:
    found = FREQUENCIES.get(code or "unknown", FREQUENCIES["unknown"])
    return translate(found[1], lang)
