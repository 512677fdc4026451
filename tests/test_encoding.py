"""Encoding detection on raw bytes: the Greek code pages, UTF-8, Latin, and damaged text."""

from __future__ import annotations

import pandas as pd
import pytest

from geoservice.errors import EncodingError
from loaders.encoding import canonical, check_lossy_text, detect_encoding
from loaders.readers.base import read_as

GREEK = "Άγιος Αθανάσιος Άνω Πόλη Έδεσσα Ωραιόκαστρο"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("1253", "cp1253"),
        ("ANSI 1253", "cp1253"),
        ("88597", "iso-8859-7"),
        ("ISO-8859-7", "iso-8859-7"),
        ("UTF-8\n", "utf-8"),
        ("cp737", "cp737"),
    ],  # fmt: skip
)
def test_canonical_names(name: str, expected: str) -> None:
    assert canonical(name) == expected


def test_ascii_and_utf8() -> None:
    assert (detect_encoding(b"plain text").encoding, detect_encoding(b"x").confidence) == (
        "ascii",
        1.0,
    )
    guess = detect_encoding(GREEK.encode("utf-8"))
    assert guess.encoding == "utf-8" and guess.confidence > 0.9


@pytest.mark.parametrize("codepage", ["cp1253", "iso-8859-7"])
def test_greek_codepages_told_apart(codepage: str) -> None:
    guess = detect_encoding(GREEK.encode(codepage))
    assert guess.encoding == codepage
    assert guess.confidence >= 0.8
    assert "Ά" in guess.reason
    assert not guess.warnings


def test_one_distinguishing_byte_is_weak_evidence() -> None:
    guess = detect_encoding("Άρτα ΚΑΤΕΡΙΝΗ".encode("iso-8859-7"))
    assert guess.encoding == "iso-8859-7"
    assert 0.5 < guess.confidence < 0.8
    warning = read_as("a.shp", guess)  # the one warning: what was chosen, why, how to be sure
    assert warning.startswith("a.shp: text read as iso-8859-7, a guess: 1 byte(s)")
    assert "--encoding" in warning and "το κείμενο διαβάστηκε ως iso-8859-7" in warning.el
    assert not guess.warnings  # no second warning saying the same


def test_no_evidence_defaults_to_cp1253_with_one_warning() -> None:
    guess = detect_encoding("Ν. ΠΙΕΡΙΑΣ ΚΑΤΕΡΙΝΗ".encode("cp1253"))
    assert (guess.encoding, guess.confidence) == ("cp1253", 0.4)
    assert not guess.warnings  # was a second one: "text encoding guessed as cp1253 ..."
    warning = read_as("a.shp", guess)
    assert "without any byte that tells cp1253 from ISO-8859-7" in warning
    assert "source.encoding" in warning and ".cpg" in warning


def test_a_sure_reading_says_no_more() -> None:
    warning = read_as("a.csv", detect_encoding(GREEK.encode("cp1253")))
    assert warning.startswith("a.csv: text read as cp1253: ") and "to be sure" not in warning


def test_latin_accents_are_not_greek() -> None:
    guess = detect_encoding("Oropos - Érétrie, Chíos - Mytilíni, Fanò".encode("latin-1"))
    assert guess.encoding == "iso-8859-1"


def test_dos_greek() -> None:
    assert detect_encoding("ΚΑΛΑΜΑΡΙΑ ΘΕΣΣΑΛΟΝΙΚΗ".encode("cp737")).encoding == "cp737"


def test_lossy_text_threshold() -> None:
    damaged = pd.DataFrame(
        {"name": ["????? ????", "Ios - Santorini", "???? - ?????", "Brindisi?Igoumenitsa"]}
    )
    with pytest.raises(EncodingError) as err:
        check_lossy_text(damaged, allow=False, source="f.shp")
    assert "19 letters were replaced by '?' in 3 values (e.g. '????? ????')" in str(err.value)
    assert check_lossy_text(damaged, allow=True, source="f.shp")[0].endswith(
        "published anyway because source.allow_lossy_text is true"
    )
    fine = pd.DataFrame({"q": ["What?", "Why? Because.", "??"]})  # one '??' is not damage
    assert check_lossy_text(fine, allow=False, source="f.shp") == []
