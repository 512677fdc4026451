"""ogctests, a third party's black-box OGC API Features verifier (PyPI), run over real HTTP
against the test server: its Features core and filtering suites, on every collection, the
catalogue (an OGC API Records collection, which builds on Features core) included.

ogctests pins pytest<9, httpx<0.28 and pyarrow<18, which our .venv outgrew, so it runs in a
venv of its own (.venv-ogctests, pinned by tests/ogctests-requirements.txt, made by
`scripts/setup.sh test`, which `make test` and CI run). Its own pytest sessions write JUnit
XML; a failure here shows ogctests' own message for each of its failing tests.

Where ogctests cannot pass against any server (its own bugs) or is wrong about the standard,
the single test is deselected below with the proof, and the tests after it here check what
the standard's abstract test asks instead.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from conftest import publish_demo, serve
from psycopg.conninfo import make_conninfo

from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store.db import ensure_database

OGCTESTS_PYTHON = PROJECT_ROOT / ".venv-ogctests" / "bin" / "python"
COLLECTIONS_LIMIT = 20  # ogctests' core conftest (`collections_limit`) tests the first 20 only
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# Three ogctests sessions, side by side (they cannot share one: each suite's conftest sorts
# every collected test by its own naming, test_astN or test_ctN). Core is split in two because
# validating each feature of every first page against the GeoJSON schema, one by one
# (test_feature.py), takes as long as the rest of core.
SESSIONS = {
    "core": ("features/core", "--ignore={suite}/features/core/test_feature.py"),
    "core-feature": ("features/core/test_feature.py",),
    "filtering": ("features/filtering",),
}

# ogctests' filtering tests that no server can pass, each deselected with its proof.
# test_ct2 stores the Queryables URI that test_ct3 requests and test_ct3 stores the sample
# queryable (and additionalProperties) that test_ct5, test_ct7, test_ct8, test_ct9 and
# test_ct10 read: once test_ct3 fails they fail with KeyError, whatever the server does.
DESELECTED = {
    "features/filtering/test_queryables.py::test_ct2": (
        "Its Link header parser (filtering/utils.py parse_link_header) keeps the rel value with "
        "its quotes ('\"http://www.opengis.net/def/rel/ogc/1.0/queryables\"') and compares it "
        "with the bare URI. RFC 8288, 3.3: extension relation types 'MUST be quoted when they "
        "contain characters not allowed in tokens' (':' and '/' are not token characters), so a "
        "correct header never matches. It then stores link.get('href'), a key the parser never "
        "sets (it sets 'iri'). test_items_link_header_names_the_queryables checks this ATS test "
        "(/conf/queryables/get-queryables-uris) instead."
    ),
    "features/filtering/test_queryables.py::test_ct3": (
        "Requests the list test_ct2 stored as its URL (http_client.get(url=[...])): httpx "
        "raises 'Invalid type for url'. test_queryables_resource_is_json_schema checks this ATS "
        "test (/conf/queryables/get-queryables) instead."
    ),
    "features/filtering/test_queryables_query_parameters.py::test_ct5": (
        "Reads the sample queryable test_ct3 never stores (KeyError), and expects a 400 for "
        "'<queryable>=[invalid-value]' whatever the queryable's type. OGC API Features Part 3, "
        "Requirement /req/queryables-query-parameters/parameters C: the collection 'SHALL "
        "support a query parameter ... with the same schema as the schema of the queryable'; "
        "for a string queryable '[invalid-value]' is a valid value, and a 400 would break it."
    ),
    "features/filtering/test_filter.py::test_ct7": (
        "Reads the sample queryable test_ct3 never stores (KeyError), and sends as filter-lang "
        "the text of a Python dict (\"{'name': 'cql2-text', 'default': True}\"), not 'cql2-text'."
    ),
    "features/filtering/test_filter.py::test_ct8": (
        "Indexes the sample queryable, a property name (str), with ['key'] (TypeError): it "
        "sends no request."
    ),
    "features/filtering/test_filter.py::test_ct9": (
        "Reads additionalProperties, which test_ct3 never stores (KeyError); and it keeps the "
        "resources whose additionalProperties is true, where the ATS test it implements "
        "(/conf/filter/expression-construction) takes 'those where additionalProperties is "
        "false'. test_unknown_queryable_is_refused checks that ATS test instead."
    ),
    "features/filtering/test_filter.py::test_ct10": (
        "Builds its CQL2 JSON with str.format on a template whose JSON braces format reads as "
        "fields (KeyError: ' \"property\"'): it sends no request."
    ),
}


def _suite_dir() -> Path:
    if not OGCTESTS_PYTHON.exists():
        pytest.fail(f"{OGCTESTS_PYTHON} is missing: run `scripts/setup.sh test` (make test does)")
    where = "import ogctests, pathlib; print(pathlib.Path(ogctests.__file__).parent)"
    out = subprocess.run([OGCTESTS_PYTHON, "-c", where], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def demo_server(settings: Settings) -> Iterator[str]:
    """The demo collections alone, served over HTTP from a database of their own in the
    session's PostgreSQL: the other tests publish layers into the shared one as they go
    (ogctests would then test those, or fail on an empty one), whichever ran first."""
    dsn = make_conninfo(settings.dsn, dbname="geoservice_ogctests")
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS geoservice_ogctests WITH (FORCE)")
        conn.execute("CREATE DATABASE geoservice_ogctests")
    own = Settings(database_url=dsn)
    try:
        ensure_database(own)
        publish_demo(own)
        with serve(own) as url:
            yield url
    finally:
        with psycopg.connect(settings.dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS geoservice_ogctests WITH (FORCE)")


@pytest.fixture(scope="module")
def ogctests_results(demo_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_ogctests(demo_server, tmp_path_factory.mktemp("ogctests"))


def run_ogctests(url: str, folder: Path) -> dict[str, list[tuple[str, str, str]]]:
    """{session: [(test id, outcome, ogctests' message)]}, the sessions run at once."""
    suite = _suite_dir()
    (folder / "pytest.ini").write_text("[pytest]\n")  # not our pyproject's settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["INSTANCE_URL"] = url
    deselect = [arg for test in DESELECTED for arg in ("--deselect", test)]  # ids from --rootdir
    processes = {}
    for name, (target, *extra) in SESSIONS.items():
        command = [
            OGCTESTS_PYTHON, "-m", "pytest", str(suite / target),
            *(option.format(suite=suite) for option in extra),
            *deselect, "-c", str(folder / "pytest.ini"), "--rootdir", str(suite),
            "-p", "no:cacheprovider", "-q", "--tb=short", f"--junitxml={folder / name}.xml",
        ]  # fmt: skip
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
        processes[name] = subprocess.Popen(command, cwd=folder, env=env, **pipes)
    results = {}
    for name, process in processes.items():
        output, _ = process.communicate(timeout=600)
        report = folder / f"{name}.xml"
        assert report.exists(), f"ogctests ({name}) wrote no report:\n{output[-3000:]}"
        results[name] = _outcomes(report)
        dropped = sum(test.startswith(SESSIONS[name][0]) for test in DESELECTED)
        if dropped:  # each deselected id names a test that exists
            assert f"{dropped} deselected" in output, output[-3000:]
    return results


def _outcomes(report: Path) -> list[tuple[str, str, str]]:
    outcomes = []
    for case in ET.parse(report).iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = tag
                message = f"{element.get('message', '')}\n{element.text or ''}".strip()
        outcomes.append((test_id, outcome, message))
    return outcomes


@pytest.mark.parametrize("session", SESSIONS)
def test_ogctests_passes(ogctests_results: dict, session: str):
    outcomes = ogctests_results[session]
    assert outcomes, f"ogctests ({session}) ran no test"
    problems = [
        f"{test_id}: {outcome}\n{message}"
        for test_id, outcome, message in outcomes
        if outcome in ("failure", "error")
    ]
    assert not problems, f"ogctests ({session}):\n\n" + "\n\n".join(problems)
    assert any(outcome == "passed" for _, outcome, _ in outcomes)


def test_ogctests_sees_every_collection(demo_server: str):
    """ogctests' core suite tests the first 20 collections: every one, the catalogue among
    them, only while there are no more."""
    collections = requests.get(f"{demo_server}/collections?f=json", timeout=30).json()
    ids = [c["id"] for c in collections["collections"]]
    assert "catalogue" in ids
    assert len(ids) <= COLLECTIONS_LIMIT, f"ogctests would leave out {ids[COLLECTIONS_LIMIT:]}"


# -- what the deselected tests meant to check ------------------------------------------


def _collection_ids(url: str) -> list[str]:
    collections = requests.get(f"{url}/collections?f=json", timeout=30).json()
    return [c["id"] for c in collections["collections"]]


def test_items_link_header_names_the_queryables(demo_server: str):
    """Part 3's abstract test /conf/queryables/get-queryables-uris: a HEAD on each filterable
    resource (a collection's items) answers 200 with a `Link` header whose rel is the
    queryables relation. The other links of the page are in the header too, each with its media
    type (Part 1, Recommendation /rec/core/link-header): generic clients page by them."""
    paged = []
    for collection_id in _collection_ids(demo_server):
        url = f"{demo_server}/collections/{collection_id}/items"
        for method in (requests.head, requests.get):
            response = method(url, headers={"Accept": "application/json"}, timeout=30)
            assert response.status_code == 200, (collection_id, method)
            links = response.links  # RFC 8288, parsed by requests
            assert links[QUERYABLES_REL]["url"] == f"{url.removesuffix('/items')}/queryables"
            assert links["self"]["type"] == "application/geo+json", collection_id
            assert links["alternate"]["type"] == "text/html", collection_id
            assert links["collection"]["type"] == "application/json", collection_id
        first = requests.get(url, params={"limit": 1}, timeout=30)
        if first.json()["numberMatched"] > 1:
            assert first.links["next"]["type"] == "application/geo+json", collection_id
            follow = requests.get(first.links["next"]["url"], timeout=30)
            assert follow.status_code == 200 and "prev" in follow.links, collection_id
            paged.append(collection_id)
    assert "catalogue" in paged and len(paged) > 1


def test_queryables_resource_is_json_schema(demo_server: str):
    """Part 3's abstract test /conf/queryables/get-queryables, on the URI each filterable
    resource's Link header names."""
    for collection_id in _collection_ids(demo_server):
        items = requests.head(f"{demo_server}/collections/{collection_id}/items", timeout=30)
        uri = items.links[QUERYABLES_REL]["url"]
        response = requests.get(uri, headers={"Accept": "application/schema+json"}, timeout=30)
        assert response.status_code == 200, collection_id
        assert response.headers["Content-Type"] == "application/schema+json", collection_id
        schema = response.json()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", collection_id
        assert schema["$id"] == uri, collection_id
        assert schema["type"] == "object" and schema["properties"], collection_id
        for name, member in schema["properties"].items():
            assert "type" in member or member.get("format", "").startswith("geometry-"), (
                collection_id,
                name,
            )


def test_unknown_queryable_is_refused(demo_server: str):
    """A filter on a property that is not a queryable: a 400 where the queryables say
    `additionalProperties: false`, else the property is null and nothing matches (Part 3,
    /req/queryables/get-queryables-response G)."""
    for collection_id in _collection_ids(demo_server):
        queryables = requests.get(
            f"{demo_server}/collections/{collection_id}/queryables?f=json", timeout=30
        ).json()
        response = requests.get(
            f"{demo_server}/collections/{collection_id}/items",
            params={"filter-lang": "cql2-text", "filter": "this_is_not_a_queryable = 'x'"},
            headers={"Accept": "application/geo+json"},
            timeout=30,
        )
        if queryables.get("additionalProperties", True):
            assert response.status_code == 200, (collection_id, response.text[:300])
            assert response.json()["numberMatched"] == 0, collection_id
        else:
            assert response.status_code == 400, (collection_id, response.text[:300])
