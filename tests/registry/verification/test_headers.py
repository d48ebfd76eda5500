"""Security and caching headers of the verification page (issue 4, PRODUCT §4 "Freshness")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from registry.verification import controllers
from tests.factories import BodyFixture
from tests.registry.verification.conftest import add_event, verdict_of


def csp_directives(value: str) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in value.split(";")
        if part.strip()
    }


@pytest.mark.parametrize("path", ["/v/{valid}", "/v/SMT-NONE-0001", "/v/{valid}?at=nonsense"])
def test_pages_forbid_inline_script_framing_and_sniffing(
    client: TestClient[Any], every_status: dict[str, str], path: str
) -> None:
    response = client.get(path.format(valid=every_status["valid"]), headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    # Every script comes from our origin, by src: nothing inline to allow.
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert all(re.fullmatch(r'<script src="/static/[^"]+"( defer)?>', s) for s in scripts)
    assert not re.search(r"\son\w+=", response.text)  # no inline event handlers


def test_machine_answers_are_not_sniffed(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    for path in ["/api/v1/certificates/" + every_status["valid"], "/.well-known/jwks.json"]:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"


def test_etag_short_max_age_and_304(client: TestClient[Any], every_status: dict[str, str]) -> None:
    path = f"/v/{every_status['valid']}"
    first = client.get(path)
    etag = first.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"] == "Accept-Language"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=60"
    # A list of tags, and the strong form of ours, match too (RFC 9110 §13.1.2 weak comparison).
    listed = client.get(path, headers={"If-None-Match": f'"other", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_a_status_change_changes_the_etag_and_is_visible_at_once(
    client: TestClient[Any], every_status: dict[str, str], body: BodyFixture
) -> None:
    number = every_status["valid"]
    path = f"/v/{number}"
    before = client.get(path).headers["etag"]
    add_event(client, body, number, "suspended", reason="整改")
    response = client.get(path, headers={"If-None-Match": before})
    assert response.status_code == 200  # never a stale 304
    assert verdict_of(response.text)["status"] == "suspended"
    assert response.headers["etag"] != before


def test_the_etag_differs_by_language_and_instant_but_not_by_the_time_of_the_check(
    client: TestClient[Any], every_status: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/v/{every_status['valid']}"
    zh = client.get(path)
    en = client.get(path, params={"lang": "en"})
    then = client.get(path, params={"at": "2026-01-01"})
    assert len({zh.headers["etag"], en.headers["etag"], then.headers["etag"]}) == 3

    # Ten minutes later nothing about the certificate has changed: the page says
    # when it was checked, the ETag stays (the time of the check is not the answer).
    real_now = controllers.utc_now
    monkeypatch.setattr(controllers, "utc_now", lambda: real_now() + timedelta(minutes=10))
    later = client.get(path)
    assert later.headers["etag"] == zh.headers["etag"]
    checked = re.compile(r"登记册核验时间：([\d: -]+)（北京时间）")
    first_time, later_time = checked.search(zh.text), checked.search(later.text)
    assert first_time is not None and later_time is not None
    assert first_time.group(1) != later_time.group(1)
    assert client.get(path, headers={"If-None-Match": zh.headers["etag"]}).status_code == 304
