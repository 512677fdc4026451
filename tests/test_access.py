"""Access control on every surface a collection can leak through, on a real PostGIS.

Three layers beside the public demo ones: `staff-only` (internal), `planning-only`
(restricted to the group "planning") and the public demo layers. Four callers: anonymous,
a staff key, a planning-group key, an admin key; plus a city identity provider's JWTs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from geoservice.server import api_keys
from geoservice.server.app import create_app
from geoservice.settings import PROJECT_ROOT, Settings
from geoservice.store import db
from loaders.descriptor import parse_descriptor
from loaders.pipeline import load
from loaders.writer import remove_collection

HIDDEN = {"staff-only": "internal", "planning-only": "restricted"}
MARKER = "zebrafishlayer"  # a word only the hidden layers' titles contain


@pytest.fixture(scope="module")
def hidden_layers(settings: Settings, demo_collections: dict) -> Iterator[None]:
    source = str(PROJECT_ROOT / "data" / "demo" / "municipalities.geojson")
    for cid, access in HIDDEN.items():
        descriptor = {
            "id": cid,
            "title": {"el": f"Μυστικό {MARKER} {cid}", "en": f"Secret {MARKER} {cid}"},
            "keywords": {"el": ["μυστικό"], "en": ["secretkeyword"]},
            "inspire_theme": "hh",
            "source": {"path": source},
            "identifier": "cartodb_id",
            "access": access,
        }
        if access == "restricted":
            descriptor["groups"] = ["planning"]
        load(settings, parse_descriptor(descriptor))
    yield
    with db.connect(settings, autocommit=True) as conn:
        for cid in HIDDEN:
            remove_collection(conn, cid)


@pytest.fixture(scope="module")
def tokens(settings: Settings, hidden_layers: None) -> Iterator[dict[str, str]]:
    made = {
        "staff": (["staff"], []),
        "planner": ([], ["planning"]),
        "admin": (["admin"], []),
        "revoked": (["admin"], []),
    }
    with db.connect(settings, autocommit=True) as conn:
        keys = {
            who: api_keys.create(conn, f"test-{who}", roles, groups)
            for who, (roles, groups) in made.items()
        }
        api_keys.revoke(conn, "test-revoked")
    yield keys
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("DELETE FROM geoservice.api_keys WHERE name LIKE 'test-%'")


@pytest.fixture(scope="module")
def app_client(settings: Settings, tokens: dict):
    return create_app(settings, refresh_seconds=0).test_client()


def get(client, path: str, who: str | None, tokens: dict, **kwargs):
    headers = kwargs.pop("headers", {})
    if who:
        headers["Authorization"] = f"Bearer {tokens[who]}"
    return client.get(path, headers=headers, **kwargs)


# Who sees which hidden layer.
SEES = {
    None: set(),
    "staff": {"staff-only"},
    "planner": {"planning-only"},
    "admin": {"staff-only", "planning-only"},
}
CALLERS = list(SEES)


@pytest.mark.parametrize("who", CALLERS)
def test_collection_list(app_client, tokens, who):
    body = get(app_client, "/collections?f=json", who, tokens).get_json()
    listed = {c["id"] for c in body["collections"]}
    assert listed & set(HIDDEN) == SEES[who]
    assert "municipalities" in listed  # public layers for everyone


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize(
    "path",
    [
        "/collections/{cid}?f=json",
        "/collections/{cid}/items?f=json",
        "/collections/{cid}/items/112?f=json",
        "/collections/{cid}/queryables?f=json",
        "/collections/{cid}/schema?f=json",
        "/collections/{cid}/download",
        "/collections/{cid}?f=html",
        "/collections/{cid}/items?f=html",
        "/collections/{cid}/items/112?f=html",
        "/collections/catalogue/items/{cid}?f=json",
        "/collections/catalogue/items/{cid}?f=html",
        "/collections/catalogue/items/{cid}/dcat",
        "/collections/catalogue/items/{cid}/iso19139",
    ],
)
def test_every_collection_surface(app_client, tokens, who, path):
    for cid in HIDDEN:
        response = get(app_client, path.format(cid=cid), who, tokens)
        response.close()  # downloads stream
        if cid in SEES[who]:
            assert response.status_code == 200, (cid, response.get_data(as_text=True)[:300])
        else:
            # Hidden is indistinguishable from absent: no hint that it exists.
            assert response.status_code == 404, (cid, response.status_code)
            assert MARKER not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", CALLERS)
def test_openapi_document(app_client, tokens, who):
    text = get(app_client, "/openapi?f=json", who, tokens).get_data(as_text=True)
    paths = json.loads(text)["paths"]
    for cid in HIDDEN:
        assert (f"/collections/{cid}/items" in paths) == (cid in SEES[who])


@pytest.mark.parametrize("who", CALLERS)
def test_html_pages_list_only_what_the_caller_may_see(app_client, tokens, who):
    text = get(app_client, "/collections?f=html", who, tokens).get_data(as_text=True)
    for cid in HIDDEN:
        assert (f"/collections/{cid}" in text) == (cid in SEES[who])


@pytest.mark.parametrize("who", CALLERS)
def test_catalogue_search_and_facets(app_client, tokens, who):
    body = get(
        app_client,
        "/collections/catalogue/items",
        who,
        tokens,
        query_string={"q": MARKER, "facets": "true", "f": "json"},
    ).get_json()
    found = {f["id"] for f in body["features"]}
    assert found == SEES[who]
    assert body["numberMatched"] == len(SEES[who])
    # Facet counts must not count what the caller cannot see either.
    everything = get(
        app_client, "/collections/catalogue/items", who, tokens, query_string={"facets": "true"}
    ).get_json()
    themes = everything.get("facets", {}).get("theme", {})
    assert themes.get("hh", 0) == len(SEES[who])
    keyword = get(
        app_client,
        "/collections/catalogue/items",
        who,
        tokens,
        query_string={"keyword": "secretkeyword", "f": "json"},
    ).get_json()
    assert keyword["numberMatched"] == len(SEES[who])


@pytest.mark.parametrize("who", CALLERS)
def test_catalogue_html_and_whole_catalogue_export(app_client, tokens, who):
    html = get(app_client, "/collections/catalogue/items?f=html&q=" + MARKER, who, tokens).get_data(
        as_text=True
    )
    dcat = get(app_client, "/collections/catalogue/dcat", who, tokens).get_data(as_text=True)
    for cid in HIDDEN:
        visible = cid in SEES[who]
        assert (f"/collections/catalogue/items/{cid}" in html) == visible
        assert (f"/collections/{cid}" in dcat) == visible


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer gsk_abcdefgh_" + "x" * 43,  # well-formed, unknown
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
def test_a_bad_token_is_a_401_not_anonymous(app_client, authorization):
    response = app_client.get("/collections?f=json", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == "Unauthorized"


def test_a_revoked_key_is_refused(app_client, tokens):
    response = get(app_client, "/collections?f=json", "revoked", tokens)
    assert response.status_code == 401


def test_revoking_takes_effect(settings, tokens):
    with db.connect(settings, autocommit=True) as conn:
        key = api_keys.create(conn, "test-short-lived", ["staff"], [])
    client = create_app(settings, refresh_seconds=0).test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/collections/staff-only?f=json", headers=headers).status_code == 200
    with db.connect(settings, autocommit=True) as conn:
        api_keys.revoke(conn, "test-short-lived")
    fresh = create_app(settings, refresh_seconds=0).test_client()  # no cached key
    assert fresh.get("/collections/staff-only?f=json", headers=headers).status_code == 401


def test_keys_are_stored_hashed(settings, tokens):
    with db.connect(settings) as conn:
        stored = conn.execute("SELECT string_agg(key_hash || prefix, ' ') FROM geoservice.api_keys")
        text = stored.fetchone()[0]
    for key in tokens.values():
        assert key not in text and key.split("_", 2)[2] not in text  # the secret may hold "_"


def test_admin_endpoint_needs_the_admin_role(app_client, tokens):
    assert get(app_client, "/admin/loads", None, tokens).status_code == 403
    assert get(app_client, "/admin/loads", "staff", tokens).status_code == 403
    loads = get(app_client, "/admin/loads", "admin", tokens)
    assert loads.status_code == 200
    assert {row["collection_id"] for row in loads.get_json()} >= set(HIDDEN)
    warned = [w for row in loads.get_json() for w in row["warnings"] or []]
    assert warned and all(set(w) == {"en", "el"} for w in warned)  # both languages
    assert any("text read as" in w["en"] and "διαβάστηκε" in w["el"] for w in warned)


@pytest.mark.parametrize("who", [None, "admin"])
@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/collections/municipalities/items"),
        ("put", "/collections/municipalities/items/112"),
        ("patch", "/collections/municipalities/items/112"),
        ("delete", "/collections/municipalities/items/112"),
        ("delete", "/collections/municipalities"),
        ("post", "/collections/catalogue/items"),
        ("delete", "/collections/catalogue/items/municipalities"),
        ("post", "/admin/loads"),
    ],
)
def test_no_write_operation_over_http(app_client, tokens, who, method, path):
    """The service is read-only over HTTP (loads go through the CLI): writes are refused
    whoever asks, and nothing changes."""
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [23, 40]},
               "properties": {"name": "x"}}  # fmt: skip
    before = get(app_client, "/collections/municipalities/items?limit=1", None, tokens)
    headers = {"Content-Type": "application/geo+json"}
    if who:
        headers["Authorization"] = f"Bearer {tokens[who]}"
    response = getattr(app_client, method)(path, json=feature, headers=headers)
    assert response.status_code in (405, 415), (response.status_code, response.get_data()[:200])
    assert "Traceback" not in response.get_data(as_text=True)
    after = get(app_client, "/collections/municipalities/items?limit=1", None, tokens)
    assert after.get_json()["numberMatched"] == before.get_json()["numberMatched"]
    assert after.get_json()["features"] == before.get_json()["features"]


def test_personal_responses_stay_out_of_shared_caches(app_client, tokens):
    anonymous = app_client.get("/collections?f=json")
    assert "Authorization" in anonymous.headers["Vary"]
    staff = get(app_client, "/collections?f=json", "staff", tokens)
    assert "private" in staff.headers["Cache-Control"]


def test_security_headers_and_cors(app_client):
    page = app_client.get("/collections?f=html", headers={"Origin": "https://maps.example.org"})
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Access-Control-Allow-Origin"] == "*"
    preflight = app_client.options(
        "/collections/municipalities/items",
        headers={
            "Origin": "https://maps.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.status_code == 200
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_cors_limited_to_configured_origins(settings, hidden_layers):
    client = create_app(
        settings.replace(cors_origins=("https://city.example.gr",)), refresh_seconds=0
    ).test_client()
    allowed = client.get("/collections?f=json", headers={"Origin": "https://city.example.gr"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://city.example.gr"
    other = client.get("/collections?f=json", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- a city identity provider's tokens (JWT), keys served over real HTTP -------------------


class _JWKS(BaseHTTPRequestHandler):
    document = b"{}"

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def identity_provider(hidden_layers) -> Iterator[tuple[str, object]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "city-1", "use": "sig", "alg": "RS256"})
    _JWKS.document = json.dumps({"keys": [jwk]}).encode()
    server = HTTPServer(("127.0.0.1", 0), _JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs", key
    server.shutdown()


ISSUER = "https://sso.thessaloniki.gr/realms/city"


def _token(key, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "geoservice", "sub": "u1", "iat": now, "exp": now + 300}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "city-1"})


@pytest.fixture(scope="module")
def oidc_client(settings, identity_provider):
    jwks_url, _ = identity_provider
    configured = settings.replace(
        oidc_issuer=ISSUER,
        oidc_audience="geoservice",
        oidc_jwks_url=jwks_url,
        oidc_groups_claim="groups",
        oidc_roles_claim="realm_access.roles",
    )
    return create_app(configured, refresh_seconds=0).test_client()


def _visible(client, token: str) -> set[str] | int:
    response = client.get("/collections?f=json", headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 200:
        return response.status_code
    return {c["id"] for c in response.get_json()["collections"]} & set(HIDDEN)


def test_identity_provider_tokens(oidc_client, identity_provider):
    _, key = identity_provider
    assert _visible(oidc_client, _token(key)) == {"staff-only"}
    assert _visible(oidc_client, _token(key, groups=["/planning"])) == set(HIDDEN)
    admin = _token(key, realm_access={"roles": ["geoservice-admin"]})
    assert _visible(oidc_client, admin) == set(HIDDEN)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 3600},  # expired
        {"iss": "https://evil.example.com"},  # another issuer
        {"aud": "another-app"},  # meant for another service
    ],
    ids=["expired", "issuer", "audience"],
)
def test_identity_provider_refuses_bad_tokens(oidc_client, identity_provider, claims):
    _, key = identity_provider
    assert _visible(oidc_client, _token(key, **claims)) == 401


def test_identity_provider_refuses_a_forged_signature(oidc_client):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _visible(oidc_client, _token(forger)) == 401
    unsigned = jwt.encode({"iss": ISSUER, "exp": int(time.time()) + 60}, None, algorithm="none")
    assert _visible(oidc_client, unsigned) == 401
