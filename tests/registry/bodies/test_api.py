"""The operator's API for bodies, keys and tokens, through the real HTTP app and database."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from signing.keys import PrivateKey
from tests.factories import certificate_fields, count_rows, make_operator_token


@pytest.fixture
def operator() -> dict[str, str]:
    return {"Authorization": f"Bearer {make_operator_token()}"}


def test_an_operator_registers_a_body_its_keys_and_a_token_that_issues(
    client: TestClient[Any], operator: dict[str, str]
) -> None:
    added = client.post(
        "/api/v1/bodies", json={"code": "NEWB", "name": "新认证机构"}, headers=operator
    )
    assert added.status_code == 201, added.text
    assert added.json() == {
        "code": "NEWB",
        "name": "新认证机构",
        "name_en": None,
        "approval_no": None,
        "website": None,
        "phone": None,
    }

    hosted = client.post("/api/v1/bodies/NEWB/keys", json={"custody": "hosted"}, headers=operator)
    assert hosted.status_code == 201, hosted.text
    assert hosted.json()["custody"] == "hosted" and hosted.json()["state"] == "active"
    own_jwk = PrivateKey.generate().public_key.to_jwk()
    own = client.post("/api/v1/bodies/NEWB/keys", json={"jwk": own_jwk}, headers=operator)
    assert own.status_code == 201, own.text
    assert own.json()["jwk"] == own_jwk and own.json()["custody"] == "own"

    token = client.post("/api/v1/bodies/NEWB/tokens", headers=operator)
    assert token.status_code == 201, token.text
    assert token.json()["body"] == "NEWB"
    issued = client.post(
        "/api/v1/certificates",
        json=certificate_fields("SMT-NEWB-0001"),
        headers={"Authorization": f"Bearer {token.json()['token']}"},
    )
    assert issued.status_code == 201, issued.text

    listed = client.get("/api/v1/bodies").json()
    (body,) = [b for b in listed["items"] if b["code"] == "NEWB"]
    assert {k["kid"] for k in body["keys"]} == {hosted.json()["kid"], own.json()["kid"]}
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert hosted.json()["kid"] in kids and own.json()["kid"] in kids

    compromised = client.post(
        f"/api/v1/keys/{own.json()['kid']}/compromise",
        json={"compromised_at": "2026-01-01"},
        headers=operator,
    )
    assert compromised.status_code == 200, compromised.text
    assert compromised.json() == {
        "kid": own.json()["kid"],
        "state": "compromised",
        "compromised_at": "2025-12-31T16:00:00Z",
    }


BAD_REQUESTS = [
    ("name missing", "/api/v1/bodies", {"code": "NEWB"}, "name", "is required"),
    ("name a number", "/api/v1/bodies", {"code": "NEWB", "name": 7}, "name", "must be a string"),
    ("jwk a string", "/api/v1/bodies/CQCT/keys", {"jwk": "x"}, "jwk", "a JSON object"),
    ("neither custody nor jwk", "/api/v1/bodies/CQCT/keys", {}, "jwk", "custody: hosted"),
    ("label a list", "/api/v1/bodies/CQCT/tokens", {"label": ["a"]}, "label", "a string"),
    (
        "compromised_at a number",
        "/api/v1/keys/some-kid/compromise",
        {"compromised_at": 2026},
        "compromised_at",
        "a string",
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "request_body", "field", "words"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_operator_requests_get_422_naming_the_field_and_change_nothing(
    client: TestClient[Any],
    operator: dict[str, str],
    case: str,
    path: str,
    request_body: dict[str, Any],
    field: str,
    words: str,
) -> None:
    before = count_rows()
    response = client.post(path, json=request_body, headers=operator)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert error["field"] == field and words in error["message"], error
    assert count_rows() == before
