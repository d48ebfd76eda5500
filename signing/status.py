"""Certificate status: the fold of status events, and which changes are allowed.

PRODUCT §1 and docs/architecture.md ("Rules that are easy to get wrong"):

* The fold starts in ``valid`` (the implicit ``issued`` event of revision 1 at
  ``valid_from``, 00:00 CST) and applies the events with ``effective_at <= T``
  in (``effective_at``, order recorded).
* ``suspended`` only from valid; ``reinstated`` only from suspended;
  ``revoked`` and ``withdrawn`` from valid or suspended, and then terminal;
  ``surveillance_passed`` only from valid.
* Then: revoked or withdrawn stand as they are; otherwise at or after the end
  of ``valid_until`` (00:00 CST of the next day) it is ``expired``, before
  ``valid_from`` ``not_yet_valid``.
* Revision 1 governs from the start; revision k > 1 takes effect at its own
  ``signed_at``, so "as of" an earlier instant reads the revision in force then.
* A ``valid`` certificate with no ``surveillance_passed`` within 15 months
  (12-month cycle + 3 months' grace) of ``valid_from`` or of the last one is
  shown with the warning ``surveillance_overdue``; it stays valid.
* The history is never rewritten: a new event is accepted only if the whole
  sequence, with it inserted at its ``effective_at``, stays legal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from signing.errors import TransitionError
from signing.instants import (
    add_months_to_instant,
    end_of_validity,
    format_instant,
    require_aware,
    start_of_day,
)

if TYPE_CHECKING:
    from signing.documents import CertificatePayload, StatusEventPayload

__all__ = [
    "SURVEILLANCE_OVERDUE",
    "CertificateStatus",
    "EventStatus",
    "StatusAt",
    "check_history",
    "check_new_event",
    "check_new_revision",
    "revision_at",
    "status_at",
    "underlying_state",
]

#: The warning of a valid certificate whose surveillance is more than 3 months overdue.
SURVEILLANCE_OVERDUE: Final = "surveillance_overdue"


class CertificateStatus(StrEnum):
    """A certificate's status at an instant (CNCA vocabulary, PRODUCT §1)."""

    VALID = "valid"  # 有效
    SUSPENDED = "suspended"  # 暂停
    REVOKED = "revoked"  # 撤销
    WITHDRAWN = "withdrawn"  # 注销
    EXPIRED = "expired"  # 过期
    NOT_YET_VALID = "not_yet_valid"


class EventStatus(StrEnum):
    """The ``status`` of a signed status event (PRODUCT §3)."""

    ISSUED = "issued"
    SURVEILLANCE_PASSED = "surveillance_passed"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"


_STATE_ORDER: Final = (CertificateStatus.VALID, CertificateStatus.SUSPENDED)
_TERMINAL: Final = frozenset({CertificateStatus.REVOKED, CertificateStatus.WITHDRAWN})

# event -> (states it may follow, state it leads to)
_TRANSITIONS: Final[dict[EventStatus, tuple[frozenset[CertificateStatus], CertificateStatus]]] = {
    EventStatus.SUSPENDED: (frozenset({CertificateStatus.VALID}), CertificateStatus.SUSPENDED),
    EventStatus.REINSTATED: (frozenset({CertificateStatus.SUSPENDED}), CertificateStatus.VALID),
    EventStatus.REVOKED: (
        frozenset({CertificateStatus.VALID, CertificateStatus.SUSPENDED}),
        CertificateStatus.REVOKED,
    ),
    EventStatus.WITHDRAWN: (
        frozenset({CertificateStatus.VALID, CertificateStatus.SUSPENDED}),
        CertificateStatus.WITHDRAWN,
    ),
    EventStatus.SURVEILLANCE_PASSED: (
        frozenset({CertificateStatus.VALID}),
        CertificateStatus.VALID,
    ),
}

_VERB: Final = {
    EventStatus.ISSUED: "issue",
    EventStatus.SURVEILLANCE_PASSED: "record a passed surveillance",
    EventStatus.SUSPENDED: "suspend",
    EventStatus.REINSTATED: "reinstate",
    EventStatus.REVOKED: "revoke",
    EventStatus.WITHDRAWN: "withdraw",
}


@dataclass(frozen=True, slots=True)
class StatusAt:
    """The status of a certificate at instant ``at``.

    ``revision`` is the revision in force at ``at``; ``since`` is when the
    folded state (valid, suspended, revoked, withdrawn) began, the start of
    validity for an unchanged certificate; ``last_event`` is the last event
    applied (its ``reason`` explains a suspension or revocation);
    ``last_surveillance`` is the ``effective_at`` of the last
    ``surveillance_passed`` applied; ``surveillance_due`` is the instant after
    which surveillance counts as overdue.
    """

    at: datetime
    status: CertificateStatus
    revision: CertificatePayload
    since: datetime
    last_event: StatusEventPayload | None
    last_surveillance: datetime | None
    surveillance_due: datetime
    warnings: tuple[str, ...]


def _start(revisions: Sequence[CertificatePayload]) -> datetime:
    return start_of_day(revisions[0].valid_from)


def revision_at(revisions: Sequence[CertificatePayload], at: datetime) -> CertificatePayload:
    """The revision in force at ``at``: revision 1 from the start, revision k from its signed_at.

    ``revisions`` are in revision order (1, 2, ...).

    Raises:
        TransitionError: no revisions.
    """
    if not revisions:
        raise TransitionError("a certificate has at least revision 1")
    current = revisions[0]
    for revision in revisions[1:]:
        if revision.signed_at <= at:
            current = revision
    return current


def _ordered(events: Sequence[StatusEventPayload]) -> list[StatusEventPayload]:
    # sorted() is stable: events with equal effective_at keep the order the
    # registry recorded them in (PRODUCT §1).
    return sorted(events, key=lambda e: e.effective_at)


def _refusal(event: StatusEventPayload, state: CertificateStatus) -> str | None:
    """Why ``event`` cannot follow ``state``, or None when it can."""
    when = format_instant(event.effective_at)
    if event.status is EventStatus.ISSUED:
        return f"cannot issue at {when}: a certificate is issued by its revision 1"
    allowed, _ = _TRANSITIONS[event.status]
    if state in allowed:
        return None
    wanted = " or ".join(s.value for s in _STATE_ORDER if s in allowed)
    return (
        f"cannot {_VERB[event.status]}: the certificate is {state.value}, not {wanted}, at {when}"
    )


def _replay(
    revisions: Sequence[CertificatePayload],
    ordered: Sequence[StatusEventPayload],
    *,
    until: datetime | None = None,
) -> tuple[
    CertificateStatus,
    datetime,
    StatusEventPayload | None,
    datetime | None,
    StatusEventPayload | None,
]:
    """Fold ``ordered`` events (up to ``until``) from valid at the start of validity.

    Returns (state, since, last event, last surveillance, first event that could not
    apply or None). An explicit ``issued`` event is tolerated as a no-op when it
    is the very first event, of revision 1 (a registry may publish one).
    """
    state = CertificateStatus.VALID
    since = _start(revisions)
    last: StatusEventPayload | None = None
    last_surveillance: datetime | None = None
    for index, event in enumerate(ordered):
        if until is not None and event.effective_at > until:
            break
        if event.status is EventStatus.ISSUED and index == 0 and event.revision == 1:
            last = event
            continue
        if _refusal(event, state) is not None:
            return state, since, last, last_surveillance, event
        _, state_after = _TRANSITIONS[event.status]
        if state_after is not state:
            since = event.effective_at
        if event.status is EventStatus.SURVEILLANCE_PASSED:
            last_surveillance = event.effective_at
        state = state_after
        last = event
    return state, since, last, last_surveillance, None


def underlying_state(
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
    at: datetime,
) -> CertificateStatus:
    """The state the events in effect at ``at`` lead to, before the dates are read.

    One of valid, suspended, revoked or withdrawn: the fold of `status_at`
    without expiry and not-yet-valid, which come from the calendar alone. It
    is what the registry keeps in a column to find candidates by status
    (a copy, checked against this function on every read).

    Raises:
        TransitionError: no revisions.
        ValueError: ``at`` is naive.
    """
    require_aware(at, "at")
    if not revisions:
        raise TransitionError("a certificate has at least revision 1")
    state, *_ = _replay(revisions, _ordered(events), until=at)
    return state


def status_at(
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
    at: datetime,
) -> StatusAt:
    """The status of a certificate at ``at``.

    ``revisions`` are in revision order (1, 2, ...); ``events`` in the order the
    registry recorded them. Consistency of the whole history is `check_history`'s
    job; this function refuses only what it meets while folding.

    Raises:
        TransitionError: no revisions, or an event up to ``at`` that cannot
            follow the state before it.
        ValueError: ``at`` is naive.
    """
    require_aware(at, "at")
    revision = revision_at(revisions, at)
    state, since, last, last_surveillance, refused = _replay(revisions, _ordered(events), until=at)
    if refused is not None:
        raise TransitionError(f"the recorded history is illegal: {_refusal(refused, state)}")
    start = _start(revisions)
    scheme = revisions[0].scheme
    due = add_months_to_instant(
        last_surveillance if last_surveillance is not None else start,
        scheme.surveillance_overdue_months,
    )
    if state in _TERMINAL:
        status = state
    elif at >= end_of_validity(revision.valid_until):
        status = CertificateStatus.EXPIRED
        since = end_of_validity(revision.valid_until)
    elif at < start:
        status = CertificateStatus.NOT_YET_VALID
    else:
        status = state
    warnings: tuple[str, ...] = ()
    if status is CertificateStatus.VALID and at > due:
        warnings = (SURVEILLANCE_OVERDUE,)
    return StatusAt(
        at=at,
        status=status,
        revision=revision,
        since=since,
        last_event=last,
        last_surveillance=last_surveillance,
        surveillance_due=due,
        warnings=warnings,
    )


def _check_event_bounds(
    revisions: Sequence[CertificatePayload], event: StatusEventPayload, *, what: str
) -> None:
    number = revisions[0].number
    if event.number != number:
        raise TransitionError(f"{what} is for certificate {event.number}, not {number}")
    if not 1 <= event.revision <= len(revisions):
        raise TransitionError(
            f"{what} names revision {event.revision}, but certificate {number} has "
            f"revisions 1 to {len(revisions)}"
        )
    if event.issuer.code != revisions[0].issuer.code:
        raise TransitionError(
            f"{what} is issued by {event.issuer.code}, but certificate {number} "
            f"belongs to {revisions[0].issuer.code}"
        )
    start = _start(revisions)
    when = format_instant(event.effective_at)
    if event.effective_at < start:
        raise TransitionError(
            f"cannot {_VERB[event.status]} at {when}: before the certificate's valid_from "
            f"{revisions[0].valid_from.isoformat()} (00:00 +08:00)"
        )
    in_force = revision_at(revisions, event.effective_at)
    end = end_of_validity(in_force.valid_until)
    if event.effective_at > end:
        raise TransitionError(
            f"cannot {_VERB[event.status]} at {when}: after the end of validity "
            f"(valid_until {in_force.valid_until.isoformat()}, expired at {format_instant(end)})"
        )


def check_new_event(
    revisions: Sequence[CertificatePayload],
    events: Sequence[StatusEventPayload],
    new: StatusEventPayload,
) -> None:
    """Check that ``new`` may be recorded after ``events``.

    ``new`` is inserted at its ``effective_at``, after every recorded event
    with the same or an earlier ``effective_at`` (it is recorded last), and the
    whole sequence must stay legal: a backdated event must not make a later one
    impossible.

    Raises:
        TransitionError: ``new.status`` is ``issued`` (issuing is done by
            revision 1); ``new`` is for another certificate, body or a revision
            that does not exist; it takes effect before ``valid_from`` (00:00
            CST) of revision 1 or after the end of validity; or the sequence
            with it is illegal. The message says what to do differently.
    """
    if not revisions:
        raise TransitionError("cannot record a status event for a certificate without revisions")
    if new.status is EventStatus.ISSUED:
        raise TransitionError(
            "cannot record 'issued': a certificate is issued by its revision 1, "
            "not by a status event"
        )
    _check_event_bounds(revisions, new, what="the new event")
    ordered = _ordered([*events, new])
    state, _, _, _, refused = _replay(revisions, ordered)
    if refused is None:
        return
    reason = _refusal(refused, state)
    if refused is new:
        raise TransitionError(reason)
    # The new event itself applies, but a later recorded one no longer would.
    raise TransitionError(
        f"cannot {_VERB[new.status]} at {format_instant(new.effective_at)}: the event "
        f"'{refused.status.value}' recorded at {format_instant(refused.effective_at)} "
        f"would then be illegal ({reason}); record events in the order they take effect"
    )


def check_new_revision(revisions: Sequence[CertificatePayload], new: CertificatePayload) -> None:
    """Check that ``new`` may follow ``revisions`` (in revision order).

    Raises:
        TransitionError: ``new.revision`` is not ``len(revisions) + 1``; the
            number, issuer or holder USCC differs from revision 1 (a different
            holder is a different certificate); or ``new`` was signed before
            the revision it replaces (revision k takes effect at its
            ``signed_at``, so revisions must be signed in order).
    """
    expected = len(revisions) + 1
    if new.revision != expected:
        raise TransitionError(
            f"revision {new.revision} cannot follow {len(revisions)} revision(s); "
            f"the next revision is {expected}"
        )
    if not revisions:
        return
    first, last = revisions[0], revisions[-1]
    if new.number != first.number:
        raise TransitionError(
            f"revision {new.revision} is for certificate {new.number}, not {first.number}"
        )
    if new.issuer.code != first.issuer.code:
        raise TransitionError(
            f"revision {new.revision} is issued by {new.issuer.code}, but certificate "
            f"{first.number} belongs to {first.issuer.code}"
        )
    if new.holder.uscc != first.holder.uscc:
        raise TransitionError(
            f"revision {new.revision} names holder USCC {new.holder.uscc}, but certificate "
            f"{first.number} is held by {first.holder.uscc}; a new holder needs a new certificate"
        )
    if new.signed_at < last.signed_at:
        raise TransitionError(
            f"revision {new.revision} is signed at {format_instant(new.signed_at)}, before "
            f"revision {last.revision} ({format_instant(last.signed_at)})"
        )


def check_history(
    revisions: Sequence[CertificatePayload], events: Sequence[StatusEventPayload]
) -> None:
    """Check a whole stored history: revisions in sequence and events legal in order.

    ``revisions`` in revision order, ``events`` in the order recorded. Each
    event must pass the checks of `check_new_event` (except that a first
    ``issued`` event of revision 1 is tolerated as a no-op).

    Raises:
        TransitionError: the first rule broken.
    """
    if not revisions:
        raise TransitionError("a certificate has at least revision 1")
    for index, revision in enumerate(revisions):
        check_new_revision(revisions[:index], revision)
    for event in events:
        _check_event_bounds(revisions, event, what=f"the '{event.status.value}' event")
    ordered = _ordered(events)
    state, _, _, _, refused = _replay(revisions, ordered)
    if refused is not None:
        raise TransitionError(f"the recorded history is illegal: {_refusal(refused, state)}")
