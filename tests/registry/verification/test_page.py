"""GET /v/{number}: what a person scanning the QR reads, in both languages."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from markupsafe import escape

from registry.verification.controllers import render_view
from registry.verification.services import CertificateView
from signing.verdict import Verdict, VerdictStatus
from tests.factories import BodyFixture, certificate_fields, uscc
from tests.registry.verification.conftest import (
    add_event,
    issue,
    today,
    verdict_of,
)

WORDS = {
    "valid": ("有效", "Valid"),
    "suspended": ("暂停", "Suspended"),
    "revoked": ("撤销", "Revoked"),
    "withdrawn": ("注销", "Withdrawn"),
    "expired": ("已过期", "Expired"),
    "not_yet_valid": ("尚未生效", "Not yet valid"),
}
LEVELS = {
    "valid": "five_star",
    "suspended": "four_star",
    "revoked": "three_star",
    "withdrawn": "compliant",
    "expired": "four_star",
    "not_yet_valid": "three_star",
}


def text_of(page: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("status", list(WORDS))
def test_every_status_reads_in_large_words_in_both_languages(
    client: TestClient[Any], every_status: dict[str, str], status: str, lang: str
) -> None:
    params = {"lang": "en"} if lang == "en" else {}
    response = client.get(f"/v/{every_status[status]}", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    shown = verdict_of(response.text)
    zh, en = WORDS[status]
    assert shown == {
        "status": status,
        "level": LEVELS[status],
        "words": zh if lang == "zh-CN" else en,
        "lang": lang,
    }
    assert response.headers["content-language"] == lang
    text = text_of(response.text)
    # The holder, the body and the dates, so a copied mark can be spotted.
    assert "青岛海川智能家电有限公司" in text
    assert "华信认证中心 (CQCT)" in text
    assert every_status[status] in text


def test_valid_page_shows_what_the_holder_was_certified_for(
    client: TestClient[Any], every_status: dict[str, str], body: BodyFixture
) -> None:
    number = every_status["valid"]
    zh = text_of(client.get(f"/v/{number}").text)
    for expected in [
        "五星级",
        "96.5",
        "冰箱、洗衣机的安装和维修服务",
        "青岛市",
        "统一社会信用代码",
        "发证日期",
        "有效期",
        "最近监督审核",
        "签名已核验",
    ]:
        assert expected in zh, expected
    assert zh.count("★") == 5
    start = today() - timedelta(days=60)
    assert start.isoformat() in zh
    assert (start - timedelta(days=3)).isoformat() in zh  # issued on
    assert f"密钥 {body.kid}" in re.sub(r"\s+", " ", zh)

    en = text_of(client.get(f"/v/{number}", params={"lang": "en"}).text)
    assert "Five-star" in en
    assert "Qingdao Haichuan Smart Appliances Co., Ltd." in en
    assert "Installation and repair" in en
    assert f"Signature checked: key {body.kid} of 华信认证中心 (CQCT)" in re.sub(r"\s+", " ", en)


def test_the_number_is_case_insensitive(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["valid"]
    response = client.get(f"/v/{number.lower()}")
    assert response.status_code == 200
    assert verdict_of(response.text)["status"] == "valid"
    assert f'data-number="{number}"' in response.text


def test_suspension_shows_since_when_why_and_the_history(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    page = client.get(f"/v/{every_status['suspended']}").text
    text = text_of(page)
    start = today() - timedelta(days=60)
    assert f"认证机构已于 {(start + timedelta(days=30)).isoformat()} 00:00 暂停此证书" in text
    assert "原因：监督审核不合格" in text
    history = re.findall(r'<li data-event="\d+" data-status="(\w+)"', page)
    assert history == ["suspended"]


def test_accept_language_picks_english_and_lang_param_wins(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["valid"]
    english = client.get(f"/v/{number}", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert verdict_of(english.text)["words"] == "Valid"
    assert english.headers["vary"] == "Accept-Language"
    chinese = client.get(f"/v/{number}", headers={"Accept-Language": "fr-FR,de;q=0.9"})
    assert verdict_of(chinese.text)["words"] == "有效"  # Chinese first (PRODUCT §2)
    forced = client.get(f"/v/{number}", params={"lang": "zh-CN"}, headers={"Accept-Language": "en"})
    assert verdict_of(forced.text)["words"] == "有效"


def test_a_visible_switch_leads_to_the_other_language(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["valid"]
    page = client.get(f"/v/{number}", params={"at": "2026-01-01T00:00:00Z"}).text
    switch = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">English</a>', page)
    assert switch is not None
    target = html.unescape(switch.group(1))
    assert target.startswith(f"/v/{number}?") and "lang=en" in target and "at=" in target
    english = client.get(target).text
    assert verdict_of(english)["lang"] == "en"
    back = re.search(r'<a href="([^"]+)" lang="zh-CN" hreflang="zh-CN">中文</a>', english)
    assert back is not None and "lang=zh-CN" in html.unescape(back.group(1))


def test_a_past_instant_shows_the_status_then_clearly_labelled(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["revoked"]
    start = today() - timedelta(days=60)
    before = (start + timedelta(days=10)).isoformat()
    then = client.get(f"/v/{number}", params={"at": before})
    assert then.status_code == 200
    assert verdict_of(then.text)["status"] == "valid"
    text = text_of(then.text)
    assert f"这是 {before} 00:00（北京时间）时的状态，不是当前状态。" in text
    assert "查看当前状态" in text
    # The later revocation is listed, marked as after the instant shown.
    assert re.search(r'<li data-event="0" data-status="revoked" class="later">', then.text)
    now = client.get(f"/v/{number}")
    assert verdict_of(now.text)["status"] == "revoked"
    assert "不是当前状态" not in text_of(now.text)
    english = client.get(f"/v/{number}", params={"at": before, "lang": "en"})
    assert f"Status at {before} 00:00 (China Standard Time), not now." in text_of(english.text)
    # An RFC 3339 instant works as well as a bare date.
    instant = client.get(f"/v/{number}", params={"at": f"{before}T12:00:00+08:00"})
    assert verdict_of(instant.text)["status"] == "valid"


@pytest.mark.parametrize("bad", ["yesterday", "2026-02-30", "2026-01-01T10:00:00", "x" * 5000])
def test_an_unreadable_instant_is_a_4xx_page_for_people(
    client: TestClient[Any], every_status: dict[str, str], bad: str
) -> None:
    response = client.get(
        f"/v/{every_status['valid']}", params={"at": bad}, headers={"Accept": "text/html"}
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")
    # In the page's language: titled in Chinese, with what to type instead.
    assert re.search(r"<title>4\d\d · 输入有误 · Starmark</title>", response.text)
    assert "无法识别这个日期。请写 2000-01-01 至 2099-12-31 之间的日期" in text_of(response.text)
    assert "Invalid input" not in response.text
    english = client.get(
        f"/v/{every_status['valid']}",
        params={"at": bad, "lang": "en"},
        headers={"Accept": "text/html"},
    )
    assert re.search(r"<title>4\d\d · Invalid input · Starmark</title>", english.text)
    assert "The date could not be read. Use a date from 2000-01-01" in text_of(english.text)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("number", ["SMT-NONE-0001", "bad<number>", "x"])
def test_unknown_numbers_get_a_helpful_404_with_a_search_box(
    client: TestClient[Any], number: str, lang: str
) -> None:
    response = client.get(f"/v/{number}", params={"lang": lang})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    shown = verdict_of(response.text)
    assert shown["status"] == "not_found"
    assert shown["words"] == ("未找到" if lang == "zh-CN" else "Not found")
    assert shown["lang"] == lang
    assert re.search(r'<form[^>]*role="search"[^>]*action="/search"', response.text)
    assert 'name="q"' in response.text
    assert "<number>" not in response.text  # echoed as text, never as markup
    assert 'id="browser-check"' not in response.text  # nothing to check


MARKUP_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp; 公司'


def test_a_holder_name_with_markup_shows_as_text(
    client: TestClient[Any], body: BodyFixture
) -> None:
    fields = {
        "holder": {
            "name": MARKUP_NAME,
            "uscc": uscc("markup"),
            "name_en": '"><svg onload=alert(1)>',
        }
    }
    response = client.post(
        "/api/v1/certificates",
        json={**certificate_fields("SMT-MARKUP-01"), **fields},
        headers=body.auth,
    )
    assert response.status_code == 201, response.text
    for lang in ("zh-CN", "en"):
        page = client.get("/v/SMT-MARKUP-01", params={"lang": lang}).text
        assert (
            "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page
        )
        assert f'data-signed="holder.name">{escape(MARKUP_NAME)}</span>' in page
        assert MARKUP_NAME in text_of(page)
        assert verdict_of(page)["status"] == "valid"


def test_surveillance_overdue_is_a_warning_on_a_valid_certificate(
    client: TestClient[Any], body: BodyFixture
) -> None:
    start = today() - timedelta(days=16 * 31)
    issue(client, body, "SMT-OVERDUE-01", start=start)
    page = client.get("/v/SMT-OVERDUE-01").text
    assert verdict_of(page)["status"] == "valid"
    text = text_of(page)
    assert "监督审核逾期" in text and "在认证机构处理之前，证书仍然有效" in text
    assert "Surveillance overdue." in text_of(
        client.get("/v/SMT-OVERDUE-01", params={"lang": "en"}).text
    )
    # A passed surveillance audit removes the warning and shows in the history.
    add_event(
        client,
        body,
        "SMT-OVERDUE-01",
        "surveillance_passed",
        effective_at=(today() - timedelta(days=2)).isoformat(),
        reason="年度监督审核",
    )
    after = client.get("/v/SMT-OVERDUE-01").text
    assert "监督审核逾期" not in text_of(after)
    assert re.search(r'data-status="surveillance_passed"', after)
    assert "年度监督审核" in text_of(after)


def test_a_later_revision_shows_its_level_and_the_number_of_revisions(
    client: TestClient[Any], body: BodyFixture
) -> None:
    start = today() - timedelta(days=200)
    issue(client, body, "SMT-REVISE-01", score=85, start=start)
    revised = client.post(
        "/api/v1/certificates/SMT-REVISE-01/revisions",
        json=certificate_fields("SMT-REVISE-01", score=97, start=start),
        headers=body.auth,
    )
    assert revised.status_code == 201, revised.text
    page = client.get("/v/SMT-REVISE-01").text
    assert verdict_of(page)["level"] == "five_star"
    assert "第 2 版，共 2 版" in text_of(page)
    old = client.get("/v/SMT-REVISE-01", params={"at": (start + timedelta(days=5)).isoformat()})
    assert verdict_of(old.text)["level"] == "three_star"
    assert "第 1 版，共 2 版" in text_of(old.text)


def test_the_page_links_to_the_json_and_the_raw_jws(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["valid"]
    page = client.get(f"/v/{number}").text
    links = re.findall(r'href="([^"]+)"', page)
    assert f"/api/v1/certificates/{number}" in links
    assert f"/api/v1/certificates/{number}/verification" in links
    jws_link = f"/v/{number}/certificate.jws?revision=1"
    assert jws_link in [html.unescape(link) for link in links]
    jws = client.get(jws_link)
    assert jws.status_code == 200
    assert jws.headers["content-type"].startswith("application/jose")
    document = client.get(f"/api/v1/certificates/{number}").json()
    assert jws.text == document["revisions"][0]["jws"]
    assert client.get(f"/v/{number}/certificate.jws").text == jws.text  # latest by default
    assert client.get(f"/v/{number}/certificate.jws", params={"revision": "7"}).status_code == 404
    bad = client.get(f"/v/{number}/certificate.jws", params={"revision": "-1"})
    assert bad.status_code == 422
    assert client.get("/v/SMT-NONE-0001/certificate.jws").status_code == 404


@pytest.mark.parametrize("status", [VerdictStatus.MALFORMED, VerdictStatus.SIGNATURE_INVALID])
def test_untrustworthy_verdicts_show_no_certificate_and_no_green(
    client: TestClient[Any], status: VerdictStatus
) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    verdict = Verdict(
        number="SMT-BROKEN-01",
        status=status,
        signature_valid=status is VerdictStatus.MALFORMED,
        kid=None,
        issuer=None,
        as_of=now,
        checked_at=now,
        revision=None,
        level=None,
        warnings=(),
        certificate=None,
        reason="malformed: the documents are for certificate X",
    )
    view = CertificateView(
        number="SMT-BROKEN-01",
        verdict=verdict,
        events=(),
        revision_count=1,
        fresh_until=None,
    )
    env = client.app.template_engine.engine  # type: ignore[union-attr]
    words_by_lang = {
        "zh-CN": {"malformed": "格式错误", "signature_invalid": "签名无效"},
        "en": {"malformed": "Malformed", "signature_invalid": "Signature invalid"},
    }
    for lang, words in words_by_lang.items():
        page = render_view(env, view, lang=lang, at=None, max_age=60)
        text = (page.head + page.tail).decode()
        assert verdict_of(text) == {
            "status": status.value,
            "level": None,
            "words": words[status.value],
            "lang": lang,
        }
        assert "v-ok" not in text and "data-signed=" not in text
        assert "the documents are for certificate X" in text


def test_the_verdict_is_carried_by_words_icon_and_colour_and_landmarks(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    page = client.get(f"/v/{every_status['revoked']}").text
    section = re.search(r'<section id="verdict"[^>]*>.*?</section>', page, re.S)
    assert section is not None
    assert 'class="verdict v-bad"' in section.group(0)
    assert "<svg" in section.group(0) and 'aria-hidden="true"' in section.group(0)
    assert 'aria-labelledby="verdict-word"' in section.group(0)
    for landmark in ("<header", "<main", "<footer", "<nav"):
        assert landmark in page
    assert 'for="at"' in page and 'id="at"' in page  # the date field has a label
    assert "<script>" not in page and " style=" not in page  # nothing inline (CSP)


def log_section(page: str) -> list[dict[str, str]]:
    """The rows of the page's transparency log section, as a reader sees them."""
    section = re.search(r'<section id="log".*?</section>', page, re.S)
    assert section is not None, "the page has no transparency log section"
    return [
        {
            "index": m.group(1),
            "kind": m.group(2),
            "text": " ".join(text_of(m.group(3)).split()),
            "bundle": m.group(4),
        }
        for m in re.finditer(
            r'<li data-log-index="(\d+)" data-log-kind="(\w+)">(.*?)'
            r'<a class="no-print" href="([^"]+)">.*?</li>',
            section.group(0),
            re.S,
        )
    ]


def test_the_page_says_where_each_document_sits_in_the_log(
    client: TestClient[Any], body: BodyFixture
) -> None:
    number = "SMT-LOGGED-0001"
    issue(client, body, number, score=92)
    add_event(client, body, number, "suspended", reason="监督审核不合格")
    document = client.get(f"/api/v1/certificates/{number}").json()
    revision = document["revisions"][0]["log_index"]
    event = document["events"][0]["log_index"]
    assert revision < event

    # Checkpoints are signed on demand: none covers the new documents yet.
    rows = log_section(client.get(f"/v/{number}").text)
    assert [(r["index"], r["kind"]) for r in rows] == [
        (str(revision), "revision"),
        (str(event), "event"),
    ]
    assert rows[0]["text"] == f"证书，第 1 版 日志索引 {revision} · 尚未纳入已签名的检查点"
    assert rows[1]["text"] == f"状态事件：暂停 日志索引 {event} · 尚未纳入已签名的检查点"

    checkpoint = client.get("/log/checkpoint").text
    size = int(checkpoint.splitlines()[1])
    assert size > event
    page = client.get(f"/v/{number}").text
    rows = log_section(page)
    assert [r["text"] for r in rows] == [
        f"证书，第 1 版 日志索引 {revision} · 由大小为 {size} 的检查点覆盖",
        f"状态事件：暂停 日志索引 {event} · 由大小为 {size} 的检查点覆盖",
    ]
    assert [r["bundle"] for r in rows] == [
        f"/api/v1/log/bundle?index={revision}",
        f"/api/v1/log/bundle?index={event}",
    ]
    assert '<a href="/log/checkpoint">' in page
    # Each bundle link gives that very document.
    bundle = client.get(rows[1]["bundle"]).json()
    assert bundle["jws"] == document["events"][0]["jws"]

    # A later checkpoint covers them too; the page keeps the first that did.
    issue(client, body, "SMT-LOGGED-0002", score=80)
    client.get("/log/checkpoint")
    english = log_section(client.get(f"/v/{number}", params={"lang": "en"}).text)
    assert [r["text"] for r in english] == [
        f"Certificate, revision 1 log index {revision} · covered by the checkpoint of size {size}",
        f"Status event: Suspended log index {event} · covered by the checkpoint of size {size}",
    ]


@pytest.mark.parametrize("status", ["suspended", "revoked", "withdrawn", "expired"])
def test_a_certificate_that_does_not_count_has_grey_stars_and_a_struck_level(
    client: TestClient[Any], every_status: dict[str, str], status: str
) -> None:
    text = client.get(f"/v/{every_status[status]}").text
    level = re.search(
        r'<span class="level-void" data-level-void="([a-z_]+)">(.*?)</span></span>', text
    )
    assert level is not None and level.group(1) == status
    # Struck through and said in words beside it: not colour alone.
    assert re.search(r"<s>[^<]+级</s>", level.group(2))
    assert f"（{verdict_of(text)['words']}）" in level.group(2) or "(" in level.group(2)
    valid = client.get(f"/v/{every_status['valid']}").text
    assert "level-void" not in valid and "<s>" not in valid


def test_the_verification_page_describes_the_certificate_in_its_language(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["revoked"]
    zh = re.search(r'<meta name="description" content="([^"]+)">', client.get(f"/v/{number}").text)
    assert zh is not None
    assert (
        number in zh.group(1) and "状态：撤销" in zh.group(1) and "售后服务认证证书" in zh.group(1)
    )
    en_page = client.get(f"/v/{number}", params={"lang": "en"}).text
    en = re.search(r'<meta name="description" content="([^"]+)">', en_page)
    assert en is not None and "Revoked".lower() in en.group(1).lower()
    assert "after-sales service certificate" in en.group(1)
    assert not re.search(r"[\u4e00-\u9fff]", en.group(1).split(":")[-1])
