"""Verdicts: what a person (or a script) is told about a certificate or a document.

One code path for the registry's verification page and API and for
``starmark verify FILE.jws --jwks JWKS.json`` (docs/architecture.md).

A verdict is decided in three phases, over *all* the documents of a
certificate, so that the most serious problem wins:

1. Signatures. Every JWS must verify under a known key that counts at the
   document's ``signed_at`` (window, compromise, and the registry's
   ``recorded_at`` when known), whose ``body`` (when the key set binds it to
   one) is the document's ``issuer.code``, and every document must come from
   the body that holds the certificate. A ``signed_at`` more than
   `FUTURE_SIGNED_AT_TOLERANCE` after the verifier's ``now`` is a claim to be
   signed in the future. Anything else is ``signature_invalid``: nothing in
   the documents can be trusted.
2. Rules. A good signature over a payload that breaks the rules (an invalid
   USCC, a level contradicting the score, revisions out of sequence, an
   illegal event sequence, documents of different certificates) is
   ``malformed`` (PRODUCT §4).
3. The status fold at ``at`` (`signing.status.status_at`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

from signing.documents import (
    CertificatePayload,
    KeyStatementPayload,
    ReceiptPayload,
    StatusEventPayload,
)
from signing.errors import (
    InvalidPayloadError,
    MalformedError,
    TransitionError,
    UnverifiedSignatureError,
)
from signing.identifiers import parse_certificate_number
from signing.instants import end_of_validity, format_instant, parse_instant, require_aware
from signing.jwks import KeySet
from signing.jws import (
    CERTIFICATE_TYP,
    KEY_TYP,
    RECEIPT_TYP,
    STATUS_TYP,
    CompactJWS,
    SignedDocument,
    open_signed,
)
from signing.scheme import StarLevel
from signing.status import (
    SURVEILLANCE_OVERDUE,
    CertificateStatus,
    StatusAt,
    check_history,
    status_at,
)

T = TypeVar("T")

#: How far a document's ``signed_at`` may lie after the verifier's ``now``: the
#: clock skew between signer and verifier (PRODUCT §3: the registry refuses a
#: ``signed_at`` in the future beyond a few minutes of skew; verifiers agree).
#: Beyond it the document claims to be signed in the future, which no honest
#: signer does and which a thief of a key would use to outlive a compromise.
FUTURE_SIGNED_AT_TOLERANCE: Final = timedelta(minutes=5)

__all__ = [
    "FUTURE_SIGNED_AT_TOLERANCE",
    "REASON_CODES",
    "SignedInput",
    "Verdict",
    "VerdictStatus",
    "certificate_verdict",
    "compromise_marks",
    "document_verdict",
    "not_found_verdict",
]


class VerdictStatus(StrEnum):
    """The ``status`` of a verdict (PRODUCT §4)."""

    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NOT_FOUND = "not_found"
    SIGNATURE_INVALID = "signature_invalid"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class SignedInput:
    """A JWS as stored by the registry, with when it was recorded and its leaf
    index in the transparency log (None when not known, e.g. a bare file offline)."""

    jws: str
    recorded_at: datetime | None = None
    log_index: int | None = None


def compromise_marks(
    statements: Iterable[tuple[int, str]], *, registry_keys: KeySet, body: str | None = None
) -> dict[str, tuple[datetime, int]]:
    """Which keys the log's key statements mark compromised: kid to (compromised_at, index).

    ``statements`` are ``(leaf index, JWS)`` of ``starmark-key+jws`` log
    entries; each must verify under one of ``registry_keys`` (the registry's
    own keys) and, when ``body`` is given, be about that body's key. The
    first statement that marks a key compromised, and the earliest
    ``compromised_at`` stated, hold: a later statement cannot undo a
    compromise. Callers pass the result to `KeySet.with_compromises` and each
    document's leaf index in `SignedInput.log_index`: a document logged after
    its key's compromise statement does not count (PRODUCT §3).

    Raises:
        SigningError: a statement that does not verify or does not read
            (callers then trust none of the body's keys).
    """
    marks: dict[str, tuple[datetime, int]] = {}
    for index, token in statements:
        opened = open_signed(token, keys=registry_keys, typ=KEY_TYP)
        statement = KeyStatementPayload.from_json(opened.payload)
        if body is not None and statement.body != body:
            raise MalformedError(
                f"log entry {index}: a key statement about {statement.body}, not {body}"
            )
        if statement.compromised_at is None:
            continue
        earlier = marks.get(statement.kid)
        if earlier is None:
            marks[statement.kid] = (statement.compromised_at, index)
        else:
            marks[statement.kid] = (
                min(earlier[0], statement.compromised_at),
                min(earlier[1], index),
            )
    return marks


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to "can this mark be trusted at ``as_of``?".

    ``certificate`` is the revision in force at ``as_of`` (None when there is
    no trustworthy one). ``status_at`` carries the details of the fold for
    pages (since when, the last event and its reason); it is not part of the
    JSON. ``meets_min_level`` is None when no minimum level was asked.
    """

    number: str | None
    status: VerdictStatus
    signature_valid: bool
    kid: str | None
    issuer: str | None
    as_of: datetime
    checked_at: datetime
    revision: int | None
    level: StarLevel | None
    warnings: tuple[str, ...]
    certificate: CertificatePayload | None
    reason: str
    meets_min_level: bool | None = None
    status_at: StatusAt | None = None
    #: What ``reason`` says, as data a page renders in its own language:
    #: ``reason_code`` names the sentence (`REASON_CODES`), ``reason_params``
    #: its values (instants in RFC 3339, levels and statuses by name, the
    #: body's own reason text as written). ``reason`` stays for API clients.
    reason_code: str = "unspecified"
    reason_params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        """Whether the status is ``valid``."""
        return self.status is VerdictStatus.VALID

    def to_json(self) -> dict[str, Any]:
        """The verdict JSON of PRODUCT §4, plus ``reason`` (a sentence for people).

        ``meets_min_level`` is present only when a minimum level was asked.
        """
        out: dict[str, Any] = {
            "number": self.number,
            "status": self.status.value,
            "signature": {"valid": self.signature_valid, "kid": self.kid, "issuer": self.issuer},
            "as_of": format_instant(self.as_of),
            "checked_at": format_instant(self.checked_at),
            "revision": self.revision,
            "level": None if self.level is None else self.level.value,
            "warnings": list(self.warnings),
            "certificate": None if self.certificate is None else self.certificate.to_json(),
            "reason": self.reason,
            "reason_code": self.reason_code,
            "reason_params": dict(self.reason_params),
        }
        if self.meets_min_level is not None:
            out["meets_min_level"] = self.meets_min_level
        return out


#: Every ``reason_code`` a verdict may carry, with the ``reason_params`` each has
#: (besides ``min_level``/``level``, added to any code when a minimum level was asked).
REASON_CODES: Final = {
    "valid": ("at", "issuer"),
    "valid_surveillance_overdue": ("at", "issuer", "due", "months", "after"),
    "suspended_since": ("since", "reason"),
    "revoked_at": ("at", "reason"),
    "withdrawn_at": ("at", "reason"),
    "expired_at": ("at", "valid_until"),
    "not_valid_before": ("valid_from",),
    "not_found": ("number",),
    "not_found_uscc": ("uscc",),
    "signature_invalid": ("detail",),
    "malformed": ("detail",),
    "no_revision": (),
    "valid_status_event": ("number", "revision", "status", "effective_at", "issuer"),
    "valid_receipt": ("results", "as_of", "signed_at"),
    "not_a_receipt": ("typ",),
    "unspecified": (),
}


class _SignatureProblem(Exception):
    """Phase 1 failed: the verdict is signature_invalid."""


class _RuleProblem(Exception):
    """Phase 2 failed: the verdict is malformed."""


_WHAT: Final = {
    CERTIFICATE_TYP: "certificate revision",
    STATUS_TYP: "status event",
    RECEIPT_TYP: "receipt",
}


def _issuer_code(payload: dict[str, Any]) -> object:
    issuer = payload.get("issuer")
    return issuer.get("code") if isinstance(issuer, dict) else None


def _open(
    item: SignedInput, keys: KeySet, typ: str | None, label: str, *, now: datetime
) -> SignedDocument:
    """Phase 1 for one document; payload problems met on the way are _RuleProblem."""
    try:
        doc = open_signed(item.jws, keys=keys, typ=typ)
    except InvalidPayloadError as e:
        # The signature held; what it covers is unreadable.
        raise _RuleProblem(f"{label}: {e}") from e
    except (MalformedError, UnverifiedSignatureError) as e:
        raise _SignatureProblem(f"{label}: {e}") from e
    signed_at_text = doc.payload.get("signed_at")
    try:
        if not isinstance(signed_at_text, str):
            raise MalformedError("signed_at is missing")
        signed_at = parse_instant(signed_at_text)
    except MalformedError as e:
        raise _RuleProblem(f"{label}: signed_at: {e}") from e
    if signed_at > now + FUTURE_SIGNED_AT_TOLERANCE:
        raise _SignatureProblem(
            f"{label}: the document claims to be signed in the future, at "
            f"{format_instant(signed_at)}, after the verifier's clock "
            f"({format_instant(now)}, tolerance {_minutes(FUTURE_SIGNED_AT_TOLERANCE)})"
        )
    try:
        doc.key.check_usable(signed_at, recorded_at=item.recorded_at, log_index=item.log_index)
    except UnverifiedSignatureError as e:
        raise _SignatureProblem(f"{label}: {e}") from e
    code = _issuer_code(doc.payload)
    if doc.key.body is not None and code != doc.key.body:
        raise _SignatureProblem(
            f"{label}: key {doc.kid} belongs to {doc.key.body}, but the document names "
            f"issuer {code!r}"
        )
    return doc


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _base(
    *, number: str | None, at: datetime, now: datetime, min_level: StarLevel | None
) -> dict[str, Any]:
    return {
        "number": number,
        "as_of": at,
        "checked_at": now,
        "meets_min_level": None if min_level is None else False,
    }


def _failure(
    status: VerdictStatus,
    reason: str,
    *,
    number: str | None,
    at: datetime,
    now: datetime,
    min_level: StarLevel | None,
    signature_valid: bool,
    kid: str | None = None,
    issuer: str | None = None,
    code: str,
    params: dict[str, Any] | None = None,
) -> Verdict:
    return Verdict(
        status=status,
        signature_valid=signature_valid,
        kid=kid,
        issuer=issuer,
        revision=None,
        level=None,
        warnings=(),
        certificate=None,
        reason=reason,
        reason_code=code,
        reason_params=_with_min_level(params or {}, None, min_level),
        **_base(number=number, at=at, now=now, min_level=min_level),
    )


def _with_min_level(
    params: dict[str, Any], level: StarLevel | None, min_level: StarLevel | None
) -> dict[str, Any]:
    if min_level is None:
        return params
    return {**params, "min_level": min_level.value, "level": None if level is None else level.value}


def not_found_verdict(
    number: str, *, at: datetime, now: datetime, min_level: StarLevel | None = None
) -> Verdict:
    """The verdict for a number the registry does not know.

    Raises:
        ValueError: ``at`` or ``now`` is naive.
    """
    require_aware(at, "at")
    require_aware(now, "now")
    return _failure(
        VerdictStatus.NOT_FOUND,
        f"no certificate with number {number} is registered",
        number=number,
        at=at,
        now=now,
        min_level=min_level,
        signature_valid=False,
        code="not_found",
        params={"number": number},
    )


def failed_verdict(
    status: VerdictStatus,
    reason: str,
    *,
    number: str | None,
    at: datetime,
    now: datetime,
    min_level: StarLevel | None = None,
    code: str | None = None,
    params: dict[str, Any] | None = None,
) -> Verdict:
    """A verdict reached without a trustworthy certificate (nothing signed to show).

    ``code`` and ``params`` are the reason as data (`REASON_CODES`); by default
    the status's own code with ``reason`` as its ``detail``.

    For callers that decide a failure themselves: a registry that finds its
    stored copies disagree with the signatures (`signature_invalid`), or a
    USCC with no certificate (`not_found`).

    Raises:
        ValueError: ``at`` or ``now`` is naive.
    """
    require_aware(at, "at")
    require_aware(now, "now")
    return _failure(
        status,
        reason,
        number=number,
        at=at,
        now=now,
        min_level=min_level,
        signature_valid=False,
        code=code or status.value,
        params={"detail": reason} if params is None else params,
    )


def _fold_reason(state: StatusAt) -> tuple[str, str, dict[str, Any]]:
    """The fold's reason: the English sentence, its code and its parameters."""
    rev = state.revision
    event = state.last_event
    because = f": {event.reason}" if event is not None and event.reason else ""
    said = event.reason if event is not None and event.reason else None
    status = state.status
    if status is CertificateStatus.VALID:
        params: dict[str, Any] = {"at": format_instant(state.at), "issuer": rev.issuer.code}
        text = f"valid at {params['at']}, signed by {rev.issuer.code}"
        if SURVEILLANCE_OVERDUE in state.warnings:
            after = "the last surveillance" if state.last_surveillance else "valid_from"
            months = rev.scheme.surveillance_overdue_months
            due = format_instant(state.surveillance_due)
            text += f"; surveillance overdue since {due} ({months} months after {after})"
            params |= {
                "due": due,
                "months": months,
                "after": "surveillance" if state.last_surveillance else "valid_from",
            }
            return text, "valid_surveillance_overdue", params
        return text, "valid", params
    since = format_instant(state.since)
    if status is CertificateStatus.SUSPENDED:
        return (
            f"suspended since {since}{because}",
            "suspended_since",
            {"since": since, "reason": said},
        )
    if status is CertificateStatus.REVOKED:
        return f"revoked at {since}{because}", "revoked_at", {"at": since, "reason": said}
    if status is CertificateStatus.WITHDRAWN:
        return f"withdrawn at {since}{because}", "withdrawn_at", {"at": since, "reason": said}
    if status is CertificateStatus.EXPIRED:
        end = format_instant(end_of_validity(rev.valid_until))
        return (
            f"expired at {end} "
            f"(valid until {rev.valid_until.isoformat()} inclusive, China Standard Time)",
            "expired_at",
            {"at": end, "valid_until": rev.valid_until.isoformat()},
        )
    return (
        f"not valid before {rev.valid_from.isoformat()} (00:00 +08:00)",
        "not_valid_before",
        {"valid_from": rev.valid_from.isoformat()},
    )


def _min_level_outcome(
    status: VerdictStatus, level: StarLevel | None, min_level: StarLevel | None
) -> tuple[bool | None, str]:
    if min_level is None:
        return None, ""
    if status is not VerdictStatus.VALID or level is None:
        return False, f"; only a valid certificate meets the minimum level {min_level.value}"
    if level.rank >= min_level.rank:
        return True, f"; meets the minimum level {min_level.value}"
    return False, f"; level {level.value} is below the minimum level {min_level.value}"


def certificate_verdict(
    *,
    revisions: Sequence[SignedInput],
    events: Sequence[SignedInput],
    keys: KeySet,
    at: datetime,
    now: datetime,
    min_level: StarLevel | None = None,
    number: str | None = None,
) -> Verdict:
    """The verdict on a certificate at ``at`` from its signed revisions and events.

    ``revisions`` are the certificate JWSs (any order), ``events`` the status
    event JWSs in the order the registry recorded them. ``number``, when given,
    is the number that was asked for: documents of another certificate make the
    verdict ``malformed``. Never raises for bad documents: they are what the
    verdict is about.

    ``at`` is the instant asked about; ``now`` is the verifier's clock, and only
    ``now`` bounds ``signed_at``: a document signed more than
    `FUTURE_SIGNED_AT_TOLERANCE` after ``now`` makes the verdict
    ``signature_invalid``, whatever ``at`` is (asking about a later instant
    does not make a document from the future acceptable).

    Raises:
        ValueError: ``at`` or ``now`` is naive.
    """
    require_aware(at, "at")
    require_aware(now, "now")
    if number is not None:
        number = _canonical_number(number)
    failure: dict[str, Any] = {"number": number, "at": at, "now": now, "min_level": min_level}
    if not revisions:
        return _failure(
            VerdictStatus.MALFORMED,
            "the certificate has no signed revision",
            signature_valid=False,
            code="no_revision",
            **failure,
        )

    # Phase 1: every signature, before any rule. A rule problem met while
    # opening is remembered and reported only if all signatures hold.
    opened_revisions: list[SignedDocument] = []
    opened_events: list[SignedDocument] = []
    rule_problem: str | None = None
    try:
        for i, item in enumerate(revisions):
            try:
                opened_revisions.append(
                    _open(item, keys, CERTIFICATE_TYP, f"certificate revision #{i + 1}", now=now)
                )
            except _RuleProblem as e:
                rule_problem = rule_problem or str(e)
        for i, item in enumerate(events):
            try:
                opened_events.append(
                    _open(item, keys, STATUS_TYP, f"status event #{i + 1}", now=now)
                )
            except _RuleProblem as e:
                rule_problem = rule_problem or str(e)
        if opened_revisions:
            # Only the body that holds the certificate may change it.
            holder_body = _issuer_code(
                min(opened_revisions, key=lambda o: _revision_key(o.payload)).payload
            )
            for o in [*opened_revisions, *opened_events]:
                code = _issuer_code(o.payload)
                # A missing or mistyped issuer is a rule problem, found in phase 2.
                if isinstance(code, str) and isinstance(holder_body, str) and code != holder_body:
                    raise _SignatureProblem(
                        f"a {_WHAT[o.typ]} is signed by {code!r}, but the certificate "
                        f"belongs to {holder_body!r}"
                    )
    except _SignatureProblem as e:
        return _failure(
            VerdictStatus.SIGNATURE_INVALID,
            f"signature invalid: {e}",
            signature_valid=False,
            code="signature_invalid",
            params={"detail": str(e)},
            **failure,
        )

    first_kid = opened_revisions[0].kid if opened_revisions else None
    claimed_issuer = _issuer_code(opened_revisions[0].payload) if opened_revisions else None
    claimed_number = opened_revisions[0].payload.get("number") if opened_revisions else None
    malformed: dict[str, Any] = {
        **failure,
        "number": number if number is not None else _str_or_none(claimed_number),
        "kid": first_kid,
        "issuer": _str_or_none(claimed_issuer),
    }

    # Phase 2: the rules.
    try:
        if rule_problem is not None:
            raise _RuleProblem(rule_problem)
        payloads = sorted(
            (
                (_read(CertificatePayload.from_json, o, f"certificate revision #{i + 1}"), o)
                for i, o in enumerate(opened_revisions)
            ),
            key=lambda pair: pair[0].revision,
        )
        event_payloads = [
            _read(StatusEventPayload.from_json, o, f"status event #{i + 1}")
            for i, o in enumerate(opened_events)
        ]
        certificates = [p for p, _ in payloads]
        if number is not None and certificates[0].number != number:
            raise _RuleProblem(
                f"the documents are for certificate {certificates[0].number}, not {number}"
            )
        try:
            check_history(certificates, event_payloads)
            state = status_at(certificates, event_payloads, at)
        except TransitionError as e:
            raise _RuleProblem(str(e)) from e
    except _RuleProblem as e:
        return _failure(
            VerdictStatus.MALFORMED,
            f"malformed: {e}",
            signature_valid=True,
            code="malformed",
            params={"detail": str(e)},
            **malformed,
        )

    # Phase 3: the fold.
    in_force = state.revision
    kid = next(o.kid for p, o in payloads if p is in_force)
    status = VerdictStatus(state.status.value)
    meets, min_reason = _min_level_outcome(status, in_force.level, min_level)
    fold_text, code, params = _fold_reason(state)
    return Verdict(
        number=in_force.number,
        status=status,
        signature_valid=True,
        kid=kid,
        issuer=in_force.issuer.code,
        as_of=at,
        checked_at=now,
        revision=in_force.revision,
        level=in_force.level,
        warnings=state.warnings,
        certificate=in_force,
        reason=fold_text + min_reason,
        meets_min_level=meets,
        status_at=state,
        reason_code=code,
        reason_params=_with_min_level(params, in_force.level, min_level),
    )


def _revision_key(payload: dict[str, Any]) -> int:
    revision = payload.get("revision")
    return revision if isinstance(revision, int) else 1 << 30


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _canonical_number(number: str) -> str:
    try:
        return parse_certificate_number(number)
    except MalformedError:
        return number


def _read(parse: Callable[[Any], T], opened: SignedDocument, label: str) -> T:
    try:
        return parse(opened.payload)
    except InvalidPayloadError as e:
        raise _RuleProblem(f"{label}: {e}") from e


def document_verdict(
    token: str,
    *,
    keys: KeySet,
    at: datetime,
    now: datetime,
    min_level: StarLevel | None = None,
    log_index: int | None = None,
) -> Verdict:
    """The verdict on one JWS of any of the three types (``starmark verify FILE.jws``).

    ``log_index`` is the document's leaf index when it comes from a log
    bundle: a key marked compromised by an earlier key statement
    (`KeySet.with_compromises`) does not count for it.

    A certificate revision alone is folded with no events (valid, expired or
    not yet valid at ``at``). A status event or a receipt is judged as a
    document alone: ``valid``, ``signature_invalid`` or ``malformed``
    (PRODUCT §4); ``meets_min_level``, when asked, is then false, since only a
    certificate has a level. As in `certificate_verdict`, a ``signed_at`` more
    than `FUTURE_SIGNED_AT_TOLERANCE` after ``now`` (the verifier's clock, not
    ``at``) is ``signature_invalid``.

    Raises:
        ValueError: ``at`` or ``now`` is naive.
    """
    require_aware(at, "at")
    require_aware(now, "now")
    failure: dict[str, Any] = {"number": None, "at": at, "now": now, "min_level": min_level}
    try:
        typ = CompactJWS.parse(token).typ
    except MalformedError as e:
        return _failure(
            VerdictStatus.SIGNATURE_INVALID,
            f"signature invalid: {e}",
            signature_valid=False,
            code="signature_invalid",
            params={"detail": str(e)},
            **failure,
        )
    if typ == CERTIFICATE_TYP:
        return certificate_verdict(
            revisions=[SignedInput(token, log_index=log_index)],
            events=[],
            keys=keys,
            at=at,
            now=now,
            min_level=min_level,
        )
    label = _WHAT.get(typ, "document")
    try:
        opened = _open(SignedInput(token, log_index=log_index), keys, None, label, now=now)
    except _SignatureProblem as e:
        return _failure(
            VerdictStatus.SIGNATURE_INVALID,
            f"signature invalid: {e}",
            signature_valid=False,
            code="signature_invalid",
            params={"detail": str(e)},
            **failure,
        )
    except _RuleProblem as e:
        return _failure(
            VerdictStatus.MALFORMED,
            f"malformed: {e}",
            signature_valid=True,
            code="malformed",
            params={"detail": str(e)},
            **failure,
        )
    doc = opened
    issuer = _str_or_none(_issuer_code(doc.payload))
    number: str | None = None
    revision: int | None = None
    try:
        if typ == STATUS_TYP:
            event = _read(StatusEventPayload.from_json, opened, label)
            reason = (
                f"a valid status event: {event.number} revision {event.revision} "
                f"{event.status.value} from {format_instant(event.effective_at)}, signed by "
                f"{event.issuer.code}"
            )
            number, revision = event.number, event.revision
            code = "valid_status_event"
            params: dict[str, Any] = {
                "number": event.number,
                "revision": event.revision,
                "status": event.status.value,
                "effective_at": format_instant(event.effective_at),
                "issuer": event.issuer.code,
            }
        elif typ == RECEIPT_TYP:
            receipt = _read(ReceiptPayload.from_json, opened, label)
            reason = (
                f"a valid verification receipt of {len(receipt.results)} result(s) as of "
                f"{format_instant(receipt.as_of)}, signed by the registry at "
                f"{format_instant(receipt.signed_at)}"
            )
            code = "valid_receipt"
            params = {
                "results": len(receipt.results),
                "as_of": format_instant(receipt.as_of),
                "signed_at": format_instant(receipt.signed_at),
            }
        else:
            raise _RuleProblem(f"unknown document type (typ {typ!r}); expected {', '.join(_WHAT)}")
    except _RuleProblem as e:
        return _failure(
            VerdictStatus.MALFORMED,
            f"malformed: {e}",
            signature_valid=True,
            kid=doc.kid,
            issuer=issuer,
            code="malformed",
            params={"detail": str(e)},
            **failure,
        )
    meets: bool | None = None
    if min_level is not None:
        meets = False
        reason += f"; only a certificate has a level, so none meets {min_level.value}"
    return Verdict(
        number=number,
        status=VerdictStatus.VALID,
        signature_valid=True,
        kid=doc.kid,
        issuer=issuer,
        as_of=at,
        checked_at=now,
        revision=revision,
        level=None,
        warnings=(),
        certificate=None,
        reason=reason,
        meets_min_level=meets,
        reason_code=code,
        reason_params=_with_min_level(params, None, min_level),
    )
