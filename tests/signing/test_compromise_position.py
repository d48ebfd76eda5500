"""A compromised key judged by log position (PRODUCT §3; docs/architecture.md).

The transparency log's key statement that marks a key compromised has a leaf
index; a document logged after it does not count, whatever ``signed_at`` it
claims. Pure: the caller passes the indexes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from signing.documents import KeyStatementPayload
from signing.errors import InvalidKeyError, InvalidPayloadError, KeyNotUsableError, SigningError
from signing.jwks import KeySet
from signing.jws import KEY_TYP, sign_compact
from signing.keys import KeyRecord, KeyState, PrivateKey
from signing.verdict import SignedInput, VerdictStatus, certificate_verdict, compromise_marks

from .conftest import BODY

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
DURING = datetime(2026, 3, 1, tzinfo=UTC)
SINCE = datetime(2025, 1, 1, tzinfo=UTC)
#: After the documents' signed_at (the fixtures sign in January 2026).
COMPROMISED_AT = datetime(2026, 2, 1, tzinfo=UTC)
REGISTRY = PrivateKey.from_seed(bytes(range(200, 232)))
REGISTRY_KEYS = KeySet.of(KeyRecord(REGISTRY.public_key, body="registry"))


def statement(key: PrivateKey, *, state: str = "compromised", body: str = BODY) -> str:
    payload = KeyStatementPayload(
        kid=key.kid,
        body=body,
        jwk=key.public_key.to_jwk(),
        not_before=SINCE,
        not_after=None,
        state=state,
        compromised_at=COMPROMISED_AT if state == "compromised" else None,
        signed_at=COMPROMISED_AT,
    )
    return sign_compact(payload.to_json(), key=REGISTRY, typ=KEY_TYP)


def body_keys(key: PrivateKey) -> KeySet:
    # As the key table would say after an intruder erased the compromise.
    return KeySet.of(KeyRecord(key.public_key, body=BODY, not_before=SINCE))


def judged(token: str, keys: KeySet, log_index: int | None) -> Any:
    return certificate_verdict(
        revisions=[SignedInput(token, log_index=log_index)],
        events=[],
        keys=keys,
        at=DURING,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("log_index", "status"),
    [
        (4, VerdictStatus.VALID),
        (6, VerdictStatus.SIGNATURE_INVALID),
        (None, VerdictStatus.VALID),
    ],
    ids=["logged-before-the-statement", "logged-after-the-statement", "position-unknown"],
)
def test_a_document_counts_only_when_logged_before_the_compromise_statement(
    docs: Any, body_key: PrivateKey, log_index: int | None, status: VerdictStatus
) -> None:
    marks = compromise_marks(
        [(2, statement(body_key, state="active")), (5, statement(body_key))],
        registry_keys=REGISTRY_KEYS,
        body=BODY,
    )
    assert marks == {body_key.kid: (COMPROMISED_AT, 5)}
    # signed_at (January) is before compromised_at: only the position tells them apart.
    result = judged(
        docs.sign(docs.certificate()), body_keys(body_key).with_compromises(marks), log_index
    )
    assert result.status is status
    if status is VerdictStatus.SIGNATURE_INVALID:
        assert "marked compromised by log entry 5" in result.reason


def test_a_later_statement_does_not_undo_a_compromise(body_key: PrivateKey) -> None:
    marks = compromise_marks(
        [(5, statement(body_key)), (9, statement(body_key, state="active"))],
        registry_keys=REGISTRY_KEYS,
    )
    assert marks == {body_key.kid: (COMPROMISED_AT, 5)}


def test_the_log_only_takes_trust_away(body_key: PrivateKey) -> None:
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    record = KeyRecord(
        body_key.public_key, body=BODY, state=KeyState.COMPROMISED, compromised_at=earlier
    )
    marked = record.compromised_by(COMPROMISED_AT, 5)
    assert (marked.compromised_at, marked.compromise_index) == (earlier, 5)
    with pytest.raises(KeyNotUsableError, match="log entry 5"):
        marked.check_usable(datetime(2025, 6, 1, tzinfo=UTC), log_index=6)
    marked.check_usable(datetime(2025, 6, 1, tzinfo=UTC), log_index=4)


def test_a_compromise_index_needs_compromised_at(body_key: PrivateKey) -> None:
    with pytest.raises(InvalidKeyError):
        KeyRecord(body_key.public_key, compromise_index=3)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda key: statement(key) + "x", id="bad-signature"),
        pytest.param(
            lambda key: sign_compact({"type": "starmark.key"}, key=REGISTRY, typ=KEY_TYP),
            id="unreadable",
        ),
        pytest.param(lambda key: statement(key, body="OTHER"), id="another-body"),
        pytest.param(
            lambda key: sign_compact(
                KeyStatementPayload.from_json(
                    {**_payload(key), "state": "compromised"}
                    | {"compromised_at": "2026-02-01T00:00:00Z"}
                ).to_json(),
                key=key,
                typ=KEY_TYP,
            ),
            id="signed-by-the-body-not-the-registry",
        ),
    ],
)
def test_a_statement_that_does_not_hold_is_refused(body_key: PrivateKey, bad: Any) -> None:
    with pytest.raises(SigningError):
        compromise_marks([(1, bad(body_key))], registry_keys=REGISTRY_KEYS, body=BODY)


def _payload(key: PrivateKey) -> dict[str, Any]:
    return {
        "type": "starmark.key",
        "v": 1,
        "kid": key.kid,
        "body": BODY,
        "jwk": key.public_key.to_jwk(),
        "not_before": "2025-01-01T00:00:00Z",
        "state": "active",
        "signed_at": "2026-02-01T00:00:00Z",
    }


def test_key_statement_payload_round_trips(body_key: PrivateKey) -> None:
    payload = KeyStatementPayload.from_json(_payload(body_key))
    assert payload.to_json() == _payload(body_key)
    assert not payload.compromised


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"state": "compromised"}, "compromised_at"),
        ({"compromised_at": "2026-02-01T00:00:00Z"}, "compromised_at"),
        ({"jwk": "x"}, "jwk"),
        ({"signed_at": "yesterday"}, "signed_at"),
        ({"extra": 1}, "extra"),
    ],
)
def test_key_statement_payload_refuses(
    body_key: PrivateKey, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        KeyStatementPayload.from_json(_payload(body_key) | change)
    assert field in str(caught.value)
