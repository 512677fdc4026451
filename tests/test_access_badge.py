"""Staff see what is internal in the portal: a dataset that is not public carries a badge
saying who may see it, in the page's language, on its page and among search results."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geoservice.server import api_keys
from geoservice.settings import PROJECT_ROOT
from geoservice.store import db
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

LAYER = "badge-internal-places"


@pytest.fixture(scope="module")
def staff(settings, demo_collections) -> Iterator[str]:
    descriptor = {
        "id": LAYER,
        "title": {"el": "Εσωτερικοί τόποι σήμανσης", "en": "Badge internal places"},
        "source": {"path": str(PROJECT_ROOT / "data/demo/municipalities.geojson")},
        "access": "internal",
    }
    load(settings, parse_descriptor(descriptor))
    with db.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, "test-badge-staff", ["staff"], [])
    yield key
    with db.connect(settings, autocommit=True) as conn:
        api_keys.delete(conn, "test-badge-staff")
        remove_collection(conn, LAYER)


@pytest.fixture
def client(settings, staff):
    """A client of its own: `?lang=` is remembered in a cookie, which would follow the
    session's shared client into other modules' tests."""
    from geoservice.server.app import create_app

    return create_app(settings, refresh_seconds=0).test_client()


@pytest.mark.parametrize(
    ("lang", "badge"),
    [("el", "Εσωτερικό: μόνο για το προσωπικό"), ("en", "Internal: staff only")],
)
def test_an_internal_dataset_says_so(client, staff, lang, badge):
    headers = {"Authorization": f"Bearer {staff}"}
    page = client.get(f"/portal/datasets/{LAYER}?lang={lang}", headers=headers)
    assert page.status_code == 200
    assert badge in page.get_data(as_text=True)
    results = client.get(f"/portal/?q=badge&lang={lang}", headers=headers)
    assert badge in results.get_data(as_text=True)
    public = client.get(f"/portal/datasets/municipalities?lang={lang}", headers=headers)
    assert "access-badge" not in public.get_data(as_text=True)
