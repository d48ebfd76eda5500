"""What handlers are given: settings, the key vault, the acting principal, the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from litestar import Request
from litestar.datastructures import State

from registry.bodies.services import HostedKeyVault, authenticate
from registry.errors import FieldError, InvalidInputError, UnauthorizedError
from registry.logs import current_request_id
from registry.principals import Principal
from registry.settings import Settings
from signing.errors import MalformedError
from signing.instants import parse_instant
from signing.scheme import StarLevel


@runtime_checkable
class CertificateAnswers(Protocol):
    """What the writes answer with: the certificate as the one read path gives it.

    The app provides `registry.verification.services.VerificationService`; the
    write side names only this protocol, so it never imports the read side.
    """

    async def document(self, number: str, *, now: datetime) -> dict[str, Any]:
        """`GET /api/v1/certificates/{number}`'s answer."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_vault(state: State) -> HostedKeyVault:
    vault: HostedKeyVault = state.vault
    return vault


def provide_answers(state: State) -> CertificateAnswers:
    answers: CertificateAnswers = state.verification
    return answers


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise UnauthorizedError("this needs an `Authorization: Bearer <token>` header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("use `Authorization: Bearer <token>`")
    return await authenticate(token.strip(), now=utc_now(), request_id=current_request_id())


def parse_at(value: str | None, *, field: str, now: datetime) -> datetime:
    """An instant given by a user: RFC 3339 or a bare date (00:00 CST); default now."""
    if value is None or value == "":
        return now
    try:
        return parse_instant(value)
    except MalformedError as e:
        # The message says which rule (a form, a real day, 2000..2099: signing.instants).
        raise InvalidInputError(
            f"{field}: {e}",
            errors=[FieldError(field, f"an RFC 3339 instant or a YYYY-MM-DD date: {e}")],
        ) from e


def parse_min_level(value: str | None) -> StarLevel | None:
    """`min_level`: a star level's name, or nothing.

    Raises:
        InvalidInputError: not a star level.
    """
    if value is None or value == "":
        return None
    try:
        return StarLevel(value)
    except ValueError as e:
        allowed = ", ".join(level.value for level in StarLevel)
        raise InvalidInputError(
            f"min_level {value!r} is not a star level ({allowed})",
            errors=[FieldError("min_level", f"one of {allowed}")],
        ) from e
