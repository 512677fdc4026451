"""Schema-driven fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

Schemathesis reads `/openapi?f=json` as the server publishes it and generates requests for
every operation in it, valid ones and deliberately invalid ones (wrong types, out-of-range
numbers, odd strings, unknown formats). Every answer must be documented: no 5xx, a status
code the document lists, a content type it lists for that status, and a body that matches
that content type's schema.

Most of it runs in-process (the WSGI app, no sockets: thousands of requests in about a
minute); a smaller part runs against `geoservice serve` over real HTTP, where gunicorn,
real headers and URL encoding take part. GEOSERVICE_FUZZ_EXAMPLES sets the examples per
operation for a longer run (e.g. 1000 before a release), GEOSERVICE_FUZZ_RANDOM=1 draws new
examples instead of the fixed ones.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("GEOSERVICE_FUZZ_EXAMPLES", "60"))  # per operation, in-process
LIVE_EXAMPLES = max(5, EXAMPLES // 5)  # per operation, over HTTP
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = {
    "generation": {
        "allow-x00": True,  # NUL bytes in strings: PostgreSQL refuses them in text
        "database": "none",  # no .hypothesis folder in the work tree
    },
}
FUZZ_SETTINGS = settings(
    # The same examples on every run, so that a red run is this change's doing and can be
    # repeated; GEOSERVICE_FUZZ_RANDOM=1 (with more examples) explores new ones.
    derandomize=os.environ.get("GEOSERVICE_FUZZ_RANDOM") != "1",
    deadline=None,  # the first request of an operation builds a statement; no flaky timing
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,  # a failure prints how to reproduce it
)
# Hypothesis keeps caches (unicode tables, constants) in a folder; not in the work tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "geoservice-hypothesis"))


# A POSTed filter is CQL2 JSON under its own media type: serialised as JSON.
schemathesis.serializer.alias("application/query-cql-json", "application/json")


def _load(loader, location, *args):
    return loader(location, *args, config=schemathesis.Config.from_dict(CONFIG))


@dataclass
class Run:
    failures: list[str] = field(default_factory=list)  # one line per operation that failed
    requests: int = 0  # how many requests the run made


def fuzz(schema, examples: int, **call) -> Run:
    """Every operation, valid and invalid requests.

    (Driven with Hypothesis directly: schemathesis' own pytest integration does not work
    with pytest 9.2.)
    """
    run, operations = Run(), []
    for result in schema.get_all_operations():
        try:
            operations.append(result.ok())
        except Exception:  # noqa: BLE001 - schemathesis cannot use this part of the document
            run.failures.append(f"the document: {result.err()}")
    assert operations, "the document has no operations"
    for operation in operations:
        # OPTIONS takes nothing that could be made invalid.
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() != "OPTIONS":
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(FUZZ_SETTINGS, max_examples=examples // 2)
            def check(case):
                run.requests += 1
                case.call_and_validate(checks=CHECKS, **call)

            try:
                check()
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters)
            except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - a report
                run.failures.append(f"{operation.label} ({mode.value}): {err}")
    return run


@pytest.fixture(scope="session")
def app_schema(app):
    return _load(schemathesis.openapi.from_wsgi, "/openapi?f=json", app)


@pytest.fixture(scope="module")
def in_process_run(app_schema) -> Run:
    """The in-process fuzzing, run once for the tests that read it (whichever runs first)."""
    return fuzz(app_schema, EXAMPLES)


@pytest.fixture(scope="module")
def http_run(live_server) -> Run:
    schema = _load(schemathesis.openapi.from_url, f"{live_server}/openapi?f=json")
    # Over HTTP, the features and records operations: where the parameters are parsed.
    schema = schema.include(path_regex=r"^/collections/[^/]+/(items|queryables|download)")
    return fuzz(schema, LIVE_EXAMPLES, base_url=live_server, timeout=30)


def test_every_operation_in_process(in_process_run):
    assert not in_process_run.failures, "\n\n".join(in_process_run.failures)


def test_parameter_parsing_over_http(http_run):
    assert not http_run.failures, "\n\n".join(http_run.failures)


def test_the_fuzzing_made_thousands_of_requests(in_process_run, http_run):
    """Guards the guard: a schema that loads no operations would pass every check above.
    Runs the fuzzing itself when run alone (the runs are module fixtures)."""
    # Hypothesis stops early where the inputs are few (an operation without parameters).
    assert in_process_run.requests >= 30 * EXAMPLES, in_process_run.requests
    assert http_run.requests >= 100, http_run.requests


# What the fuzzing found, kept as plain regression tests (a fuzz run may not meet them again).
FOUND = [
    # A CQL2 JSON body that is JSON but no condition: was a 503 (features), a 500 (catalogue).
    ("POST", "/collections/prefectures/items", "[]", 400),
    ("POST", "/collections/catalogue/items", "[]", 400),
    ("POST", "/collections/prefectures/items", '{"op": "and", "args": [1, 2]}', 400),
    # A property value of the wrong type on a download: was a 200 cut off mid-stream.
    ("GET", "/collections/seismic-stations/download?lat=null", None, 400),
    # pygeoapi's JSON-LD for an empty page had a trailing comma (invalid JSON).
    ("GET", "/collections/prefectures/items?f=jsonld&pop=-1", None, 200),
]


@pytest.mark.parametrize("method, url, body, status", FOUND)
def test_what_the_fuzzing_found(client, method, url, body, status):
    response = client.open(
        url,
        method=method,
        data=body,
        content_type="application/query-cql-json" if body else None,
    )
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:300]
    json.loads(text)  # every answer here is JSON (or JSON-LD) that parses


def test_the_document_is_self_contained(client):
    """Every $ref resolves inside the document: no fetch from schemas.opengis.net or GitHub."""
    text = client.get("/openapi?f=json").get_data(as_text=True)
    remote = {ref for ref in re.findall(r'"\$ref":\s*"([^"]+)"', text) if not ref.startswith("#")}
    assert not remote
