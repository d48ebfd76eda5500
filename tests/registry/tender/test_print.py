"""The printed receipt and the phone layout of /verify in headless Chromium (issue 13).

A receipt for 9 and for 20 bidders is printed to A4 PDF and its pages are
counted with pypdfium2: one page. The results at 390 px (a phone) do not
scroll sideways. Screenshots at 390 and 1280 px go to the artifacts directory
(docs/img/ holds two of them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factories import certificate_fields, uscc
from tests.registry.tender.conftest import (
    EXPIRED,
    FIVE_STAR,
    REVOKED,
    SUSPENDED_THEN_REINSTATED,
    THREE_STAR,
    World,
)

pytestmark = pytest.mark.browser

#: Holders of the bidders beyond the five of `world`: long names, as tender lists have.
EXTRA_HOLDERS = [
    "青岛海尔智家售后服务有限公司",
    "海信家电集团股份有限公司青岛分公司",
    "杭州老板电器售后服务工程有限公司",
    "广东美的制冷设备有限公司青岛服务中心",
    "珠海格力电器股份有限公司山东售后服务部",
    "四川长虹电器股份有限公司售后服务分公司",
    "TCL 科技集团股份有限公司售后服务中心",
    "小米通讯技术有限公司客户服务部",
    "宁波方太厨具有限公司售后服务工程部",
    "苏州科沃斯机器人股份有限公司服务中心",
    "北京京东世纪贸易有限公司家电安装维修部",
    "深圳创维-RGB电子有限公司售后服务公司",
    "合肥美菱股份有限公司客户服务中心",
    "上海松下微波炉有限公司维修服务部",
    "无锡小天鹅电器有限公司售后服务部",
]


@pytest.fixture
def bidders(world: World) -> list[str]:
    """20 certificate numbers: the world's five (valid, suspended, revoked, expired) and 15 more."""
    numbers = [FIVE_STAR, SUSPENDED_THEN_REINSTATED, REVOKED, EXPIRED, THREE_STAR]
    for i, name in enumerate(EXTRA_HOLDERS):
        number = f"TND-BID-{i + 1:04d}"
        fields = certificate_fields(
            number,
            score=80 + i,
            start=world.start,
            holder={"name": name, "uscc": uscc(f"bidder-{i}")},
        )
        answer = world.client.post("/api/v1/certificates", json=fields, headers=world.body.auth)
        assert answer.status_code == 201, answer.text
        numbers.append(number)
    return numbers


def pdf_pages(pdf: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def check(page: Any, items: list[str], *, world: World, keep: bool, day: int = 250) -> None:
    """Check ``items`` on /verify as of ``day`` 09:30 (day 250: REVOKED is revoked, EXPIRED
    not yet expired)."""
    page.goto("/verify")
    page.fill("#items", "\n".join(items))
    page.fill("#as_of", world.day(day, "09:30:00"))
    page.fill("#tender_name", "青岛市政府采购 家电安装维修服务项目（第二包）")
    page.fill("#tender_number", "QDCG-2026-117-02")
    page.select_option("#min_level", "four_star")
    if keep:
        page.check("#keep")
    page.click("form.tender-form button[type=submit]")
    page.wait_for_selector("#results")


@pytest.mark.parametrize(("count", "keep"), [(9, False), (20, False), (20, True)])
def test_the_printed_receipt_fits_one_a4_page(
    world: World,
    bidders: list[str],
    browser: Any,
    live_server: str,
    artifacts: Path,
    count: int,
    keep: bool,
) -> None:
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        page = context.new_page()
        check(page, bidders[:count], world=world, keep=keep)
        page.click("#print-receipt")  # the stored receipt's link, or the posted one's form
        page.wait_for_selector("#printable-receipt")
        assert page.locator("#results tbody tr").count() == count
        assert "QDCG-2026-117-02" in page.locator("#tender-number").inner_text()
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        (artifacts / f"tender-print-{count}-{'kept' if keep else 'posted'}.pdf").write_bytes(pdf)
        assert pdf_pages(pdf) == 1
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_results_fit_the_screen_with_both_statuses(
    world: World,
    bidders: list[str],
    browser: Any,
    live_server: str,
    artifacts: Path,
    width: int,
) -> None:
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": width, "height": 844}
    )
    try:
        page = context.new_page()
        check(page, bidders[:9], world=world, keep=True, day=150)
        revoked = page.locator(f'tr[data-item="{REVOKED}"]')
        assert revoked.get_attribute("data-status") == "valid"  # at the deadline, day 150
        assert revoked.get_attribute("data-status-now") == "revoked"
        assert revoked.locator(".status-now .badge").is_visible()
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{scroll}px wide in a {width}px screen"
        # Nor does the table scroll inside its frame: the reasons are on screen.
        table = page.evaluate(
            "[document.querySelector('.table-wrap').scrollWidth,"
            " document.querySelector('.table-wrap').clientWidth]"
        )
        assert table[0] <= table[1], f"the table is {table[0]}px wide in {table[1]}px"
        page.screenshot(path=str(artifacts / f"tender-results-{width}.png"), full_page=True)
        if width == 390:
            # A card: the status now is on screen, not in a column off its right edge.
            box = revoked.locator(".status-now").bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
            page.click("#receipt-page")
            page.wait_for_selector("#verdict")
            # Measured once the browser's own check has written its line (with the key id).
            page.wait_for_selector('#browser-check:not([data-result="pending"])', timeout=15_000)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => "
                "e.getBoundingClientRect().right > innerWidth + 1).map(e => e.tagName + '#' + "
                "e.id + '.' + e.className).slice(0, 8)"
            )
            assert scroll <= width, f"receipt page {scroll}px wide: {wide}"
            page.screenshot(path=str(artifacts / "tender-receipt-390.png"), full_page=True)
    finally:
        context.close()
