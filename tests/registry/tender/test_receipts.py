"""Receipts for tender files (issue 13): deadlines as typed, the status now beside the status
at the deadline, the tender and the operator on the receipt, reasons in the page's language.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry.settings import Settings
from tests.registry.tender.conftest import EXPIRED, FIVE_STAR, REVOKED, UNKNOWN, World
from tests.registry.tender.test_pages import (
    HTML,
    assert_no_english_reason_words,
    receipt_id,
    section,
)

OPERATOR = "青岛市公共资源交易中心"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, operator_name=OPERATOR)


def signed_payload(jws: str) -> dict[str, Any]:
    body = jws.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def typed_deadlines(world: World) -> list[tuple[str, datetime]]:
    """Each form an evaluator may type, and the instant it means (China Standard Time)."""
    d = world.start + timedelta(days=110)
    at_0930 = datetime(d.year, d.month, d.day, 1, 30, tzinfo=UTC)
    midnight = datetime(d.year, d.month, d.day, tzinfo=UTC) - timedelta(hours=8)
    return [
        (f"{d.isoformat()} 09:30", at_0930),
        (f"{d.year}/{d.month:02d}/{d.day:02d}", midnight),
        (f"{d.year}年{d.month}月{d.day}日", midnight),
        (f"{d.year}年{d.month}月{d.day}日 9:30", at_0930),
        (f"{d.isoformat()}T09:30", at_0930),  # RFC 3339 with no offset, as a picker sends it
        (f"{d.isoformat()}T01:30:00Z", at_0930),
        (d.isoformat(), midnight),
    ]


def test_each_typed_deadline_is_accepted_by_the_page_and_the_api(world: World) -> None:
    for typed, meant in typed_deadlines(world):
        answer = world.verify([REVOKED], as_of=typed)
        assert answer.status_code == 200, (typed, answer.text)
        assert answer.json()["as_of"] == meant.strftime("%Y-%m-%dT%H:%M:%SZ"), typed
        # A plain form POST of items and as_of, as a browser without JavaScript sends it.
        page = world.client.post("/verify", data={"items": REVOKED, "as_of": typed}, headers=HTML)
        assert page.status_code == 200, (typed, page.text)
        shown = (meant + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")
        assert f"<strong>{shown}</strong>" in page.text, typed


def test_a_deadline_that_is_no_date_is_refused_on_the_page_naming_the_forms(world: World) -> None:
    page = world.client.post(
        "/verify", data={"items": REVOKED, "as_of": "下周一上午"}, headers=HTML
    )
    assert page.status_code == 422
    assert "2026年10月1日" in section(page.text, "problem")


def test_a_bidder_revoked_after_the_deadline_reads_valid_then_and_revoked_now(
    world: World,
) -> None:
    page = world.client.post(
        "/verify", data={"items": f"{REVOKED}\n{FIVE_STAR}", "as_of": world.day(110)}, headers=HTML
    )
    assert page.status_code == 200, page.text
    rows = dict(
        re.findall(r'data-item="([^"]+)" data-status="\w+" data-status-now="(\w+)"', page.text)
    )
    statuses = dict(re.findall(r'data-item="([^"]+)" data-status="(\w+)"', page.text))
    assert statuses[REVOKED] == "valid" and rows[REVOKED] == "revoked"
    assert statuses[FIVE_STAR] == rows[FIVE_STAR] == "valid"
    # The receipt signs both.
    jws = re.search(r'name="jws" value="([^"]+)"', page.text)
    assert jws
    (verdict,) = signed_payload(jws.group(1))["results"][0]["verdicts"]
    assert (verdict["status"], verdict["status_now"]) == ("valid", "revoked")


def test_the_tender_and_the_operator_are_on_the_signed_receipt_and_the_printout(
    world: World,
) -> None:
    page = world.client.post(
        "/verify",
        data={
            "items": f"{REVOKED}\n{FIVE_STAR}",
            "as_of": world.day(110, "09:30:00"),
            "tender_name": "  青岛市政府采购 家电维修服务项目 ",
            "tender_number": "QDCG-2026-117",
            "keep": "on",
        },
        headers=HTML,
    )
    assert page.status_code == 200, page.text
    rid = receipt_id(page.text)
    jws = world.client.get(f"/verify/receipts/{rid}/receipt.jws").text
    assert signed_payload(jws)["tender"] == {
        "name": "青岛市政府采购 家电维修服务项目",
        "number": "QDCG-2026-117",
    }
    printed = world.client.get(f"/verify/receipts/{rid}/print", headers=HTML).text
    assert "青岛市政府采购 家电维修服务项目" in section(printed, "tender-name")
    assert "QDCG-2026-117" in section(printed, "tender-number")
    assert OPERATOR in section(printed, "operator")


def test_a_tender_name_too_long_is_refused_naming_the_field(world: World) -> None:
    page = world.client.post(
        "/verify", data={"items": REVOKED, "tender_name": "标" * 201}, headers=HTML
    )
    assert page.status_code == 422
    assert "招标项目名称" in section(page.text, "problem")
    assert "最多 200 个字符" in section(page.text, "problem")
    answer = world.verify([REVOKED], tender={"number": "x\u202eevil"})
    assert answer.status_code == 422
    assert any(e["field"] == "tender_number" for e in answer.json()["errors"]), answer.json()


def test_chinese_pages_and_receipts_say_every_reason_in_chinese(world: World) -> None:
    items = f"{REVOKED}\n{EXPIRED}\n{FIVE_STAR}\n{UNKNOWN}\n{world.multi_uscc}\n91370212MA3C5XYZ1B"
    page = world.client.post(
        "/verify",
        data={"items": items, "as_of": world.day(350), "min_level": "four_star", "keep": "on"},
        headers=HTML,
    )
    assert page.status_code == 200, page.text
    rid = receipt_id(page.text)
    table = section(page.text, "results")
    assert "撤销" in table and "登记册中没有编号为" in table
    assert_no_english_reason_words(page.text)
    for path in (f"/verify/receipts/{rid}", f"/verify/receipts/{rid}/print"):
        shown = world.client.get(path, headers=HTML)
        assert shown.status_code == 200
        assert_no_english_reason_words(shown.text)
    english = world.client.get(f"/verify/receipts/{rid}/print?lang=en", headers=HTML).text
    assert "revoked at" in section(english, "results")
    assert "meets the minimum level" in section(english, "results")
