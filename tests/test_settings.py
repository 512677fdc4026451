"""Settings (geoservice/settings.py) and the city's identity (config/server.yml): every setting
documented, read from the environment and validated, the identity read from configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from geoservice import cli
from geoservice.errors import ConfigError
from geoservice.server import identity
from geoservice.server.records.dcat import dcat_graph
from geoservice.server.records.iso19139 import iso19139
from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store.records import Entry

README = PROJECT_ROOT / "README.md"
SERVER_YML = PROJECT_ROOT / "config" / "server.yml"


def _configuration_table() -> dict[str, str]:
    """The README's Configuration table: each variable named in a row's first cell -> the row."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {}
    for row in rows:
        first = row.split("|")[1]
        for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", first):
            documented[name] = row
    return documented


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is():
    documented = _configuration_table()
    declared = Settings.variables()
    assert set(declared) - set(documented) == set(), "settings missing from the README table"
    assert set(documented) - set(declared) == set(), "README rows naming no setting"
    for name, description in declared.items():
        assert description, f"{name} has no description (Field(description=...))"


def test_variables_are_read_from_the_environment():
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://city@db.example.gr/gis",
            "GEOSERVICE_PORT": "8080",
            "GEOSERVICE_DB_PORT": "6543",
            "GEOSERVICE_DATA_DIR": "/srv/geoservice",
            "GEOSERVICE_CORS_ORIGINS": "https://city.example.gr, https://maps.example.gr,",
            "GEOSERVICE_PUBLIC_URL": "https://data.example.gr/",
            "GEOSERVICE_PSEUDONYM_KEY": "a-long-random-deployment-secret",
            "GEOSERVICE_OIDC_ROLES_CLAIM": "realm_access.roles",
            "GEOSERVICE_FUZZ_EXAMPLES": "3",  # not a setting: ignored
            "HOME": "/root",
        }
    )
    assert s.dsn == "postgresql://city@db.example.gr/gis" and not s.embedded
    assert (s.port, s.db_port) == (8080, 6543)
    assert s.data_dir == Path("/srv/geoservice")
    assert s.cors_origins == ("https://city.example.gr", "https://maps.example.gr")
    assert s.base_url == "https://data.example.gr"
    assert s.pseudonym_key.get_secret_value() == "a-long-random-deployment-secret"
    assert "a-long-random" not in repr(s)  # the secret stays out of logs and tracebacks
    assert s.oidc_roles_claim == "realm_access.roles"


def test_defaults_and_empty_values():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.embedded and s.dsn == "postgresql://geoservice@127.0.0.1:54329/geoservice"
    assert s.cors_origins == ("*",) and s.base_url == "http://127.0.0.1:5000"
    assert s.server_config == SERVER_YML
    assert Settings.from_env({"GEOSERVICE_CORS_ORIGINS": ""}).cors_origins == ()


def test_keywords_do_not_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOSERVICE_PORT", "7777")
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    s = Settings(data_dir=tmp_path, db_port=55555)
    assert (s.port, s.embedded, s.db_port, s.data_dir) == (5000, True, 55555, tmp_path)
    assert Settings(database_url="postgresql://x/y").dsn == "postgresql://x/y"
    assert Settings.from_env().port == 7777  # only from_env reads it


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GEOSERVICE_PORT": "eighty"}, "GEOSERVICE_PORT='eighty': Input should be a valid int"),
        ({"GEOSERVICE_PORT": "70000"}, "GEOSERVICE_PORT='70000': Input should be less than"),
        ({"GEOSERVICE_DB_PORT": "0"}, "GEOSERVICE_DB_PORT='0': Input should be greater than"),
        ({"GEOSERVICE_PUBLIC_URL": "data.example.gr"}, "GEOSERVICE_PUBLIC_URL='data.example.gr'"),
    ],
)
def test_a_bad_value_is_a_clear_config_error(env, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith("invalid setting: ")
    assert message in str(caught.value)


def test_keyword_mistakes_are_config_errors_too():
    with pytest.raises(ConfigError, match="unknown setting 'db_prot'"):
        Settings(db_prot=1)
    with pytest.raises(ConfigError, match="GEOSERVICE_PORT"):
        Settings().replace(port=-1)
    assert Settings().replace(port=8081).base_url == "http://127.0.0.1:8081"


def test_the_cli_says_a_bad_setting_in_one_line():
    result = CliRunner().invoke(cli.main, ["settings"], env={"GEOSERVICE_PORT": "abc"})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: invalid setting: GEOSERVICE_PORT='abc': Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
    assert "Traceback" not in result.output


def test_the_cli_lists_the_settings_without_secrets():
    env = {
        "GEOSERVICE_PSEUDONYM_KEY": "a-long-random-deployment-secret",
        "DATABASE_URL": "postgresql://city:hunter2@db.example.gr/gis",
        "COLUMNS": "300",
    }
    result = CliRunner().invoke(cli.main, ["settings"], env=env)
    assert result.exit_code == 0, result.output
    for name in Settings.variables():
        assert name in result.output
    assert "a-long-random" not in result.output and "hunter2" not in result.output


# -- the city's identity, from config/server.yml ------------------------------------------


ENTRY = Entry(
    id="notes",
    kind="dataset",
    title={"el": "Σημειώσεις", "en": "Notes"},
    description={"el": "Σημειώσεις", "en": "Notes"},
    keywords={},
    licence="CC-BY-4.0",
)


def _other_city(tmp_path: Path) -> Path:
    document = yaml.safe_load(SERVER_YML.read_text(encoding="utf-8"))
    document["identity"]["publisher"] = {
        "name": {"el": "Δήμος Πάτρας", "en": "Municipality of Patras"},
        "url": "https://patras.example.gr/",
        "email": "gis@patras.example.gr",
    }
    document["identity"]["portal"]["search_area"] = [21.68, 38.19, 21.80, 38.30]
    path = tmp_path / "server.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_the_identity_is_read_from_the_server_configuration():
    document = yaml.safe_load(SERVER_YML.read_text(encoding="utf-8"))["identity"]
    city = identity.of(Settings())
    assert city.publisher.name == document["publisher"]["name"]
    assert city.publisher.url == document["publisher"]["url"]
    assert city.publisher.email == document["publisher"]["email"]
    assert city.catalogue.title == document["catalogue"]["title"]
    assert list(city.portal.search_area) == document["portal"]["search_area"]


def test_another_city_is_a_configuration_not_a_code_change(tmp_path):
    settings = Settings(server_config=_other_city(tmp_path))
    city = identity.of(settings)
    assert city.portal.search_area == (21.68, 38.19, 21.80, 38.30)
    graph = dcat_graph([ENTRY], "https://data.patras.example.gr", city)
    publisher = URIRef("https://patras.example.gr/")
    assert (publisher, FOAF.name, Literal("Municipality of Patras", lang="en")) in graph
    catalogue = URIRef("https://data.patras.example.gr/#catalogue")
    assert graph.value(catalogue, DCTERMS.publisher) == publisher
    xml = iso19139(ENTRY, "https://data.patras.example.gr", city)
    assert "Δήμος Πάτρας" in xml and "gis@patras.example.gr" in xml
    assert "Θεσσαλονίκ" not in xml.replace(city.lineage.published["el"], "")


def test_no_city_is_named_in_the_code_that_writes_the_exports_and_the_portal_map():
    code = [
        *(PROJECT_ROOT / "geoservice" / "server" / "records").glob("*.py"),
        PROJECT_ROOT / "geoservice" / "server" / "portal" / "routes.py",
        PROJECT_ROOT / "geoservice" / "server" / "identity.py",
    ]
    for path in code:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"Θεσσαλον|Thessalon|thessaloniki\.gr|22\.8\d?, 40\.5", text), path


def test_a_wrong_identity_is_a_config_error_naming_the_key(tmp_path):
    path = _other_city(tmp_path)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["identity"]["publisher"]["name"] = {"el": "Δήμος Πάτρας"}
    document["identity"]["portal"]["search_area"] = [21.8, 38.19, 21.68, 38.30]
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        identity.of(Settings(server_config=path))
    message = str(caught.value)
    assert str(path) in message
    assert "identity.publisher.name: needs a text in en" in message
    assert "identity.portal: search_area" in message
    path.write_text("server: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no identity section"):
        identity.of(Settings(server_config=path))
