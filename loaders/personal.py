"""Personal data never becomes public by accident.

The descriptor decides per source field (`fields.personal`): `drop` (never loaded; prepare.py
treats it as excluded), `pseudonymise` (replaced here by a keyed hash) or `keep` (a decision
that the column may be published, e.g. a public office's phone). Every other published column
is checked by its name (Greek or English: ΑΦΜ, ΑΜΚΑ, τηλέφωνο, e-mail, ονοματεπώνυμο, ...) and
by a sample of its values (valid ΑΦΜ/ΑΜΚΑ check digits, Greek phone numbers, e-mails, IBANs).
A column that looks personal and is undecided refuses the load of a public collection, before
anything is written; for internal and restricted collections it is a warning.

Pseudonyms are HMAC-SHA256 of the value's text under a per-deployment secret: the same value
gives the same token on every reload and in every layer (joins still work), and without the
secret a token cannot be traced back, not even by trying all 10^9 possible ΑΦΜ.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from stdnum import iban
from stdnum.gr import amka, vat

from geoservice.errors import ConfigError, LoadError
from geoservice.settings import Settings
from loaders.descriptor import Descriptor
from loaders.model import FieldInfo, PreparedLayer
from loaders.notices import Notice, joined
from loaders.prepare import column_names

KEY_ENV = "GEOSERVICE_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"  # under the data dir, created on first use
MIN_KEY_LENGTH = 16
SAMPLE_SIZE = 1000  # values looked at per column (evenly spread over the layer)
# Share of a column's non-empty sampled values that must look personal. High, so that a column
# of random 9-digit codes (about one in ten passes the ΑΦΜ check digit by chance) is not flagged.
MIN_SHARE = 0.5
TOKEN_LENGTH = 32  # hex characters of the HMAC kept: 128 bits, no collisions in practice


class PersonalDataError(LoadError):
    """A public layer would publish columns that look like personal data, undecided."""


@dataclass(frozen=True)
class Finding:
    field: str  # the source field name, as the descriptor names it
    reason: str  # "its name says: a phone number" / "e-mail addresses in 96% of 200 values"


def protect(layer: PreparedLayer, descriptor: Descriptor, settings: Settings) -> None:
    """Refuse (public) or warn about undecided personal-looking columns; pseudonymise those
    the descriptor says to. Runs before anything is written."""
    decisions = descriptor.fields.personal
    undecided = [f for f in layer.fields if f.original not in decisions]
    findings = find_personal(layer.frame, undecided)
    if findings and descriptor.access == "public":
        raise PersonalDataError(_refusal(descriptor, findings))
    if findings:
        listing, access = _listing(findings), descriptor.access
        layer.warnings.append(
            Notice(
                "personal data may be in {listing}: loaded because the collection is "
                "{access}; decide in fields.personal: {suggestion}",
                listing=listing,
                access=access,
                suggestion=_suggestion(findings),
            )
        )
    hashed = [f for f in layer.fields if decisions.get(f.original) == "pseudonymise"]
    if hashed:
        key = pseudonym_key(settings.data_dir, settings.pseudonym_key.get_secret_value())
        for f in hashed:
            layer.frame[f.name] = pseudonymise(layer.frame[f.name], key)
            f.type = "string"


def field_record(f: FieldInfo, descriptor: Descriptor) -> dict:
    """The field as the registry and catalogue keep it; a pseudonymised one says so, so that
    the catalogue shows no example values of it."""
    record = f.as_dict()
    if descriptor.fields.personal.get(f.original) == "pseudonymise":
        record["personal"] = "pseudonymise"
    return record


# --- pseudonyms ---------------------------------------------------------------------------


def pseudonym_key(data_dir: Path, secret: str = "", env: Mapping[str, str] | None = None) -> bytes:
    """The deployment's secret (settings.pseudonym_key, GEOSERVICE_PSEUDONYM_KEY; or KEY_ENV in
    `env`), else its key file (created on first use)."""
    secret = secret or (env or {}).get(KEY_ENV, "")
    if secret:
        if len(secret) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{KEY_ENV} is too short: use at least {MIN_KEY_LENGTH} random characters"
            )
        return secret.encode()
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two first loads at once agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as stream:
                stream.write(secrets.token_hex(32) + "\n")
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"{path} holds no usable key: delete it to create a new one")
    return key.encode()


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """Each value's trimmed text -> the same token every time; missing values stay missing."""
    tokens: dict[str, str] = {}

    def token(value: object) -> str | None:
        text = _text(value)
        if text is None:
            return None
        if text not in tokens:
            digest = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            tokens[text] = digest[:TOKEN_LENGTH]
        return tokens[text]

    return pd.Series([token(v) for v in values], index=values.index, dtype=object)


# --- detection ----------------------------------------------------------------------------


def find_personal(frame: pd.DataFrame, fields: list[FieldInfo]) -> list[Finding]:
    findings = []
    for f in fields:
        kind = personal_name(f.original)
        if kind:
            said = Notice("its name says: {kind}", kind=kind)
            findings.append(Finding(f.original, said))
            continue
        if f.type in ("boolean", "date", "datetime"):
            continue
        reason = personal_values(frame[f.name])
        if reason:
            findings.append(Finding(f.original, reason))
    return findings


def _words(*alternatives: str) -> re.Pattern[str]:
    """Whole words of a column name folded to ASCII ("Τηλέφωνο" -> "tilefono")."""
    return re.compile(rf"(?:^|_)(?:{'|'.join(alternatives)})(?:_|$)")


# Matched against the name folded as prepare.py folds column names (Greek transliterated,
# accents and case gone, separators "_"), camelCase split and dots read both ways.
_NAME_RULES: list[tuple[str, re.Pattern[str]]] = [
    (Notice("a tax number (ΑΦΜ)"), _words(
        "afm", r"vat(?:_?(?:no|nr|num|number|id))?", "tin", r"tax_?(?:id|no|nr|number|code)",
        "arithmos_forologikou_mitroou", r"ar_forol[a-z]*")),
    (Notice("a social security number (ΑΜΚΑ)"), _words(
        "amka", "ssn", r"social_security(?:_?(?:no|nr|number))?")),
    (Notice("a phone number"), _words(
        "tel", "til", r"tilef[a-z]*", r"[a-z]*phone[a-z]*", r"mobile[a-z]*",
        r"kinito[a-z]*", "fax", "telno")),
    (Notice("an e-mail address"), _words(
        r"e_?mail[a-z]*", "mail", r"(?:il|ilektr|ilektroniko)_?tachydromei[a-z]*")),
    (Notice("a person's name"), _words(
        r"onomateponym[a-z]*", r"onomateponim[a-z]*", r"full_?name", r"eponym[oa]?", "eponimo",
        r"epitheto", "surname", r"last_?name", r"first_?name", r"given_?name",
        r"family_?name", "forename")),
    (Notice("a parent's name"), _words(
        r"patronym[a-z]*", r"patronim[a-z]*", r"mitronym[a-z]*", r"mitronim[a-z]*",
        r"onoma_(?:patros|patera|mitros|miteras)", r"(?:father|mother)_?s?_?name")),
    (Notice("an identity card number (ΑΔΤ)"), _words(
        "adt", r"arithmos_(?:deltiou_)?taytotitas", r"ar_tayt[a-z]*", r"taytotit[a-z]*",
        r"id_?card[a-z]*", r"identity_?card[a-z]*", r"passport[a-z]*", r"diavatiri[a-z]*")),
    (Notice("a bank account (IBAN)"), _words(
        "iban", r"bank_?account[a-z]*", r"account_?(?:no|nr|number)",
        r"ar(?:ithmos)?_logariasmou")),
    (Notice("a date of birth"), _words(
        "dob", r"date_?of_?birth", r"birth_?(?:date|day|year)", "birthday", r"year_?of_?birth",
        r"gennisi[s]?")),
]  # fmt: skip


def personal_name(name: str) -> str | None:
    """What personal data a column's name announces, or None."""
    split = re.sub(r"(?<=[a-zα-ω])(?=[A-ZΑ-Ω])", "_", str(name))  # phoneNumber -> phone_Number
    folded = {column_names([split.replace(".", "")])[0], column_names([split])[0]}
    for kind, pattern in _NAME_RULES:
        if any(pattern.search(text) for text in folded):
            return kind
    return None


def is_afm(text: str, numeric: bool = False) -> bool:
    """A Greek tax number (ΑΦΜ): 9 digits, the last a mod-11 check digit. A number column
    has lost the leading zero of old 8-digit ΑΦΜ, so there 8 digits count too."""
    compact = re.sub(r"[\s.-]", "", text).upper().removeprefix("EL").removeprefix("GR")
    digits = 8 if numeric and len(compact) == 8 else 9
    return (
        len(compact) == digits
        and compact.isdigit()
        and compact.strip("0") != ""
        and vat.is_valid(compact)
    )


def is_amka(text: str, numeric: bool = False) -> bool:
    """A Greek social security number (ΑΜΚΑ): a DDMMYY birth date, 4 digits, a Luhn check digit
    (10 digits in a number column, which lost the leading zero of days 01-09)."""
    compact = re.sub(r"[\s.-]", "", text)
    if numeric and len(compact) == 10:
        compact = "0" + compact
    return len(compact) == 11 and compact.isdigit() and amka.is_valid(compact)


_PHONE = re.compile(
    # +30 / 0030, then 10 digits: 69x mobiles, 2[1-8]x landlines; spaces or dashes between;
    # not part of a longer number or a decimal (22.94123456 is a longitude, not a phone).
    r"(?<![\d.,])(?:(?:\+|00)\s?30[\s-]?)?(?:6[\s-]?9|2[\s-]?[1-8])(?:[\s-]?\d){8}(?!\d|[.,]\d)"
)
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")


def is_phone(text: str) -> bool:
    return _PHONE.search(text) is not None


def is_email(text: str) -> bool:
    return _EMAIL.search(text) is not None


def is_iban(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact)) and iban.is_valid(compact)


_VALUE_CHECKS: list[tuple[str, Callable[[str, bool], bool]]] = [
    (Notice("tax numbers (ΑΦΜ, valid check digit)"), is_afm),
    (Notice("social security numbers (ΑΜΚΑ, valid check digit)"), is_amka),
    (Notice("phone numbers"), lambda text, numeric: is_phone(text)),
    (Notice("e-mail addresses"), lambda text, numeric: is_email(text)),
    (Notice("bank accounts (IBAN)"),
     lambda text, numeric: is_iban(text)),
]  # fmt: skip


def personal_values(values: pd.Series) -> str | None:
    """Why a column's values look personal ("phone numbers in 97% of 300 values"), or None."""
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    texts = [t for t in (_text(v) for v in _sample(values)) if t]
    if not texts:
        return None
    counts = {kind: 0 for kind, _ in _VALUE_CHECKS}
    personal = 0
    for text in texts:
        hits = [kind for kind, check in _VALUE_CHECKS if check(text, numeric)]
        personal += bool(hits)
        for kind in hits:
            counts[kind] += 1
    share = personal / len(texts)
    if share < MIN_SHARE:
        return None
    kinds = joined([kind for kind, n in counts.items() if n / len(texts) >= 0.1], " or ")
    return Notice(
        "{kinds} in {share:.0%} of {count} sampled values",
        kinds=kinds,
        share=share,
        count=len(texts),
    )


def _sample(values: pd.Series) -> pd.Series:
    present = values[values.notna()]
    if len(present) <= SAMPLE_SIZE:
        return present
    return present.iloc[np.linspace(0, len(present) - 1, SAMPLE_SIZE).astype(int)]


def _text(value: object) -> str | None:
    """A value as the text it stands for: 94259216.0 -> "94259216"; None when missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict, tuple, np.ndarray)):
        plain = value.tolist() if isinstance(value, np.ndarray) else value
        return json.dumps(plain, ensure_ascii=False, default=str)
    return str(value).strip()


# --- messages -----------------------------------------------------------------------------


def _listing(findings: list[Finding]) -> Notice:
    parts = [Notice("'{field}' ({reason})", field=f.field, reason=f.reason) for f in findings]
    return joined(parts, "; ")


def _suggestion(findings: list[Finding]) -> str:
    pairs = ", ".join(f"{_yaml_key(f.field)}: drop" for f in findings)
    return f"personal: {{{pairs}}}"


def _refusal(descriptor: Descriptor, findings: list[Finding]) -> str:
    return (
        f"refused: '{descriptor.id}' is public and these columns look like personal data: "
        f"{_listing(findings)}. Decide for each under `fields:` in the descriptor, e.g. "
        f"`{_suggestion(findings)}` (drop: not loaded; pseudonymise: a keyed hash, stable for "
        "joins; keep: it is not personal, publish it), or make the collection "
        "`access: internal`. A file loaded with --id has no descriptor: write "
        f"collections/{descriptor.id}.yml (see README, Add a dataset)"
    )


# Plain words YAML (1.1, as PyYAML reads it) takes for booleans or null.
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null"})


def _yaml_key(name: str) -> str:
    """The field name as a YAML flow-mapping key: plain when safe, else double-quoted."""
    if re.fullmatch(r"[^\W\d][\w]*", name) and name.lower() not in _YAML_WORDS:
        return name
    return json.dumps(name, ensure_ascii=False)
