"""What a load tells the people who run it, in English and in Greek.

A Notice *is* its English text (a str: what the CLI prints, logs keep and tests read) and
carries its Greek beside it, written where the warning is made. The load history stores
both (`stored`), so the portal shows each warning in its reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable


class Notice(str):
    el: str

    def __new__(cls, en: str, el: str) -> Notice:
        notice = super().__new__(cls, en)
        notice.el = el
        return notice


def greek(text: str) -> str:
    """The Greek of a Notice; any other text as it is."""
    return getattr(text, "el", text)


def joined(parts: Iterable[str], en: str, el: str) -> Notice:
    """Notices joined by a separator in each language ("; " and "· ", say)."""
    parts = list(parts)
    return Notice(en.join(parts), el.join(greek(p) for p in parts))


def stored(notices: Iterable[str]) -> list[str | dict[str, str]]:
    """For the load history (JSON): {"en", "el"} for a Notice, other text as it is."""
    return [{"en": str(n), "el": n.el} if isinstance(n, Notice) else n for n in notices]
