"""End to end through the real HTTP app and database: issue, revise, change status."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from litestar.testing import TestClient

from registry.app import create_app
from registry.settings import Settings
from tests.factories import (
    certificate_fields,
    count_rows,
    make_body,
    serve_in_thread,
    uscc,
)


def issue(client: TestClient[Any], body: Any, fields: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/certificates", json=fields, headers={**body.auth, **headers})


def verdict(client: TestClient[Any], number: str, at: str | None = None, **params: str) -> Any:
    query = {"at": at, **params} if at else params
    response = client.get(f"/api/v1/certificates/{number}/verification", params=query)
    return response.json()


def test_issue_with_hosted_key_gives_a_jws_any_jose_library_verifies(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    response = issue(client, body, certificate_fields("SMT-2026-0001", score=96.5))
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["number"] == "SMT-2026-0001"
    assert document["status"] == "valid"
    assert document["certificate"]["level"] == "five_star"
    assert document["certificate"]["issuer"] == {"code": body.code, "name": body.name}

    token = document["revisions"][0]["jws"]
    jwks = client.get("/.well-known/jwks.json").json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == body.kid]
    assert jwk["body"] == body.code and jwk["state"] == "active" and jwk["alg"] == "EdDSA"
    key = jwt.PyJWK(jwk)
    decoded = jwt.api_jws.PyJWS().decode_complete(token, key=key, algorithms=["EdDSA"])
    assert decoded["header"] == {"alg": "EdDSA", "kid": body.kid, "typ": "starmark-cert+jws"}
    assert json.loads(decoded["payload"])["holder"]["name"] == "青岛海川智能家电有限公司"

    fetched = client.get("/api/v1/certificates/smt-2026-0001").json()
    assert fetched["revisions"][0]["jws"] == token


def test_backdated_certificate_signed_today_with_a_new_key_is_valid(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    three_years_ago = datetime.now(UTC).date().replace(day=1) - timedelta(days=3 * 365 - 60)
    response = issue(client, body, certificate_fields("SMT-2023-0042", start=three_years_ago))
    assert response.status_code == 201, response.text
    assert response.json()["certificate"]["valid_from"] == three_years_ago.isoformat()
    result = verdict(client, "SMT-2023-0042")
    assert result["status"] == "valid"
    assert result["signature"]["valid"] is True and result["signature"]["kid"] == body.kid


def test_lifecycle_with_verdicts_before_and_after_each_change(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    start = datetime.now(UTC).date() - timedelta(days=200)
    assert (
        issue(client, body, certificate_fields("SMT-LIFE-01", score=85, start=start)).status_code
        == 201
    )
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731 - a date n days in

    def post_event(status: str, days: int) -> Any:
        return client.post(
            "/api/v1/certificates/SMT-LIFE-01/events",
            json={"status": status, "effective_at": day(days), "reason": f"test {status}"},
            headers=body.auth,
        )

    assert post_event("suspended", 50).status_code == 201
    assert post_event("reinstated", 80).status_code == 201

    revised = client.post(
        "/api/v1/certificates/SMT-LIFE-01/revisions",
        json=certificate_fields("SMT-LIFE-01", score=91, start=start),
        headers=body.auth,
    )
    assert revised.status_code == 201, revised.text
    assert revised.json()["certificate"]["revision"] == 2
    assert revised.json()["certificate"]["level"] == "four_star"

    assert post_event("revoked", 150).status_code == 201

    expected = [
        (day(-1), "not_yet_valid"),
        (day(10), "valid"),
        (day(49), "valid"),
        (day(50), "suspended"),
        (day(79), "suspended"),
        (day(80), "valid"),
        (day(149), "valid"),
        (day(150), "revoked"),
        (None, "revoked"),
    ]
    for at, status in expected:
        assert verdict(client, "SMT-LIFE-01", at)["status"] == status, at
    # The level as of an instant before the revision is the old one.
    assert verdict(client, "SMT-LIFE-01", day(100))["level"] == "three_star"
    now = datetime.now(UTC).isoformat()
    assert verdict(client, "SMT-LIFE-01", now)["level"] == "four_star"

    # Terminal: nothing after revoked, and nothing is stored by a refused change.
    before = count_rows()
    refused = post_event("reinstated", 170)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert count_rows() == before

    document = client.get("/api/v1/certificates/SMT-LIFE-01").json()
    assert [e["status"] for e in document["events"]] == ["suspended", "reinstated", "revoked"]
    assert [r["revision"] for r in document["revisions"]] == [1, 2]


def test_another_body_gets_403_and_changes_nothing(
    client: TestClient[Any], settings: Settings
) -> None:
    owner = make_body(settings, "CQCT", "华信认证中心")
    other = make_body(settings, "OTHER", "另一认证机构")
    assert issue(client, owner, certificate_fields("SMT-OWN-0001")).status_code == 201
    before = count_rows()
    for path, payload in [
        ("/api/v1/certificates/SMT-OWN-0001/events", {"status": "suspended"}),
        ("/api/v1/certificates/SMT-OWN-0001/revisions", certificate_fields("SMT-OWN-0001")),
    ]:
        response = client.post(path, json=payload, headers=other.auth)
        assert response.status_code == 403, response.text
        assert response.json()["status"] == 403
    assert count_rows() == before


def test_missing_or_bad_token_is_401(client: TestClient[Any], settings: Settings) -> None:
    make_body(settings)
    assert client.post("/api/v1/certificates", json=certificate_fields()).status_code == 401
    response = client.post(
        "/api/v1/certificates",
        json=certificate_fields(),
        headers={"Authorization": "Bearer smk_not-a-real-token"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_retry_with_the_same_idempotency_key_creates_one_certificate(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    fields = certificate_fields("SMT-IDEM-0001")
    first = issue(client, body, fields, **{"Idempotency-Key": "retry-1"})
    before = count_rows()
    second = issue(client, body, fields, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert count_rows() == before
    assert (
        client.get("/api/v1/certificates", params={"body": body.code}).json()["items"][0]["number"]
        == "SMT-IDEM-0001"
    )
    # The same key for a different request is refused, not silently replayed.
    other = issue(
        client, body, certificate_fields("SMT-IDEM-0002"), **{"Idempotency-Key": "retry-1"}
    )
    assert other.status_code == 422
    assert count_rows() == before


def test_concurrent_conflicting_status_changes_give_exactly_one_success(
    clean_db: Any, settings: Settings
) -> None:
    body = make_body(settings)
    app = create_app(settings, engine=clean_db)
    with (
        serve_in_thread(app) as base_url,
        httpx.Client(base_url=base_url, headers=body.auth, timeout=60) as http,
    ):
        assert (
            http.post("/api/v1/certificates", json=certificate_fields("SMT-RACE-0001")).status_code
            == 201
        )

        def suspend(_: int) -> int:
            with httpx.Client(base_url=base_url, headers=body.auth, timeout=60) as c:
                return c.post(
                    "/api/v1/certificates/SMT-RACE-0001/events", json={"status": "suspended"}
                ).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(suspend, range(6)))
        assert sorted(codes) == [201] + [409] * 5, codes
        document = http.get("/api/v1/certificates/SMT-RACE-0001").json()
        assert [e["status"] for e in document["events"]] == ["suspended"]
        assert document["status"] == "suspended"


BAD_FIELDS = [
    ("invalid USCC", {"holder": {"name": "某公司", "uscc": "91370212MA3C5XYZ1A"}}, "holder.uscc"),
    ("score 69.9", {"score": 69.9}, "score"),
    ("score 100.5", {"score": 100.5}, "score"),
    ("level contradicts score", {"score": 85, "level": "five_star"}, "level"),
    (
        "valid_until before valid_from",
        {"valid_from": "2026-06-01", "valid_until": "2026-05-01", "issued_on": "2026-05-20"},
        "valid_until",
    ),
    ("illegal number", {"number": "证书-1"}, "number"),
]


@pytest.mark.parametrize(("case", "override", "field"), BAD_FIELDS, ids=[c[0] for c in BAD_FIELDS])
def test_bad_fields_get_422_naming_the_field_and_store_nothing(
    client: TestClient[Any], settings: Settings, case: str, override: dict[str, Any], field: str
) -> None:
    body = make_body(settings)
    before = count_rows()
    response = issue(
        client,
        body,
        certificate_fields(**override)
        if "number" not in override
        else certificate_fields(override["number"]),
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert count_rows() == before


def test_malformed_json_is_400_and_oversize_is_413(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    before = count_rows()
    bad = client.post(
        "/api/v1/certificates",
        content=b'{"number": "SMT-1", ',
        headers={**body.auth, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400, bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    big = certificate_fields(scope={"zh": "很" * 600_000})
    huge = issue(client, body, big)
    assert huge.status_code == 413, huge.text
    assert count_rows() == before


def test_jws_signed_by_another_bodys_key_or_tampered_is_refused(
    client: TestClient[Any], settings: Settings
) -> None:
    owner = make_body(settings, "CQCT", "华信认证中心")
    other = make_body(settings, "OTHER", "另一认证机构")
    # A genuine JWS of the other body...
    theirs = issue(client, other, certificate_fields("SMT-THEIRS-01")).json()["revisions"][0]["jws"]
    before = count_rows()
    response = client.post("/api/v1/certificates", json={"jws": theirs}, headers=owner.auth)
    assert response.status_code == 422, response.text
    assert "jws" in [e["field"] for e in response.json()["errors"]]
    # ...and one byte changed in the payload.
    header, payload, signature = theirs.split(".")
    tampered = ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )
    response = client.post("/api/v1/certificates", json={"jws": tampered}, headers=other.auth)
    assert response.status_code == 422
    assert count_rows() == before


def test_unknown_number_is_404_with_the_not_found_verdict(client: TestClient[Any]) -> None:
    response = client.get("/api/v1/certificates/NO-SUCH-1/verification")
    assert response.status_code == 404
    assert response.json()["status"] == "not_found"
    assert client.get("/api/v1/certificates/NO-SUCH-1").status_code == 404


def test_secrets_are_never_stored_or_returned_in_clear(
    client: TestClient[Any], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    body = make_body(settings)
    assert issue(client, body, certificate_fields()).status_code == 201
    dump = json.dumps(client.get("/api/v1/bodies").json()) + json.dumps(
        client.get("/.well-known/jwks.json").json()
    )
    assert "PRIVATE" not in dump and '"d"' not in dump
    import asyncio

    from registry.bodies.tables import ApiToken, SigningKey

    tokens = asyncio.run(ApiToken.select().run())
    keys = asyncio.run(SigningKey.select().run())
    assert body.token not in json.dumps(tokens, default=str)
    assert all(t["token_hash"] != body.token for t in tokens)
    for key in keys:
        assert key["encrypted_private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    logs = caplog.text
    assert body.token not in logs and settings.keys.passphrase.decode() not in logs


def test_list_filters_and_cursor_pagination(client: TestClient[Any], settings: Settings) -> None:
    body = make_body(settings)
    for i, score in enumerate([72, 85, 91, 97, 98]):
        assert (
            issue(client, body, certificate_fields(f"SMT-LIST-{i:04d}", score=score)).status_code
            == 201
        )
    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/certificates", params=params).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SMT-LIST-{i:04d}" for i in range(5)]
    five = client.get("/api/v1/certificates", params={"level": "five_star"}).json()["items"]
    assert [i["number"] for i in five] == ["SMT-LIST-0003", "SMT-LIST-0004"]
    assert client.get("/api/v1/certificates", params={"level": "six_star"}).status_code == 422
    assert client.get("/api/v1/certificates", params={"limit": 0}).status_code in (400, 422)
    assert client.get("/api/v1/certificates", params={"cursor": "%%%"}).status_code == 422


def test_fields_next_to_a_jws_are_refused_naming_them(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    token = issue(client, body, certificate_fields("SMT-MIX-0001")).json()["revisions"][0]["jws"]
    before = count_rows()
    mixed = client.post(
        "/api/v1/certificates/SMT-MIX-0001/revisions",
        json={"jws": token, "score": 99},
        headers=body.auth,
    )
    assert mixed.status_code == 422
    assert [e["field"] for e in mixed.json()["errors"]] == ["score"]
    # A revision-1 JWS offered as revision 2 is a conflict with what is stored.
    replay = client.post(
        "/api/v1/certificates/SMT-MIX-0001/revisions", json={"jws": token}, headers=body.auth
    )
    assert replay.status_code == 409
    assert count_rows() == before


WRONG_TYPES = [
    ("score a boolean", "/api/v1/certificates", {"score": True}, "score", "got a boolean"),
    (
        "holder name a number",
        "/api/v1/certificates",
        {"holder": {"name": 42, "uscc": uscc("x")}},
        "holder.name",
        "must be a string",
    ),
    ("sites a string", "/api/v1/certificates", {"sites": "青岛市"}, "sites", "list"),
    ("unknown member", "/api/v1/certificates", {"colour": "red"}, "colour", "unknown member"),
    ("member the registry fills", "/api/v1/certificates", {"revision": 2}, "revision", "unknown"),
    (
        "unknown member of holder",
        "/api/v1/certificates",
        {"holder": {"name": "某公司", "uscc": uscc("x"), "phone": "110"}},
        "holder.phone",
        "name_en",
    ),
    (
        "status a number",
        "/api/v1/certificates/SMT-TYPE-0001/events",
        {"status": 5},
        "status",
        "string",
    ),
    (
        "unknown event member",
        "/api/v1/certificates/SMT-TYPE-0001/events",
        {"status": "suspended", "when": "2026-01-01"},
        "when",
        "effective_at",
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "override", "field", "words"), WRONG_TYPES, ids=[c[0] for c in WRONG_TYPES]
)
def test_wrong_json_types_and_unknown_members_get_422_naming_the_field(
    client: TestClient[Any],
    settings: Settings,
    case: str,
    path: str,
    override: dict[str, Any],
    field: str,
    words: str,
) -> None:
    body = make_body(settings)
    assert issue(client, body, certificate_fields("SMT-TYPE-0001")).status_code == 201
    before = count_rows()
    payload = (
        override if path.endswith("/events") else certificate_fields("SMT-TYPE-0002", **override)
    )
    response = client.post(path, json=payload, headers=body.auth)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field], problem
    assert words in problem["errors"][0]["message"], problem
    assert field in problem["detail"]
    assert count_rows() == before


def test_an_empty_or_non_object_body_is_refused(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    before = count_rows()
    empty = client.post(
        "/api/v1/certificates",
        content=b"",
        headers={**body.auth, "Content-Type": "application/json"},
    )
    assert empty.status_code == 400, empty.text
    assert empty.headers["content-type"].startswith("application/problem+json")
    array = client.post("/api/v1/certificates", json=[certificate_fields()], headers=body.auth)
    assert array.status_code == 422, array.text
    assert array.json()["errors"] == [
        {"field": "request", "message": "must be a JSON object, got a JSON array"}
    ]
    assert count_rows() == before


def test_a_score_may_be_a_numeric_string(client: TestClient[Any], settings: Settings) -> None:
    body = make_body(settings)
    response = issue(client, body, certificate_fields("SMT-TEXT-0001", score=" 96.5 "))
    assert response.status_code == 201, response.text
    assert response.json()["certificate"]["score"] == 96.5
    assert response.json()["certificate"]["level"] == "five_star"
