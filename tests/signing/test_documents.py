"""Payloads: certificate, status event, receipt. Every problem, named by field."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from signing.documents import (
    CertificatePayload,
    Holder,
    Issuer,
    ReceiptPayload,
    Scope,
    StatusEventPayload,
    TenderRef,
)
from signing.errors import InvalidPayloadError
from signing.instants import CST
from signing.jcs import canonical_bytes, parse_canonical
from signing.scheme import GB_T_27922_2011, StarLevel
from signing.status import EventStatus

NOW = datetime(2026, 1, 5, 2, 0, 0, 654321, tzinfo=UTC)


def build(fields: dict[str, Any]) -> CertificatePayload:
    return CertificatePayload.build(
        fields, issuer_code="CQC", issuer_name="中国质量认证中心", revision=1, signed_at=NOW
    )


def problems(err: pytest.ExceptionInfo[InvalidPayloadError]) -> dict[str, str]:
    return {p.field: p.message for p in err.value.problems}


def test_build_normalises_the_post_shape_and_to_json_is_the_v1_payload(make_fields: Any) -> None:
    fields = make_fields(
        number=" cqc-2026-ass-0001 ",
        score="92.50",
        holder={
            "name": "  青岛海尔智家股份有限公司 ",
            "uscc": "91370200264574251e",
            "name_en": "",
            "address": None,
        },
        scope={"zh": "家用电器的售后服务"},
    )
    del fields["sites"]
    payload = build(fields)
    assert payload.to_json() == {
        "type": "starmark.certificate",
        "v": 1,
        "number": "CQC-2026-ASS-0001",
        "revision": 1,
        "scheme": "GB/T 27922-2011",
        "score": 92.5,
        "level": "four_star",
        "holder": {"name": "青岛海尔智家股份有限公司", "uscc": "91370200264574251E"},
        "scope": {"zh": "家用电器的售后服务"},
        "sites": [],
        "issued_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "valid_until": "2029-01-04",
        "issuer": {"code": "CQC", "name": "中国质量认证中心"},
        "signed_at": "2026-01-05T02:00:00Z",
    }
    assert payload.level is StarLevel.FOUR_STAR
    assert payload.score == Decimal("92.5")
    assert payload.scheme is GB_T_27922_2011


def test_from_json_reads_back_exactly_what_was_signed(make_fields: Any) -> None:
    payload = build(make_fields())
    signed_bytes = canonical_bytes(payload.to_json())
    again = CertificatePayload.from_json(parse_canonical(signed_bytes))
    assert again == payload
    assert canonical_bytes(again.to_json()) == signed_bytes


@pytest.mark.parametrize(
    ("score", "json_score", "level"),
    [
        (70, 70, "compliant"),
        ("79.9", 79.9, "compliant"),
        (80, 80, "three_star"),
        (89.9, 89.9, "three_star"),
        (90, 90, "four_star"),
        (94.9, 94.9, "four_star"),
        (95, 95, "five_star"),
        (95.0, 95, "five_star"),
        ("100", 100, "five_star"),
    ],
)
def test_score_and_level(make_fields: Any, score: Any, json_score: Any, level: str) -> None:
    out = build(make_fields(score=score)).to_json()
    assert out["score"] == json_score and type(out["score"]) is type(json_score)
    assert out["level"] == level
    assert build(make_fields(score=score, level=level)).level.value == level


@pytest.mark.parametrize(
    ("score", "message"),
    [
        (69.9, "below 70"),
        (100.1, "above the maximum 100"),
        (95.55, "more than one decimal"),
        ("95.55", "more than one decimal"),
        ("ninety", "not a score"),
        ("1e2", "not a score"),
        (True, "got a boolean"),
        (None, "must be a number, got null"),
        # Once an overflow of the Decimal context (HTTP 500).
        (1e30, "above the maximum 100"),
        (-1e30, "below 70"),
        (95.05, "more than one decimal"),
    ],
)
def test_scores_that_earn_no_certificate(make_fields: Any, score: Any, message: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        build(make_fields(score=score))
    assert message in problems(caught)["score"]


def test_a_level_contradicting_the_score_names_level(make_fields: Any) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        build(make_fields(score=92, level="five_star"))
    assert list(problems(caught)) == ["level"]
    assert "five_star contradicts score 92, which is four_star" in str(caught.value)


def test_every_problem_is_reported_at_once(make_fields: Any) -> None:
    fields = make_fields(
        score=85,
        level="five_star",
        colour="blue",
        holder={"name": "", "uscc": "91370200264574251F"},
        sites=["ok", 7],
        valid_from="2026-13-01",
    )
    del fields["scope"]
    with pytest.raises(InvalidPayloadError) as caught:
        build(fields)
    found = problems(caught)
    assert set(found) == {
        "level",
        "colour",
        "holder.name",
        "holder.uscc",
        "sites[1]",
        "valid_from",
        "scope",
    }
    assert "should be 'E'" in found["holder.uscc"]
    assert found["scope"] == "is required"
    assert "not a known member" in found["colour"]
    assert str(caught.value).count(";") == len(found) - 1


@pytest.mark.parametrize("member", ["type", "v", "scheme", "revision", "issuer", "signed_at"])
def test_members_the_registry_fills_in_are_refused_in_build(make_fields: Any, member: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        build(make_fields(**{member: "x"}))
    assert "filled in by the registry" in problems(caught)[member]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"issued_on": "2026-01-06"}, "issued_on", "after valid_from"),
        ({"valid_until": "2026-01-05"}, "valid_until", "must be after valid_from"),
        ({"valid_until": "2029-01-05"}, "valid_until", "later than 2029-01-04"),
        ({"valid_until": "2026-1-5"}, "valid_until", "YYYY-MM-DD"),
        ({"number": "CQC 1"}, "number", "6 to 40"),
        ({"holder": {"name": "x" * 201, "uscc": "91370200264574251E"}}, "holder.name", "201"),
        ({"holder": {"name": "a\tb", "uscc": "91370200264574251E"}}, "holder.name", "control"),
        ({"holder": {"name": "x", "uscc": "91370200264574251E", "address": "y" * 301}},
         "holder.address", "at most 300"),
        ({"holder": {"name": "x"}}, "holder.uscc", "is required"),
        ({"holder": "x"}, "holder", "must be a JSON object"),
        ({"scope": {"zh": " "}}, "scope.zh", "must not be empty"),
        ({"scope": {"zh": "z" * 2001}}, "scope.zh", "at most 2000"),
        ({"scope": {"zh": "z", "fr": "f"}}, "scope.fr", "not a known member"),
        ({"sites": ["s"] * 51}, "sites", "at most 50"),
        ({"sites": ["s" * 201]}, "sites[0]", "at most 200"),
        ({"sites": "one site"}, "sites", "array"),
    ],
)  # fmt: skip
def test_field_rules(make_fields: Any, overrides: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        build(make_fields(**overrides))
    assert message in problems(caught)[field]


@pytest.mark.parametrize(
    ("text", "code_point"),
    [
        ("Haichuan\u202eoC", "U+202E"),  # right-to-left override: reads backwards
        ("Hai\u200bchuan", "U+200B"),  # zero-width space
        ("\ufeffHaichuan", "U+FEFF"),  # byte order mark
        ("Hai\u2066chuan\u2069", "U+2066"),  # bidi isolate
        ("Hai\u2028chuan", "U+2028"),  # line separator
        ("Hai\u2029chuan", "U+2029"),  # paragraph separator
        ("Hai\u0085chuan", "U+0085"),  # C1 control (next line)
        ("Hai\U000e0001chuan", "U+E0001"),  # language tag (format)
        ("Hai\u0378chuan", "U+0378"),  # unassigned
        ("Hai\x00chuan", "U+0000"),
    ],
)
@pytest.mark.parametrize("where", ["holder.name", "holder.address", "scope.zh", "sites[0]"])
def test_invisible_and_impossible_characters_are_refused_naming_the_field(
    make_fields: Any, text: str, code_point: str, where: str
) -> None:
    fields = make_fields()
    if where == "sites[0]":
        fields["sites"] = [text]
    else:
        outer, inner = where.split(".")
        fields[outer] = {**fields[outer], inner: text}
    with pytest.raises(InvalidPayloadError) as caught:
        build(fields)
    assert code_point in problems(caught)[where]


def test_names_are_nfc_normalised_before_signing(make_fields: Any) -> None:
    decomposed = "Cafe\u0301 Hai\u0063\u0327huan"  # e + combining acute, c + cedilla
    holder = {**make_fields()["holder"], "name": decomposed}
    payload = build(make_fields(holder=holder))
    assert payload.holder.name == "Caf\u00e9 Hai\u00e7huan"
    signed = payload.to_json()
    assert signed["holder"]["name"] == "Caf\u00e9 Hai\u00e7huan"
    # A signed payload must already be NFC: the decomposed spelling is refused.
    signed["holder"]["name"] = decomposed
    with pytest.raises(InvalidPayloadError) as caught:
        CertificatePayload.from_json(signed)
    assert "NFC" in problems(caught)["holder.name"]


def test_a_multiline_scope_is_allowed(make_fields: Any) -> None:
    assert build(make_fields(scope={"zh": "冰箱\n洗衣机"})).scope.zh == "冰箱\n洗衣机"


def test_the_longest_validity_is_accepted_and_29_february_counts_to_28_february(
    make_fields: Any,
) -> None:
    assert build(make_fields(valid_until="2029-01-04")).valid_until == date(2029, 1, 4)
    leap = build(make_fields(issued_on="2024-02-29", valid_from="2024-02-29"))
    assert leap.valid_until == date(2027, 2, 28)
    with pytest.raises(InvalidPayloadError):
        build(
            make_fields(issued_on="2024-02-29", valid_from="2024-02-29", valid_until="2027-03-01")
        )


def signed_json(make_fields: Any) -> dict[str, Any]:
    return build(make_fields()).to_json()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda p: p.update(number="cqc-2026-ass-0001"), "number", "must be written"),
        (lambda p: p["holder"].update(uscc="91370200264574251e"), "holder.uscc", "must be written"),
        (lambda p: p["holder"].update(name=" 海尔"), "holder.name", "white space"),
        (lambda p: p["holder"].update(name_en=None), "holder.name_en", "omit the member"),
        (lambda p: p.update(signed_at="2026-01-05T10:00:00+08:00"), "signed_at", "in UTC"),
        (lambda p: p.update(signed_at="2026-01-05T02:00:00.5Z"), "signed_at", "in UTC"),
        (lambda p: p.update(score="92.5"), "score", "must be a number"),
        (lambda p: p.update(revision=0), "revision", "at least 1"),
        (lambda p: p.update(revision=True), "revision", "integer"),
        (lambda p: p.update(v=2), "v", "must be 1"),
        (lambda p: p.update(v=True), "v", "must be 1"),
        (lambda p: p.update(type="starmark.status"), "type", "starmark.certificate"),
        (lambda p: p.update(scheme="GB/T 27922-2099"), "scheme", "must be one of"),
        (lambda p: p.update(level="six_star"), "level", "must be one of"),
        (lambda p: p.pop("sites"), "sites", "is required"),
        (lambda p: p.update(extra=1), "extra", "not a known member"),
        (lambda p: p["issuer"].pop("name"), "issuer.name", "is required"),
        (lambda p: p["holder"].update(uscc="91370200264574251F"), "holder.uscc", "check character"),
    ],
)  # fmt: skip
def test_from_json_is_strict(make_fields: Any, change: Any, field: str, message: str) -> None:
    payload = copy.deepcopy(signed_json(make_fields))
    change(payload)
    with pytest.raises(InvalidPayloadError) as caught:
        CertificatePayload.from_json(payload)
    assert message in problems(caught)[field]


def test_from_json_of_something_else() -> None:
    with pytest.raises(InvalidPayloadError, match="must be a JSON object"):
        CertificatePayload.from_json([1, 2])


def test_the_constructor_checks_the_rules_too(make_fields: Any) -> None:
    good = build(make_fields())
    with pytest.raises(InvalidPayloadError, match="level: five_star contradicts"):
        dataclasses.replace(good, level=StarLevel.FIVE_STAR)
    with pytest.raises(InvalidPayloadError, match=r"holder\.uscc"):
        dataclasses.replace(good, holder=Holder(name="x", uscc="91370200264574251F"))
    with pytest.raises(InvalidPayloadError, match="number"):
        dataclasses.replace(good, number="cqc-1234567")
    with pytest.raises(InvalidPayloadError, match="valid_until"):
        dataclasses.replace(good, valid_until=date(2030, 1, 1))
    assert dataclasses.replace(good, scope=Scope("新的范围")).scope.zh == "新的范围"
    assert dataclasses.replace(good, issuer=Issuer("CQC", "名")).issuer.name == "名"


def test_build_refuses_a_naive_signed_at(make_fields: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CertificatePayload.build(
            make_fields(),
            issuer_code="CQC",
            issuer_name="n",
            revision=1,
            signed_at=datetime(2026, 1, 5),
        )


# --- status events ------------------------------------------------------------------


def event(fields: dict[str, Any], **kwargs: Any) -> StatusEventPayload:
    args: dict[str, Any] = {
        "number": "cqc-2026-ass-0001",
        "revision": 1,
        "issuer_code": "CQC",
        "signed_at": NOW,
    }
    args.update(kwargs)
    return StatusEventPayload.build(fields, **args)


def test_status_event_build_and_to_json() -> None:
    built = event(
        {"status": "suspended", "effective_at": "2026-03-01", "reason": " 监督审核未通过 "}
    )
    assert built.to_json() == {
        "type": "starmark.status",
        "v": 1,
        "number": "CQC-2026-ASS-0001",
        "revision": 1,
        "status": "suspended",
        # A bare date is 00:00 China Standard Time.
        "effective_at": "2026-02-28T16:00:00Z",
        "reason": "监督审核未通过",
        "issuer": {"code": "CQC"},
        "signed_at": "2026-01-05T02:00:00Z",
    }
    assert StatusEventPayload.from_json(parse_canonical(canonical_bytes(built.to_json()))) == built


def test_status_event_effective_at_defaults_to_now() -> None:
    later = datetime(2026, 4, 1, 12, 0, 0, 5, tzinfo=UTC)
    assert event({"status": "revoked"}).effective_at == NOW.replace(microsecond=0)
    built = event({"status": "revoked", "effective_at": None}, now=later)
    assert built.effective_at == later.replace(microsecond=0)
    assert "reason" not in built.to_json()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"status": "paused"}, "status", "must be one of"),
        ({}, "status", "is required"),
        ({"status": "revoked", "effective_at": "2026-03-01T00:00:00"}, "effective_at", "offset"),
        ({"status": "revoked", "reason": "r" * 1001}, "reason", "at most 1000"),
        ({"status": "revoked", "number": "X"}, "number", "filled in by the registry"),
        ({"status": "revoked", "why": "X"}, "why", "not a known member"),
    ],
)
def test_status_event_build_problems(fields: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        event(fields)
    assert message in problems(caught)[field]


def test_status_event_from_json_is_strict() -> None:
    good = event({"status": "withdrawn", "effective_at": "2026-03-01T00:00:00Z"}).to_json()
    assert StatusEventPayload.from_json(good).status is EventStatus.WITHDRAWN
    for change, field in [
        ({"effective_at": "2026-03-01T08:00:00+08:00"}, "effective_at"),
        ({"status": "expired"}, "status"),
        ({"issuer": {"code": "CQC", "name": "x"}}, "issuer.name"),
        ({"reason": None}, "reason"),
        ({"type": "starmark.certificate"}, "type"),
    ]:
        with pytest.raises(InvalidPayloadError) as caught:
            StatusEventPayload.from_json({**good, **change})
        assert field in problems(caught), change


def test_status_event_constructor_checks() -> None:
    with pytest.raises(InvalidPayloadError, match="effective_at: must carry a UTC offset"):
        StatusEventPayload(
            number="CQC-2026-ASS-0001",
            revision=1,
            status=EventStatus.SUSPENDED,
            effective_at=datetime(2026, 3, 1),
            issuer=Issuer("CQC"),
            signed_at=NOW,
        )


# --- receipts -----------------------------------------------------------------------


def receipt_json() -> dict[str, Any]:
    return ReceiptPayload(
        request={"items": ["CQC-2026-ASS-0001"], "as_of": "2026-03-01"},
        results=[{"item": "CQC-2026-ASS-0001", "verdicts": [{"status": "valid"}]}],
        as_of=datetime(2026, 3, 1, tzinfo=CST),
        checked_at=datetime(2026, 3, 2, tzinfo=UTC),
        signed_at=datetime(2026, 3, 2, tzinfo=UTC),
    ).to_json()


def test_receipt_round_trip() -> None:
    payload = receipt_json()
    assert payload["issuer"] == {"code": "registry"}
    assert payload["as_of"] == "2026-02-28T16:00:00Z"
    assert ReceiptPayload.from_json(payload).to_json() == payload


def test_a_receipt_names_its_tender_in_the_signed_payload() -> None:
    payload = {**receipt_json(), "tender": {"name": "青岛市政采购 2026", "number": "QD-2026-117"}}
    receipt = ReceiptPayload.from_json(payload)
    assert receipt.tender == TenderRef(name="青岛市政采购 2026", number="QD-2026-117")
    assert receipt.to_json() == payload
    assert "tender" not in receipt_json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"issuer": {"code": "CQC"}}, "issuer.code"),
        ({"request": []}, "request"),
        ({"results": {}}, "results"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"v": 2}, "v"),
        ({"extra": 1}, "extra"),
        ({"tender": "X"}, "tender"),
        ({"tender": {}}, "tender"),
        ({"tender": {"name": "x" * 201}}, "tender.name"),
        ({"tender": {"number": 7}}, "tender.number"),
        ({"tender": {"name": "a\u202eb"}}, "tender.name"),
        ({"tender": {"name": " padded"}}, "tender.name"),
        ({"tender": {"name": "n", "budget": 1}}, "tender.budget"),
    ],
)
def test_receipt_problems(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        ReceiptPayload.from_json({**receipt_json(), **change})
    assert field in problems(caught)
