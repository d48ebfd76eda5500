"""Issue, revise and change the status of certificates; read them back.

Every write is one transaction (all of it or nothing). Concurrent writers to
one certificate conflict on the unique (certificate, revision) and
(certificate, seq) indexes, so exactly one wins and the other gets 409.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from registry.audit.services import audit_entry
from registry.bodies.services import (
    HostedKeyVault,
    active_hosted_signer,
    get_body,
    load_keyset,
)
from registry.bodies.tables import SigningKey
from registry.certificates.columns import certificate_columns
from registry.certificates.tables import Certificate, CertificateRevision, StatusEvent
from registry.db import unique_conflicts, write_transaction
from registry.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from registry.log.store import NewEntry, append_entries
from registry.principals import Principal
from signing.documents import CertificatePayload, StatusEventPayload
from signing.errors import (
    InvalidPayloadError,
    MalformedError,
    TransitionError,
    UnverifiedSignatureError,
)
from signing.identifiers import parse_certificate_number
from signing.jws import (
    CERTIFICATE_TYP,
    STATUS_TYP,
    CompactJWS,
    SignedDocument,
    open_signed,
    sign_compact,
)
from signing.keys import PrivateKey
from signing.status import check_new_event, check_new_revision, underlying_state

#: How far in the future a submitted `signed_at` may lie (clock skew).
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class WriteContext:
    """What a write needs besides its input: who, when, and the key vault."""

    principal: Principal
    now: datetime
    vault: HostedKeyVault
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW


# --- reading stored documents ------------------------------------------------------


def stored_payload(token: str) -> dict[str, Any]:
    """The payload of a JWS the registry stored after verifying it.

    Used for the state machine on the write path; every public answer verifies
    the signatures again (`verdict`).
    """
    parsed = CompactJWS.parse(token)
    payload: dict[str, Any] = json.loads(parsed.payload_bytes)
    return payload


@dataclass(frozen=True)
class StoredCertificate:
    row: dict[str, Any]
    revisions: list[dict[str, Any]]
    events: list[dict[str, Any]]

    @property
    def number(self) -> str:
        return str(self.row["number"])

    def revision_payloads(self) -> list[CertificatePayload]:
        return [CertificatePayload.from_json(stored_payload(r["jws"])) for r in self.revisions]

    def event_payloads(self) -> list[StatusEventPayload]:
        return [StatusEventPayload.from_json(stored_payload(e["jws"])) for e in self.events]


async def load_certificate(number: str) -> StoredCertificate | None:
    try:
        canonical = parse_certificate_number(number)
    except MalformedError:
        return None  # no certificate has such a number (nor reaches the database)
    row = (
        await Certificate.select(
            *Certificate.all_columns(), Certificate.body.code.as_alias("body_code")
        )
        .where(Certificate.number == canonical)
        .first()
    )
    if row is None:
        return None
    revisions = (
        await CertificateRevision.select(
            CertificateRevision.revision,
            CertificateRevision.jws,
            CertificateRevision.signed_at,
            CertificateRevision.recorded_at,
            CertificateRevision.key.kid.as_alias("kid"),
        )
        .where(CertificateRevision.certificate == row["id"])
        .order_by(CertificateRevision.revision)
    )
    events = (
        await StatusEvent.select(
            StatusEvent.seq,
            StatusEvent.status,
            StatusEvent.effective_at,
            StatusEvent.recorded_at,
            StatusEvent.reason,
            StatusEvent.jws,
            StatusEvent.key.kid.as_alias("kid"),
        )
        .where(StatusEvent.certificate == row["id"])
        .order_by(StatusEvent.seq)
    )
    return StoredCertificate(row=row, revisions=revisions, events=events)


async def require_certificate(number: str) -> StoredCertificate:
    stored = await load_certificate(number)
    if stored is None:
        raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")
    return stored


# --- accepting signed documents ---------------------------------------------------


def _payload_problems(err: InvalidPayloadError, prefix: str = "") -> list[FieldError]:
    return [FieldError(prefix + p.field, p.message) for p in err.problems]


async def _open_submitted(
    token: Any, *, typ: str, body_code: str, ctx: WriteContext
) -> SignedDocument:
    """Verify a JWS a body submitted: its key, its time, its signature."""
    if not isinstance(token, str) or not token:
        raise InvalidInputError(
            "jws must be a compact JWS string", errors=[FieldError("jws", "a compact JWS string")]
        )
    keys = await load_keyset(body_code=body_code)
    try:
        document = open_signed(token, keys=keys, typ=typ)
    except (UnverifiedSignatureError, MalformedError) as e:
        raise InvalidInputError(
            f"the JWS was not accepted: {e}", errors=[FieldError("jws", str(e))]
        ) from e
    signed_at_text = document.payload.get("signed_at")
    try:
        if typ == CERTIFICATE_TYP:
            signed_at = CertificatePayload.from_json(document.payload).signed_at
        else:
            signed_at = StatusEventPayload.from_json(document.payload).signed_at
    except InvalidPayloadError as e:
        raise InvalidInputError(
            f"the signed payload breaks the rules: {e}", errors=_payload_problems(e, "jws.")
        ) from e
    if signed_at > ctx.now + ctx.clock_skew:
        raise InvalidInputError(
            f"signed_at {signed_at_text} lies in the future",
            errors=[FieldError("jws.signed_at", "lies in the future; check the signer's clock")],
        )
    try:
        document.key.check_usable(signed_at, recorded_at=ctx.now)
    except UnverifiedSignatureError as e:
        raise InvalidInputError(
            f"key {document.kid} may not sign at {signed_at_text}: {e}",
            errors=[FieldError("jws", str(e))],
        ) from e
    issuer = document.payload.get("issuer") or {}
    if issuer.get("code") != body_code:
        raise InvalidInputError(
            f"the document names issuer {issuer.get('code')!r}, not {body_code}",
            errors=[FieldError("jws.issuer.code", f"must be {body_code}")],
        )
    return document


def _signed_request(request: Mapping[str, Any], *, what: str) -> bool:
    """True for `{"jws": ...}`; fields and a jws together are refused (which would count?)."""
    if "jws" not in request:
        return False
    extra = sorted(set(request) - {"jws"})
    if extra:
        raise InvalidInputError(
            f"send either {what} or a signed jws, not both",
            errors=[FieldError(f, "not allowed next to jws") for f in extra],
        )
    return True


async def _sign_hosted(
    payload: Mapping[str, Any], *, typ: str, body_code: str, ctx: WriteContext
) -> tuple[str, PrivateKey]:
    key = await active_hosted_signer(body_code, vault=ctx.vault, now=ctx.now)
    return sign_compact(payload, key=key, typ=typ), key


async def _key_id(kid: str) -> int:
    row = await SigningKey.select(SigningKey.id).where(SigningKey.kid == kid).first()
    assert row is not None  # the key was just used to verify or sign
    return int(row["id"])


def _body_code_for(principal: Principal, body_code: str | None) -> str:
    code = body_code or principal.body_code
    if code is None:
        raise InvalidInputError(
            "name the certification body this certificate belongs to",
            errors=[FieldError("body", "required for operator tokens")],
        )
    if not principal.is_operator:
        principal.require_body(code)
    return code


# --- issuing and revising ---------------------------------------------------------


async def _prepare_revision(
    request: Mapping[str, Any],
    *,
    body_code: str,
    revision: int,
    number: str | None,
    ctx: WriteContext,
) -> tuple[CertificatePayload, str, str]:
    """Payload, JWS and kid of a new revision, from fields (hosted key) or a JWS."""
    if not isinstance(request, Mapping):
        raise InvalidInputError("the request must be a JSON object")
    if _signed_request(request, what="the certificate's fields"):
        document = await _open_submitted(
            request["jws"], typ=CERTIFICATE_TYP, body_code=body_code, ctx=ctx
        )
        payload = CertificatePayload.from_json(document.payload)
        token, kid = document.token, document.kid
    else:
        body = await get_body(body_code)
        fields = dict(request)
        if number is not None:
            given = fields.get("number")
            if given is not None and str(given).strip().upper() != number:
                raise InvalidInputError(
                    "the number in the body differs from the one in the URL",
                    errors=[FieldError("number", f"must be {number}")],
                )
            fields["number"] = number
        try:
            payload = CertificatePayload.build(
                fields,
                issuer_code=body_code,
                issuer_name=body["name"],
                revision=revision,
                signed_at=ctx.now,
            )
        except InvalidPayloadError as e:
            raise InvalidInputError(str(e), errors=_payload_problems(e)) from e
        token, key = await _sign_hosted(
            payload.to_json(), typ=CERTIFICATE_TYP, body_code=body_code, ctx=ctx
        )
        kid = key.kid
    if payload.revision != revision:
        raise ConflictError(
            f"this is revision {payload.revision}; the registry expects revision {revision}"
        )
    if number is not None and payload.number != number:
        raise InvalidInputError(
            "the signed number differs from the one in the URL",
            errors=[FieldError("jws.number", f"must be {number}")],
        )
    return payload, token, kid


async def issue_certificate(
    request: Mapping[str, Any], *, body_code: str | None = None, ctx: WriteContext
) -> StoredCertificate:
    """Issue revision 1: from fields, signed with the body's hosted key, or from a JWS."""
    code = _body_code_for(ctx.principal, body_code)
    payload, token, kid = await _prepare_revision(
        request, body_code=code, revision=1, number=None, ctx=ctx
    )
    body = await get_body(code)
    key_id = await _key_id(kid)
    certificate_id = uuid.uuid4()
    async with write_transaction(Certificate._meta.db):
        with unique_conflicts(f"certificate number {payload.number} is already taken"):
            await Certificate.insert(
                Certificate(
                    id=certificate_id,
                    number=payload.number,
                    body=body["id"],
                    status="valid",
                    event_count=0,
                    **certificate_columns(payload),
                )
            )
        (log_index,) = await append_entries(
            [NewEntry(CERTIFICATE_TYP, token, body=code, number=payload.number)],
            recorded_at=ctx.now,
        )
        await CertificateRevision.insert(
            CertificateRevision(
                certificate=certificate_id,
                revision=1,
                jws=token,
                key=key_id,
                signed_at=payload.signed_at,
                recorded_at=ctx.now,
                log_index=log_index,
            )
        )
        await audit_entry(ctx.principal, "certificate.issue", payload.number, kid=kid)
    return await require_certificate(payload.number)


async def add_revision(
    number: str, request: Mapping[str, Any], *, ctx: WriteContext
) -> StoredCertificate:
    """A new signed revision: level after surveillance, scope, renewal."""
    stored = await require_certificate(number)
    if not ctx.principal.is_operator:
        ctx.principal.require_body(stored.row["body_code"])
    current = stored.row["current_revision"]
    payload, token, kid = await _prepare_revision(
        request,
        body_code=stored.row["body_code"],
        revision=current + 1,
        number=stored.number,
        ctx=ctx,
    )
    try:
        check_new_revision(stored.revision_payloads(), payload)
    except TransitionError as e:
        raise ConflictError(str(e)) from e
    key_id = await _key_id(kid)
    async with write_transaction(Certificate._meta.db):
        with unique_conflicts(
            f"revision {current + 1} of {stored.number} was written by someone else first"
        ):
            (log_index,) = await append_entries(
                [
                    NewEntry(
                        CERTIFICATE_TYP, token, body=stored.row["body_code"], number=stored.number
                    )
                ],
                recorded_at=ctx.now,
            )
            await CertificateRevision.insert(
                CertificateRevision(
                    certificate=stored.row["id"],
                    revision=payload.revision,
                    jws=token,
                    key=key_id,
                    signed_at=payload.signed_at,
                    recorded_at=ctx.now,
                    log_index=log_index,
                )
            )
        values: dict[Any, Any] = {**certificate_columns(payload), "updated_at": ctx.now}
        await Certificate.update(values).where(Certificate.id == stored.row["id"])
        await audit_entry(
            ctx.principal, "certificate.revise", stored.number, revision=payload.revision, kid=kid
        )
    return await require_certificate(stored.number)


# --- status events -----------------------------------------------------------------


async def add_status_event(
    number: str, request: Mapping[str, Any], *, ctx: WriteContext
) -> StoredCertificate:
    """Suspend, reinstate, revoke, withdraw or record a passed surveillance."""
    stored = await require_certificate(number)
    body_code = stored.row["body_code"]
    if not ctx.principal.is_operator:
        ctx.principal.require_body(body_code)
    if not isinstance(request, Mapping):
        raise InvalidInputError("the request must be a JSON object")
    if _signed_request(request, what="status fields"):
        document = await _open_submitted(
            request["jws"], typ=STATUS_TYP, body_code=body_code, ctx=ctx
        )
        event = StatusEventPayload.from_json(document.payload)
        token, kid = document.token, document.kid
        if event.number != stored.number:
            raise InvalidInputError(
                "the signed number differs from the one in the URL",
                errors=[FieldError("jws.number", f"must be {stored.number}")],
            )
    else:
        fields = dict(request)
        try:
            event = StatusEventPayload.build(
                fields,
                number=stored.number,
                revision=stored.row["current_revision"],
                issuer_code=body_code,
                signed_at=ctx.now,
                now=ctx.now,
            )
        except InvalidPayloadError as e:
            raise InvalidInputError(str(e), errors=_payload_problems(e)) from e
        token, key = await _sign_hosted(
            event.to_json(), typ=STATUS_TYP, body_code=body_code, ctx=ctx
        )
        kid = key.kid
    if event.effective_at > ctx.now + ctx.clock_skew:
        raise InvalidInputError(
            "effective_at lies in the future: publish an event when it takes effect",
            errors=[FieldError("effective_at", "must not be in the future")],
        )
    events = stored.event_payloads()
    try:
        check_new_event(stored.revision_payloads(), events, event)
    except TransitionError as e:
        raise ConflictError(str(e)) from e
    key_id = await _key_id(kid)
    seq = stored.row["event_count"] + 1
    new_state = underlying_state(stored.revision_payloads(), [*events, event], ctx.now).value
    async with write_transaction(Certificate._meta.db):
        with unique_conflicts(
            f"the status of {stored.number} was changed by someone else at the same time; "
            "reload it and try again"
        ):
            (log_index,) = await append_entries(
                [NewEntry(STATUS_TYP, token, body=body_code, number=stored.number)],
                recorded_at=ctx.now,
            )
            await StatusEvent.insert(
                StatusEvent(
                    certificate=stored.row["id"],
                    seq=seq,
                    status=event.status.value,
                    effective_at=event.effective_at,
                    reason=event.reason,
                    jws=token,
                    key=key_id,
                    signed_at=event.signed_at,
                    recorded_at=ctx.now,
                    log_index=log_index,
                )
            )
            updated = (
                await Certificate.update(
                    {
                        Certificate.event_count: seq,
                        Certificate.status: new_state,
                        Certificate.updated_at: ctx.now,
                    }
                )
                .where((Certificate.id == stored.row["id"]) & (Certificate.event_count == seq - 1))
                .returning(Certificate.id)
            )
        if not updated:
            raise ConflictError(
                f"the status of {stored.number} was changed by someone else at the same time; "
                "reload it and try again"
            )
        await audit_entry(
            ctx.principal,
            f"certificate.{event.status.value}",
            stored.number,
            effective_at=event.effective_at.isoformat(),
            kid=kid,
        )
    return await require_certificate(stored.number)


# --- a signed file of a body that signs offline -------------------------------------


async def submit_signed(token: str, *, ctx: WriteContext) -> tuple[str, StoredCertificate]:
    """Store one compact JWS a body signed with its own key (a `.jws` file): a
    certificate's revision 1 is issued, a later revision added, a status event
    recorded, each by the same service (and checks) as the API's `{"jws": ...}`.

    Returns what it was ("issue", "revision" or "event") and the certificate.

    Raises:
        InvalidInputError: not a JWS of a certificate or a status event, or refused
            by the service; ConflictError, NotFoundError, ForbiddenError: as those.
    """
    text = token.strip()
    try:
        parsed = CompactJWS.parse(text)
        payload = json.loads(parsed.payload_bytes)
    except (MalformedError, ValueError) as e:
        raise InvalidInputError(
            f"not a signed document: {e}", errors=[FieldError("jws", str(e))]
        ) from e
    if not isinstance(payload, dict) or not isinstance(payload.get("number"), str):
        raise InvalidInputError(
            "the signed payload names no certificate number",
            errors=[FieldError("jws.number", "required")],
        )
    number = payload["number"]
    request = {"jws": text}
    if parsed.typ == STATUS_TYP:
        return "event", await add_status_event(number, request, ctx=ctx)
    if parsed.typ != CERTIFICATE_TYP:
        raise InvalidInputError(
            f"a {parsed.typ!r} document is neither a certificate nor a status event",
            errors=[FieldError("jws", f"typ must be {CERTIFICATE_TYP} or {STATUS_TYP}")],
        )
    if payload.get("revision") == 1:
        issuer = payload.get("issuer")
        code = issuer.get("code") if isinstance(issuer, dict) else None
        body_code = str(code) if ctx.principal.is_operator and code else None
        return "issue", await issue_certificate(request, body_code=body_code, ctx=ctx)
    return "revision", await add_revision(number, request, ctx=ctx)
