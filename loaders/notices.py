"""What a load tells the people who run it, in English and in Greek.

A Notice *is* its English text (a str: what the CLI prints, logs keep and tests read). It is
made from an English message with {placeholders} and their values,
`Notice("{count} feature(s) have no geometry", count=3)`, and keeps both, so any language can
be had from the shared gettext catalogue (geoservice.i18n; the Greek is in
geoservice/locale/el/LC_MESSAGES/messages.po under the same message). A value that is itself
a Notice is translated too. The load history stores English and Greek (`stored`), so the
portal shows each warning in its reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from geoservice.i18n import LANGUAGES, translate


class Notice(str):
    message: str
    values: dict[str, object]

    def __new__(cls, message: str, /, **values: object) -> Notice:
        notice = super().__new__(cls, _render(message, values, "en"))
        notice.message, notice.values = message, values
        return notice

    def text(self, lang: str) -> str:
        """This notice in `lang` (English when the catalogue lacks it)."""
        return _render(self.message, self.values, lang)

    @property
    def el(self) -> str:
        return self.text("el")


class _Joined(Notice):
    parts: list[str]

    def __new__(cls, parts: list[str], separator: str) -> _Joined:
        notice = str.__new__(cls, translate(separator, "en").join(parts))
        notice.message, notice.values, notice.parts = separator, {}, parts
        return notice

    def text(self, lang: str) -> str:
        return translate(self.message, lang).join(in_language(p, lang) for p in self.parts)


def _render(message: str, values: dict[str, object], lang: str) -> str:
    return translate(message, lang, **{k: in_language(v, lang) for k, v in values.items()})


def in_language(text: object, lang: str) -> object:
    """A Notice in `lang`; any other value as it is."""
    return text.text(lang) if isinstance(text, Notice) else text


def greek(text: str) -> str:
    """The Greek of a Notice; any other text as it is."""
    return in_language(text, "el")  # type: ignore[return-value]


def joined(parts: Iterable[str], separator: str) -> Notice:
    """Notices joined by a separator, itself a message ("; " is "· " in Greek, say)."""
    return _Joined(list(parts), separator)


def stored_error(err: BaseException) -> dict[str, str] | None:
    """For the load history: the first line of an error made from a Notice in each language
    ({"en", "el"}: the portal shows its reader's), None for any other error."""
    message = err.args[0] if len(err.args) == 1 else None
    if not isinstance(message, Notice):
        return None
    return {lang: (message.text(lang).strip().splitlines() or [""])[0] for lang in LANGUAGES}


def stored(notices: Iterable[str]) -> list[str | dict[str, str]]:
    """For the load history (JSON): {"en", "el"} for a Notice, other text as it is."""
    return [{"en": str(n), "el": n.el} if isinstance(n, Notice) else n for n in notices]
