"""From a snapshot to an answer: verify, fold, and check the copies.

The one judge behind every answer about a certificate (PRODUCT §3, "One
truth"): the page, both certificate APIs, bulk checks and receipts, search
results, marks and the CLI. It

1. verifies every signature and folds the status with `signing` alone
   (`signing.verdict.certificate_verdict`, the code `starmark verify` runs
   offline);
2. compares the database's copies (the certificate row's columns, the event
   rows' status, time and reason, the stored state) with what the verified
   payloads say (`record_problem`). A copy that differs means the database
   was changed without a signature: the answer is `signature_invalid`, never
   the copy's content with a green status.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.certificates.columns import certificate_columns
from registry.verification.snapshots import COPIED_COLUMNS, LoggedDocument, Snapshot
from signing.documents import CertificatePayload, StatusEventPayload
from signing.errors import SigningError
from signing.jws import CompactJWS
from signing.scheme import StarLevel
from signing.status import underlying_state
from signing.verdict import (
    SignedInput,
    Verdict,
    VerdictStatus,
    certificate_verdict,
    failed_verdict,
)

__all__ = ["Reading", "judge", "judge_text", "record_problem", "unreadable"]


@dataclass(frozen=True, slots=True)
class Reading:
    """A verdict on one certificate, with the verified payloads it came from.

    ``revisions`` (in revision order) and ``events`` (in recorded order) are
    empty unless every signature holds and every payload reads; they are kept
    when only the copies disagree, so a lookup can still match on what the
    signed payloads say (a USCC, a name) while the verdict says
    `signature_invalid`.
    """

    number: str
    verdict: Verdict
    revisions: tuple[CertificatePayload, ...]
    events: tuple[StatusEventPayload, ...]
    #: None when the stored rows could not be read at all.
    snapshot: Snapshot | None

    @property
    def trusted(self) -> bool:
        """True when the answer rests on the signed documents (no broken signature,
        payload or copy): the verdict may be shown with the certificate's content."""
        return self.verdict.certificate is not None

    @property
    def signed_uscc(self) -> str | None:
        """The holder's USCC by the latest verified revision; None when none verifies."""
        return self.revisions[-1].holder.uscc if self.revisions else None


def _same(db_value: Any, signed: Any) -> bool:
    """A copy column against the signed value, across both engines' representations."""
    if signed is None or db_value is None:
        return signed is None and db_value is None
    if isinstance(signed, Decimal):
        try:
            return Decimal(str(db_value)) == signed
        except InvalidOperation:
            return False
    if isinstance(signed, date):
        return str(db_value) == signed.isoformat()
    if isinstance(signed, int):
        return isinstance(db_value, int) and db_value == signed
    return bool(db_value == signed)


def record_problem(
    snapshot: Snapshot,
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
) -> str | None:
    """How the stored rows disagree with their signed documents, or None.

    The certificate row copies the latest revision's fields (`certificate_columns`),
    the number of events and the state they lead to. Lists, filters and lookups
    find candidates by those copies. (The revision and event tables are indexes
    the read path does not read: the documents come from the log, and
    `starmark log verify` reports a row that differs from its log entry.)
    """
    row = snapshot.row
    latest = revisions[-1]
    expected = certificate_columns(latest)
    for column in COPIED_COLUMNS:
        if not _same(row[column], expected[column]):
            return f"the certificate's {column} differs from signed revision {latest.revision}"
    if snapshot.body_code != latest.issuer.code:
        return f"the certificate is filed under {snapshot.body_code}, not {latest.issuer.code}"
    if row["event_count"] != len(events):
        return f"the certificate counts {row['event_count']} events, {len(events)} are signed"
    # What the writer computed when it recorded the last event.
    last_recorded = snapshot.events[-1].recorded_at if snapshot.events else latest.signed_at
    state = underlying_state(revisions, events, last_recorded).value
    if row["status"] != state:
        return f"the stored status {row['status']!r} is not what the signed events say ({state})"
    return None


def _signed_payload(token: str) -> dict[str, Any]:
    # Only called once `certificate_verdict` has verified every signature.
    payload: dict[str, Any] = json.loads(CompactJWS.parse(token).payload_bytes)
    return payload


def unreadable(
    number: str, *, at: datetime, now: datetime, reason: str, min_level: StarLevel | None = None
) -> Verdict:
    """The `signature_invalid` verdict for rows that cannot be trusted, saying why."""
    return failed_verdict(
        VerdictStatus.SIGNATURE_INVALID,
        f"signature invalid: {reason}",
        number=number,
        at=at,
        now=now,
        min_level=min_level,
    )


def _signed(document: LoggedDocument) -> SignedInput:
    # The leaf index is what a compromised key is judged by (`KeyRecord.check_usable`).
    return SignedInput(document.jws, recorded_at=document.recorded_at, log_index=document.log_index)


def judge(
    snapshot: Snapshot, *, at: datetime, now: datetime, min_level: StarLevel | None = None
) -> Reading:
    """The verdict on a snapshot at ``at`` (see the module docstring)."""
    number = snapshot.number
    verdict = certificate_verdict(
        revisions=[_signed(r) for r in snapshot.revisions],
        events=[_signed(e) for e in snapshot.events],
        keys=snapshot.keys,
        at=at,
        now=now,
        min_level=min_level,
        number=number,
    )
    if not verdict.signature_valid:
        return Reading(number, verdict, (), (), snapshot)
    try:
        revisions = tuple(
            sorted(
                (CertificatePayload.from_json(_signed_payload(r.jws)) for r in snapshot.revisions),
                key=lambda p: p.revision,
            )
        )
        events = tuple(
            StatusEventPayload.from_json(_signed_payload(e.jws)) for e in snapshot.events
        )
    except SigningError:
        return Reading(number, verdict, (), (), snapshot)  # malformed: the verdict says so already
    problem = record_problem(snapshot, revisions, events)
    if problem is not None:
        reason = f"{problem}; it was changed without a signature"
        verdict = unreadable(number, at=at, now=now, reason=reason, min_level=min_level)
    return Reading(number, verdict, revisions, events, snapshot)


def judge_text(
    text: str, *, at: datetime, now: datetime, min_level: StarLevel | None = None
) -> Reading:
    """`judge` a snapshot text; rows that cannot be read at all are `signature_invalid`."""
    try:
        snapshot = Snapshot.parse(text)
    except (ValueError, TypeError, KeyError) as e:
        number = _number_of(text)
        reason = f"a stored row cannot be read ({e})"
        verdict = unreadable(number, at=at, now=now, reason=reason, min_level=min_level)
        return Reading(number, verdict, (), (), None)
    return judge(snapshot, at=at, now=now, min_level=min_level)


def _number_of(text: str) -> str:
    try:
        return str(json.loads(text)["certificate"]["number"])
    except (ValueError, TypeError, KeyError):
        return ""
