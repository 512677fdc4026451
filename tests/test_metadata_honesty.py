"""Metadata that invents nothing (issue 14, section 5): a licence is never assumed, and the data's
own date of last change is kept apart from the time it was loaded.

Everything is checked where a user or a harvester reads it, over real HTTP from `geoservice
serve`: the catalogue record (OGC API Records), DCAT-AP, ISO 19139, the API's collection page
and the portal, in Greek and English.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from conftest import licence_keys
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, XSD

from geoservice.errors import ConfigError, NotFound
from geoservice.server import api_keys
from geoservice.settings import PROJECT_ROOT
from geoservice.store import db, registry
from loaders import resources
from loaders.descriptor import descriptor_for_file, parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

NATURAL_EARTH = "15_naturalearth_lowres_pyogrio_fixture/naturalearth_lowres"
DUTCH = "14_dutch_addresses_epsg28992_gpkg/dutch_addresses_28992.gpkg"
MUNICIPALITIES = PROJECT_ROOT / "data" / "demo" / "municipalities.geojson"
DATASET = "#dataset"


# ------------------------------------------------------------------------------ licences


def test_a_public_layer_without_a_licence_is_refused_and_nothing_is_published(settings):
    """An OpenStreetMap extract (ODbL) loaded without a licence came out CC-BY-4.0, public."""
    unstated = parse_descriptor(
        {"id": "osm-no-licence", "title": "OSM", "source": {"path": str(MUNICIPALITIES)}}
    )
    assert unstated.licence is None  # was "CC-BY-4.0": assumed
    with pytest.raises(ConfigError) as refused:
        load(settings, unstated)
    message = str(refused.value)
    assert "'osm-no-licence' is public and states no licence" in message
    assert "`licence: <SPDX id>`" in message and "--licence" in message
    assert "access: internal" in message
    with db.connect(settings) as conn, pytest.raises(NotFound):
        registry.get_collection(conn, "osm-no-licence")
    # a data file loaded with --id states it with --licence, or is refused the same way
    with pytest.raises(ConfigError, match="states no licence"):
        load(settings, descriptor_for_file(MUNICIPALITIES, "osm-no-licence"))


def test_license_is_the_spelling_the_descriptor_may_use_too():
    both = [
        parse_descriptor({"id": "x", "title": "x", "source": {"path": "a.shp"}, key: "ODbL-1.0"})
        for key in ("licence", "license")
    ]
    assert [d.licence for d in both] == ["ODbL-1.0", "ODbL-1.0"]
    with pytest.raises(ConfigError, match="licence_url"):  # no SPDX id: where to read it
        parse_descriptor(
            {"id": "x", "title": "x", "source": {"path": "a.shp"}, "licence": "LicenseRef-X"}
        )


@pytest.fixture(scope="module")
def unstated(settings, live_server) -> Iterator[dict[str, str]]:
    """A staff-only layer and a public document, neither with a licence; a staff key."""
    layer = parse_descriptor(
        {"id": "unlicensed-internal", "title": "Εσωτερικό zebralicence", "access": "internal",
         "source": {"path": str(MUNICIPALITIES)}}
    )  # fmt: skip
    load(settings, layer)
    document = resources.parse_resource(
        {"id": "unlicensed-document", "type": "document", "title": "Σχέδιο zebralicence",
         "links": [{"href": "https://example.org/plan.pdf", "type": "application/pdf",
                    "rel": "enclosure"}]}
    )  # fmt: skip
    with db.connect(settings, autocommit=True) as conn:
        resources.publish(conn, document)
        key = api_keys.create(conn, "test-metadata-staff", ["staff"], [])
    _wait_for(live_server, "/collections/unlicensed-internal?f=json", key)
    yield {"Authorization": f"Bearer {key}"}
    with db.connect(settings, autocommit=True) as conn:
        remove_collection(conn, "unlicensed-internal")
        resources.remove(conn, "unlicensed-document")
        conn.execute("DELETE FROM geoservice.api_keys WHERE name = 'test-metadata-staff'")


@pytest.mark.parametrize("record_id", ["unlicensed-internal", "unlicensed-document"])
def test_an_unstated_licence_is_said_so_everywhere(live_server, unstated, record_id):
    base = f"{live_server}/collections/catalogue/items/{record_id}"
    record = _get(f"{base}?f=json", unstated).json()
    # OGC API Records: `license` is an SPDX id (or "other" with a link): absent when unstated
    assert "license" not in record["properties"], record["properties"]
    assert not [lk for lk in record["links"] if lk["rel"] == "license"]
    graph = _graph(_get(f"{base}/dcat", unstated).text)
    assert not list(graph.objects(None, DCTERMS.license))  # DCAT-AP: optional, not invented
    iso = _get(f"{base}/iso19139", unstated).text
    assert "Άδεια: δεν αναφέρεται" in iso and "Licence: not stated" in iso
    assert "CC-BY" not in iso and "CC_BY" not in iso
    for lang, words in (("el", "δεν αναφέρεται"), ("en", "not stated")):
        page = _get(f"{live_server}/portal/datasets/{record_id}?lang={lang}", unstated).text
        assert f'<p id="licence">{_t(lang, "Licence")}: {words}</p>' in page
        listed = _get(f"{live_server}/portal/?q=zebralicence&lang={lang}", unstated).text
        card = listed.split(f'data-id="{record_id}"')[1].split("</li>")[0]
        assert f"<dt>{_t(lang, 'Licence')}</dt><dd>{words}</dd>" in card


def test_the_api_collection_page_says_not_stated(live_server, unstated):
    layer = f"{live_server}/collections/unlicensed-internal"
    assert not [
        lk for lk in _get(f"{layer}?f=json", unstated).json()["links"] if lk["rel"] == "license"
    ]
    for lang, words in (("el", "δεν αναφέρεται"), ("en", "not stated")):
        page = _get(f"{layer}?f=html&lang={lang}", unstated).text
        assert f'<p id="licence-not-stated">{words}</p>' in page
    # a stated licence is a link to where it can be read, with no "not stated"
    stated = _get(f"{live_server}/collections/municipalities?f=json", {}).json()
    assert {"rel": "license", "href": "https://creativecommons.org/licenses/by/4.0/"}.items() <= (
        next(lk for lk in stated["links"] if lk["rel"] == "license").items()
    )
    assert "licence-not-stated" not in _get(f"{live_server}/collections/municipalities", {}).text


# ------------------------------------------------------------------------- data's own date


def _dbf_dated(folder: Path, shared_data: Path, day: date) -> Path:
    """A copy of Natural Earth's shapefile whose .dbf header says `day` was its last update
    (bytes 1-3: years since 1900, month, day)."""
    for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        shutil.copyfile(shared_data / (NATURAL_EARTH + ext), folder / f"countries{ext}")
        (folder / f"countries{ext}").chmod(0o644)
    dbf = folder / "countries.dbf"
    header = bytearray(dbf.read_bytes())
    header[1:4] = bytes([day.year - 1900, day.month, day.day])
    dbf.write_bytes(bytes(header))
    return folder / "countries.shp"


@pytest.fixture(scope="module")
def dated(settings, live_server, shared_data, tmp_path_factory) -> Iterator[dict[str, object]]:
    folder = tmp_path_factory.mktemp("dated")
    shp = _dbf_dated(folder, shared_data, date(2011, 5, 17))
    gpkg = folder / "addresses.gpkg"
    shutil.copyfile(shared_data / DUTCH, gpkg)
    gpkg.chmod(0o644)
    with sqlite3.connect(gpkg) as lite:
        lite.execute("UPDATE gpkg_contents SET last_change = '2019-03-04T05:06:07.000Z'")
    geojson = folder / "municipalities.geojson"
    shutil.copyfile(MUNICIPALITIES, geojson)
    layers = {  # id: (source, descriptor keys, the date every reader must see)
        "dated-dbf": (shp, {}, "2011-05-17"),
        "dated-gpkg": (gpkg, {}, "2019-03-04T05:06:07Z"),
        "dated-descriptor": (shp, {"data_updated": "2020-02-29"}, "2020-02-29"),
        "dated-unknown": (geojson, {}, None),
    }
    for cid, (path, keys, _) in layers.items():
        licence = licence_keys(shared_data / DUTCH if path == gpkg else path)
        if path == shp:
            licence = licence_keys(shared_data / (NATURAL_EARTH + ".shp"))
        load(
            settings,
            parse_descriptor(
                {"id": cid, "title": f"Χρονολογία {cid}", "update_frequency": "annually",
                 "source": {"path": str(path)}, **licence, **keys}
            ),
        )  # fmt: skip
    _wait_for(live_server, "/collections/dated-unknown?f=json")
    yield {cid: expected for cid, (_, _, expected) in layers.items()}
    with db.connect(settings, autocommit=True) as conn:
        for cid in layers:
            remove_collection(conn, cid)


@pytest.mark.parametrize("cid", ["dated-dbf", "dated-gpkg", "dated-descriptor", "dated-unknown"])
def test_the_data_date_is_what_the_data_says(live_server, dated, cid):
    expected = dated[cid]
    base = f"{live_server}/collections/catalogue/items/{cid}"
    record = _get(f"{base}?f=json", {}).json()
    assert record["properties"].get("updated") == expected  # was the load time
    graph = _graph(_get(f"{base}/dcat", {}).text)
    dataset = next(s for s in graph.subjects(DCTERMS.identifier, Literal(cid)))
    modified = list(graph.objects(dataset, DCTERMS.modified))
    if expected is None:
        assert not modified  # unknown: said by no date at all
    else:
        datatype = XSD.dateTime if "T" in expected else XSD.date
        assert modified == [Literal(expected, datatype=datatype)]
        for dist in graph.objects(dataset, URIRef("http://www.w3.org/ns/dcat#distribution")):
            assert list(graph.objects(dist, DCTERMS.modified)) == modified
    for lang, unknown in (("el", "άγνωστη"), ("en", "unknown")):
        page = _get(f"{live_server}/portal/datasets/{cid}?lang={lang}", {}).text
        shown = page.split('<dd id="data-updated">')[1].split("</dd>")[0]
        if expected is None:
            assert shown == unknown
        else:
            assert f'<time datetime="{expected}">{expected[:10]}</time>' == shown


def test_freshness_counts_from_the_data_date_and_the_load_time_stays_in_history(
    settings, live_server, dated
):
    page = _get(f"{live_server}/portal/dashboard?lang=en", {}).text.split('id="freshness"')[1]
    row = page.split('href="/portal/datasets/dated-dbf"')[1].split("</tr>")[0]
    age = (datetime.now(UTC).date() - date(2011, 5, 17)).days
    assert f">{age}<" in row or f">{age - 1}<" in row, row  # was 0: the load's age
    assert "2011-05-17" in row and "Stale" in row  # annually, 15 years on
    unknown = page.split('href="/portal/datasets/dated-unknown"')[1].split("</tr>")[0]
    assert ">unknown<" in unknown
    with db.connect(settings) as conn:
        loads = registry.load_history(conn, "dated-dbf")
    assert loads[0]["status"] == "published"
    assert loads[0]["finished_at"].date() >= datetime.now(UTC).date().replace(day=1)


def test_a_future_or_impossible_source_date_says_nothing(shared_data, tmp_path):
    from loaders.readers import read_source

    shp = _dbf_dated(tmp_path, shared_data, date(2011, 5, 17))
    header = bytearray(shp.with_suffix(".dbf").read_bytes())
    header[1:4] = bytes([250, 1, 1])  # 2150
    shp.with_suffix(".dbf").write_bytes(bytes(header))
    read = read_source(parse_descriptor({"id": "x", "title": "x", "source": {"path": str(shp)}}))
    assert read.data_updated is None
    header[1:4] = bytes([111, 0, 0])  # no month, no day
    shp.with_suffix(".dbf").write_bytes(bytes(header))
    read = read_source(parse_descriptor({"id": "x", "title": "x", "source": {"path": str(shp)}}))
    assert read.data_updated is None
    # shapelib's "dummy date", written when no one set one (the demo's prefectures have it)
    demo = PROJECT_ROOT / "data/demo/nomoi/nomoi_okxe.shp"
    assert demo.with_suffix(".dbf").read_bytes()[1:4] == bytes([95, 7, 26])
    read = read_source(parse_descriptor({"id": "x", "title": "x", "source": {"path": str(demo)}}))
    assert read.data_updated is None


# -------------------------------------------------------------------------------- helpers


def _get(url: str, headers: dict[str, str]) -> requests.Response:
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    response.encoding = "utf-8"  # pygeoapi's HTML says so in a <meta> only
    return response


def _graph(turtle: str) -> Graph:
    graph = Graph()
    graph.parse(data=turtle, format="turtle")
    return graph


def _t(lang: str, message: str) -> str:
    from geoservice.i18n import translate

    return translate(message, lang)


def _wait_for(live_server: str, path: str, key: str | None = None) -> None:
    """The server notices a load within a second or so (it compares the catalogue version)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    deadline = time.monotonic() + 20
    while requests.get(live_server + path, headers=headers, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.3)
