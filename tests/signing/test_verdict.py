"""Verdicts: what a person scanning a mark, or a tender evaluator, is told."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signing.documents import ReceiptPayload
from signing.instants import CST
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, RECEIPT_TYP, STATUS_TYP, sign_compact
from signing.keys import KeyRecord, KeyState, PrivateKey
from signing.scheme import StarLevel
from signing.status import EventStatus as E
from signing.verdict import (
    FUTURE_SIGNED_AT_TOLERANCE,
    REASON_CODES,
    SignedInput,
    Verdict,
    VerdictStatus,
    certificate_verdict,
    document_verdict,
    not_found_verdict,
)

NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
DURING = datetime(2026, 3, 1, tzinfo=UTC)


def cst(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=CST)


def verdict(
    revisions: list[str],
    events: list[str] | None = None,
    *,
    keys: KeySet,
    at: datetime = DURING,
    min_level: StarLevel | None = None,
    recorded_at: datetime | None = None,
    now: datetime = NOW,
) -> Verdict:
    return certificate_verdict(
        revisions=[SignedInput(t, recorded_at=recorded_at) for t in revisions],
        events=[SignedInput(t, recorded_at=recorded_at) for t in events or []],
        keys=keys,
        at=at,
        now=now,
        min_level=min_level,
    )


def test_a_valid_certificate(docs: Any, keyset: KeySet, body_key: PrivateKey) -> None:
    certificate = docs.certificate()
    result = verdict([docs.sign(certificate)], keys=keyset)
    assert result.to_json() == {
        "number": "CQC-2026-ASS-0001",
        "status": "valid",
        "signature": {"valid": True, "kid": body_key.kid, "issuer": "CQC"},
        "as_of": "2026-03-01T00:00:00Z",
        "checked_at": "2026-03-01T04:00:00Z",
        "revision": 1,
        "level": "four_star",
        "warnings": [],
        "certificate": certificate.to_json(),
        "reason": "valid at 2026-03-01T00:00:00Z, signed by CQC",
        "reason_code": "valid",
        "reason_params": {"at": "2026-03-01T00:00:00Z", "issuer": "CQC"},
    }
    assert result.is_valid
    assert result.certificate == certificate


@pytest.mark.parametrize(
    ("events", "at", "status", "reason"),
    [
        ([(E.SUSPENDED, (2026, 2, 1), "整改中")], DURING, "suspended",
         "suspended since 2026-01-31T16:00:00Z: 整改中"),
        ([(E.SUSPENDED, (2026, 2, 1), None), (E.REINSTATED, (2026, 2, 20), None)], DURING,
         "valid", "valid at"),
        ([(E.REVOKED, (2026, 2, 1), "违规")], DURING, "revoked",
         "revoked at 2026-01-31T16:00:00Z: 违规"),
        ([(E.WITHDRAWN, (2026, 2, 1), None)], DURING, "withdrawn", "withdrawn at"),
        ([], cst(2029, 1, 5), "expired", "expired at 2029-01-04T16:00:00Z"),
        ([], cst(2026, 1, 4), "not_yet_valid", "not valid before 2026-01-05"),
    ],
)  # fmt: skip
def test_each_status(
    docs: Any,
    keyset: KeySet,
    events: list[tuple[E, tuple[int, int, int], str | None]],
    at: datetime,
    status: str,
    reason: str,
) -> None:
    tokens = [docs.sign(docs.event(s, cst(*day), reason=why)) for s, day, why in events]
    result = verdict([docs.sign(docs.certificate())], tokens, keys=keyset, at=at)
    assert result.status.value == status
    assert result.reason.startswith(reason)
    assert result.signature_valid
    assert result.level is StarLevel.FOUR_STAR and result.revision == 1


def test_surveillance_overdue_warning(docs: Any, keyset: KeySet) -> None:
    result = verdict([docs.sign(docs.certificate())], keys=keyset, at=cst(2027, 5, 1))
    assert result.status is VerdictStatus.VALID
    assert result.to_json()["warnings"] == ["surveillance_overdue"]
    assert "surveillance overdue" in result.reason


def test_the_revision_in_force_gives_the_level(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    first = docs.sign(docs.certificate())
    second = docs.sign(docs.certificate(revision=2, score=97, signed_at=cst(2027, 1, 10)))
    # Checked in February 2027, once both revisions are signed.
    now = cst(2027, 2, 1)
    early = verdict([second, first], keys=keyset, at=cst(2026, 12, 1), now=now)  # any order
    late = verdict([first, second], keys=keyset, at=now, now=now)
    assert (early.revision, early.level) == (1, StarLevel.FOUR_STAR)
    assert (late.revision, late.level) == (2, StarLevel.FIVE_STAR)
    assert late.to_json()["certificate"]["score"] == 97


# --- min_level ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "meets", "reason"),
    [
        (StarLevel.COMPLIANT, True, "meets the minimum level compliant"),
        (StarLevel.FOUR_STAR, True, "meets the minimum level four_star"),
        (StarLevel.FIVE_STAR, False, "level four_star is below the minimum level five_star"),
    ],
)
def test_min_level(docs: Any, keyset: KeySet, level: StarLevel, meets: bool, reason: str) -> None:
    result = verdict([docs.sign(docs.certificate())], keys=keyset, min_level=level)
    assert result.to_json()["meets_min_level"] is meets
    assert reason in result.reason


def test_min_level_is_false_for_a_certificate_that_is_not_valid(docs: Any, keyset: KeySet) -> None:
    events = [docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1)))]
    result = verdict(
        [docs.sign(docs.certificate(score=99))], events, keys=keyset, min_level=StarLevel.THREE_STAR
    )
    assert result.status is VerdictStatus.SUSPENDED
    assert result.meets_min_level is False
    assert "only a valid certificate meets the minimum level three_star" in result.reason


def test_meets_min_level_is_absent_when_not_asked(docs: Any, keyset: KeySet) -> None:
    assert "meets_min_level" not in verdict([docs.sign(docs.certificate())], keys=keyset).to_json()


def test_not_found() -> None:
    result = not_found_verdict("CQC-404", at=DURING, now=NOW, min_level=StarLevel.COMPLIANT)
    assert result.to_json() == {
        "number": "CQC-404",
        "status": "not_found",
        "signature": {"valid": False, "kid": None, "issuer": None},
        "as_of": "2026-03-01T00:00:00Z",
        "checked_at": "2026-03-01T04:00:00Z",
        "revision": None,
        "level": None,
        "warnings": [],
        "certificate": None,
        "reason": "no certificate with number CQC-404 is registered",
        "reason_code": "not_found",
        "reason_params": {"number": "CQC-404", "min_level": "compliant", "level": None},
        "meets_min_level": False,
    }


# --- signature_invalid, for each cause ------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["score"] = 99
    body["level"] = "five_star"
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return f"{header}.{b64(canonical.encode())}.{signature}"


def assert_signature_invalid(result: Verdict, reason: str) -> None:
    assert result.status is VerdictStatus.SIGNATURE_INVALID
    assert result.to_json()["signature"]["valid"] is False
    assert result.certificate is None and result.level is None
    assert reason in result.reason


def test_a_tampered_certificate(docs: Any, keyset: KeySet) -> None:
    result = verdict([tamper(docs.sign(docs.certificate()))], keys=keyset)
    assert_signature_invalid(result, "does not verify")


def test_a_tampered_event_invalidates_the_certificate(docs: Any, keyset: KeySet) -> None:
    event = docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1)))
    header, payload, _ = event.split(".")
    forged = f"{header}.{payload}.{b64(bytes(64))}"
    result = verdict([docs.sign(docs.certificate())], [forged], keys=keyset)
    assert_signature_invalid(result, "status event #1")


def test_an_unknown_key(docs: Any, keyset: KeySet) -> None:
    stranger = PrivateKey.from_seed(b"\x09" * 32)
    result = verdict([docs.sign(docs.certificate(), key=stranger)], keys=keyset)
    assert_signature_invalid(result, f"unknown key '{stranger.kid}'")


def test_garbage(keyset: KeySet) -> None:
    assert_signature_invalid(verdict(["not a jws"], keys=keyset), "3 segments")


def record(key: PrivateKey, **kwargs: Any) -> KeySet:
    return KeySet.of(KeyRecord(key.public_key, body="CQC", **kwargs))


def test_a_key_compromised_before_signed_at(docs: Any, body_key: PrivateKey) -> None:
    keys = record(body_key, state=KeyState.COMPROMISED, compromised_at=cst(2026, 1, 1))
    result = verdict([docs.sign(docs.certificate())], keys=keys)
    assert_signature_invalid(result, "was compromised at 2025-12-31T16:00:00Z")


def test_a_key_compromised_after_signed_at_still_counts(docs: Any, body_key: PrivateKey) -> None:
    keys = record(body_key, state=KeyState.COMPROMISED, compromised_at=cst(2026, 2, 1))
    certificate = docs.sign(docs.certificate())
    assert verdict([certificate], keys=keys).status is VerdictStatus.VALID
    # ...unless the registry recorded it after the compromise: signed_at can be forged.
    late = verdict([certificate], keys=keys, recorded_at=cst(2026, 2, 2))
    assert_signature_invalid(late, "before the registry recorded the document")
    early = verdict([certificate], keys=keys, recorded_at=cst(2026, 1, 6))
    assert early.status is VerdictStatus.VALID


def test_signed_at_outside_the_key_window(docs: Any, body_key: PrivateKey) -> None:
    keys = record(body_key, not_before=cst(2026, 2, 1))
    assert_signature_invalid(verdict([docs.sign(docs.certificate())], keys=keys), "not yet valid")
    keys = record(body_key, not_after=cst(2026, 1, 1))
    assert_signature_invalid(verdict([docs.sign(docs.certificate())], keys=keys), "had expired")


def test_a_retired_key_still_verifies_inside_its_window(docs: Any, body_key: PrivateKey) -> None:
    keys = record(body_key, state=KeyState.RETIRED, not_after=cst(2026, 2, 1))
    assert verdict([docs.sign(docs.certificate())], keys=keys).status is VerdictStatus.VALID


def test_a_key_of_another_body(docs: Any, keyset: KeySet, other_key: PrivateKey) -> None:
    # The key is bound to body OTHER, the document names CQC.
    result = verdict([docs.sign(docs.certificate(), key=other_key)], keys=keyset)
    assert_signature_invalid(result, "belongs to OTHER, but the document names issuer 'CQC'")


def test_an_event_signed_by_another_body(docs: Any, keyset: KeySet, other_key: PrivateKey) -> None:
    intruder = type(docs)(key=other_key, body="OTHER")
    event = intruder.sign(intruder.event(E.REVOKED, cst(2026, 2, 1)))
    result = verdict([docs.sign(docs.certificate())], [event], keys=keyset)
    assert_signature_invalid(result, "signed by 'OTHER', but the certificate belongs to 'CQC'")


def test_a_plain_jwks_binds_no_body(docs: Any, other_key: PrivateKey) -> None:
    keys = KeySet.from_jwks({"keys": [other_key.public_key.to_jwk()]})
    assert verdict([docs.sign(docs.certificate(), key=other_key)], keys=keys).is_valid


def future_document(kind: str, docs: Any, signed_at: datetime) -> str:
    """A certificate revision, status event or receipt (by the body's key) signed at signed_at."""
    if kind == "certificate":
        return str(docs.sign(docs.certificate(signed_at=signed_at)))
    if kind == "status event":
        return str(docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1), signed_at=signed_at)))
    receipt = ReceiptPayload(
        request={"items": ["CQC-2026-ASS-0001"]},
        results=[{"item": "CQC-2026-ASS-0001", "verdicts": []}],
        as_of=DURING,
        checked_at=signed_at,
        signed_at=signed_at,
    )
    return sign_compact(receipt.to_json(), key=docs.key, typ=RECEIPT_TYP)


@pytest.mark.parametrize("kind", ["certificate", "status event", "receipt"])
def test_a_document_signed_in_the_future_is_not_valid(docs: Any, kind: str) -> None:
    keys = KeySet.from_jwks({"keys": [docs.key.public_key.to_jwk()]})  # binds no body
    token = future_document(kind, docs, NOW + timedelta(days=2))
    # Asking about a later instant does not move the verifier's clock.
    for at in (DURING, NOW + timedelta(days=3)):
        result = document_verdict(token, keys=keys, at=at, now=NOW)
        assert result.status is VerdictStatus.SIGNATURE_INVALID, result.reason
        assert result.to_json()["signature"]["valid"] is False
        assert "claims to be signed in the future, at 2026-03-03T04:00:00Z" in result.reason


@pytest.mark.parametrize("kind", ["certificate", "status event", "receipt"])
def test_clock_skew_within_the_tolerance_is_accepted(docs: Any, kind: str) -> None:
    keys = KeySet.from_jwks({"keys": [docs.key.public_key.to_jwk()]})
    assert timedelta(minutes=5) == FUTURE_SIGNED_AT_TOLERANCE
    for ahead in (timedelta(minutes=4), FUTURE_SIGNED_AT_TOLERANCE):
        token = future_document(kind, docs, NOW + ahead)
        result = document_verdict(token, keys=keys, at=NOW, now=NOW)
        assert result.status is VerdictStatus.VALID, result.reason
    token = future_document(kind, docs, NOW + FUTURE_SIGNED_AT_TOLERANCE + timedelta(seconds=1))
    result = document_verdict(token, keys=keys, at=NOW, now=NOW)
    assert result.status is VerdictStatus.SIGNATURE_INVALID


def test_an_event_signed_in_the_future_invalidates_the_certificate(
    docs: Any, keyset: KeySet
) -> None:
    # A revocation back-dated in effect but forward-dated in signature.
    event = docs.sign(docs.event(E.REVOKED, cst(2026, 2, 1), signed_at=NOW + timedelta(days=2)))
    result = verdict([docs.sign(docs.certificate())], [event], keys=keyset)
    assert_signature_invalid(
        result, "status event #1: the document claims to be signed in the future"
    )


def test_a_bad_signature_is_reported_before_a_future_signed_at(docs: Any, keyset: KeySet) -> None:
    forged = tamper(docs.sign(docs.certificate(signed_at=NOW + timedelta(days=2))))
    assert_signature_invalid(verdict([forged], keys=keyset), "does not verify")


def test_a_backdated_certificate_signed_today_with_todays_key_is_valid(docs: Any) -> None:
    today = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    key = PrivateKey.generate()  # made today
    keys = KeySet.of(KeyRecord(key.public_key, body="CQC", not_before=today))
    certificate = docs.certificate(issued_on="2023-06-01", valid_from="2023-06-01", signed_at=today)
    result = verdict([docs.sign(certificate, key=key)], keys=keys, at=today + timedelta(hours=1))
    assert result.status is VerdictStatus.VALID, result.reason
    assert certificate.valid_until.isoformat() == "2026-05-31"


# --- malformed: the signature holds, the content breaks the rules -------------------


def assert_malformed(result: Verdict, reason: str) -> None:
    assert result.status is VerdictStatus.MALFORMED
    assert result.to_json()["signature"]["valid"] is True
    assert result.certificate is None
    assert reason in result.reason, result.reason


def test_a_good_signature_over_an_invalid_uscc(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    payload = docs.certificate().to_json()
    payload["holder"]["uscc"] = "91370200264574251F"
    result = verdict([sign_compact(payload, key=body_key, typ=CERTIFICATE_TYP)], keys=keyset)
    assert_malformed(result, "holder.uscc: USCC check character is 'F' but should be 'E'")
    assert result.kid == body_key.kid and result.issuer == "CQC"
    assert result.number == "CQC-2026-ASS-0001"


def test_a_good_signature_over_a_contradicting_level(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    payload = docs.certificate().to_json()
    payload["level"] = "five_star"
    result = verdict([sign_compact(payload, key=body_key, typ=CERTIFICATE_TYP)], keys=keyset)
    assert_malformed(result, "level: five_star contradicts score 92.5")


def test_a_good_signature_over_a_non_canonical_payload(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    body = json.dumps(docs.certificate().to_json(), indent=1).encode()
    header = json.dumps({"alg": "EdDSA", "kid": body_key.kid, "typ": CERTIFICATE_TYP}).encode()
    signing_input = f"{b64(header)}.{b64(body)}"
    token = f"{signing_input}.{b64(body_key.sign(signing_input.encode()))}"
    assert_malformed(verdict([token], keys=keyset), "canonical form")


def test_an_illegal_event_sequence(docs: Any, keyset: KeySet) -> None:
    events = [docs.sign(docs.event(E.REINSTATED, cst(2026, 2, 1)))]
    result = verdict([docs.sign(docs.certificate())], events, keys=keyset)
    assert_malformed(result, "cannot reinstate")


def test_documents_of_different_certificates(docs: Any, keyset: KeySet) -> None:
    other = type(docs)(key=docs.key, number="CQC-2026-ASS-0002")
    events = [other.sign(other.event(E.REVOKED, cst(2026, 2, 1)))]
    result = verdict([docs.sign(docs.certificate())], events, keys=keyset)
    assert_malformed(result, "is for certificate CQC-2026-ASS-0002")
    asked = certificate_verdict(
        revisions=[SignedInput(docs.sign(docs.certificate()))], events=[], keys=keyset,
        at=DURING, now=NOW, number="cqc-2026-ass-0999",
    )  # fmt: skip
    assert_malformed(asked, "not CQC-2026-ASS-0999")


def test_revisions_out_of_sequence(docs: Any, keyset: KeySet) -> None:
    token = docs.sign(docs.certificate())
    assert_malformed(verdict([token, token], keys=keyset), "the next revision is 2")
    assert_malformed(
        verdict([docs.sign(docs.certificate(revision=2))], keys=keyset), "the next revision is 1"
    )


def test_a_status_token_given_as_a_revision(docs: Any, keyset: KeySet) -> None:
    event = docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1)))
    assert_malformed(verdict([event], keys=keyset), "expected 'starmark-cert+jws'")


def test_a_bad_signature_outranks_a_malformed_payload(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    payload = docs.certificate().to_json()
    payload["holder"]["uscc"] = "91370200264574251F"
    malformed = sign_compact(payload, key=body_key, typ=CERTIFICATE_TYP)
    forged_event = tamper(docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1))))
    assert verdict([malformed], [forged_event], keys=keyset).status is (
        VerdictStatus.SIGNATURE_INVALID
    )


def test_no_revisions(keyset: KeySet) -> None:
    assert verdict([], keys=keyset).status is VerdictStatus.MALFORMED


# --- one document (starmark verify FILE.jws) ------------------------------------------


def test_document_verdict_of_a_certificate(docs: Any, keyset: KeySet) -> None:
    token = docs.sign(docs.certificate())
    assert document_verdict(token, keys=keyset, at=DURING, now=NOW).status is VerdictStatus.VALID
    expired = document_verdict(token, keys=keyset, at=cst(2029, 1, 5), now=NOW)
    assert expired.status is VerdictStatus.EXPIRED
    early = document_verdict(token, keys=keyset, at=cst(2026, 1, 1), now=NOW)
    assert early.status is VerdictStatus.NOT_YET_VALID


def test_document_verdict_of_a_status_event(
    docs: Any, keyset: KeySet, body_key: PrivateKey
) -> None:
    token = docs.sign(docs.event(E.SUSPENDED, cst(2026, 2, 1)))
    result = document_verdict(token, keys=keyset, at=DURING, now=NOW, min_level=StarLevel.COMPLIANT)
    assert result.status is VerdictStatus.VALID
    assert (result.number, result.revision, result.kid) == ("CQC-2026-ASS-0001", 1, body_key.kid)
    assert "suspended" in result.reason
    assert result.meets_min_level is False  # only a certificate has a level


def test_document_verdict_of_a_receipt() -> None:
    registry_key = PrivateKey.from_seed(b"\x05" * 32)
    keys = KeySet.of(KeyRecord(registry_key.public_key, body="registry"))
    receipt = ReceiptPayload(
        request={"items": ["CQC-2026-ASS-0001"]},
        results=[{"item": "CQC-2026-ASS-0001", "verdicts": []}],
        as_of=DURING,
        checked_at=NOW,
        signed_at=NOW,
    )
    token = sign_compact(receipt.to_json(), key=registry_key, typ=RECEIPT_TYP)
    result = document_verdict(token, keys=keys, at=DURING, now=NOW)
    assert result.status is VerdictStatus.VALID
    assert result.issuer == "registry"
    assert "receipt of 1 result" in result.reason
    # A receipt made with a body's key is not the registry's.
    body_keys = KeySet.of(KeyRecord(registry_key.public_key, body="CQC"))
    assert document_verdict(token, keys=body_keys, at=DURING, now=NOW).status is (
        VerdictStatus.SIGNATURE_INVALID
    )


def test_document_verdict_refusals(docs: Any, keyset: KeySet, body_key: PrivateKey) -> None:
    garbage = document_verdict("garbage", keys=keyset, at=DURING, now=NOW)
    assert garbage.status is VerdictStatus.SIGNATURE_INVALID
    bad_event = docs.event(E.SUSPENDED, cst(2026, 2, 1)).to_json()
    bad_event["status"] = "expired"
    token = sign_compact(bad_event, key=body_key, typ=STATUS_TYP)
    assert document_verdict(token, keys=keyset, at=DURING, now=NOW).status is (
        VerdictStatus.MALFORMED
    )
    odd = sign_compact(
        {"signed_at": "2026-01-05T00:00:00Z", "issuer": {"code": "CQC"}},
        key=body_key,
        typ="starmark-other+jws",
    )
    result = document_verdict(odd, keys=keyset, at=DURING, now=NOW)
    assert result.status is VerdictStatus.MALFORMED
    assert "unknown document type" in result.reason


def test_naive_instants_are_a_programming_error(keyset: KeySet) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        certificate_verdict(revisions=[], events=[], keys=keyset, at=datetime(2026, 1, 1), now=NOW)


def test_failed_verdict_trusts_nothing_and_meets_no_minimum() -> None:
    from datetime import UTC, datetime

    from signing.scheme import StarLevel
    from signing.verdict import VerdictStatus, failed_verdict

    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    verdict = failed_verdict(
        VerdictStatus.SIGNATURE_INVALID,
        "signature invalid: the stored level differs from the signed one",
        number="SMT-2026-0001",
        at=now,
        now=now,
        min_level=StarLevel.COMPLIANT,
    )
    shown = verdict.to_json()
    assert shown["status"] == "signature_invalid"
    assert shown["signature"] == {"valid": False, "kid": None, "issuer": None}
    assert shown["certificate"] is None and shown["level"] is None
    assert shown["meets_min_level"] is False
    assert (
        "meets_min_level"
        not in failed_verdict(
            VerdictStatus.NOT_FOUND, "none", number=None, at=now, now=now
        ).to_json()
    )
    with pytest.raises(ValueError):
        failed_verdict(
            VerdictStatus.NOT_FOUND, "x", number=None, at=now.replace(tzinfo=None), now=now
        )


@pytest.mark.parametrize(
    ("events", "code", "params"),
    [
        ([(E.REVOKED, (2026, 2, 1), "违规")], "revoked_at",
         {"at": "2026-01-31T16:00:00Z", "reason": "违规"}),
        ([(E.SUSPENDED, (2026, 2, 1), None)], "suspended_since",
         {"since": "2026-01-31T16:00:00Z", "reason": None}),
        ([(E.WITHDRAWN, (2026, 2, 1), "申请注销")], "withdrawn_at",
         {"at": "2026-01-31T16:00:00Z", "reason": "申请注销"}),
    ],
)  # fmt: skip
def test_the_reason_is_also_data_a_page_can_translate(
    docs: Any, keyset: KeySet, events: list[Any], code: str, params: dict[str, Any]
) -> None:
    certificate = docs.certificate()
    signed_events = [docs.sign(docs.event(k, cst(*day), reason=why)) for k, day, why in events]
    result = verdict([docs.sign(certificate)], signed_events, keys=keyset)
    assert (result.to_json()["reason_code"], result.to_json()["reason_params"]) == (code, params)
    assert code in REASON_CODES
