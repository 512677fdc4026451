"""Text encodings of legacy sources: which code page a DBF (or a text table) was written in.

Greek municipal shapefiles rarely carry a .cpg, and their DBF text is Windows-1253 or
ISO-8859-7. The two agree on the Greek letters 0xC1-0xFE and differ on a few bytes only
(cp1253 0xA2 = 'Ά' where ISO-8859-7 has 0xB6 = 'Ά'; 0x80-0x9F are punctuation in cp1253 and
control codes in ISO-8859-7). We count those bytes and say how sure we are.

Public functions:
- resolve_dbf_encoding(dbf_bytes, cpg_text, override) -> EncodingGuess
- detect_encoding(data, ldid=None) -> EncodingGuess
- check_lossy_text(frame, allow, source) -> list[str]   (raises EncodingError)
- truncated_values(dbf_bytes) -> dict[str, int]
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geoservice.errors import EncodingError, SourceError
from loaders.notices import Notice, joined

DBF_MAX_TEXT = 254  # the longest character field a DBF can hold

# DBF "language driver id" (header byte 29) values that name a code page outright.
LDID_CODEPAGES: dict[int, str] = {
    0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x57: "", 0x58: "cp1252", 0x59: "cp1252",
    0x64: "cp852", 0x65: "cp866", 0x6A: "cp737", 0x86: "cp737", 0x87: "cp852", 0xC8: "cp1250",
    0xC9: "cp1251", 0xCA: "cp1254", 0xCB: "cp1253", 0xCC: "cp1257",
}  # fmt: skip

# Canonical labels for what we report (codecs.lookup names are less familiar).
_LABELS = {
    "cp1253": "cp1253", "iso8859-7": "iso-8859-7", "utf-8": "utf-8", "ascii": "ascii",
    "cp1252": "cp1252", "iso8859-1": "iso-8859-1", "latin-1": "iso-8859-1", "cp737": "cp737",
}  # fmt: skip

# Below this many distinguishing bytes, the cp1253 / ISO-8859-7 verdict is a guess.
_STRONG_EVIDENCE = 3
SURE = 0.8  # a guess less sure than this says how to be sure (readers/base.py read_as)


@dataclass
class EncodingGuess:
    encoding: str
    confidence: float  # 0..1
    reason: str  # one human sentence: the evidence
    warnings: list[str] = field(default_factory=list)  # other facts (how sure: `confidence`)


@dataclass
class DbfText:
    """The raw bytes of a DBF's character fields."""

    ldid: int
    records: int
    char_fields: dict[str, np.ndarray]  # name -> (records, width) uint8


def canonical(name: str) -> str:
    """Normalise an encoding name ("1253", "ANSI 1253", "88597"); LookupError if unknown."""
    text = name.strip().strip("\x00").strip()
    upper = text.upper().replace("ANSI", "").strip().replace(" ", "")
    if re.fullmatch(r"\d{3,4}", upper):
        text = f"cp{upper}"
    elif re.fullmatch(r"8859\d{1,2}", upper):
        text = f"iso8859-{upper[4:]}"
    codec = codecs.lookup(text).name
    return _LABELS.get(codec, codec)


def parse_dbf(data: bytes) -> DbfText:
    """Parse a dBASE III header and slice out the character fields' bytes (vectorised)."""
    if len(data) < 33:
        raise SourceError("the .dbf file is too short to be a dBASE table")
    records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields: list[tuple[str, str, int, int]] = []  # name, type, offset, width
    offset = 1  # byte 0 of each record is the deletion flag
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        desc = data[pos : pos + 32]
        name = desc[:11].split(b"\x00")[0].decode("latin-1").strip()
        fields.append((name, chr(desc[11]), offset, desc[16]))
        offset += desc[16]
        pos += 32
    available = max(0, (len(data) - header_len) // max(record_len, 1))
    records = min(records, available)
    body = np.frombuffer(data, dtype=np.uint8, count=records * record_len, offset=header_len)
    table = body.reshape(records, record_len) if record_len else body.reshape(0, 0)
    chars = {n: table[:, o : o + w] for n, t, o, w in fields if t == "C" and o + w <= record_len}
    return DbfText(ldid=data[29], records=records, char_fields=chars)


def resolve_dbf_encoding(
    dbf: bytes, cpg_text: str | None = None, override: str | None = None
) -> EncodingGuess:
    """The descriptor's override first, then a .cpg file, then the bytes themselves."""
    if override:
        try:
            name = canonical(override)
        except LookupError:
            raise EncodingError(f"unknown text encoding {override!r} in source.encoding") from None
        return EncodingGuess(
            name,
            1.0,
            Notice("encoding {name} declared in the descriptor", name=name),
        )
    warnings: list[str] = []
    if cpg_text and cpg_text.strip():
        try:
            name = canonical(cpg_text)
            return EncodingGuess(
                name,
                1.0,
                Notice("encoding {name} declared in the .cpg file", name=name),
            )
        except LookupError:
            warnings.append(
                Notice(
                    "the .cpg file names an unknown encoding {name!r}: ignored",
                    name=cpg_text.strip(),
                )
            )
    table = parse_dbf(dbf)
    raw = b"\x20".join(a.tobytes() for a in table.char_fields.values())
    guess = detect_encoding(raw, ldid=table.ldid)
    guess.warnings[:0] = warnings
    return guess


def detect_encoding(data: bytes, ldid: int | None = None) -> EncodingGuess:
    """Guess the encoding of legacy text bytes, with the Greek code pages in mind."""
    arr = np.frombuffer(data, dtype=np.uint8)
    high = arr >= 0x80
    if not high.any():
        return EncodingGuess("ascii", 1.0, Notice("all text is plain ASCII"))
    utf8 = _utf8_verdict(data)
    if utf8 is not None:
        return utf8
    declared = LDID_CODEPAGES.get(ldid or 0, "")
    counts = np.bincount(arr[high], minlength=256)
    if declared == "cp1253" and counts[0xB6] == 0:
        return EncodingGuess(
            "cp1253",
            0.95,
            Notice("the DBF header's language driver byte says cp1253"),
        )
    if declared == "cp737" or counts[0x80:0xB0].sum() > 0.5 * counts.sum():
        return EncodingGuess(
            "cp737",
            0.7,
            Notice("most non-ASCII bytes are in 0x80-0xAF: DOS Greek (cp737)"),
        )
    if _looks_latin(arr):
        name = "cp1252" if counts[0x80:0xA0].any() else "iso-8859-1"
        return EncodingGuess(
            name,
            0.6,
            Notice("non-ASCII bytes stand alone inside Latin words, as accented letters do"),
        )
    return _greek_verdict(counts)


def _utf8_verdict(data: bytes) -> EncodingGuess | None:
    """UTF-8 when the bytes decode (a few broken sequences at field ends are truncation)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if bad == 0:
        return EncodingGuess(
            "utf-8",
            0.99,
            Notice("the text is valid UTF-8 with multi-byte characters"),
        )
    if multibyte > 20 * bad:
        return EncodingGuess(
            "utf-8",
            0.9,
            Notice("the text is UTF-8 apart from a few broken sequences"),
            [
                Notice(
                    "{count} broken UTF-8 sequence(s), probably values cut at the field width",
                    count=bad,
                )
            ],
        )
    return None


def _looks_latin(arr: np.ndarray) -> bool:
    """Greek words are runs of high bytes; Latin accented letters stand alone in ASCII words."""
    letters = arr >= 0xC0
    total = int(letters.sum())
    if total == 0:
        return False
    neighbour = np.zeros_like(letters)
    neighbour[1:] |= letters[:-1]
    neighbour[:-1] |= letters[1:]
    return int((letters & neighbour).sum()) < 0.4 * total


def _greek_verdict(counts: np.ndarray) -> EncodingGuess:
    # Bytes that mean a Greek capital with tonos in one code page and a symbol in the other.
    cp_votes = int(counts[0xA2] + counts[0x80:0xA0].sum())  # Ά in cp1253; C1 controls in ISO
    iso_votes = int(counts[0xB6] + counts[0xAA])  # Ά in ISO-8859-7; 0xAA undefined in cp1253
    if cp_votes == iso_votes == 0:
        return EncodingGuess(
            "cp1253",
            0.4,
            Notice(
                "Greek text without any byte that tells cp1253 from ISO-8859-7 "
                "(no Ά-type capital or typographic punctuation); chose cp1253, the usual one"
            ),
        )
    winner, votes, against = (
        ("cp1253", cp_votes, iso_votes)
        if cp_votes >= iso_votes
        else ("iso-8859-7", iso_votes, cp_votes)
    )
    margin = (votes - against) / (votes + against)
    strength = min(1.0, votes / _STRONG_EVIDENCE)
    confidence = round(0.5 + 0.49 * margin * strength, 2)
    what = (
        Notice("0xA2 (Ά) or 0x80-0x9F punctuation")
        if winner == "cp1253"
        else Notice("0xB6 (Ά) or 0xAA")
    )
    reason = Notice(
        "{votes} byte(s) {what} point to {winner}, {against} to the other Greek code page",
        votes=votes,
        what=what,
        winner=winner,
        against=against,
    )
    return EncodingGuess(winner, confidence, reason)


# A '?' that replaced a letter: one of a run of '?', or squeezed between two word characters.
_DAMAGE = r"\?(?=\?)|(?<=\?)\?|(?<=\w)\?(?=\w)"
_MIN_DAMAGED_VALUES = 3


def check_lossy_text(frame: pd.DataFrame, allow: bool, source: str) -> list[str]:
    """Refuse text where letters were already replaced by '?' upstream (unless allowed)."""
    damaged_values = replaced = total = 0
    example = ""
    for column in _text_columns(frame):
        texts = _texts(frame[column])
        total += len(texts)
        # Only a value holding a '?' can be damaged: find those in one pass in Arrow's C++.
        values = pd.Series(texts.filter(pc.match_substring(texts, "?")).to_pylist(), dtype=object)
        if values.empty:
            continue
        hits = values.str.count(_DAMAGE)
        damaged = hits > 0
        if damaged.any():
            damaged_values += int(damaged.sum())
            replaced += int(hits.sum())
            example = example or str(values[damaged].iloc[0])
    if damaged_values == 0 or damaged_values < min(_MIN_DAMAGED_VALUES, total):
        return []
    message = Notice(
        "{source}: the text was damaged before it reached us: {replaced} letters were replaced "
        "by '?' in {damaged} values (e.g. {example!r}); no encoding can restore them",
        source=source,
        replaced=replaced,
        damaged=damaged_values,
        example=_shorten(example),
    )
    if not allow:
        raise EncodingError(
            message + "; fix the source, or set source.allow_lossy_text: true "
            "(--allow-lossy-text on the command line) to publish it anyway"
        )
    anyway = Notice("published anyway because source.allow_lossy_text is true")
    return [joined([message, anyway], "; ")]


def _texts(column: pd.Series) -> pa.Array:
    """The column's text values (no missing ones, no other objects), as Arrow strings."""
    values = column.dropna()
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)  # all text: the common case
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([v for v in values if isinstance(v, str)], type=pa.string())


def _text_columns(frame: pd.DataFrame) -> list[str]:
    geometry = getattr(frame, "_geometry_column_name", None)
    return [
        c
        for c in frame.columns
        if c != geometry and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)
    ]


def _shorten(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def truncated_values(dbf: bytes) -> dict[str, int]:
    """Per 254-wide character field: how many values fill it completely (probably cut)."""
    table = parse_dbf(dbf)
    result: dict[str, int] = {}
    for name, block in table.char_fields.items():
        if block.shape[1] >= DBF_MAX_TEXT and block.shape[0]:
            last = block[:, -1]
            full = int(((last != 0x20) & (last != 0x00)).sum())
            if full:
                result[name] = full
    return result


def truncation_warnings(dbf: bytes) -> list[str]:
    return [
        Notice(
            "{count} value(s) of field '{field}' are exactly {limit} characters long, "
            "the DBF limit: they were probably cut off",
            count=count,
            field=name,
            limit=DBF_MAX_TEXT,
        )
        for name, count in truncated_values(dbf).items()
    ]
