"""A clerk imports an .xlsx in headless Chromium, reads the row report, downloads a mark."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from registry.settings import Settings
from tests.factories import BodyFixture
from tests.registry.console.conftest import PASSWORD, make_user
from tests.registry.imports.test_jobs import BAD_USCC, cells, xlsx

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
TIMEOUT_MS = 60_000  # the import runs in the background; this only bounds a hang


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The live server speaks plain http on loopback: a Secure cookie would not come back.
    return dataclasses.replace(settings, public_url="http://127.0.0.1")


@pytest.fixture
def clerk_account(body: BodyFixture) -> str:
    make_user("clerk@cqct.example", body=body.code)
    return "clerk@cqct.example"


def test_import_an_xlsx_read_the_report_and_download_a_mark(
    clerk_account: str, live_server: str, artifacts: Path, tmp_path: Path, browser: Any
) -> None:
    workbook = tmp_path / "证书信息表.xlsx"
    workbook.write_bytes(
        xlsx(
            [
                cells("SMT-WEB-0001"),
                cells("SMT-WEB-0002", uscc=BAD_USCC),
                cells("SMT-WEB-0003"),
                cells("SMT-WEB-0004", holder_name=""),
            ]
        )
    )
    shots = artifacts / "console"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport=LAPTOP, locale="en", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(f"{live_server}/console/import?lang=en")
    page.fill('[name="username"]', clerk_account)
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/console/import**")
    page.set_input_files("#f-file", str(workbook))
    page.screenshot(path=str(shots / "import-laptop.png"), full_page=True)
    page.click('form[action="/console/import"] button[type="submit"]')
    page.wait_for_url("**/console/import/*")
    # The page's script polls the job and reloads once it has finished.
    page.wait_for_selector("#console-message[data-result]")
    assert page.locator("#console-message").get_attribute("data-result") == "error"
    lines = page.locator("#import-report li").all_inner_texts()
    assert len(lines) == 2
    assert lines[0].startswith("line 3: SMT-WEB-0002: uscc: ")
    assert lines[1].startswith("line 5: SMT-WEB-0004: holder_name: ")
    page.screenshot(path=str(shots / "import-report-laptop.png"), full_page=True)
    with page.expect_download() as report:
        page.click("#report-csv")
    assert report.value.path().read_bytes().startswith(b"\xef\xbb\xbfline,number,field,problem")

    page.goto(f"{live_server}/console/certificates/SMT-WEB-0001?lang=en")
    with page.expect_download() as mark:
        page.click('a[href$="/marks/png"]')
    assert mark.value.path().read_bytes().startswith(b"\x89PNG")
    page.screenshot(path=str(shots / "certificate-reports-laptop.png"), full_page=True)

    # Tick both imported certificates in the list: one PDF sheet of their marks.
    page.goto(f"{live_server}/console/certificates?lang=en")
    page.check('input[name="number"][value="SMT-WEB-0001"]')
    page.check('input[name="number"][value="SMT-WEB-0003"]')
    page.click('button[form="mark-sheet"]')
    page.wait_for_url("**/console/marks/sheet?*")
    assert page.locator("#console-message").get_attribute("data-result") == "ok"
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(shots / "mark-sheet-tablet.png"), full_page=True)
    with page.expect_download() as sheet:
        page.click("#mark-sheet-pdf")
    assert sheet.value.path().read_bytes().startswith(b"%PDF")
    for name in ("uploads", "reports"):
        page.goto(f"{live_server}/console/{name}?lang=en")
        page.screenshot(path=str(shots / f"{name}-tablet.png"), full_page=True)
    context.close()
