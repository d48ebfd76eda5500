"""The pages for people: `/`, `/search`, `/bodies` (Chinese first, English by a switch)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from registry.app import create_app
from tests.factories import serve_in_thread
from tests.registry.search.conftest import COMPANIES, FILLER, Seeded

ALL = len(COMPANIES) + len(FILLER)


def page(seeded: Seeded, path: str, **params: Any) -> Any:
    return seeded.client.get(path, params=params, headers={"Accept": "text/html"})


def result_numbers(text: str) -> list[str]:
    return re.findall(r'<li class="hit" data-number="([^"]+)"', text)


def test_home_has_search_box_counts_changes_and_links(seeded: Seeded) -> None:
    response = page(seeded, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert '<form class="search-form card" action="/search" method="get"' in text
    assert 'name="q"' in text
    assert f"登记处共有 {ALL} 张证书" in text
    # Counts by level and by status link to the matching search.
    five = sum(1 for c in (*COMPANIES, *FILLER) if float(c.score) >= 95)
    assert re.search(rf'href="/search\?level=five_star">.*?</a></th><td>{five}</td>', text)
    assert re.search(r'href="/search\?status=revoked">.*?</a></th><td>1</td>', text)
    assert re.search(r'href="/search\?status=not_yet_valid">.*?</a></th><td>1</td>', text)
    # The latest changes: one line a certificate, each linking to its verification
    # page; every suspension, revocation and withdrawal is there, routine lines are not.
    changes = re.findall(r'<li data-change="(\w+)" data-number="([^"]+)">', text)
    numbers = [number for _, number in changes]
    assert len(numbers) == len(set(numbers)) == 10
    events = [number for kind, number in changes if kind == "event"]
    assert set(events) == set(seeded.numbers_of("suspended", "revoked", "withdrawn"))
    assert {kind for kind, _ in changes} == {"event", "new"}
    for number in numbers:
        assert f'<a href="/v/{number}">' in text
    assert "新证书：" in text and "已撤销：" in text
    assert 'href="/verify"' in text and 'href="/bodies"' in text


def test_search_page_lists_results_that_link_to_their_verification_page(seeded: Seeded) -> None:
    response = page(seeded, "/search", q="海尔")
    assert response.status_code == 200
    found = result_numbers(response.text)
    assert found == seeded.numbers_of("haier_group", "haier_smart", "rrs")
    for number in found:
        assert f'<a class="holder" href="/v/{number}">' in response.text
    assert "青岛海尔智家股份有限公司" in response.text
    assert 'value="海尔"' in response.text  # the box keeps the query


def test_search_page_filters_and_pages_without_javascript(seeded: Seeded) -> None:
    seen: list[str] = []
    path, params = "/search", {"q": "有限公司", "body": "CQCT"}
    for _ in range(10):
        response = page(seeded, path, **params)
        assert response.status_code == 200
        seen += result_numbers(response.text)
        link = re.search(r'<a href="([^"]+)" rel="next">', response.text)
        if link is None:
            break
        url = urlsplit(html.unescape(link.group(1)))
        path, params = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        assert params["q"] == "有限公司" and params["body"] == "CQCT"
    expected = seeded.search(q="有限公司", body="CQCT", limit=100)["items"]
    assert seen == [i["number"] for i in expected]
    assert len(seen) > 20  # more than one page


def test_search_page_escapes_what_the_user_typed(seeded: Seeded) -> None:
    response = page(seeded, "/search", q='<script>alert("x")</script>')
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text


def test_search_page_bad_input_is_a_readable_422(seeded: Seeded) -> None:
    response = page(seeded, "/search", q="海尔", level="six_star", province="99")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="problem"' in response.text
    assert "five_star, four_star, three_star, compliant" in response.text
    assert "<code>province</code>" in response.text
    assert result_numbers(response.text) == []
    response = page(seeded, "/search", q="x" * 201)
    assert response.status_code == 422 and "at most 200 characters" in response.text


def test_pages_in_english(seeded: Seeded) -> None:
    response = page(seeded, "/search", q="midea", lang="en")
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "Search certificates" in response.text and "Five-star" in response.text
    assert f'href="/v/{seeded.numbers["midea"]}?lang=en"' in response.text
    response = seeded.client.get("/", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert f"{ALL} certificates in the registry" in response.text
    assert response.headers["vary"] == "Accept-Language"


def test_bodies_page_shows_keys_and_counts(seeded: Seeded) -> None:
    response = page(seeded, "/bodies")
    assert response.status_code == 200
    text = response.text
    for code, body in seeded.bodies.items():
        section = text[text.index(f'id="body-{code}"') :]
        section = section[: section.index("</section>")]
        assert body.name in section
        assert f"<code>{body.kid}</code>" in section
        assert "使用中" in section  # the key's state: active
        total = sum(1 for c in (*COMPANIES, *FILLER) if c.body == code)
        assert f'<a href="/search?body={code}">{total} 张证书</a>' in section


@pytest.mark.browser
def test_a_person_finds_a_company_with_javascript_off(seeded: Seeded, browser: Any) -> None:
    app = create_app(seeded.settings, engine=seeded.engine)
    with serve_in_thread(app) as base_url:
        context = browser.new_context(java_script_enabled=False, locale="zh-CN")
        try:
            tab = context.new_page()
            tab.goto(base_url + "/")
            tab.fill("#q", "ｈａｉｅｒ 智家")
            tab.press("#q", "Enter")
            tab.wait_for_url(re.compile(r"/search\?"))
            hits = tab.locator("li.hit a.holder")
            assert hits.all_inner_texts() == ["青岛海尔智家股份有限公司"]
            hits.first.click()
            tab.wait_for_url(re.compile(r"/v/"))
            assert tab.url.endswith("/v/" + seeded.numbers["haier_smart"])
        finally:
            context.close()


def test_the_heading_shows_the_query_as_typed_and_bodies_by_name(seeded: Seeded) -> None:
    typed = seeded.usccs["revoked"]  # upper case, as printed on a business licence
    response = page(seeded, "/search", q=f" {typed} ")
    heading = re.search(r'<h2 id="results-title"[^>]*>(.*?)</h2>', response.text, re.S)
    assert heading is not None and f"“{typed}”" in html.unescape(heading.group(1))
    assert typed.lower() not in response.text
    assert f"<title>{typed} · " in response.text
    hit = response.text[response.text.index('<li class="hit"') :]
    # The body by its name in the page's language, its code kept for who wants it.
    assert '<abbr title="ZJCC">浙江质信认证有限公司</abbr>' in hit
    filtered = page(seeded, "/search", body="CQCT")
    assert "认证机构：华信认证中心" in filtered.text
    english = page(seeded, "/search", body="CQCT", lang="en")
    assert "certified by " in english.text


def test_search_results_grey_the_level_of_certificates_that_do_not_count(seeded: Seeded) -> None:
    text = page(seeded, "/search", q=seeded.numbers["revoked"]).text
    hit = text[text.index('<li class="hit"') : text.index("</li>", text.index('<li class="hit"'))]
    assert 'class="level-void" data-level-void="revoked"' in hit
    assert re.search(r"<s>[^<]+</s>", hit)
    valid = page(seeded, "/search", q=seeded.numbers["haichuan"]).text
    assert "level-void" not in valid and "<s>" not in valid


@pytest.mark.parametrize("path", ["/", "/search", "/bodies"])
def test_every_search_page_has_a_description_in_its_language(seeded: Seeded, path: str) -> None:
    for lang, script in (("zh-CN", r"[\u4e00-\u9fff]"), ("en", r"^[\x00-\u2fff]+$")):
        text = page(seeded, path, lang=lang).text
        found = re.search(r'<meta name="description" content="([^"]{20,})">', text)
        assert found is not None, text[:600]
        assert re.search(script, html.unescape(found.group(1))), found.group(1)


def test_on_a_phone_the_results_start_on_the_first_screen(seeded: Seeded, browser: Any) -> None:
    """Issue 13: the filters filled a phone's first screen; on a page of results they fold
    under one line that says how many are set, and open with a tap."""
    app = create_app(seeded.settings, engine=seeded.engine)
    with serve_in_thread(app) as base_url:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        try:
            tab = context.new_page()
            tab.goto(base_url + "/search?q=" + "有限公司")
            first = tab.locator("li.hit").first.bounding_box()
            assert first is not None and first["y"] + 40 < 844
            assert not tab.locator("#level").is_visible()
            tab.locator(".filter-box summary").click()
            tab.select_option("#level", "five_star")
            tab.locator(".search-form button[type=submit]").click()
            tab.wait_for_url(re.compile(r"level=five_star"))
            assert tab.locator(".filter-box summary").inner_text() == "筛选（已设 1 项）"
            # A blank search is for browsing by filter: they stay open.
            tab.goto(base_url + "/search")
            assert tab.locator("#level").is_visible()
        finally:
            context.close()
