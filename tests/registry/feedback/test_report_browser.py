"""Report this mark in headless Chromium: from the page, with a photo, on a phone."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from registry.settings import Settings
from tests.factories import certificate_fields, count_rows, make_body
from tests.registry.feedback.test_reports import photo_with_gps, stored_reports

pytestmark = pytest.mark.browser

NUMBER = "SMT-BROWSER-0001"
PHONE = {"width": 390, "height": 800}
TIMEOUT_MS = 20_000  # only bounds a hang


@pytest.fixture
def certificate(live_server: str, settings: Settings) -> str:
    import httpx

    body = make_body(settings)
    response = httpx.post(
        f"{live_server}/api/v1/certificates", json=certificate_fields(NUMBER), headers=body.auth
    )
    assert response.status_code == 201, response.text
    return live_server


def test_a_shopper_reports_a_mark_with_a_photo_from_a_phone(
    certificate: str, tmp_path: Path, artifacts: Path, browser: Any
) -> None:
    photo = tmp_path / "mark.jpg"
    photo.write_bytes(photo_with_gps())
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{certificate}/v/{NUMBER}")
    page.click("#report-mark")
    page.wait_for_selector("form.report-form")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screenshot(path=str(artifacts / "report-form-phone.png"), full_page=True)
    page.fill("#where", "某电商平台上的店铺")
    page.check("input[name=problem][value=fake_mark]")
    page.fill("#details", "二维码扫出来的企业和包装上的不一样")
    page.set_input_files("#photo", str(photo))
    page.click("button[type=submit]")
    page.wait_for_selector("#report-sent")
    assert "认证机构" in page.inner_text("#report-sent")
    context.close()
    # Playwright's loop is running in this thread: the database is read from another.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(count_rows).result()["consumer_report"] == 1
        (report,) = pool.submit(stored_reports).result()
    with Image.open(io.BytesIO(bytes(report["photo"]))) as image:
        assert not image.getexif()
    assert b"Secret Phone" not in bytes(report["photo"])
