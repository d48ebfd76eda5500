"""`/schema` documents what every API endpoint takes and answers (PRODUCT §4)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from registry.app import create_app
from registry.settings import DatabaseSettings, KeyCustodySettings, Settings
from tests.conftest import PUBLIC_URL, TEST_PASSPHRASE

CERTIFICATE_FIELDS = {
    "number",
    "score",
    "level",
    "holder",
    "scope",
    "sites",
    "issued_on",
    "valid_from",
    "valid_until",
    "jws",
}
DOCUMENT = {"number", "status", "certificate", "revisions", "events"}
VERDICT = {"number", "status", "signature", "as_of", "checked_at", "revision", "level"}
VERDICT |= {"warnings", "certificate"}

#: (method, path, request members or None, success status, response members)
ENDPOINTS = [
    ("post", "/api/v1/certificates", CERTIFICATE_FIELDS, "201", DOCUMENT),
    ("post", "/api/v1/certificates/{number}/revisions", CERTIFICATE_FIELDS, "201", DOCUMENT),
    (
        "post",
        "/api/v1/certificates/{number}/events",
        {"status", "effective_at", "reason", "jws"},
        "201",
        DOCUMENT,
    ),
    ("get", "/api/v1/certificates/{number}", None, "200", DOCUMENT),
    ("get", "/api/v1/certificates/{number}/verification", None, "200", VERDICT),
    ("get", "/api/v1/certificates", None, "200", {"items", "next_cursor"}),
    (
        "post",
        "/api/v1/verifications",
        {"items", "as_of", "min_level"},
        "200",
        {"as_of", "checked_at", "results", "receipt"},
    ),
    ("get", "/api/v1/bodies", None, "200", {"items", "next_cursor"}),
    ("post", "/api/v1/bodies", {"code", "name", "name_en"}, "201", {"code", "name", "name_en"}),
    (
        "post",
        "/api/v1/bodies/{code}/keys",
        {"custody", "jwk", "not_before", "not_after"},
        "201",
        {"kid", "jwk", "custody", "state", "not_before", "not_after", "compromised_at"},
    ),
    ("post", "/api/v1/bodies/{code}/tokens", {"label"}, "201", {"token", "prefix", "body"}),
    (
        "post",
        "/api/v1/keys/{kid}/compromise",
        {"compromised_at"},
        "200",
        {"kid", "state", "compromised_at"},
    ),
    ("get", "/.well-known/jwks.json", None, "200", {"keys"}),
]


@pytest.fixture(scope="module")
def openapi(engine: Any, tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Any:
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        keys=KeyCustodySettings(passphrase=TEST_PASSPHRASE),
        data_dir=tmp_path_factory.mktemp("openapi"),
        public_url=PUBLIC_URL,
    )
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200, response.text
        return response.json()


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema behind a $ref, `X | null` or an array's items."""
    if "$ref" in schema:
        return resolve(doc, doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    if "oneOf" in schema:
        (only,) = [s for s in schema["oneOf"] if s.get("type") != "null"]
        return resolve(doc, only)
    if schema.get("type") == "array":
        return resolve(doc, schema["items"])
    return schema


def members(doc: dict[str, Any], schema: dict[str, Any], *path: str) -> set[str]:
    for name in path:
        schema = resolve(doc, schema)["properties"][name]
    return set(resolve(doc, schema)["properties"])


@pytest.mark.parametrize(
    ("method", "path", "request_members", "success", "response_members"),
    ENDPOINTS,
    ids=[f"{m.upper()} {p}" for m, p, *_ in ENDPOINTS],
)
def test_each_endpoint_documents_what_it_takes_and_answers(
    openapi: Any,
    method: str,
    path: str,
    request_members: set[str] | None,
    success: str,
    response_members: set[str],
) -> None:
    operation = openapi["paths"][path][method]
    if request_members is not None:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert members(openapi, body) >= request_members
    (answer,) = operation["responses"][success]["content"].values()
    assert members(openapi, answer["schema"]) >= response_members


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, *_ in ENDPOINTS if not p.startswith("/.well-known")]
)
def test_client_errors_are_documented_as_problem_json(openapi: Any, method: str, path: str) -> None:
    responses = openapi["paths"][path][method]["responses"]
    errors = {code: r for code, r in responses.items() if code.startswith("4")}
    assert errors, responses.keys()
    if method == "post":
        assert {"400", "413", "422"} <= set(errors)
    for code, response in errors.items():
        if path.endswith("/verification") and code == "404":
            continue  # an unknown number is answered with the not_found verdict
        content = response["content"]
        assert list(content) == ["application/problem+json"], (code, content)
        problem = members(openapi, content["application/problem+json"]["schema"])
        assert problem == {"type", "title", "status", "detail", "instance", "errors"}


def test_the_unknown_number_verdict_is_documented(openapi: Any) -> None:
    operation = openapi["paths"]["/api/v1/certificates/{number}/verification"]["get"]
    not_found = operation["responses"]["404"]["content"]["application/json"]["schema"]
    assert members(openapi, not_found) >= VERDICT


def test_nested_members_clients_rely_on_are_documented(openapi: Any) -> None:
    paths = openapi["paths"]

    def answer(path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        (content,) = paths[path][method]["responses"][status]["content"].values()
        return dict(content["schema"])

    document = answer("/api/v1/certificates/{number}")
    assert members(openapi, document, "revisions") >= {"revision", "jws"}
    assert members(openapi, document, "events") >= {"status", "effective_at", "recorded_at", "jws"}
    assert members(openapi, document, "certificate") >= {"number", "level", "holder", "issuer"}
    assert members(openapi, document, "certificate", "holder") >= {"name", "uscc"}
    search = answer("/api/v1/certificates")
    assert members(openapi, search, "items") >= {
        "number",
        "holder_name",
        "uscc",
        "level",
        "status",
        "body",
    }
    receipt = answer("/api/v1/verifications", "post")
    assert members(openapi, receipt, "results") >= {"item", "verdicts"}
    assert members(openapi, receipt, "results", "verdicts") >= VERDICT
    jwks = answer("/.well-known/jwks.json")
    assert members(openapi, jwks, "keys") >= {
        "kid",
        "kty",
        "crv",
        "x",
        "use",
        "alg",
        "body",
        "not_before",
        "not_after",
        "state",
        "compromised_at",
    }
    request = paths["/api/v1/certificates"]["post"]["requestBody"]["content"]["application/json"]
    assert members(openapi, request["schema"], "holder") >= {"name", "uscc", "name_en", "address"}
    assert members(openapi, request["schema"], "scope") >= {"zh", "en"}
    verifications = paths["/api/v1/verifications"]["post"]["requestBody"]["content"]
    assert resolve(openapi, verifications["application/json"]["schema"])["required"] == ["items"]


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        # GET and POST come from two controllers (the read side and the writes).
        ("/api/v1/certificates", "GET, OPTIONS, POST"),
        ("/api/v1/bodies", "GET, OPTIONS, POST"),
        ("/api/v1/certificates/SMT-0001", "GET, OPTIONS"),
        ("/api/v1/verifications", "OPTIONS, POST"),
    ],
)
def test_options_and_405_name_every_method_of_the_path(
    client: TestClient[Any], path: str, methods: str
) -> None:
    """RFC 9110 §9.3.7 and §15.5.6: `Allow` lists what the resource takes, on both answers."""
    options = client.options(path)
    assert options.status_code == 204
    assert options.headers["allow"] == methods
    refused = client.request("TRACE", path)
    assert refused.status_code == 405
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert sorted(refused.headers["allow"].split(", ")) == methods.split(", ")


def test_a_whole_number_score_matches_the_documented_payload(openapi: Any) -> None:
    """One JSON number: `int | float` documented as a oneOf would refuse 90 (valid under both)."""
    payload = resolve(openapi, openapi["components"]["schemas"]["CertificatePayload"])
    assert payload["properties"]["score"] == {"type": "number"}
