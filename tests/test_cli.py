"""The command line as a user meets it: one clear line per error, non-zero exit codes."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from geoservice.cli import main
from geoservice.settings import PROJECT_ROOT


@pytest.fixture
def run(settings):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), env={"DATABASE_URL": settings.dsn})

    return invoke


def test_load_a_file_list_history_remove(run, shared_data):
    path = shared_data / "15_naturalearth_lowres_pyogrio_fixture/naturalearth_lowres.shp"
    terms = "https://www.naturalearthdata.com/about/terms-of-use/"  # public domain
    loaded = run("load", str(path), "--id", "cli-countries", "--title", "Countries",
                 "--licence", "LicenseRef-PublicDomain", "--licence-url", terms)  # fmt: skip
    assert loaded.exit_code == 0, loaded.output
    assert "published cli-countries: 177 features" in " ".join(loaded.output.split())
    assert "access: public" in " ".join(loaded.output.split())  # staff see what is internal
    listed = run("list")
    assert "cli-countries" in listed.output and "Countries" in listed.output
    row = next(line for line in listed.output.splitlines() if line.startswith("cli-countries"))
    assert "\tpublic\t" in row
    history = run("history", "cli-countries")
    assert "published" in history.output
    # Its .cpg declares ISO-8859-1: a fact, no warning (the load's line says it).
    assert "iso-8859-1" not in history.output
    assert "text iso-8859-1 (100% sure)" in " ".join(loaded.output.split())
    removed = run("remove", "cli-countries", "--yes")
    assert removed.exit_code == 0
    assert "cli-countries" not in run("list").output


@pytest.mark.parametrize(
    "args, message",
    [
        (("load", "no-such.yml"), "descriptor not found"),
        (("load", "x.geojson", "--id", "Bad Id"), "no such file"),
        (("remove", "never-published"), "no published collection 'never-published'"),
        (("history", "never-loaded"), "no loads recorded"),
    ],
)
def test_errors_are_one_line_and_exit_non_zero(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_descriptor_typo_names_the_key(run, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("id: x\ntitle: t\nsource: {path: a.shp, encodng: cp1253}\n", encoding="utf-8")
    result = run("load", str(bad))
    assert result.exit_code == 1
    assert "unknown key 'source.encodng'" in result.output


def test_db_commands_refuse_an_external_database(run):
    result = run("db", "stop")
    assert result.exit_code != 0 and "DATABASE_URL is set" in result.output


def test_every_command_has_help(run):
    for command in ("load", "list", "history", "remove", "undo", "serve", "demo", "db"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_a_key_can_be_deleted_and_its_name_used_again(run, settings):
    import re

    from geoservice.server import api_keys
    from geoservice.store import db

    created = run("keys", "create", "cli-deleted-key", "--role", "staff")
    assert created.exit_code == 0, created.output
    key = re.search(r"gsk_\S+", created.output).group(0)
    with db.connect(settings) as conn:
        assert api_keys.find(conn, key) is not None
    deleted = run("keys", "delete", "cli-deleted-key")
    assert deleted.exit_code == 0, deleted.output
    assert "cli-deleted-key" not in run("keys", "list").output
    with db.connect(settings) as conn:
        assert api_keys.find(conn, key) is None  # refused like a revoked key
    again = run("keys", "delete", "cli-deleted-key")
    assert again.exit_code != 0 and "no key named 'cli-deleted-key'" in again.output
    recreated = run("keys", "create", "cli-deleted-key", "--role", "staff")
    assert recreated.exit_code == 0, recreated.output
    run("keys", "delete", "cli-deleted-key")


def test_allow_lossy_text_applies_to_a_descriptor_too(run, shared_data, tmp_path):
    """The refusal of damaged text recommends --allow-lossy-text: it must work for a
    descriptor as for a data file; other source options are refused there, not ignored."""
    shp = shared_data / "12_greece_ferries_osm_lossy_encoding/greece_ferries.shp"
    descriptor = tmp_path / "ferries.yml"
    descriptor.write_text(
        f"id: cli-lossy-ferries\ntitle: {{el: Πορθμεία, en: Ferries}}\nlicence: ODbL-1.0\n"
        f"source:\n  path: {shp}\n",
        encoding="utf-8",
    )
    refused = run("load", str(descriptor))
    assert refused.exit_code != 0 and "--allow-lossy-text" in refused.output
    accepted = run("load", str(descriptor), "--allow-lossy-text")
    assert accepted.exit_code == 0, accepted.output
    assert "published anyway" in " ".join(accepted.output.split())
    wrong = run("load", str(descriptor), "--crs", "EPSG:2100")
    assert wrong.exit_code != 0 and "--crs" in wrong.output
    run("remove", "cli-lossy-ferries", "--yes")


def _warnings(output: str) -> list[str]:
    """The load's warnings, one string each (rich wraps long lines)."""
    text = " ".join(output.split())
    return [w.split(" published ")[0] for w in text.split("warning: ")[1:]]


LICENCE = ("--licence", "CC-BY-4.0")  # a public layer states one


@pytest.fixture
def prefectures(tmp_path):
    """The demo's shapefile (Greek text in cp1253, no .cpg, no byte that tells cp1253 from
    ISO-8859-7), copied where a .cpg can be put beside it."""
    folder = tmp_path / "nomoi"
    shutil.copytree(PROJECT_ROOT / "data/demo/nomoi", folder)
    return folder / "nomoi_okxe.shp"


@pytest.mark.parametrize("how", ["--encoding", ".cpg", "descriptor"])
def test_a_declared_encoding_is_a_fact_not_a_warning(run, prefectures, how):
    if how == "descriptor":
        descriptor = prefectures.with_name("nomoi.yml")
        descriptor.write_text(
            "id: cli-declared\ntitle: {el: Νομοί, en: Prefectures}\nlicence: CC-BY-4.0\n"
            f"source: {{path: {prefectures.name}, encoding: cp1253}}\n",
            encoding="utf-8",
        )
        loaded = run("load", str(descriptor))
    else:
        extra = ["--encoding", "cp1253"] if how == "--encoding" else []
        if how == ".cpg":
            prefectures.with_suffix(".cpg").write_text("1253", encoding="ascii")
        loaded = run("load", str(prefectures), "--id", "cli-declared", *LICENCE, *extra)
    assert loaded.exit_code == 0, loaded.output
    assert not [w for w in _warnings(loaded.output) if "cp1253" in w], loaded.output
    assert "text cp1253 (100% sure)" in " ".join(loaded.output.split())  # the one line
    history = run("history", "cli-declared")
    assert "read as" not in " ".join(history.output.split())
    run("remove", "cli-declared", "--yes")


def test_a_guessed_code_page_is_one_warning(run, prefectures):
    loaded = run("load", str(prefectures), "--id", "cli-guessed", *LICENCE)
    assert loaded.exit_code == 0, loaded.output
    about = [w for w in _warnings(loaded.output) if "cp1253" in w]
    assert len(about) == 1, about  # was two: "text read as cp1253" and "guessed as cp1253"
    assert "ISO-8859-7" in about[0] and "--encoding" in about[0] and ".cpg" in about[0]
    run("remove", "cli-guessed", "--yes")
