"""The status fold at an instant, and the changes it allows (PRODUCT §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signing.documents import CertificatePayload, Issuer, StatusEventPayload
from signing.errors import TransitionError
from signing.instants import CST
from signing.status import (
    SURVEILLANCE_OVERDUE,
    CertificateStatus,
    EventStatus,
    check_history,
    check_new_event,
    check_new_revision,
    revision_at,
    status_at,
)

S = CertificateStatus
E = EventStatus
SECOND = timedelta(seconds=1)


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CST)


# The default certificate: valid_from 2026-01-05, valid_until 2029-01-04 (CST days).
START = cst(2026, 1, 5)
END = cst(2029, 1, 5)


@pytest.fixture
def revisions(docs: Any) -> list[CertificatePayload]:
    return [docs.certificate()]


def fold(revisions: list[CertificatePayload], events: list[StatusEventPayload], at: datetime) -> S:
    return status_at(revisions, events, at).status


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - SECOND, S.NOT_YET_VALID),
        (START, S.VALID),
        (cst(2027, 6, 1), S.VALID),
        (cst(2029, 1, 4, 23, 59), S.VALID),  # the last valid day, inclusive
        (END, S.EXPIRED),  # 00:00 CST the next day
        (cst(2035, 1, 1), S.EXPIRED),
    ],
)
def test_without_events(revisions: list[CertificatePayload], at: datetime, expected: S) -> None:
    assert fold(revisions, [], at) is expected


@pytest.fixture
def history(docs: Any) -> list[StatusEventPayload]:
    """Suspended, reinstated, surveillance passed, then revoked."""
    return [
        docs.event(E.SUSPENDED, cst(2026, 6, 1), reason="监督审核发现问题"),
        docs.event(E.REINSTATED, cst(2026, 7, 1)),
        docs.event(E.SURVEILLANCE_PASSED, cst(2027, 1, 10)),
        docs.event(E.REVOKED, cst(2027, 6, 1), reason="违规使用认证标志"),
    ]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (START - SECOND, S.NOT_YET_VALID),
        (cst(2026, 6, 1) - SECOND, S.VALID),
        (cst(2026, 6, 1), S.SUSPENDED),  # effective_at <= T applies
        (cst(2026, 6, 20), S.SUSPENDED),
        (cst(2026, 7, 1), S.VALID),
        (cst(2027, 1, 10), S.VALID),
        (cst(2027, 6, 1) - SECOND, S.VALID),
        (cst(2027, 6, 1), S.REVOKED),
        (END + timedelta(days=400), S.REVOKED),  # terminal: stands after valid_until
    ],
)
def test_fold_between_events(
    revisions: list[CertificatePayload],
    history: list[StatusEventPayload],
    at: datetime,
    expected: S,
) -> None:
    assert fold(revisions, history, at) is expected


def test_fold_details(
    revisions: list[CertificatePayload], history: list[StatusEventPayload]
) -> None:
    suspended = status_at(revisions, history, cst(2026, 6, 20))
    assert suspended.since == cst(2026, 6, 1)
    assert suspended.last_event is not None and suspended.last_event.reason == "监督审核发现问题"
    revoked = status_at(revisions, history, cst(2028, 1, 1))
    assert revoked.since == cst(2027, 6, 1)
    assert revoked.last_surveillance == cst(2027, 1, 10)
    assert revoked.revision is revisions[0]


def test_withdrawn_stands_after_expiry(docs: Any, revisions: list[CertificatePayload]) -> None:
    events = [docs.event(E.WITHDRAWN, cst(2027, 2, 1), reason="持证方申请注销")]
    assert fold(revisions, events, cst(2027, 2, 1)) is S.WITHDRAWN
    assert fold(revisions, events, END + SECOND) is S.WITHDRAWN


def test_a_suspended_certificate_expires(docs: Any, revisions: list[CertificatePayload]) -> None:
    events = [docs.event(E.SUSPENDED, cst(2028, 12, 1))]
    assert fold(revisions, events, cst(2029, 1, 4, 23, 59)) is S.SUSPENDED
    assert fold(revisions, events, END) is S.EXPIRED


def test_equal_effective_at_apply_in_recorded_order(
    docs: Any, revisions: list[CertificatePayload]
) -> None:
    t = cst(2026, 6, 1)
    suspended, reinstated = docs.event(E.SUSPENDED, t), docs.event(E.REINSTATED, t)
    revoked = docs.event(E.REVOKED, t)
    assert fold(revisions, [suspended, reinstated], t) is S.VALID
    assert fold(revisions, [suspended, revoked], t) is S.REVOKED
    # Recorded the other way round, "reinstated" would come first: illegal.
    with pytest.raises(TransitionError, match="cannot reinstate"):
        status_at(revisions, [reinstated, suspended], t)


def test_a_backdated_event_takes_effect_in_the_past(
    docs: Any, revisions: list[CertificatePayload]
) -> None:
    # The revocation was recorded first; the suspension before it was
    # published later, backdated to when it was decided.
    revoked = docs.event(E.REVOKED, cst(2026, 8, 1))
    suspended = docs.event(E.SUSPENDED, cst(2026, 7, 1), signed_at=cst(2026, 8, 5))
    check_new_event(revisions, [revoked], suspended)
    events = [revoked, suspended]
    assert fold(revisions, events, cst(2026, 6, 30)) is S.VALID
    assert fold(revisions, events, cst(2026, 7, 15)) is S.SUSPENDED
    assert fold(revisions, events, cst(2026, 8, 1)) is S.REVOKED


# --- surveillance overdue ---------------------------------------------------------


def test_surveillance_overdue_after_15_months(revisions: list[CertificatePayload]) -> None:
    due = cst(2027, 4, 5)  # valid_from + 12 months + 3 months' grace
    assert status_at(revisions, [], due).warnings == ()
    late = status_at(revisions, [], due + SECOND)
    assert late.status is S.VALID  # it stays valid until the body acts
    assert late.warnings == (SURVEILLANCE_OVERDUE,)
    assert late.surveillance_due == due


def test_surveillance_passed_clears_the_warning(
    docs: Any, revisions: list[CertificatePayload]
) -> None:
    on_time = [docs.event(E.SURVEILLANCE_PASSED, cst(2027, 1, 10))]
    assert status_at(revisions, on_time, cst(2027, 5, 1)).warnings == ()
    assert status_at(revisions, on_time, cst(2028, 4, 10)).warnings == ()
    assert status_at(revisions, on_time, cst(2028, 4, 10) + SECOND).warnings == (
        SURVEILLANCE_OVERDUE,
    )
    late = [docs.event(E.SURVEILLANCE_PASSED, cst(2027, 6, 1))]
    assert status_at(revisions, late, cst(2027, 5, 1)).warnings == (SURVEILLANCE_OVERDUE,)
    assert status_at(revisions, late, cst(2027, 6, 1)).warnings == ()


def test_only_a_valid_certificate_gets_the_warning(
    docs: Any, revisions: list[CertificatePayload]
) -> None:
    events = [docs.event(E.SUSPENDED, cst(2026, 6, 1))]
    assert status_at(revisions, events, cst(2027, 12, 1)).warnings == ()


# --- revisions --------------------------------------------------------------------


def test_the_revision_in_force(docs: Any) -> None:
    first = docs.certificate()
    second = docs.certificate(revision=2, score=96, signed_at=cst(2027, 1, 10))
    revisions = [first, second]
    assert revision_at(revisions, cst(2027, 1, 10) - SECOND) is first
    assert revision_at(revisions, cst(2027, 1, 10)) is second
    assert revision_at(revisions, START - timedelta(days=30)) is first  # revision 1 from the start
    assert status_at(revisions, [], cst(2027, 2, 1)).revision.level.value == "five_star"
    assert status_at(revisions, [], cst(2026, 12, 1)).revision.level.value == "four_star"


def test_a_renewal_revision_moves_the_end_of_validity(docs: Any) -> None:
    first = docs.certificate()
    renewal = docs.certificate(
        revision=2,
        signed_at=cst(2028, 12, 1),
        issued_on="2028-12-01",
        valid_from="2029-01-05",
        valid_until="2032-01-04",
    )
    revisions = [first, renewal]
    check_history(revisions, [])
    assert fold(revisions, [], cst(2029, 6, 1)) is S.VALID
    assert fold(revisions, [], cst(2032, 1, 5)) is S.EXPIRED
    assert fold([first], [], cst(2029, 6, 1)) is S.EXPIRED
    # not_yet_valid is judged against revision 1's valid_from.
    assert fold(revisions, [], START - SECOND) is S.NOT_YET_VALID


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "new", "message"),
    [
        ([], (E.REINSTATED, (2026, 3, 1)),
         "cannot reinstate: the certificate is valid, not suspended, at 2026-02-28T16:00:00Z"),
        ([(E.SUSPENDED, (2026, 3, 1))], (E.SUSPENDED, (2026, 4, 1)),
         "cannot suspend: the certificate is suspended, not valid"),
        ([(E.SUSPENDED, (2026, 3, 1))], (E.SURVEILLANCE_PASSED, (2026, 4, 1)),
         "cannot record a passed surveillance: the certificate is suspended, not valid"),
        ([(E.REVOKED, (2026, 3, 1))], (E.REINSTATED, (2026, 4, 1)),
         "cannot reinstate: the certificate is revoked, not suspended"),
        ([(E.REVOKED, (2026, 3, 1))], (E.WITHDRAWN, (2026, 4, 1)),
         "cannot withdraw: the certificate is revoked, not valid or suspended"),
        ([(E.WITHDRAWN, (2026, 3, 1))], (E.REVOKED, (2026, 4, 1)),
         "cannot revoke: the certificate is withdrawn, not valid or suspended"),
        ([], (E.ISSUED, (2026, 3, 1)), "issued by its revision 1"),
        ([], (E.SUSPENDED, (2026, 1, 4)), "before the certificate's valid_from 2026-01-05"),
        ([], (E.SUSPENDED, (2029, 1, 6)), "after the end of validity"),
        # Inserted before a later event that could then no longer apply.
        ([(E.SUSPENDED, (2026, 6, 1)), (E.REINSTATED, (2026, 7, 1))], (E.REVOKED, (2026, 5, 1)),
         "the event 'suspended' recorded at 2026-05-31T16:00:00Z would then be illegal"),
    ],
)  # fmt: skip
def test_check_new_event_refusals(
    docs: Any,
    revisions: list[CertificatePayload],
    existing: list[tuple[E, tuple[int, ...]]],
    new: tuple[E, tuple[int, ...]],
    message: str,
) -> None:
    events = [docs.event(status, cst(*day)) for status, day in existing]
    check_history(revisions, events)
    with pytest.raises(TransitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_new_event(revisions, events, docs.event(new[0], cst(*new[1])))


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ([], (E.SUSPENDED, START)),  # exactly at the start of validity
        ([], (E.WITHDRAWN, END)),  # exactly at the end of validity
        ([(E.SUSPENDED, cst(2026, 3, 1))], (E.REINSTATED, cst(2026, 3, 1))),  # same instant
        ([(E.SUSPENDED, cst(2026, 3, 1))], (E.REVOKED, cst(2026, 4, 1))),
        ([(E.SUSPENDED, cst(2026, 3, 1))], (E.WITHDRAWN, cst(2026, 4, 1))),
        ([], (E.SURVEILLANCE_PASSED, cst(2027, 1, 1))),
    ],
)
def test_check_new_event_accepts(
    docs: Any,
    revisions: list[CertificatePayload],
    existing: list[tuple[E, datetime]],
    new: tuple[E, datetime],
) -> None:
    events = [docs.event(status, when) for status, when in existing]
    check_new_event(revisions, events, docs.event(*new))


def test_check_new_event_other_certificate_body_or_revision(
    docs: Any, revisions: list[CertificatePayload]
) -> None:
    good = docs.event(E.SUSPENDED, cst(2026, 3, 1))
    wrong_revision = StatusEventPayload(
        number=good.number, revision=2, status=good.status, effective_at=good.effective_at,
        issuer=good.issuer, signed_at=good.signed_at,
    )  # fmt: skip
    with pytest.raises(TransitionError, match="names revision 2"):
        check_new_event(revisions, [], wrong_revision)
    other_number = StatusEventPayload(
        number="OTHER-0001", revision=1, status=good.status, effective_at=good.effective_at,
        issuer=good.issuer, signed_at=good.signed_at,
    )  # fmt: skip
    with pytest.raises(TransitionError, match="for certificate OTHER-0001"):
        check_new_event(revisions, [], other_number)
    other_body = StatusEventPayload(
        number=good.number, revision=1, status=good.status, effective_at=good.effective_at,
        issuer=Issuer("OTHER"), signed_at=good.signed_at,
    )  # fmt: skip
    with pytest.raises(TransitionError, match="issued by OTHER"):
        check_new_event(revisions, [], other_body)


def test_check_new_revision(docs: Any) -> None:
    first = docs.certificate()
    check_new_revision([], first)
    check_new_revision([first], docs.certificate(revision=2, signed_at=cst(2027, 1, 1)))
    cases = [
        (docs.certificate(revision=3), "the next revision is 2"),
        (docs.certificate(revision=2, number="CQC-2026-ASS-0002"),
         "for certificate CQC-2026-ASS-0002"),
        (docs.certificate(revision=2, holder={"name": "x", "uscc": "914403001922038216"}),
         "a new holder needs a new certificate"),
        (docs.certificate(revision=2, signed_at=cst(2026, 1, 1)), "before revision 1"),
    ]  # fmt: skip
    for new, message in cases:
        with pytest.raises(TransitionError, match=message):
            check_new_revision([first], new)
    with pytest.raises(TransitionError, match="the next revision is 1"):
        check_new_revision([], docs.certificate(revision=2))
    other_body = CertificatePayload.build(
        {"number": first.number, "score": 92.5, "holder": {"name": "x", "uscc": first.holder.uscc},
         "scope": {"zh": "z"}, "issued_on": "2026-01-05", "valid_from": "2026-01-05"},
        issuer_code="OTHER", issuer_name="n", revision=2, signed_at=cst(2027, 1, 1),
    )  # fmt: skip
    with pytest.raises(TransitionError, match="belongs to CQC"):
        check_new_revision([first], other_body)


def test_check_history(docs: Any, revisions: list[CertificatePayload]) -> None:
    check_history(revisions, [docs.event(E.SUSPENDED, cst(2026, 3, 1))])
    # A registry may publish an explicit "issued" event first: a no-op.
    issued = docs.event(E.ISSUED, START)
    check_history(revisions, [issued])
    assert fold(revisions, [issued], START) is S.VALID
    with pytest.raises(TransitionError, match="the recorded history is illegal"):
        check_history(revisions, [docs.event(E.REINSTATED, cst(2026, 3, 1))])
    with pytest.raises(TransitionError, match="at least revision 1"):
        check_history([], [])
    with pytest.raises(TransitionError, match="next revision is 2"):
        check_history([revisions[0], revisions[0]], [])


def test_status_at_refuses_a_naive_instant(revisions: list[CertificatePayload]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        status_at(revisions, [], datetime(2026, 3, 1))


def test_utc_and_cst_instants_agree(revisions: list[CertificatePayload]) -> None:
    last_minute_utc = datetime(2029, 1, 4, 15, 59, 59, tzinfo=UTC)
    assert fold(revisions, [], last_minute_utc) is S.VALID
    assert fold(revisions, [], last_minute_utc + SECOND) is S.EXPIRED
