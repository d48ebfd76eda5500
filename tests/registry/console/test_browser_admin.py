"""Tokens and the operator's pages in headless Chromium (Debian's, via Playwright).

A clerk creates a token (shown once) and revokes it; an operator adds a body and
an account for it, and gets the one-time link to set its password.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from registry.settings import Settings
from tests.factories import BodyFixture
from tests.registry.console.conftest import PASSWORD, make_user
from tests.registry.console.test_browser import LAPTOP, TIMEOUT_MS, hook

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The live server speaks plain http on loopback: a Secure cookie would not come back.
    return dataclasses.replace(settings, public_url="http://127.0.0.1")


@pytest.fixture
def clerk_account(body: BodyFixture) -> str:
    make_user("clerk@cqct.example", body=body.code)
    return "clerk@cqct.example"


@pytest.fixture
def operator_account(body: BodyFixture) -> str:
    make_user("ops@registry.example")
    return "ops@registry.example"


def signed_in(browser: Any, live_server: str, email: str) -> Any:
    context = browser.new_context(viewport=LAPTOP, locale="en")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server}/console/login?lang=en")
    page.fill('[name="username"]', email)
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{live_server}/console")
    return page


def test_create_and_revoke_a_token(clerk_account: str, live_server: str, browser: Any) -> None:
    page = signed_in(browser, live_server, clerk_account)
    page.click('nav a[href="/console/tokens"]')
    page.fill("#label", "ERP system")
    page.click('form[action="/console/tokens"] button[type="submit"]')
    page.wait_for_load_state()
    assert hook(page)[0] == "ok"
    token = page.locator("#token-secret").input_value()
    assert token.startswith("smk_")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.locator('button[data-copy="token-secret"]')
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert copy.inner_text() == "Copied"
    prefix = token[:12]
    row = page.locator(f'tr[data-prefix="{prefix}"]')
    row.locator('[name="confirm"]').check()
    row.locator('button[type="submit"]').click()
    page.wait_for_load_state()
    assert hook(page) == ("ok", f"Token {prefix} revoked.")
    assert page.locator("#token-secret").count() == 0
    assert "revoked" in page.locator(f'tr[data-prefix="{prefix}"]').inner_text()
    page.context.close()


def test_an_operator_adds_a_body_and_a_user(
    operator_account: str, live_server: str, browser: Any
) -> None:
    page = signed_in(browser, live_server, operator_account)
    page.click('nav a[href="/console/bodies"]')
    page.fill("#b-code", "NEWB")
    page.fill("#b-name", "新认证中心")
    page.fill("#b-website", "https://newb.example.cn")
    page.click('form[action="/console/bodies"] button[type="submit"]')
    page.wait_for_load_state()
    assert hook(page) == ("ok", "Body NEWB added.")
    assert page.locator('tr[data-code="NEWB"]').count() == 1

    page.click('nav a[href="/console/users"]')
    page.fill("#u-email", "clerk@newb.example")
    page.select_option("#u-body", "NEWB")
    page.select_option("#u-role", "issuer")
    page.click('form[action="/console/users"] button[type="submit"]')
    page.wait_for_load_state()
    assert hook(page)[0] == "ok"
    link = page.locator("#link-secret").input_value()
    assert "/console/set-password?token=" in link
    assert page.locator('tr[data-email="clerk@newb.example"]').count() == 1
    page.context.close()
