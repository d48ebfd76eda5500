"""A row changed in the database without a new signature never gives a green page.

The edits are made the way an intruder (or a careless operator) would make them:
straight SQL on the tables, around the registry's services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.querystring import QueryString

from registry.certificates.tables import Certificate
from tests.conftest import run
from tests.factories import BodyFixture, make_operator_token
from tests.registry.verification.conftest import add_event, issue, today, verdict_of

NUMBER = "SMT-TAMPER-0001"


def sql(statement: str, *values: Any) -> None:
    """Run SQL on the test database directly (Piccolo's `{}` placeholders, both engines)."""
    run(Certificate._meta.db.run_querystring(QueryString(statement, *values)))


def page_verdict(client: TestClient[Any], number: str = NUMBER, **params: str) -> dict[str, Any]:
    response = client.get(f"/v/{number}", params=params)
    assert response.status_code == 200
    return verdict_of(response.text)


@pytest.fixture
def revoked(client: TestClient[Any], body: BodyFixture) -> str:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    add_event(
        client,
        body,
        NUMBER,
        "revoked",
        effective_at=(today() - timedelta(days=10)).isoformat(),
        reason="虚假宣传",
    )
    assert page_verdict(client)["status"] == "revoked"
    return NUMBER


CERTIFICATE_EDITS = [
    ("holder name", "UPDATE certificate SET holder_name = {} WHERE number = {}", "另一家公司"),
    ("english name", "UPDATE certificate SET holder_name_en = {} WHERE number = {}", "Other Co."),
    ("level", "UPDATE certificate SET level = {} WHERE number = {}", "three_star"),
    ("status", "UPDATE certificate SET status = {} WHERE number = {}", "suspended"),
    ("scope", "UPDATE certificate SET scope_zh = {} WHERE number = {}", "所有产品"),
    ("valid until", "UPDATE certificate SET valid_until = {} WHERE number = {}", None),
]


@pytest.mark.parametrize(
    ("what", "statement", "value"), CERTIFICATE_EDITS, ids=[e[0] for e in CERTIFICATE_EDITS]
)
def test_a_copy_column_changed_without_a_signature_shows_signature_invalid(
    client: TestClient[Any], body: BodyFixture, what: str, statement: str, value: Any
) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    before = client.get(f"/v/{NUMBER}")
    assert verdict_of(before.text)["status"] == "valid"
    if value is None:  # a later date than signed
        value = today() + timedelta(days=3 * 365)
    sql(statement, value, NUMBER)
    for lang in ("zh-CN", "en"):
        response = client.get(f"/v/{NUMBER}", params={"lang": lang})
        shown = verdict_of(response.text)
        assert shown["status"] == "signature_invalid"
        assert shown["words"] == ("签名无效" if lang == "zh-CN" else "Signature invalid")
        assert shown["level"] is None
        assert "v-ok" not in response.text
        # Nothing from the untrustworthy record is shown as if it were signed.
        assert "data-signed=" not in response.text
        assert "另一家公司" not in response.text
    # And no mark is printed for it.
    assert client.get(f"/v/{NUMBER}/mark.png").status_code == 409
    # The JSON verdict says the same as the page, with or without a minimum level.
    api = client.get(f"/api/v1/certificates/{NUMBER}/verification").json()
    assert api["status"] == "signature_invalid" and api["signature"]["valid"] is False
    asked = client.get(
        f"/api/v1/certificates/{NUMBER}/verification", params={"min_level": "compliant"}
    ).json()
    assert asked["status"] == "signature_invalid" and asked["meets_min_level"] is False


def test_reinstating_a_revoked_certificate_in_the_database_does_not_make_it_valid(
    client: TestClient[Any], revoked: str
) -> None:
    # The intruder "reinstates" it: both the certificate row and the event row.
    sql("UPDATE certificate SET status = {} WHERE number = {}", "valid", revoked)
    assert page_verdict(client)["status"] == "signature_invalid"
    sql(
        "UPDATE status_event SET status = {} WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        "reinstated",
        revoked,
    )
    assert page_verdict(client)["status"] == "signature_invalid"


def test_deleting_the_revocation_row_alone_changes_no_answer(
    client: TestClient[Any], revoked: str
) -> None:
    """The revocation is read from the transparency log; the event table is an index
    (and `starmark log verify` reports the missing row: tests/registry/log)."""
    sql(
        "DELETE FROM status_event WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        revoked,
    )
    assert page_verdict(client)["status"] == "revoked"


@pytest.mark.parametrize("part", ["signature", "payload", "header"])
def test_a_damaged_stored_signature_shows_signature_invalid(
    client: TestClient[Any], revoked: str, part: str
) -> None:
    document = client.get(f"/api/v1/certificates/{revoked}").json()
    token: str = document["revisions"][0]["jws"]
    header, payload, signature = token.split(".")
    flip = lambda s: s[:10] + ("A" if s[10] != "A" else "B") + s[11:]  # noqa: E731 - one character
    damaged = {
        "signature": f"{header}.{payload}.{flip(signature)}",
        "payload": f"{header}.{flip(payload)}.{signature}",
        "header": f"{flip(header)}.{payload}.{signature}",
    }[part]
    # The record is the log entry (the revision table is an index over the log).
    sql(
        "UPDATE log_entry SET jws = {} WHERE number = {} AND typ = 'starmark-cert+jws'",
        damaged,
        revoked,
    )
    shown = page_verdict(client)
    assert shown["status"] == "signature_invalid"
    # Also for an instant in the past, when it was valid.
    past = (today() - timedelta(days=30)).isoformat()
    assert page_verdict(client, at=past)["status"] == "signature_invalid"


def test_a_genuine_signature_of_another_certificate_is_not_green(
    client: TestClient[Any], body: BodyFixture
) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    other = issue(client, body, "SMT-OTHER-0001", score=80, start=today() - timedelta(days=90))
    sql(
        "UPDATE log_entry SET jws = {} WHERE number = {} AND typ = 'starmark-cert+jws'",
        other["revisions"][0]["jws"],
        NUMBER,
    )
    shown = page_verdict(client)
    assert shown["status"] in ("malformed", "signature_invalid")
    assert shown["level"] is None


def test_a_key_marked_compromised_before_it_signed_makes_the_page_red(
    client: TestClient[Any], body: BodyFixture
) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    assert page_verdict(client)["status"] == "valid"
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    compromised_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = client.post(
        f"/api/v1/keys/{body.kid}/compromise",
        json={"compromised_at": compromised_at},
        headers=operator,
    )
    assert response.status_code == 200, response.text
    assert page_verdict(client)["status"] == "signature_invalid"


def test_restoring_the_row_restores_the_verdict(client: TestClient[Any], body: BodyFixture) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    sql("UPDATE certificate SET level = {} WHERE number = {}", "three_star", NUMBER)
    assert page_verdict(client)["status"] == "signature_invalid"
    sql("UPDATE certificate SET level = {} WHERE number = {}", "five_star", NUMBER)
    assert page_verdict(client) == {
        "status": "valid",
        "level": "five_star",
        "words": "有效",
        "lang": "zh-CN",
    }


@pytest.mark.parametrize("jwk", ["not json", '{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}'])
def test_a_damaged_key_row_makes_the_page_red_not_an_error(
    client: TestClient[Any], body: BodyFixture, jwk: str
) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    sql("UPDATE signing_key SET public_jwk = {} WHERE kid = {}", jwk, body.kid)
    response = client.get(f"/v/{NUMBER}")
    assert response.status_code == 200
    assert verdict_of(response.text)["status"] == "signature_invalid"


def compromise_now(client: TestClient[Any], kid: str | None) -> None:
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    response = client.post(f"/api/v1/keys/{kid}/compromise", json={}, headers=operator)
    assert response.status_code == 200, response.text


def test_a_compromise_erased_from_the_key_table_still_holds_from_the_log(
    client: TestClient[Any], body: BodyFixture
) -> None:
    compromise_now(client, body.kid)
    sql("UPDATE signing_key SET state = 'active', compromised_at = NULL WHERE kid = {}", body.kid)
    # The write side now takes the key for usable and signs with it; the log
    # still holds the statement, so what the key signs after it counts nowhere.
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    assert page_verdict(client)["status"] == "signature_invalid"
    api = client.get(f"/api/v1/certificates/{NUMBER}/verification")
    assert api.status_code == 200
    assert api.json()["status"] == "signature_invalid"


def test_a_damaged_key_statement_in_the_log_makes_the_page_red(
    client: TestClient[Any], body: BodyFixture
) -> None:
    issue(client, body, NUMBER, score=96, start=today() - timedelta(days=90))
    assert page_verdict(client)["status"] == "valid"
    sql(
        "UPDATE log_entry SET jws = jws || 'x' WHERE typ = 'starmark-key+jws' AND body = {}",
        body.code,
    )
    assert page_verdict(client)["status"] == "signature_invalid"
