"""Catalogued resources that are not layers (documents, web services, datasets held elsewhere):
published from a descriptor with `geoservice load`, found by every catalogue search, updated,
removed; a bad descriptor is one clear line and changes nothing. Real PostGIS, real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import licence_keys

from geoservice.cli import main
from geoservice.errors import ConfigError, NotFound
from geoservice.settings import PROJECT_ROOT
from geoservice.store import db
from loaders import resources
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

WMS = "cadastre-orthophotos-wms"
PLAN = "zoning-plan-thessaloniki"
AIR = "air-quality-measurements"
# Crete: inside Greece (the WMS covers it), far from Thessaloniki (the plan does not).
CRETE = "24.5,35.0,25.5,35.5"
CITY = "22.92,40.62,22.96,40.64"


@pytest.fixture
def run(settings):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), env={"DATABASE_URL": settings.dsn})

    return invoke


def search(client, **params) -> dict:
    response = client.get("/collections/catalogue/items", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(body: dict) -> set[str]:
    return {f["id"] for f in body["features"]}


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def a_document(resource_id: str, **changes: object) -> dict:
    data = {
        "id": resource_id,
        "type": "document",
        "title": {"el": "Σχέδιο βιώσιμης αστικής κινητικότητας", "en": "Sustainable mobility plan"},
        "description": {
            "el": "Το Σχέδιο Βιώσιμης Αστικής Κινητικότητας (ΣΒΑΚ) του Δήμου.",
            "en": "The municipality's Sustainable Urban Mobility Plan (SUMP).",
        },
        "keywords": {"el": ["κινητικότητα"], "en": ["mobility"]},
        "contact": {"department": {"el": "Διεύθυνση Κινητικότητας", "en": "Mobility Directorate"}},
        "inspire_theme": "tn",
        "bbox": [22.93, 40.60, 22.97, 40.65],
        "links": [
            {
                "href": "https://thessaloniki.gr/wp-content/uploads/svak.pdf",
                "type": "application/pdf",
                "rel": "enclosure",
            }
        ],
    }
    data.update(changes)
    return data


# -- the demo resources, as every search finds them ---------------------------------------


def test_demo_resources_are_records_with_their_links(client, demo_collections):
    record = client.get(f"/collections/catalogue/items/{WMS}?lang=en").get_json()
    props = record["properties"]
    assert props["type"] == "service"
    assert props["title"] == "Hellenic Cadastre orthophotos (WMS)"
    assert props["translations"]["el"]["title"].startswith("Ορθοφωτοχάρτες")
    assert props["featureCount"] is None and props["fields"] == []
    assert record["geometry"]["type"] == "Polygon"
    wms = next(link for link in record["links"] if link.get("protocol") == "OGC:WMS")
    assert wms["href"].startswith("http://gis.ktimanet.gr/wms/wmsopen/wmsserver.aspx?")
    assert wms["type"] == "application/vnd.ogc.wms_xml"
    assert {"self", "about"} <= {link["rel"] for link in record["links"]}
    plan = client.get(f"/collections/catalogue/items/{PLAN}").get_json()
    pdf = next(link for link in plan["links"] if link["rel"] == "enclosure")
    assert pdf["type"] == "application/pdf" and pdf["href"].endswith(".pdf")
    assert "protocol" not in pdf  # no nulls for what a link does not have
    assert plan["time"] == {"interval": ["2023-01-01", ".."]}
    # resources are not layers: no collection of their own
    listed = {c["id"] for c in client.get("/collections?f=json").get_json()["collections"]}
    assert not {WMS, PLAN, AIR} & listed


@pytest.mark.parametrize(
    "q, expected",
    [
        ("πολεοδομικό σχέδιο", PLAN),  # Greek with accents
        ("πολεοδομικο σχεδιο", PLAN),  # without
        ("ΧΡΗΣΕΙΣ ΓΗΣ", PLAN),  # upper case
        ("zoning", PLAN),  # an English keyword
        ("ορθοφωτοχαρτες", WMS),
        ("orthophotos", WMS),
        ("ατμοσφαιρικη ρυπανση", AIR),
        ("air pollution", AIR),
    ],
)
def test_q_finds_resources_in_greek_and_english(client, q, expected):
    assert expected in ids(search(client, q=q, limit=100))


def test_bbox_includes_and_excludes_resources(client):
    city = ids(search(client, bbox=CITY, limit=100))
    assert {PLAN, AIR, WMS} <= city
    crete = ids(search(client, bbox=CRETE, limit=100))
    assert WMS in crete and PLAN not in crete and AIR not in crete


@pytest.mark.parametrize(
    "params, expected, excluded",
    [
        ({"type": "service"}, WMS, "prefectures"),
        ({"type": "document"}, PLAN, WMS),
        ({"type": "externalDataset"}, AIR, PLAN),
        ({"type": "dataset"}, "prefectures", PLAN),
        ({"theme": "lu"}, PLAN, AIR),
        ({"keywords": "χρησεις γης"}, PLAN, WMS),
        ({"department": "Environment Directorate"}, AIR, PLAN),
        ({"department": "διευθυνση περιβαλλοντος"}, AIR, WMS),
        ({"licence": "CC-BY-4.0"}, PLAN, WMS),
        ({"datetime": "2010-01-01T00:00:00Z"}, AIR, PLAN),  # open-ended from 2001 / from 2023
        ({"filter": "type = 'service'"}, WMS, PLAN),
        ({"filter": "title LIKE 'Γενικό%'"}, PLAN, "prefectures"),
        ({"filter": "type = 'externalDataset' OR type = 'service'"}, AIR, PLAN),
    ],
)
def test_facet_parameters_and_cql2_apply_to_resources(client, params, expected, excluded):
    found = ids(search(client, **params, limit=100))
    assert expected in found and excluded not in found


def test_type_facet_counts_resources(client):
    facets = search(client, facets="true", limit=1)["facets"]
    assert facets["type"]["service"] == len(ids(search(client, type="service", limit=100))) >= 1
    assert facets["type"]["document"] >= 1 and facets["type"]["externalDataset"] >= 1
    assert facets["theme"]["lu"] >= 1


def test_catalogue_queryables_have_greek_and_english_titles(client):
    greek = client.get("/collections/catalogue/queryables").get_json()["properties"]
    english = client.get("/collections/catalogue/queryables?lang=en").get_json()["properties"]
    assert greek["type"]["title"].startswith("Είδος πόρου")
    assert english["type"]["title"].startswith("Resource type")
    assert english["featureCount"]["title"] == "Number of features"
    english.pop("geometry", None)  # pygeoapi's own entry for the record geometry
    assert len(english) >= 13
    for name, prop in english.items():  # every queryable has a human title, not its name
        assert prop["title"] != name and greek[name]["title"] != prop["title"], name


# -- publish, update, remove -------------------------------------------------------------


def created_of(settings, record_id: str) -> str | None:
    with db.connect(settings) as conn:
        row = conn.execute(
            "SELECT entry->>'created' FROM geoservice.records WHERE id = %s", (record_id,)
        ).fetchone()
    return row[0] if row else None


def test_publish_update_remove_with_the_cli(run, client, settings, tmp_path):
    path = write(tmp_path, "sump.yml", a_document("test-sump"))
    published = run("load", str(path))
    assert published.exit_code == 0, published.output
    assert "catalogued test-sump (document, 1 links)" in " ".join(published.output.split())
    assert "test-sump" in ids(search(client, q="κινητικοτητα"))
    assert "test-sump" in ids(search(client, q="mobility plan", type="document"))
    assert "test-sump" in run("list").output
    created = created_of(settings, "test-sump")
    assert created

    # an update replaces the record in place (same id, new texts; first publication kept)
    path = write(
        tmp_path,
        "sump.yml",
        a_document(
            "test-sump",
            title={"el": "ΣΒΑΚ 2030", "en": "SUMP 2030"},
            description={"el": "Το ΣΒΑΚ 2030 για το ποδήλατο.", "en": "SUMP 2030 for cycling."},
            keywords={"el": ["ποδήλατο"], "en": ["cycling"]},
        ),
    )
    assert run("load", str(path)).exit_code == 0
    assert "test-sump" not in ids(search(client, q="κινητικοτητα"))  # the old words are gone
    assert "test-sump" in ids(search(client, q="ποδηλατο"))
    assert "test-sump" in ids(search(client, q="cycling", keywords="ποδήλατο"))
    after = client.get("/collections/catalogue/items/test-sump?lang=en").get_json()
    assert after["properties"]["title"] == "SUMP 2030"
    assert created_of(settings, "test-sump") == created

    removed = run("remove", "test-sump", "--yes")
    assert removed.exit_code == 0, removed.output
    assert client.get("/collections/catalogue/items/test-sump").status_code == 404
    assert "test-sump" not in ids(search(client, q="ποδηλατο"))
    again = run("remove", "test-sump", "--yes")
    assert again.exit_code == 1 and "no published collection 'test-sump'" in again.output


# -- bad input: one clear line, nothing published -----------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"links": []}, "'links'"),
        ({"links": [{"href": "svak.pdf", "type": "application/pdf"}]}, "absolute http(s) URL"),
        ({"links": [{"href": "https://x.gr/a", "type": "pdf"}]}, "is not a media type"),
        ({"type": "dataset"}, "'externalDataset'"),
        ({"type": "map"}, "'type'"),
        ({"source": {"path": "a.shp"}}, "has links, not a 'source'"),
        ({"bbox": [23.0, 40.6, 22.9, 40.7]}, "is not a CRS84 box"),
        ({"bbox": [400000, 4490000, 420000, 4510000]}, "is not a CRS84 box"),
        ({"inspire_theme": "zoning"}, "not an INSPIRE theme code"),
        ({"access": "restricted"}, "needs 'groups'"),
        ({"temporal": {"start": "2024-01-01", "end": "2020-01-01"}}, "start is after end"),
        ({"id": "Bad Id"}, "must be lower-case letters"),
    ],
)
def test_a_bad_descriptor_is_one_clear_line(run, client, tmp_path, changes, message):
    path = write(tmp_path, "bad.yml", a_document("test-bad", **changes))
    result = run("load", str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert client.get("/collections/catalogue/items/test-bad").status_code == 404


def test_a_resource_and_a_layer_cannot_share_an_id(run, client, settings, tmp_path):
    path = write(tmp_path, "clash.yml", a_document("prefectures"))
    result = run("load", str(path))
    assert result.exit_code == 1 and "'prefectures' is a published layer" in result.output
    record = client.get("/collections/catalogue/items/prefectures").get_json()
    assert record["properties"]["type"] == "dataset"  # the layer's record, untouched
    with db.connect(settings) as conn, pytest.raises(NotFound, match="no catalogued"):
        resources.remove(conn, "prefectures")  # a layer is never removed as a resource

    # the other way round: a layer load with a resource's id fails, the record stays
    layer = parse_descriptor(
        {
            "id": PLAN,
            "title": "clash",
            "source": {"path": "data/demo/municipalities.geojson"},
            **licence_keys("municipalities.geojson"),
        },
        base_dir=PROJECT_ROOT,
    )
    with pytest.raises(ConfigError, match=f"'{PLAN}' is the id of a catalogued document"):
        load(settings, layer)
    record = client.get(f"/collections/catalogue/items/{PLAN}").get_json()
    assert record["properties"]["type"] == "document"
    assert PLAN not in {
        c["id"] for c in client.get("/collections?f=json").get_json()["collections"]
    }


def test_access_applies_to_resources(run, client, tmp_path):
    """The layer descriptor's access semantics: an internal record is not found anonymously."""
    path = write(tmp_path, "internal.yml", a_document("test-internal", access="internal"))
    assert run("load", str(path)).exit_code == 0
    try:
        assert "test-internal" not in ids(search(client, q="κινητικοτητα", limit=100))
        assert client.get("/collections/catalogue/items/test-internal").status_code == 404
    finally:
        assert run("remove", "test-internal", "--yes").exit_code == 0


def test_demo_command_catalogues_resources(settings, tmp_path):
    """`geoservice demo` reads every descriptor in the folder, layers and resources alike."""
    folder = tmp_path / "collections"
    folder.mkdir()
    write(folder, "a-doc.yml", a_document("test-demo-doc"))
    (folder / "settlements.yml").write_text(
        (PROJECT_ROOT / "collections/settlements.yml")
        .read_text(encoding="utf-8")
        .replace("../data/", f"{PROJECT_ROOT}/data/")
        .replace("id: settlements", "id: test-demo-settlements"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["demo", "--no-serve"],
        env={"DATABASE_URL": settings.dsn, "GEOSERVICE_COLLECTIONS_DIR": str(folder)},
    )
    assert result.exit_code == 0, result.output
    assert "catalogued test-demo-doc: document" in result.output
    assert "published test-demo-settlements" in result.output
    with db.connect(settings, autocommit=True) as conn:
        assert resources.is_resource(conn, "test-demo-doc")
        resources.remove(conn, "test-demo-doc")
        remove_collection(conn, "test-demo-settlements")
