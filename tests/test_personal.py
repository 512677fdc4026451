"""Personal data never becomes public: refused unless the descriptor decides, dropped or
pseudonymised at load as it says, warned about on internal layers. Real PostGIS, real files."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import re
import stat
from pathlib import Path

import psycopg
import pytest
import yaml
from click.testing import CliRunner
from conftest import licence_keys

from geoservice.cli import main as cli_main
from geoservice.errors import ConfigError
from geoservice.settings import PROJECT_ROOT
from geoservice.store import db, registry
from loaders import personal
from loaders.descriptor import load_descriptor, parse_descriptor
from loaders.personal import PersonalDataError
from loaders.pipeline import load
from loaders.prepare import prepare
from loaders.readers import read_source
from loaders.writer import remove_collection

# --- generators (written from the definitions, independently of python-stdnum) ------------


def afm_check_digit(body: str) -> str:
    """ΑΦΜ: sum of the first 8 digits times 2^8 .. 2^1, mod 11, mod 10."""
    total = sum(int(d) * 2 ** (8 - i) for i, d in enumerate(body))
    return str(total % 11 % 10)


def make_afm(rng: random.Random) -> str:
    body = f"{rng.randrange(1, 10**8):08d}"
    return body + afm_check_digit(body)


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str(-total % 10)


def make_amka(rng: random.Random) -> str:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
    body = born.strftime("%d%m%y") + f"{rng.randrange(10**4):04d}"
    return body + luhn_check_digit(body)


def make_phone(rng: random.Random, i: int) -> str:
    formats = [
        lambda: f"69{rng.randrange(10**8):08d}",
        lambda: f"+30 69{rng.randrange(10)} {rng.randrange(10**3):03d} {rng.randrange(10**4):04d}",
        lambda: f"2310 {rng.randrange(10**6):06d}",
        lambda: f"0030-231-0{rng.randrange(10**6):06d}",
    ]
    return formats[i % len(formats)]()


def people_rows(n: int = 40, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "x": f"{22.90 + rng.random() * 0.1:.6f}",
            "y": f"{40.60 + rng.random() * 0.05:.6f}",
            "street": f"Οδός {i}",
            "afm": make_afm(rng),
            "amka": make_amka(rng),
            "contact": make_phone(rng, i),
            "mail": f"polites{i}@example.gr",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[dict]) -> Path:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_geojson(path: Path, rows: list[dict]) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [22.9 + i / 1000, 40.6]},
            "properties": row,
        }
        for i, row in enumerate(rows)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def descriptor(collection_id: str, path: Path, **extra) -> object:
    source = {"path": str(path), **({"crs": "EPSG:4326"} if path.suffix == ".csv" else {})}
    return parse_descriptor(
        {"id": collection_id, "title": collection_id, "source": source, **licence_keys(path),
         **extra}
    )  # fmt: skip


def table_columns(settings, collection_id: str) -> list[str]:
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'data' AND table_name = %s",
            (record.table_name,),
        ).fetchall()
    return [r[0] for r in rows]


def column_values(settings, collection_id: str, column: str) -> list:
    with db.connect(settings) as conn:
        record = registry.get_collection(conn, collection_id)
        query = f'SELECT "{column}" FROM data."{record.table_name}" ORDER BY fid'
        return [r[0] for r in conn.execute(query).fetchall()]


def is_published(settings, collection_id: str) -> bool:
    with db.connect(settings) as conn:
        return (
            conn.execute(
                "SELECT 1 FROM geoservice.collections WHERE id = %s", (collection_id,)
            ).fetchone()
            is not None
        )


def staging_tables(settings) -> list[str]:
    with db.connect(settings) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'"
        ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture(scope="module", autouse=True)
def _remove_what_these_tests_publish(settings, demo_collections):
    """Other test modules count what is published: leave the session's database as found
    (the demo layers, which the session shares, are loaded before the snapshot)."""
    with db.connect(settings) as conn:
        before = {r[0] for r in conn.execute("SELECT id FROM geoservice.collections")}
    yield
    with db.connect(settings, autocommit=True) as conn:
        after = {r[0] for r in conn.execute("SELECT id FROM geoservice.collections")}
        for collection_id in after - before:
            remove_collection(conn, collection_id)


# --- check digits and patterns ------------------------------------------------------------


def test_generated_afm_and_amka_pass_and_altered_ones_fail():
    rng = random.Random(1)
    for _ in range(200):
        afm = make_afm(rng)
        assert personal.is_afm(afm), afm
        wrong = afm[:-1] + str((int(afm[-1]) + 1) % 10)
        assert not personal.is_afm(wrong), wrong
        amka = make_amka(rng)
        assert personal.is_amka(amka), amka
        wrong = amka[:-1] + str((int(amka[-1]) + 1) % 10)
        assert not personal.is_amka(wrong), wrong


@pytest.mark.parametrize(
    "text, numeric, valid",
    [
        ("094259216", False, True),  # python-stdnum's documented example
        ("EL094259216", False, True),  # with the EU VAT prefix
        ("094 259 216", False, True),
        ("094259217", False, False),  # wrong check digit
        ("123456789", False, False),
        ("000000000", False, False),  # passes the arithmetic, is no ΑΦΜ
        ("94259216", True, True),  # a number column lost the leading zero
        ("94259216", False, False),  # ... text of 8 digits is no ΑΦΜ
        ("0942592160", False, False),
        ("abcdefghi", False, False),
    ],
)
def test_afm_check_digit(text, numeric, valid):
    assert personal.is_afm(text, numeric) is valid


@pytest.mark.parametrize(
    "text, numeric, valid",
    [
        ("01013099997", False, True),  # python-stdnum's documented example: born 1 Jan 1930
        ("01013099999", False, False),  # wrong Luhn digit
        ("1013099997", True, True),  # a number column lost the leading zero
        ("1013099997", False, False),
        ("3202" + "99" + "1234" + luhn_check_digit("3202991234"), False, False),  # 32 February
        ("0101309999", False, False),  # 10 digits
    ],
)
def test_amka_check_digit_and_birth_date(text, numeric, valid):
    assert personal.is_amka(text, numeric) is valid


@pytest.mark.parametrize(
    "text, valid",
    [
        ("6971234567", True),
        ("+30 697 123 4567", True),
        ("0030-2310-123456", True),
        ("τηλ. 2310 123456, κιν. 6944000000", True),
        ("210-1234567", True),
        ("1234567890", False),  # starts with 1: no Greek number
        ("29.9412345678", False),  # a decimal, not a phone
        ("22.94123456", False),  # a longitude written as text
        ("69712345678", False),  # 11 digits
        ("2310", False),
    ],
)
def test_greek_phone_numbers(text, valid):
    assert personal.is_phone(text) is valid


def test_emails_and_ibans():
    assert personal.is_email("m.papadopoulou@thessaloniki.gr")
    assert personal.is_email("Επικοινωνία: info+gis@example.com")
    assert not personal.is_email("@handle or a@b")
    assert personal.is_iban("GR16 0110 1250 0000 0001 2300 695")
    assert not personal.is_iban("GR16 0110 1250 0000 0001 2300 696")  # mod-97 fails
    assert not personal.is_iban("GRANDE HOTEL")


@pytest.mark.parametrize(
    "name",
    [
        "ΑΦΜ", "Α.Φ.Μ.", "afm_idioktiti", "VAT_NUMBER", "tax_id", "TaxId",
        "ΑΜΚΑ", "amka", "SSN",
        "Τηλέφωνο", "ΤΗΛ", "tel", "phone", "phoneNumber", "Κινητό", "mobile_phone", "fax",
        "email", "E-Mail", "e_mail", "Ηλ. Ταχυδρομείο", "ηλεκτρονικό ταχυδρομείο",
        "Ονοματεπώνυμο", "full name", "Επώνυμο", "surname", "first_name",
        "Πατρώνυμο", "Όνομα Πατρός",
        "ΑΔΤ", "Αριθμός Ταυτότητας", "passport_no",
        "IBAN", "bank_account",
        "Ημερομηνία Γέννησης", "date_of_birth", "DOB", "birthDate",
    ],
)  # fmt: skip
def test_personal_column_names_in_greek_and_english(name):
    assert personal.personal_name(name), name


@pytest.mark.parametrize(
    "name",
    [
        "name", "NAME_GR", "Όνομα", "name_greek", "ESYE_ID", "POP", "code", "EDRA", "Επωνυμία",
        "telos", "Τέλος", "tilos", "street", "postcode", "cell_id", "created_at", "lat", "lon",
        "description", "other_tags", "huisnummer", "mode", "label",
    ],
)  # fmt: skip
def test_ordinary_column_names_are_not_flagged(name):
    assert personal.personal_name(name) is None, name


# --- loads ----------------------------------------------------------------------------------


def test_a_public_layer_with_undecided_personal_columns_is_refused(settings, tmp_path):
    rows = people_rows()
    clean = write_csv(
        tmp_path / "clean.csv", [{k: r[k] for k in ("x", "y", "street")} for r in rows]
    )
    load(settings, descriptor("people-refused", clean))
    assert table_columns(settings, "people-refused")

    # Innocent names: only the values tell about "code", "number" and "contact".
    renamed = [
        {"x": r["x"], "y": r["y"], "street": r["street"], "code": r["afm"],
         "number": r["amka"], "contact": r["contact"], "mail": r["mail"]}
        for r in rows
    ]  # fmt: skip
    path = write_csv(tmp_path / "people.csv", renamed)
    with pytest.raises(PersonalDataError) as refused:
        load(settings, descriptor("people-refused", path))
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert "'people-refused' is public" in message
    assert "'code' (tax numbers (ΑΦΜ, valid check digit) in 100% of 40 sampled values)" in message
    assert "'number' (social security numbers (ΑΜΚΑ, valid check digit) in 100%" in message
    assert "'contact' (phone numbers in 100% of 40 sampled values)" in message
    assert "'mail' (its name says: an e-mail address)" in message
    assert "'street'" not in message
    # The previous version is still what is published, and the attempt is in the history.
    columns = table_columns(settings, "people-refused")
    assert "code" not in columns and "contact" not in columns
    assert len(column_values(settings, "people-refused", "street")) == 40
    with db.connect(settings) as conn:
        history = registry.load_history(conn, "people-refused")
    assert history[0]["status"] == "failed" and "personal data" in history[0]["error"]
    assert not [t for t in staging_tables(settings) if t.startswith("people_refused")]


def test_the_suggested_descriptor_lines_make_it_load_without_those_columns(
    settings, client, tmp_path
):
    path = write_csv(tmp_path / "people.csv", people_rows())
    with pytest.raises(PersonalDataError) as refused:
        load(settings, descriptor("people-dropped", path))
    assert not is_published(settings, "people-dropped")
    snippet = re.search(r"`(personal: \{.*?\})`", str(refused.value)).group(1)
    decisions = yaml.safe_load(snippet)["personal"]
    assert decisions == {"afm": "drop", "amka": "drop", "contact": "drop", "mail": "drop"}

    report = load(settings, descriptor("people-dropped", path, fields=yaml.safe_load(snippet)))
    assert report.feature_count == 40
    columns = table_columns(settings, "people-dropped")
    assert "street" in columns
    assert not {"afm", "amka", "contact", "mail"} & set(columns)
    feature = client.get("/collections/people-dropped/items?limit=1").get_json()["features"][0]
    assert set(feature["properties"]) == {"x", "y", "street"}
    queryables = client.get("/collections/people-dropped/queryables").get_json()
    assert not {"afm", "amka", "contact", "mail"} & set(queryables["properties"])
    record = client.get("/collections/catalogue/items/people-dropped").get_json()
    assert [f["name"] for f in record["properties"]["fields"]] == ["x", "y", "street"]


def test_pseudonymised_columns_hold_stable_keyed_tokens(settings, client, tmp_path):
    rows = people_rows()
    path = write_csv(tmp_path / "people.csv", rows)
    decided = {"personal": {"afm": "pseudonymise", "amka": "drop", "contact": "keep",
                            "mail": "pseudonymise"}}  # fmt: skip
    load(settings, descriptor("people-tokens", path, fields=decided))
    tokens = column_values(settings, "people-tokens", "afm")
    key = personal.pseudonym_key(settings.data_dir)
    expected = [hmac.new(key, r["afm"].encode(), hashlib.sha256).hexdigest()[:32] for r in rows]
    assert tokens == expected
    assert not {r["afm"] for r in rows} & set(tokens)
    assert column_values(settings, "people-tokens", "contact") == [r["contact"] for r in rows]
    assert "amka" not in table_columns(settings, "people-tokens")

    # Same input, same tokens: on a reload, and in another layer (so joins still work).
    load(settings, descriptor("people-tokens", path, fields=decided))
    assert column_values(settings, "people-tokens", "afm") == tokens
    other = write_geojson(tmp_path / "other.geojson", [{"afm": r["afm"]} for r in rows[:5]])
    load(
        settings, descriptor("people-tokens-2", other, fields={"personal": {"afm": "pseudonymise"}})
    )
    assert column_values(settings, "people-tokens-2", "afm") == tokens[:5]

    # Through the API: the token, never the value; the catalogue shows no examples of it.
    items = client.get("/collections/people-tokens/items?limit=100").get_json()["features"]
    assert sorted(f["properties"]["afm"] for f in items) == sorted(tokens)
    assert rows[0]["afm"] not in json.dumps(items)
    record = client.get("/collections/catalogue/items/people-tokens").get_json()
    fields = {f["name"]: f for f in record["properties"]["fields"]}
    assert fields["afm"]["type"] == "string"
    assert not fields["afm"].get("examples") and not fields["mail"].get("examples")
    assert fields["street"]["examples"]  # other text fields keep theirs
    for value in (rows[0]["afm"], tokens[0]):
        found = client.get("/collections/catalogue/items", query_string={"value": value})
        assert "people-tokens" not in [f["id"] for f in found.get_json()["features"]]


def test_an_internal_layer_is_loaded_with_a_warning(settings, tmp_path):
    path = write_csv(tmp_path / "people.csv", people_rows())
    report = load(settings, descriptor("people-internal", path, access="internal"))
    assert report.feature_count == 40
    warning = next(w for w in report.warnings if "personal data" in w)
    assert "'afm'" in warning and "'contact'" in warning and "internal" in warning
    assert "afm" in table_columns(settings, "people-internal")


def test_greek_names_and_number_columns_in_geojson(settings, tmp_path):
    rng = random.Random(3)
    afms = [make_afm(rng) for _ in range(30)]
    afms[0] = "0" + afms[0][1:-1] + afm_check_digit("0" + afms[0][1:-1])  # a leading zero
    rows = [{"κωδικός": int(a), "Ονοματεπώνυμο": f"Πολίτης {i}"} for i, a in enumerate(afms)]
    path = write_geojson(tmp_path / "greek.geojson", rows)
    with pytest.raises(PersonalDataError) as refused:
        load(settings, descriptor("greek-people", path))
    message = str(refused.value)
    assert "'Ονοματεπώνυμο' (its name says: a person's name)" in message
    assert "'κωδικός' (tax numbers (ΑΦΜ, valid check digit) in 100% of 30" in message
    assert "personal: {κωδικός: drop, Ονοματεπώνυμο: drop}" in message


def test_random_nine_digit_codes_are_not_taken_for_tax_numbers(settings, tmp_path):
    rng = random.Random(11)
    rows = [
        {"x": "22.95", "y": f"{40.6 + i / 10000:.5f}", "code": str(rng.randrange(10**8, 10**9))}
        for i in range(300)
    ]
    passing = sum(personal.is_afm(r["code"]) for r in rows) / len(rows)
    assert 0.03 < passing < 0.2  # about one in ten passes the check digit by chance...
    path = write_csv(tmp_path / "codes.csv", rows)
    report = load(settings, descriptor("random-codes", path))  # ... far below the threshold
    assert report.feature_count == 300
    assert not [w for w in report.warnings if "personal" in w]


def test_no_demo_layer_is_refused(demo_collections):
    """Every layer in collections/ passes the check as its descriptor stands (a catalogue-only
    resource, with no source, has nothing to check); the loaded ones warned about nothing."""
    checked = []
    for path in sorted((PROJECT_ROOT / "collections").glob("*.yml")):
        if "source" not in yaml.safe_load(path.read_text(encoding="utf-8")):
            continue
        d = load_descriptor(path)
        layer = prepare(read_source(d), d)
        undecided = [f for f in layer.fields if f.original not in d.fields.personal]
        assert personal.find_personal(layer.frame, undecided) == [], path.name
        checked.append(d.id)
    assert {"municipalities", "prefectures", "settlements", "seismic-stations"} <= set(checked)
    for report in demo_collections.values():
        assert not [w for w in report.warnings if "personal" in w]


def test_a_file_loaded_with_id_is_refused_with_a_hint(settings, tmp_path):
    path = write_csv(tmp_path / "people.csv", people_rows())
    result = CliRunner().invoke(
        cli_main,
        ["load", str(path), "--id", "cli-people", "--crs", "EPSG:4326", "--licence", "CC0-1.0"],
        env={"DATABASE_URL": settings.dsn},
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "look like personal data" in result.output
    assert "write collections/cli-people.yml" in result.output
    assert not is_published(settings, "cli-people")


def test_descriptor_mistakes_in_personal_are_named(settings, tmp_path):
    path = write_csv(tmp_path / "people.csv", people_rows())
    with pytest.raises(ConfigError, match="fields.personal: unknown field 'ΑΦΜ'"):
        load(settings, descriptor("people-typo", path, fields={"personal": {"ΑΦΜ": "drop"}}))
    with pytest.raises(ConfigError, match="identifier 'afm' is marked drop"):
        load(
            settings,
            descriptor("people-typo", path, identifier="afm", fields={"personal": {"afm": "drop"}}),
        )
    with pytest.raises(ConfigError, match="fields.personal.afm"):
        descriptor("people-typo", path, fields={"personal": {"afm": "hide"}})


def test_the_pseudonym_key_comes_from_the_environment_or_a_private_file(tmp_path):
    created = personal.pseudonym_key(tmp_path / "data", env={})
    key_file = tmp_path / "data" / personal.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(created) >= 32
    assert personal.pseudonym_key(tmp_path / "data", env={}) == created  # kept, not renewed
    secret = "a-long-random-deployment-secret"
    assert personal.pseudonym_key(tmp_path / "data", env={personal.KEY_ENV: secret}) == (
        secret.encode()
    )
    with pytest.raises(ConfigError, match="too short"):
        personal.pseudonym_key(tmp_path / "data", env={personal.KEY_ENV: "short"})


def test_a_refused_load_writes_nothing_to_the_database(settings, tmp_path):
    path = write_csv(tmp_path / "people.csv", people_rows())
    with db.connect(settings) as conn:
        before = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
    with pytest.raises(PersonalDataError):
        load(settings, descriptor("people-nothing", path))
    with db.connect(settings) as conn:
        after = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute('SELECT 1 FROM data."people-nothing"')
    assert after == before  # no table, index or sequence was created, not even in staging
