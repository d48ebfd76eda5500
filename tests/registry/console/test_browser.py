"""A clerk's journey through the console in headless Chromium (Debian's, via Playwright).

Log in, issue a certificate (the live checks answer as the clerk types), see it on
the public page, then suspend, reinstate and revoke it with the confirmation.
Screenshots go to test-artifacts/console/ at laptop and tablet widths.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from registry.settings import Settings
from tests.factories import BodyFixture, uscc
from tests.registry.console.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
TIMEOUT_MS = 20_000  # pages answer in milliseconds; this only bounds a hang


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The live server speaks plain http on loopback: a Secure cookie would not come back.
    return dataclasses.replace(settings, public_url="http://127.0.0.1")


@pytest.fixture
def clerk_account(body: BodyFixture) -> str:
    make_user("clerk@cqct.example", body=body.code)
    return "clerk@cqct.example"


def hook(page: Any) -> tuple[str, str]:
    element = page.locator("#console-message")
    return str(element.get_attribute("data-result")), str(element.inner_text())


def test_log_in_issue_and_change_the_status(
    clerk_account: str, live_server: str, artifacts: Path, browser: Any
) -> None:
    shots = artifacts / "console"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport=LAPTOP, locale="en")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(f"{live_server}/console/certificates/new?lang=en")
    assert "/console/login" in page.url
    page.screenshot(path=str(shots / "login-laptop.png"))
    page.fill('[name="username"]', clerk_account)
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/console/certificates/new**")

    number = "SMT-2026-0042"
    code = uscc(number)
    start = datetime.now(UTC).date() - timedelta(days=10)
    page.fill('[name="number"]', number)
    page.fill('[name="score"]', "96")
    level = page.locator(".live-check[data-for='score']")
    assert level.get_attribute("data-result") == "ok"
    assert level.inner_text() == "Five-star"
    page.fill('[name="holder.uscc"]', code[:17] + ("0" if code[17] != "0" else "1"))
    check = page.locator(".live-check[data-for='holder.uscc']")
    assert check.get_attribute("data-result") == "error"
    assert code[17] in check.inner_text()
    page.fill('[name="holder.uscc"]', code)
    assert check.get_attribute("data-result") == "ok"
    page.fill('[name="holder.name"]', "青岛海川智能家电有限公司")
    page.fill('[name="scope.zh"]', "冰箱的安装和维修服务")
    page.fill('[name="issued_on"]', start.isoformat())
    page.fill('[name="valid_from"]', start.isoformat())
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(shots / "issue-tablet.png"), full_page=True)
    page.set_viewport_size(LAPTOP)
    page.click('form[action="/console/certificates/new"] button[type="submit"]')
    page.wait_for_url(f"**/console/certificates/{number}")
    assert hook(page) == ("ok", f"Certificate {number} issued.")
    page.screenshot(path=str(shots / "certificate-laptop.png"), full_page=True)

    public = context.new_page()
    public.goto(f"{live_server}/v/{number}?lang=en")
    assert public.locator(".verdict").first.get_attribute("class").count("v-ok") == 1
    public.close()

    def change(status: str, reason: str, *, confirm: bool = False) -> None:
        page.select_option("#s-status", status)
        page.fill("#s-reason", reason)
        if confirm:
            page.check('[name="confirm"]')
        page.click('form[action$="/events"] button[type="submit"]')
        page.wait_for_load_state()

    change("suspended", "customer complaint under review")
    assert hook(page)[0] == "ok"
    assert page.locator("#certificate-status").get_attribute("data-status") == "suspended"
    change("reinstated", "review closed")
    assert page.locator("#certificate-status").get_attribute("data-status") == "valid"
    change("revoked", "rules broken")  # without the box: refused, nothing changed
    assert hook(page)[0] == "error"
    assert page.locator("#certificate-status").get_attribute("data-status") == "valid"
    assert page.locator("#s-reason").input_value() == "rules broken"
    change("revoked", "rules broken", confirm=True)
    assert hook(page)[0] == "ok"
    assert page.locator("#certificate-status").get_attribute("data-status") == "revoked"

    page.goto(f"{live_server}/console?lang=en")
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(shots / "dashboard-tablet.png"), full_page=True)
    context.close()
