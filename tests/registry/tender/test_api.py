"""`POST /api/v1/verifications` and the verdict JSON as of an instant, with `min_level`.

Through the real HTTP app and database. The receipt is checked with PyJWT, an
independent JOSE library, against the key the registry publishes.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from registry.bodies.services import HostedKeyVault, ensure_registry_key
from registry.bodies.tables import SigningKey
from registry.settings import Settings
from tests.factories import count_rows
from tests.registry.tender.conftest import (
    EXPIRED,
    FIVE_STAR,
    REVOKED,
    SUSPENDED_THEN_REINSTATED,
    THREE_STAR,
    UNKNOWN,
    World,
)


def statuses(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text
    return {r["item"]: [v["status"] for v in r["verdicts"]] for r in response.json()["results"]}


AS_OF_CASES = [
    # (as_of, number, status): suspension, reinstatement, revocation, expiry and the start.
    ("day(-1)", SUSPENDED_THEN_REINSTATED, "not_yet_valid"),
    ("day(0)", SUSPENDED_THEN_REINSTATED, "valid"),
    ("day(99, 23:59:59)", SUSPENDED_THEN_REINSTATED, "valid"),
    ("day(100)", SUSPENDED_THEN_REINSTATED, "suspended"),
    ("day(129, 23:59:59)", SUSPENDED_THEN_REINSTATED, "suspended"),
    ("day(130)", SUSPENDED_THEN_REINSTATED, "valid"),
    ("now", SUSPENDED_THEN_REINSTATED, "valid"),
    ("day(199, 23:59:59)", REVOKED, "valid"),
    ("day(200)", REVOKED, "revoked"),
    ("now", REVOKED, "revoked"),
    ("day(300, 23:59:59)", EXPIRED, "valid"),
    ("day(301)", EXPIRED, "expired"),
    ("now", EXPIRED, "expired"),
    ("now", UNKNOWN, "not_found"),
]


def as_of_text(world: World, spec: str) -> str | None:
    if spec == "now":
        return None
    day, _, time = spec.removeprefix("day(").removesuffix(")").partition(", ")
    return world.day(int(day), time)


@pytest.mark.parametrize(("as_of", "number", "status"), AS_OF_CASES)
def test_status_as_of_an_instant_in_bulk_and_alone(
    world: World, as_of: str, number: str, status: str
) -> None:
    when = as_of_text(world, as_of)
    extra = {} if when is None else {"as_of": when}
    assert statuses(world.verify([number], **extra)) == {number: [status]}
    # The verdict JSON for one certificate says the same (same fold, same instant).
    single = world.client.get(
        f"/api/v1/certificates/{number}/verification", params={"at": when} if when else {}
    )
    assert single.status_code == (404 if status == "not_found" else 200)
    assert single.json()["status"] == status


def test_as_of_is_echoed_in_utc_and_a_bare_date_means_midnight_china_time(world: World) -> None:
    body = world.verify([FIVE_STAR], as_of="2026-10-01").json()
    assert body["as_of"] == "2026-09-30T16:00:00Z"
    assert body["results"][0]["verdicts"][0]["as_of"] == "2026-09-30T16:00:00Z"
    instant = world.verify([FIVE_STAR], as_of="2026-10-01T09:30:00+08:00").json()
    assert instant["as_of"] == "2026-10-01T01:30:00Z"
    # Default: now, which is also when it was checked.
    now = world.verify([FIVE_STAR]).json()
    assert now["as_of"] == now["checked_at"]


def test_a_uscc_stands_for_every_certificate_of_its_holder(world: World) -> None:
    response = world.verify([world.multi_uscc], as_of=world.day(150), min_level="four_star")
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["item"] == world.multi_uscc and result["kind"] == "uscc"
    verdicts = {v["number"]: v for v in result["verdicts"]}
    assert list(verdicts) == sorted([EXPIRED, FIVE_STAR, THREE_STAR])
    assert {n: v["level"] for n, v in verdicts.items()} == {
        EXPIRED: "compliant",
        FIVE_STAR: "five_star",
        THREE_STAR: "three_star",
    }
    assert all(v["certificate"]["holder"]["uscc"] == world.multi_uscc for v in verdicts.values())
    # One of its certificates is enough for the bidder.
    assert [v["meets_min_level"] for v in verdicts.values()] == [False, True, False]
    assert result["meets_min_level"] is True


def test_a_uscc_without_certificates_is_not_found_not_an_empty_list(world: World) -> None:
    from tests.factories import uscc

    nobody = uscc("nobody-holds-anything")
    response = world.verify([nobody], min_level="compliant")
    (result,) = response.json()["results"]
    (verdict,) = result["verdicts"]
    assert verdict["status"] == "not_found" and verdict["number"] is None
    assert nobody in verdict["reason"]
    assert verdict["meets_min_level"] is False and result["meets_min_level"] is False


MIN_LEVEL_CASES = [
    # (number, as_of, min_level, meets, words the reason must contain)
    (FIVE_STAR, "now", "five_star", True, "meets the minimum level five_star"),
    (FIVE_STAR, "now", "four_star", True, "meets the minimum level four_star"),
    (
        THREE_STAR,
        "now",
        "four_star",
        False,
        "level three_star is below the minimum level four_star",
    ),
    (EXPIRED, "day(10)", "compliant", True, "meets the minimum level compliant"),
    (EXPIRED, "now", "compliant", False, "only a valid certificate meets"),
    (SUSPENDED_THEN_REINSTATED, "day(110)", "three_star", False, "suspended since"),
    (SUSPENDED_THEN_REINSTATED, "day(140)", "four_star", True, "meets the minimum level"),
    (REVOKED, "now", "compliant", False, "revoked at"),
    (REVOKED, "day(-5)", "compliant", False, "not valid before"),
    (UNKNOWN, "now", "compliant", False, "no certificate with number"),
]


@pytest.mark.parametrize(("number", "as_of", "min_level", "meets", "reason"), MIN_LEVEL_CASES)
def test_min_level_answers_valid_and_at_least_that_level_and_says_why_not(
    world: World, number: str, as_of: str, min_level: str, meets: bool, reason: str
) -> None:
    when = as_of_text(world, as_of)
    params = {"min_level": min_level, **({"at": when} if when else {})}
    single = world.client.get(f"/api/v1/certificates/{number}/verification", params=params).json()
    assert single["meets_min_level"] is meets
    assert reason in single["reason"]
    bulk = world.verify([number], min_level=min_level, **({"as_of": when} if when else {}))
    (verdict,) = bulk.json()["results"][0]["verdicts"]
    assert verdict["meets_min_level"] is meets
    assert reason in verdict["reason"]


def test_without_min_level_there_is_no_meets_member(world: World) -> None:
    single = world.client.get(f"/api/v1/certificates/{FIVE_STAR}/verification").json()
    assert "meets_min_level" not in single
    (result,) = world.verify([FIVE_STAR]).json()["results"]
    assert "meets_min_level" not in result and "meets_min_level" not in result["verdicts"][0]


def test_items_are_read_as_people_type_them_and_repeats_are_answered_once(world: World) -> None:
    lower = FIVE_STAR.lower()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in THREE_STAR)
    response = world.verify([f"  {lower} ", FIVE_STAR, fullwidth, world.multi_uscc.lower()])
    body = response.json()
    assert [r["item"] for r in body["results"]] == [FIVE_STAR, THREE_STAR, world.multi_uscc]
    assert body["duplicates"] == [{"index": 1, "item": FIVE_STAR, "same_as": 0}]


def test_the_receipt_verifies_with_pyjwt_against_the_registry_key_in_the_jwks(
    world: World,
) -> None:
    items = [FIVE_STAR, world.multi_uscc, UNKNOWN]
    response = world.verify(items, as_of="2026-10-01", min_level="four_star")
    body = response.json()
    token = body["receipt"]

    jwks = world.client.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": header["kid"], "typ": "starmark-receipt+jws"}
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert jwk["body"] == "registry" and jwk["state"] == "active"
    # The registry's key is none of the bodies' keys.
    assert header["kid"] != world.body.kid
    decoded = jwt.api_jws.PyJWS().decode_complete(token, key=jwt.PyJWK(jwk), algorithms=["EdDSA"])
    payload = json.loads(decoded["payload"])

    assert payload["type"] == "starmark.receipt" and payload["v"] == 1
    assert payload["issuer"] == {"code": "registry"}
    assert payload["request"] == {"items": items, "as_of": "2026-10-01", "min_level": "four_star"}
    assert payload["as_of"] == body["as_of"] == "2026-09-30T16:00:00Z"
    assert payload["checked_at"] == body["checked_at"] == payload["signed_at"]
    # The receipt records each verdict the answer gave, without the certificate payloads.
    assert [r["item"] for r in payload["results"]] == [r["item"] for r in body["results"]]
    for signed, answered in zip(payload["results"], body["results"], strict=True):
        assert signed["meets_min_level"] == answered["meets_min_level"]
        for s, a in zip(signed["verdicts"], answered["verdicts"], strict=True):
            assert {
                k: s[k] for k in ("number", "status", "level", "reason", "meets_min_level")
            } == {k: a[k] for k in ("number", "status", "level", "reason", "meets_min_level")}
            assert "certificate" not in s
            if a["certificate"] is not None:
                assert s["holder"]["name"] == a["certificate"]["holder"]["name"]
                assert s["valid_until"] == a["certificate"]["valid_until"]
    assert body["receipt_url"] is None  # returned, not kept (PRODUCT §4)


def flip_one_byte(token: str) -> str:
    """The receipt with one byte of its signed payload changed (still valid base64url)."""
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    index = raw.index(b'"valid"')
    raw[index + 1] = ord("V")  # "valid" -> "Valid"
    changed = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    return f"{header}.{changed}.{signature}"


def test_one_byte_changed_and_the_receipt_no_longer_verifies(world: World) -> None:
    token = world.verify([FIVE_STAR]).json()["receipt"]
    tampered = flip_one_byte(token)
    assert tampered != token
    jwk = next(
        k
        for k in world.client.get("/.well-known/jwks.json").json()["keys"]
        if k["body"] == "registry"
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.PyJWS().decode_complete(tampered, key=jwt.PyJWK(jwk), algorithms=["EdDSA"])
    # The registry's receipt-check page says so too.
    page = world.client.post("/verify/receipt", data={"jws": tampered})
    assert 'data-status="signature_invalid"' in page.text


def test_the_registry_key_exists_from_the_start_and_is_kept_encrypted(
    world: World, settings: Settings
) -> None:
    keys = world.client.get("/.well-known/jwks.json").json()["keys"]
    registry_keys = [k for k in keys if k["body"] == "registry"]
    assert len(registry_keys) == 1
    assert registry_keys[0]["alg"] == "EdDSA" and registry_keys[0]["use"] == "sig"
    rows = asyncio.run(
        SigningKey.select(SigningKey.kid, SigningKey.encrypted_private_key, SigningKey.custody)
        .where(SigningKey.body.is_null())
        .run()
    )
    assert [r["kid"] for r in rows] == [registry_keys[0]["kid"]]
    assert rows[0]["custody"] == "hosted"
    assert rows[0]["encrypted_private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    # A receipt is signed with that key.
    token = world.verify([FIVE_STAR]).json()["receipt"]
    assert jwt.get_unverified_header(token)["kid"] == registry_keys[0]["kid"]


def test_processes_starting_at_once_end_with_one_registry_key(
    clean_db: Any, settings: Settings
) -> None:
    vault = HostedKeyVault(settings.keys)

    async def start_many() -> list[str]:
        now = datetime.now(UTC)
        return list(
            await asyncio.gather(*(ensure_registry_key(vault=vault, now=now) for _ in range(4)))
        )

    kids = asyncio.run(start_many())
    rows = asyncio.run(SigningKey.select(SigningKey.kid).where(SigningKey.body.is_null()).run())
    assert len(rows) == 1, rows
    assert set(kids) == {rows[0]["kid"]}
    # And a later start keeps it.
    assert asyncio.run(ensure_registry_key(vault=vault, now=datetime.now(UTC))) == rows[0]["kid"]


BAD_REQUESTS = [
    ("no items", {"items": []}, "items", "at least one"),
    ("items missing", {}, "items", "list"),
    ("items not a list", {"items": FIVE_STAR}, "items", "list"),
    ("501 items", {"items": [f"TND-MANY-{i:04d}" for i in range(501)]}, "items", "500"),
    ("bad as_of", {"items": [FIVE_STAR], "as_of": "1 October"}, "as_of", "RFC 3339"),
    ("as_of not a date", {"items": [FIVE_STAR], "as_of": "2026-10-01 25:00"}, "as_of", ""),
    ("as_of not a string", {"items": [FIVE_STAR], "as_of": 20261001}, "as_of", ""),
    (
        "unknown min_level",
        {"items": [FIVE_STAR], "min_level": "six_star"},
        "min_level",
        "five_star",
    ),
    ("neither number nor USCC", {"items": [FIVE_STAR, "证书编号"]}, "items[1]", "neither"),
    ("item not a string", {"items": [FIVE_STAR, 42]}, "items[1]", "string"),
    ("unknown member", {"items": [FIVE_STAR], "asof": "2026-10-01"}, "asof", "unknown"),
]


@pytest.mark.parametrize(
    ("case", "request_body", "field", "words"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_requests_get_422_naming_the_field_and_change_nothing(
    world: World, case: str, request_body: dict[str, Any], field: str, words: str
) -> None:
    before = count_rows()
    response = world.client.post("/api/v1/verifications", json=request_body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in messages, problem
    assert words in messages[field] + problem["detail"], problem
    assert count_rows() == before


def test_every_bad_item_is_named_at_once(world: World) -> None:
    response = world.client.post(
        "/api/v1/verifications",
        json={"items": ["??", FIVE_STAR, "x", "证书编号"], "min_level": "best"},
    )
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["items[0]", "items[2]", "items[3]", "min_level"]


def test_a_mistyped_uscc_is_not_found_and_the_reason_says_what_is_wrong(world: World) -> None:
    # The letters I, O, Z, S and V never occur in a USCC: S and Z here are typos.
    (result,) = world.verify(["91370212MA3C5XYZ1A"]).json()["results"]
    (verdict,) = result["verdicts"]
    assert verdict["status"] == "not_found"
    assert "read as a USCC, it is wrong" in verdict["reason"]
    assert "I, O, Z, S and V are never used" in verdict["reason"]
    wrong_check = world.multi_uscc[:17] + ("0" if world.multi_uscc[17] != "0" else "1")
    (result,) = world.verify([wrong_check]).json()["results"]
    assert "check character" in result["verdicts"][0]["reason"]


def test_a_registered_number_that_reads_as_a_uscc_is_that_certificate(world: World) -> None:
    from tests.factories import certificate_fields, uscc

    number = uscc("a body that numbers certificates like USCCs")
    issued = world.client.post(
        "/api/v1/certificates",
        json=certificate_fields(number, score=96, start=world.start),
        headers=world.body.auth,
    )
    assert issued.status_code == 201, issued.text
    (result,) = world.verify([number]).json()["results"]
    assert result["kind"] == "number"
    assert [(v["number"], v["status"]) for v in result["verdicts"]] == [(number, "valid")]


def test_unreadable_bodies_are_4xx_and_change_nothing(world: World) -> None:
    before = count_rows()
    broken = world.client.post(
        "/api/v1/verifications",
        content=b'{"items": [',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400, broken.text
    array = world.client.post("/api/v1/verifications", json=[FIVE_STAR])
    assert array.status_code == 422, array.text
    huge = world.client.post("/api/v1/verifications", json={"items": ["X" * 2_000_000]})
    assert huge.status_code == 413
    assert count_rows() == before


def test_five_hundred_items_in_one_request(world: World) -> None:
    items = [FIVE_STAR, world.multi_uscc] + [f"TND-BULK-{i:04d}" for i in range(498)]
    response = world.verify(items, min_level="three_star")
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["results"]) == 500
    found = [r for r in body["results"] if r["verdicts"][0]["status"] != "not_found"]
    assert [r["item"] for r in found] == [FIVE_STAR, world.multi_uscc]
    payload = jwt.api_jws.PyJWS().decode_complete(
        body["receipt"],
        key=jwt.PyJWK(
            next(
                k
                for k in world.client.get("/.well-known/jwks.json").json()["keys"]
                if k["body"] == "registry"
            )
        ),
        algorithms=["EdDSA"],
    )
    assert len(json.loads(payload["payload"])["results"]) == 500


def test_a_receipt_too_large_for_one_jws_is_refused_and_nothing_is_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a USCC with well over a thousand certificates reaches the real bound
    # (MAX_RECEIPT_LENGTH, 960 KiB); a smaller bound stands in for it here.
    import registry.tender.services

    monkeypatch.setattr(registry.tender.services, "MAX_RECEIPT_LENGTH", 1000)
    before = count_rows()
    response = world.verify([world.multi_uscc, FIVE_STAR])
    assert response.status_code == 422, response.text
    assert "split the list" in response.json()["detail"]
    page = world.client.post(
        "/verify", data={"items": world.multi_uscc}, headers={"Accept": "text/html"}
    )
    # The page says it in its language (Chinese by default).
    assert page.status_code == 422 and "一张回执容纳不下这么多证书。请将名单拆成几份。" in page.text
    english = world.client.post(
        "/verify?lang=en", data={"items": world.multi_uscc}, headers={"Accept": "text/html"}
    )
    assert english.status_code == 422 and "Split the list into smaller ones." in english.text
    assert count_rows() == before


def test_receipts_are_returned_not_kept_unless_asked(world: World) -> None:
    from tests.factories import count_rows

    before = count_rows()["verification_receipt"]
    anonymous = world.verify([FIVE_STAR]).json()
    assert anonymous["receipt"] and anonymous["receipt_url"] is None
    assert count_rows()["verification_receipt"] == before
    gone = world.client.get(f"/verify/receipts/{anonymous['receipt_id']}/receipt.jws")
    assert gone.status_code == 404

    kept = world.verify([FIVE_STAR, UNKNOWN], keep=True).json()
    assert kept["receipt_url"].endswith(f"/verify/receipts/{kept['receipt_id']}")
    assert count_rows()["verification_receipt"] == before + 1
    stored = world.client.get(f"/verify/receipts/{kept['receipt_id']}/receipt.jws")
    assert stored.status_code == 200 and stored.text == kept["receipt"]


def test_keep_must_be_a_boolean(world: World) -> None:
    response = world.verify([FIVE_STAR], keep="yes")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "keep"
