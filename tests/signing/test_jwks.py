"""KeySet: the registry's JWKS with its extra members, and plain JWKS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from signing.errors import InvalidKeyError, UnknownKeyError
from signing.jwks import KeySet
from signing.keys import KeyRecord, KeyState, PrivateKey

KEY_A = PrivateKey.from_seed(bytes(range(32)))
KEY_B = PrivateKey.from_seed(bytes(range(1, 33)))
NOT_BEFORE = datetime(2025, 1, 1, tzinfo=UTC)
COMPROMISED_AT = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)


def served_jwks() -> dict[str, Any]:
    """A JWKS as the registry serves it (PRODUCT §4)."""
    return {
        "keys": [
            {
                "kid": KEY_A.kid,
                **KEY_A.public_key.to_jwk(),
                "use": "sig",
                "alg": "EdDSA",
                "body": "CQC",
                "not_before": "2025-01-01T00:00:00Z",
                "not_after": None,
                "state": "active",
                "compromised_at": None,
            },
            {
                "kid": KEY_B.kid,
                **KEY_B.public_key.to_jwk(),
                "use": "sig",
                "alg": "EdDSA",
                "body": "registry",
                "not_before": "2025-01-01T08:00:00+08:00",
                "not_after": "2027-01-01T00:00:00Z",
                "state": "compromised",
                "compromised_at": "2026-07-01T12:30:00Z",
            },
        ]
    }


def test_a_served_jwks_is_read_with_our_members() -> None:
    keys = KeySet.from_jwks(served_jwks())
    a, b = keys.get(KEY_A.kid), keys.get(KEY_B.kid)
    assert a == KeyRecord(KEY_A.public_key, body="CQC", not_before=NOT_BEFORE)
    assert b.body == "registry"
    assert b.not_before == NOT_BEFORE
    assert b.not_after == datetime(2027, 1, 1, tzinfo=UTC)
    assert b.state is KeyState.COMPROMISED
    assert b.compromised_at == COMPROMISED_AT
    assert [r.kid for r in keys.records] == [KEY_A.kid, KEY_B.kid]
    assert KEY_A.kid in keys and len(keys) == 2


def test_to_jwks_is_the_served_form_and_round_trips() -> None:
    keys = KeySet.from_jwks(served_jwks())
    out = keys.to_jwks()
    # Instants come back normalised to UTC with Z.
    expected = served_jwks()
    expected["keys"][1]["not_before"] = "2025-01-01T00:00:00Z"
    assert out == expected
    assert KeySet.from_jwks(json.loads(json.dumps(out))).records == keys.records


def test_a_plain_jwks_gives_unbounded_active_keys_bound_to_no_body() -> None:
    keys = KeySet.from_jwks({"keys": [KEY_A.public_key.to_jwk()]})
    record = keys.get(KEY_A.kid)
    assert record == KeyRecord(KEY_A.public_key)
    assert record.body is None and record.state is KeyState.ACTIVE
    assert record.not_before is None and record.not_after is None
    assert keys.to_jwks()["keys"][0]["compromised_at"] is None


def test_unknown_kid() -> None:
    with pytest.raises(UnknownKeyError, match="unknown key 'nope'"):
        KeySet.of().get("nope")


def with_key_changes(**changes: Any) -> dict[str, Any]:
    jwks = served_jwks()
    jwks["keys"][0].update(changes)
    return jwks


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        pytest.param([], "JSON object", id="not-an-object"),
        pytest.param({}, '"keys" array', id="no-keys"),
        pytest.param({"keys": {}}, '"keys" array', id="keys-not-array"),
        pytest.param({"keys": ["x"]}, r"keys\[0\]: a JWK is a JSON object", id="key-not-object"),
        pytest.param(with_key_changes(kid=KEY_B.kid), "not the key's RFC 7638", id="wrong-kid"),
        pytest.param(with_key_changes(use="enc"), "use must be 'sig'", id="use-enc"),
        pytest.param(with_key_changes(alg="ES256"), "alg must be 'EdDSA'", id="alg"),
        pytest.param(with_key_changes(crv="P-256"), "crv must be 'Ed25519'", id="crv"),
        pytest.param(with_key_changes(state="lost"), "state must be one of", id="state"),
        pytest.param(with_key_changes(body=""), "body must be", id="empty-body"),
        pytest.param(
            with_key_changes(not_before="2025-01-01"), None, id="bare-date-not_before-is-fine"
        ),
        pytest.param(
            with_key_changes(not_before="2025-01-01T00:00:00"), "no UTC offset", id="naive"
        ),
        pytest.param(with_key_changes(not_after=20250101), "RFC 3339 string", id="number"),
        pytest.param(
            with_key_changes(state="compromised"), "compromised_at is required", id="no-when"
        ),
        pytest.param(
            {"keys": [KEY_A.public_key.to_jwk(), KEY_A.public_key.to_jwk()]},
            "appears twice",
            id="duplicate",
        ),
    ],
)
def test_bad_jwks(jwks: Any, message: str | None) -> None:
    if message is None:
        KeySet.from_jwks(jwks)
        return
    with pytest.raises(InvalidKeyError, match=message):
        KeySet.from_jwks(jwks)
