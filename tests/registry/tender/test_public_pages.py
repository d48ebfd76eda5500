"""Every public page on a phone, in Chinese and in English (Debian's Chromium).

One browser and one page, reused: for each page, nothing is wider than the 390 px
screen (no sideways scrolling), and every link and button a finger can hit is at
least 24 px high, or has 24 px of room around it (WCAG 2.2, 2.5.8).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.settings import RateLimitSettings, Settings, parse_rate_limits
from tests.factories import serve_in_thread
from tests.registry.tender.conftest import FIVE_STAR, REVOKED, UNKNOWN, World
from tests.registry.tender.test_print import bidders

__all__ = ["bidders"]  # a fixture used here

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000  # bounds a hang; the pages load in milliseconds

#: Links and buttons seen on screen: each one's box, and whether it is too small and
#: crowded (WCAG 2.5.8: under 24 px, and a 24 px circle on it touches another target).
MEASURE = """() => {
  const seen = [...document.querySelectorAll('a[href], button, input[type=submit]')]
    .map(el => ({el, r: el.getBoundingClientRect(), s: getComputedStyle(el)}))
    .filter(({r, s}) => r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0
                        && s.visibility !== 'hidden' && s.clip !== 'rect(0px, 0px, 0px, 0px)');
  const small = seen.filter(({r}) => r.height < 23.5);
  const centre = r => [r.left + r.width / 2, r.top + r.height / 2];
  const distance = ([x, y], r) => Math.hypot(Math.max(r.left - x, 0, x - r.right),
                                             Math.max(r.top - y, 0, y - r.bottom));
  const crowded = small.filter(a => seen.some(b => b !== a && (
      small.includes(b)
        ? Math.hypot(centre(a.r)[0] - centre(b.r)[0], centre(a.r)[1] - centre(b.r)[1]) < 24
        : distance(centre(a.r), b.r) < 12)));
  return {
    width: document.documentElement.scrollWidth,
    targets: seen.length,
    crowded: crowded.map(({el, r}) =>
      `${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${Math.round(r.height)}px`),
  };
}"""


STRUCK = """() => [
  getComputedStyle(document.querySelector('.level-void s')).textDecorationLine,
  getComputedStyle(document.querySelector('.level-void .stars')).color,
]"""


@contextmanager
def limited_server(clean_db: Engine, settings: Settings) -> Iterator[str]:
    """The app with a verification page limit of one a minute, to show the 429 page."""
    limits = RateLimitSettings(limits=parse_rate_limits("verify_page=1/minute"))
    app = create_app(dataclasses.replace(settings, rate_limits=limits), engine=clean_db)
    with serve_in_thread(app) as base_url:
        yield base_url


def test_every_public_page_fits_a_phone_in_both_languages(
    world: World,
    bidders: list[str],
    clean_db: Engine,
    settings: Settings,
    browser: Any,
    live_server: str,
    artifacts: Path,
) -> None:
    folder = artifacts / "phone"
    folder.mkdir(exist_ok=True)
    problems: list[str] = []
    with limited_server(clean_db, settings) as limited:
        context = browser.new_context(base_url=live_server, viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)

        def results(lang: str) -> None:
            page.goto(f"/verify?lang={lang}")
            page.fill("#items", "\n".join(bidders))
            page.fill("#as_of", world.day(250, "09:30:00"))
            page.fill("#tender_name", "青岛市政府采购 家电安装维修服务项目（第二包）")
            page.fill("#tender_number", "QDCG-2026-117-02")
            page.select_option("#min_level", "four_star")
            page.check("#keep")
            page.click("form.tender-form button[type=submit]")
            page.wait_for_selector("#results")

        def go(path: str) -> Callable[[str], None]:
            return lambda lang: page.goto(path + ("&" if "?" in path else "?") + f"lang={lang}")

        def bad_verify(lang: str) -> None:
            go("/verify")(lang)
            page.fill("#items", "企业名称")
            page.fill("#as_of", "next Monday")
            page.click("form.tender-form button[type=submit]")
            page.wait_for_selector("#problem")

        def receipt(lang: str) -> None:
            results(lang)
            page.click("#receipt-page")
            page.wait_for_selector("#verdict")

        def printable(lang: str) -> None:
            results(lang)
            page.click("#print-receipt")
            page.wait_for_selector("#printable-receipt")

        def rate_limited(lang: str) -> None:
            page.goto(f"{limited}/v/{FIVE_STAR}?lang={lang}")
            # Past the limit of one a minute (a reload asks again, not the browser's cache).
            page.reload()
            assert "429" in page.title(), page.title()

        pages: dict[str, Callable[[str], None]] = {
            "home": go("/"),
            "search": go("/search?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8"),  # 有限公司
            "bodies": go("/bodies"),
            "valid": go(f"/v/{FIVE_STAR}"),
            "revoked": go(f"/v/{REVOKED}"),
            "unknown": go(f"/v/{UNKNOWN}"),
            "bad-at": go(f"/v/{FIVE_STAR}?at=yesterday"),
            "verify": go("/verify"),
            "verify-results": results,
            "verify-errors": bad_verify,
            "receipt": receipt,
            "printable": printable,
            "receipt-check": go("/verify/receipt"),
            "not-found": go("/no/such/page"),
            "rate-limited": rate_limited,
        }
        try:
            for lang in ("zh-CN", "en"):
                for name, open_it in pages.items():
                    open_it(lang)
                    measured = page.evaluate(MEASURE)
                    if measured["width"] > PHONE["width"] or measured["crowded"]:
                        page.screenshot(path=str(folder / f"{name}-{lang}.png"), full_page=True)
                        problems.append(f"{name} ({lang}): {measured}")
                    if name == "revoked":
                        # Grey stars and a struck level: what the eye sees, not only a class.
                        line, colour = page.evaluate(STRUCK)
                        assert line == "line-through" and colour == "rgb(163, 168, 176)"
        finally:
            context.close()
    assert not problems, "\n".join(problems)
