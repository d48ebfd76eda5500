"""The verification page in headless Chromium (Debian's, driven by Playwright).

`browser` comes last in every test's fixtures: data is set up before Playwright
opens (tests/conftest.py).

Screenshots go to test-artifacts/verification/ for a person to look at: every
status at 360 px (a phone) and the valid page on a desktop and in print.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.querystring import QueryString

from registry.certificates.tables import Certificate
from tests.conftest import run
from tests.factories import BodyFixture
from tests.registry.verification.conftest import issue

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 20_000  # the check finishes in milliseconds; this only bounds a hang


@pytest.fixture
def shots(artifacts: Path) -> Path:
    folder = artifacts / "verification"
    folder.mkdir(exist_ok=True)
    return folder


def open_page(
    browser: Any,
    url: str,
    *,
    viewport: dict[str, int] = PHONE,
    locale: str = "zh-CN",
    **options: Any,
) -> Any:
    """A new page in a fresh context: a phone set to Chinese unless told otherwise."""
    context = browser.new_context(viewport=viewport, locale=locale, **options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def browser_result(page: Any) -> str:
    page.wait_for_selector("#browser-check[data-result]")
    result: str = page.get_attribute("#browser-check", "data-result")
    return result


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


STATUSES = ["valid", "suspended", "revoked", "withdrawn", "expired", "not_yet_valid"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_status_in_chromium_checks_out_in_the_browser(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    lang: str,
    browser: Any,
) -> None:
    for status in STATUSES:
        page = open_page(browser, live_server)
        origins: set[str] = set()
        page.on(
            "request", lambda request: origins.add(re.sub(r"^(\w+://[^/]+).*", r"\1", request.url))
        )
        page.goto(f"{live_server}/v/{every_status[status]}?lang={lang}")
        verdict = page.locator("#verdict")
        assert verdict.get_attribute("data-status") == status
        assert page.get_attribute("html", "lang") == lang
        assert browser_result(page) == "passed", page.text_content("#browser-check")
        passed_text = page.text_content("#browser-check")
        assert ("所有签名有效" if lang == "zh-CN" else "every signature holds") in passed_text
        # Readable on a phone: nothing wider than the screen, nothing cut off.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('#verdict, #verdict *, .card, .card *')]
                 .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
                 .map(e => e.tagName + '#' + e.id)"""
        )
        assert clipped == [], (status, lang, clipped)
        # WCAG AA: the verdict's words against its colour (large text needs 3:1; we keep 4.5).
        colours = page.evaluate(
            """() => [getComputedStyle(document.querySelector('#verdict h1')).color,
                      getComputedStyle(document.querySelector('#verdict')).backgroundColor]"""
        )
        assert contrast(*colours) >= 4.5, (status, colours)
        assert origins == {live_server}, origins
        page.screenshot(path=str(shots / f"{status}-{lang}-360.png"), full_page=True)
        page.context.close()


def test_the_page_is_built_for_screen_readers(
    live_server: str,
    every_status: dict[str, str],
    browser: Any,
) -> None:
    page = open_page(browser, live_server)
    page.goto(f"{live_server}/v/{every_status['suspended']}")
    tree = page.locator("body").aria_snapshot()
    assert "- banner:" in tree
    assert "- main:" in tree
    assert "- contentinfo:" in tree
    assert '- navigation "语言"' in tree
    assert re.search(r'- region "暂停"', tree), tree  # the verdict, named by its word
    assert '- heading "暂停" [level=1]' in tree
    assert '- textbox "查询某日的状态"' in tree or 'textbox "查询某日的状态"' in tree
    page.context.close()


def test_desktop_and_print(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    page = open_page(browser, live_server, viewport=DESKTOP)
    page.goto(f"{live_server}/v/{every_status['valid']}")
    assert browser_result(page) == "passed"
    page.screenshot(path=str(shots / "valid-zh-CN-desktop.png"), full_page=True)
    page.emulate_media(media="print")
    # Print keeps the verdict's colour and drops the forms and links.
    assert page.locator("form").first.is_hidden()
    background = page.evaluate(
        "getComputedStyle(document.querySelector('#verdict')).backgroundColor"
    )
    assert background == "rgb(23, 105, 43)"
    page.screenshot(path=str(shots / "valid-zh-CN-print.png"), full_page=True)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (shots / "valid-zh-CN-print.pdf").write_bytes(pdf)
    page.context.close()


def test_not_found_and_signature_invalid_pages(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    page = open_page(browser, live_server)
    response = page.goto(f"{live_server}/v/SMT-NO-SUCH-0001")
    assert response.status == 404
    assert page.get_attribute("#verdict", "data-status") == "not_found"
    assert page.locator("input[name=q]").input_value() == "SMT-NO-SUCH-0001"
    page.screenshot(path=str(shots / "not_found-zh-CN-360.png"), full_page=True)

    number = every_status["valid"]
    edit = QueryString(
        "UPDATE certificate SET holder_name = {} WHERE number = {}", "冒名公司", number
    )
    # Playwright keeps an event loop running in this thread: the SQL runs in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: run(Certificate._meta.db.run_querystring(edit))).result()
    page.goto(f"{live_server}/v/{number}")
    assert page.get_attribute("#verdict", "data-status") == "signature_invalid"
    assert page.text_content("#verdict h1") == "签名无效"
    # The browser cannot vouch for a page that shows no signed certificate.
    assert browser_result(page) == "failed"
    assert page.text_content("#browser-check") == "本页没有显示经签名的证书，浏览器无从确认。"
    page.screenshot(path=str(shots / "signature_invalid-zh-CN-360.png"), full_page=True)
    page.context.close()


def test_the_check_fails_when_a_served_document_does_not_match_the_page(
    live_server: str,
    client: TestClient[Any],
    body: BodyFixture,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    number = every_status["valid"]
    other = issue(client, body, "SMT-DECOY-0001", score=72)["revisions"][0]["jws"]
    api = f"{live_server}/api/v1/certificates/{number}"

    def serve(replace: Any) -> Any:
        def handler(route: Any) -> None:
            document = json.loads(route.fetch().text())
            replace(document)
            route.fulfill(status=200, content_type="application/json", body=json.dumps(document))

        return handler

    def flip_signature(document: dict[str, Any]) -> None:
        token = document["revisions"][0]["jws"]
        head, _, signature = token.rpartition(".")
        document["revisions"][0]["jws"] = (
            f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        )

    def another_certificate(document: dict[str, Any]) -> None:
        document["revisions"][0]["jws"] = other  # genuinely signed, but not this one

    def hide_an_event(document: dict[str, Any]) -> None:
        document["events"] = []

    for name, replace in [
        ("damaged-signature", flip_signature),
        ("another-certificate", another_certificate),
    ]:
        page = open_page(browser, live_server)
        page.route(api, serve(replace))
        page.goto(f"{live_server}/v/{number}")
        assert browser_result(page) == "failed", name
        assert "浏览器核验失败" in page.text_content("#browser-check")
        page.screenshot(path=str(shots / f"browser-check-failed-{name}.png"), full_page=True)
        page.context.close()

    # A suspended certificate whose history is hidden from the browser.
    page = open_page(browser, live_server)
    page.route(
        f"{live_server}/api/v1/certificates/{every_status['suspended']}", serve(hide_an_event)
    )
    page.goto(f"{live_server}/v/{every_status['suspended']}")
    assert browser_result(page) == "failed"
    page.context.close()

    # And a page altered on its way (a proxy swapping the holder's name).
    page = open_page(browser, live_server)

    def altered_page(route: Any) -> None:
        original = route.fetch()
        route.fulfill(
            response=original,
            body=original.text().replace("青岛海川智能家电有限公司", "冒名顶替有限公司"),
        )

    page.route(f"{live_server}/v/{number}", altered_page)
    page.goto(f"{live_server}/v/{number}")
    assert browser_result(page) == "failed"
    assert "holder.name" in page.text_content("#browser-check")
    page.context.close()


def test_a_browser_without_ed25519_says_so_plainly(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    page = open_page(browser, live_server, viewport=PHONE, locale="en-US")
    # Stand in for an older browser: WebCrypto refuses Ed25519 as those do.
    page.add_init_script(
        """(() => {
          const importKey = crypto.subtle.importKey.bind(crypto.subtle);
          crypto.subtle.importKey = (format, key, algorithm, ...rest) =>
            (algorithm && (algorithm.name || algorithm) === 'Ed25519')
              ? Promise.reject(new DOMException('Unrecognized name', 'NotSupportedError'))
              : importKey(format, key, algorithm, ...rest);
        })();"""
    )
    page.goto(f"{live_server}/v/{every_status['valid']}?lang=en")
    assert browser_result(page) == "unsupported"
    assert "cannot check Ed25519 signatures" in page.text_content("#browser-check")
    assert page.get_attribute("#verdict", "data-status") == "valid"  # the registry's check stands
    page.screenshot(path=str(shots / "no-ed25519-en-360.png"), full_page=True)
    page.context.close()


def test_without_javascript_the_page_is_complete(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    page = open_page(browser, live_server, java_script_enabled=False)
    page.goto(f"{live_server}/v/{every_status['revoked']}")
    assert page.get_attribute("#verdict", "data-status") == "revoked"
    assert page.text_content("#verdict h1") == "撤销"
    assert page.get_attribute("#browser-check", "data-result") is None
    assert "启用 JavaScript" in page.text_content("#browser-check")
    assert "青岛海川智能家电有限公司" in page.text_content("main")
    page.screenshot(path=str(shots / "revoked-zh-CN-360-no-js.png"), full_page=True)
    page.context.close()


WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def log_result(page: Any) -> str:
    page.wait_for_selector("#browser-check[data-log]")
    result: str = page.get_attribute("#browser-check", "data-log")
    return result


def run_sql(sql: str, *args: Any) -> None:
    # Playwright keeps an event loop running in this thread: the SQL runs in another.
    edit = QueryString(sql, *args)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: run(Certificate._meta.db.run_querystring(edit))).result()


def test_the_browser_proves_each_document_is_in_the_signed_log(
    live_server: str,
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    for status in ("valid", "revoked"):
        for viewport in (NARROW, WIDE):
            page = open_page(browser, live_server, viewport=viewport)
            page.goto(f"{live_server}/v/{every_status[status]}")
            assert log_result(page) == "passed", page.text_content("#log-check")
            assert browser_result(page) == "passed"
            assert "每份文件都在日志中" in page.text_content("#log-check")
            rows = page.locator("#log [data-log-index]")
            assert rows.count() == (1 if status == "valid" else 2)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            width = viewport["width"]
            page.screenshot(path=str(shots / f"log-{status}-zh-CN-{width}.png"), full_page=True)
            page.context.close()


def test_the_log_check_fails_when_the_log_is_edited_behind_the_app(
    live_server: str,
    client: TestClient[Any],
    every_status: dict[str, str],
    shots: Path,
    browser: Any,
) -> None:
    from registry.log.store import node_id
    from signing.merkle import Node

    valid, revoked = every_status["valid"], every_status["revoked"]
    index = client.get(f"/api/v1/certificates/{valid}").json()["revisions"][0]["log_index"]
    size = int(client.get("/log/checkpoint").text.splitlines()[1])  # signed before the edit
    assert index ^ 1 < size - 1

    # A stored hash on the leaf's proof path: the signatures still hold, the tree does not.
    run_sql("UPDATE log_node SET hash = {} WHERE id = {}", bytes(32), node_id(Node(0, index ^ 1)))
    page = open_page(browser, live_server)
    page.goto(f"{live_server}/v/{valid}")
    assert log_result(page) == "failed"
    assert "浏览器日志核验失败" in page.text_content("#log-check")
    assert page.get_attribute("#verdict", "data-status") == "valid"  # the read path's answer
    assert browser_result(page) == "passed"
    page.screenshot(path=str(shots / "log-failed-node-zh-CN-390.png"), full_page=True)
    page.context.close()

    # A logged JWS rewritten: the read path says signature_invalid, the log check fails.
    event = client.get(f"/api/v1/certificates/{revoked}").json()["events"][0]
    head, _, signature = event["jws"].rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    run_sql("UPDATE log_entry SET jws = {} WHERE id = {}", forged, event["log_index"])
    page = open_page(browser, live_server)
    page.goto(f"{live_server}/v/{revoked}")
    assert log_result(page) == "failed"
    assert page.get_attribute("#verdict", "data-status") == "signature_invalid"
    assert browser_result(page) == "failed"
    page.context.close()
