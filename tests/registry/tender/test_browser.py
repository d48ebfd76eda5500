"""The `/verify` pages in headless Chromium: a GB18030 CSV uploaded as Chinese Excel writes it,
the results with their colours, the CSV download, the receipt checked by the browser itself.

Screenshots go to the `artifacts` directory for a person to look at.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from tests.registry.tender.conftest import (
    FIVE_STAR,
    REVOKED,
    SUSPENDED_THEN_REINSTATED,
    World,
)
from tests.registry.tender.test_api import flip_one_byte
from tests.registry.tender.test_pages import bidders_csv

pytestmark = pytest.mark.browser

#: site.css colours (WCAG AA): valid is green, suspended amber.
OK_GREEN = "rgb(23, 105, 43)"
WARN_AMBER = "rgb(138, 75, 0)"


@pytest.fixture
def page(browser: Any, live_server: str) -> Any:
    context = browser.new_context(
        base_url=live_server,
        locale="zh-CN",
        accept_downloads=True,
        viewport={"width": 1200, "height": 900},
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def test_gb18030_csv_upload_results_download_and_receipt_in_chromium(
    world: World, page: Any, tmp_path: Path, artifacts: Path
) -> None:
    upload = tmp_path / "投标人名单.csv"
    upload.write_bytes(bidders_csv(world).encode("gb18030"))

    page.goto("/verify")
    assert page.locator("h1").inner_text() == "核验投标人名单"
    page.set_input_files("#file", str(upload))
    page.fill("#as_of", world.day(110))
    page.select_option("#min_level", "four_star")
    page.check("#keep")  # a shareable link: the receipt page and its QR code below
    page.screenshot(path=str(artifacts / "tender-1-form.png"), full_page=True)
    page.click("button[type=submit]")

    page.wait_for_selector("#results")
    assert page.locator("h1").inner_text() == "核验结果"
    rows = page.locator("#results tbody tr")
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(rows.count())]
    assert statuses == ["valid", "suspended", "valid", "valid", "valid"]
    # Colour, icon and word together, in Chinese.
    valid_badge = page.locator(f'tr[data-item="{FIVE_STAR}"] .status .badge')
    assert valid_badge.inner_text().strip() == "✓ 有效"
    assert valid_badge.evaluate("e => getComputedStyle(e).backgroundColor") == OK_GREEN
    suspended = page.locator(f'tr[data-item="{SUSPENDED_THEN_REINSTATED}"] .status .badge')
    assert suspended.inner_text().strip() == "! 暂停"
    assert suspended.evaluate("e => getComputedStyle(e).backgroundColor") == WARN_AMBER
    skipped = page.locator("#skipped li")
    assert [skipped.nth(i).get_attribute("data-line") for i in range(skipped.count())] == ["1", "6"]
    assert "文件第 1 行" in skipped.nth(0).inner_text()
    assert page.locator("#duplicates li").get_attribute("data-line") == "7"
    page.screenshot(path=str(artifacts / "tender-2-results-gb18030.png"), full_page=True)

    with page.expect_download() as downloaded:
        page.click("#download-csv")
    data = Path(downloaded.value.path()).read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[2] for r in table[1:3]] == [FIVE_STAR, SUSPENDED_THEN_REINSTATED]
    assert table[2][6] == "暂停"

    page.click("#receipt-page")
    page.wait_for_selector('#browser-check[data-result="passed"]', timeout=15_000)
    assert page.locator("#verdict").get_attribute("data-status") == "valid"
    assert page.locator("#verdict h1").inner_text() == "回执真实有效"
    assert "签名有效" in page.locator("#browser-check").inner_text()
    page.screenshot(path=str(artifacts / "tender-3-receipt-checked-in-browser.png"), full_page=True)

    page.goto(page.url.split("?")[0] + "/print")
    page.emulate_media(media="print")
    assert page.locator(".receipt-qr").is_visible()
    assert not page.locator(".site-header").is_visible()  # print CSS: the receipt only
    page.screenshot(path=str(artifacts / "tender-4-printed-receipt.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (artifacts / "tender-4-printed-receipt.pdf").write_bytes(pdf)


def test_a_receipt_in_the_url_fragment_is_checked_by_the_browser_alone(
    world: World, page: Any, artifacts: Path
) -> None:
    token = world.verify([FIVE_STAR, REVOKED]).json()["receipt"]
    page.goto(f"/verify/receipt?lang=en#{token}")
    page.wait_for_selector('#browser-check:not([data-result="pending"])', timeout=15_000)
    assert page.locator("#browser-check").get_attribute("data-result") == "passed"
    # The fragment never reached the server; the script put it into the form to submit.
    assert page.locator("#jws").input_value() == token
    page.click("#receipt-form button[type=submit]")
    assert page.locator("#verdict").get_attribute("data-status") == "valid"

    page.goto("about:blank")  # a fresh load, as when someone opens the link
    page.goto(f"/verify/receipt?lang=en#{flip_one_byte(token)}")
    page.wait_for_selector('#browser-check:not([data-result="pending"])', timeout=15_000)
    check = page.locator("#browser-check")
    assert check.get_attribute("data-result") == "failed"
    assert "does NOT hold" in check.inner_text()
    page.screenshot(
        path=str(artifacts / "tender-5-tampered-receipt-in-browser.png"), full_page=True
    )


def test_a_browser_without_ed25519_says_so_plainly(world: World, page: Any) -> None:
    token = world.verify([FIVE_STAR]).json()["receipt"]
    # Stand in for an older browser: WebCrypto that refuses Ed25519 keys (as Chrome < 137 did).
    page.add_init_script(
        """
        const importKey = crypto.subtle.importKey.bind(crypto.subtle);
        crypto.subtle.importKey = (format, key, algorithm, ...rest) =>
          (algorithm && algorithm.name === "Ed25519")
            ? Promise.reject(new DOMException("Unrecognized name", "NotSupportedError"))
            : importKey(format, key, algorithm, ...rest);
        """
    )
    page.goto(f"/verify/receipt?lang=en#{token}")
    page.wait_for_selector('#browser-check:not([data-result="pending"])', timeout=15_000)
    check = page.locator("#browser-check")
    assert check.get_attribute("data-result") == "unsupported"
    assert "cannot check Ed25519 signatures itself" in check.inner_text()
