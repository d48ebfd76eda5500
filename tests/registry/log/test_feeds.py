"""The change feeds (issue 10): `GET /api/v1/events` and `GET /feed.atom`.

The Atom document is read with feedparser (a real feed parser, not ours);
every member about a document must come from its verified JWS, so the tests
edit the index rows behind the app and check that the feeds do not follow.
"""

from __future__ import annotations

import json
from typing import Any

import feedparser
import pytest
from litestar.testing import TestClient
from piccolo.querystring import QueryString

from registry.certificates.tables import Certificate
from registry.settings import Settings
from signing.jws import CompactJWS
from tests.conftest import run
from tests.factories import BodyFixture, make_body, make_operator_token
from tests.registry.verification.conftest import add_event, issue

ONE, TWO = "SMT-2026-0001", "SMT-2026-0002"
HOLDER = "青岛海川智能家电有限公司"


def sql(statement: str, *values: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run(
        Certificate._meta.db.run_querystring(QueryString(statement, *values))
    )
    return rows


def payload(jws: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CompactJWS.parse(jws).payload_bytes)
    return data


@pytest.fixture
def history(client: TestClient[Any], body: BodyFixture, settings: Settings) -> BodyFixture:
    """Two certificates of CQCT (one revoked with a reason), one of another body."""
    issue(client, body, ONE)
    issue(client, body, TWO)
    add_event(client, body, ONE, "suspended", reason="监督审核不合格")
    add_event(client, body, ONE, "revoked", reason="伪造记录 forged records")
    other = make_body(settings, code="BJCA", name="北京认证")
    issue(client, other, "BJ-2026-0001")
    return other


def all_items(client: TestClient[Any], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/events", params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_events_in_log_order_with_members_from_the_signed_payloads(
    client: TestClient[Any], history: BodyFixture
) -> None:
    items = all_items(client)
    log = client.get("/api/v1/log/entries", params={"start": 0, "end": 1000}).json()["entries"]
    assert [i["index"] for i in items] == [e["index"] for e in log]
    assert [i["jws"] for i in items] == [e["jws"] for e in log]
    assert all(i["verified"] for i in items)
    kinds = {i["typ"] for i in items}
    assert kinds == {"starmark-cert+jws", "starmark-status+jws", "starmark-key+jws"}
    for item in items:
        signed = payload(item["jws"])
        if item["typ"] == "starmark-key+jws":
            assert item["number"] is None and "status" not in item
            continue
        assert item["number"] == signed["number"]
        assert item["revision"] == signed["revision"]
        if item["typ"] == "starmark-status+jws":
            assert item["status"] == signed["status"]
            assert item["effective_at"] == signed["effective_at"]
        else:
            assert "status" not in item and "effective_at" not in item
    ones = [i.get("status") for i in items if i["number"] == ONE]
    assert ones[-2:] == ["suspended", "revoked"]


def test_after_and_limit_page_through_the_whole_feed(
    client: TestClient[Any], history: BodyFixture
) -> None:
    everything = all_items(client)
    seen: list[int] = []
    after: str | None = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"after": after} if after is not None else {})
        page = client.get("/api/v1/events", params=params).json()
        assert len(page["items"]) <= 3
        seen += [i["index"] for i in page["items"]]
        pages += 1
        after = page["next_cursor"]
        if after is None:
            break
        assert after == str(page["items"][-1]["index"])
    assert seen == [i["index"] for i in everything]
    assert pages == -(-len(everything) // 3)
    default = client.get("/api/v1/events").json()
    assert len(default["items"]) == min(20, len(everything))


def test_body_and_number_filters(client: TestClient[Any], history: BodyFixture) -> None:
    one = all_items(client, number=ONE.lower())
    assert [i["typ"] for i in one] == ["starmark-cert+jws"] + ["starmark-status+jws"] * 2
    assert {i["number"] for i in one} == {ONE}
    cqct = all_items(client, body="cqct")
    assert {payload(i["jws"]).get("issuer", {}).get("code") for i in cqct if i["number"]} == {
        "CQCT"
    }
    # Key statements of the body are in its feed (number null), never in a number's.
    assert any(i["typ"] == "starmark-key+jws" and i["number"] is None for i in cqct)
    bjca = all_items(client, body="BJCA")
    assert [i["number"] for i in bjca if i["number"]] == ["BJ-2026-0001"]
    assert all_items(client, body="NOBODY") == []


@pytest.mark.parametrize(
    "params",
    [
        {"after": "abc"},
        {"after": "-1"},
        {"after": "999999"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"number": "not a number!"},
    ],
)
def test_a_cursor_or_limit_it_did_not_issue_is_422(
    client: TestClient[Any], history: BodyFixture, params: dict[str, str]
) -> None:
    answer = client.get("/api/v1/events", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_status_comes_from_the_signed_event_not_the_edited_row(
    client: TestClient[Any], history: BodyFixture
) -> None:
    sql(
        "UPDATE status_event SET status = 'reinstated', reason = NULL WHERE certificate = "
        "(SELECT id FROM certificate WHERE number = {})",
        ONE,
    )
    statuses = [i.get("status") for i in all_items(client, number=ONE)]
    assert statuses == [None, "suspended", "revoked"]
    feed = feedparser.parse(client.get("/feed.atom", params={"number": ONE}).content)
    assert feed.entries[0].title.startswith(f"撤销 Revoked: {HOLDER} {ONE}")
    assert "伪造记录 forged records" in feed.entries[0].title


def test_an_entry_moved_to_another_number_behind_the_app_is_not_verified(
    client: TestClient[Any], history: BodyFixture
) -> None:
    sql("UPDATE log_entry SET number = {} WHERE number = {}", ONE, TWO)
    moved = [i for i in all_items(client, number=ONE) if payload(i["jws"])["number"] == TWO]
    assert moved and all(not i["verified"] and i["number"] is None for i in moved)
    assert all("revision" not in i for i in moved)


def test_atom_feed_is_valid_bilingual_and_links_to_the_pages(
    client: TestClient[Any], history: BodyFixture, settings: Settings
) -> None:
    answer = client.get("/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    entries = feed.entries
    log_size = len(all_items(client))
    assert len(entries) == min(50, log_size)
    indexes = [int(e.id.rsplit("/", 1)[1]) for e in entries]
    assert indexes == sorted(indexes, reverse=True)
    newest = entries[0]
    assert newest.title == "颁发 Issued: 青岛海川智能家电有限公司 BJ-2026-0001"
    assert newest.link == f"{settings.public_url}/v/BJ-2026-0001"
    revoked = next(e for e in entries if e.title.startswith("撤销 Revoked"))
    assert revoked.title == f"撤销 Revoked: {HOLDER} {ONE} — 伪造记录 forged records"
    assert "原因 Reason: 伪造记录 forged records" in revoked.summary
    assert revoked.link == f"{settings.public_url}/v/{ONE}"
    assert revoked.updated_parsed is not None
    # Stable ids: the same entry has the same id after more changes.
    issue(client, history, "BJ-2026-0002")
    again = feedparser.parse(client.get("/feed.atom").content)
    assert again.entries[1].id == newest.id and again.entries[0].id != newest.id


def test_atom_filters_and_escaping(
    client: TestClient[Any], history: BodyFixture, body: BodyFixture
) -> None:
    add_event(client, body, TWO, "suspended", reason='<script>alert("x")</script> & 停')
    feed = feedparser.parse(client.get("/feed.atom", params={"number": TWO}).content)
    assert not feed.bozo
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [TWO, TWO]
    assert feed.entries[0].title.endswith('— <script>alert("x")</script> & 停')
    bjca = feedparser.parse(client.get("/feed.atom", params={"body": "BJCA"}).content)
    assert all("BJ-2026-0001" in e.title or "Key" in e.title for e in bjca.entries)
    assert client.get("/feed.atom", params={"number": "?!"}).status_code == 422


def test_feeds_are_rate_limited_in_the_search_group() -> None:
    from registry.ratelimit import ROUTE_GROUPS

    assert ROUTE_GROUPS[("GET", "/api/v1/events")] == "search"
    assert ROUTE_GROUPS[("GET", "/feed.atom")] == "search"


def test_schema_documents_the_feeds(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/events" in schema["paths"] and "/feed.atom" in schema["paths"]
    item = schema["components"]["schemas"]["EventItem"]
    assert {"index", "typ", "number", "recorded_at", "jws"} <= set(item["required"])


def test_the_feed_judges_a_compromised_key_by_the_log_not_the_key_table(
    client: TestClient[Any], body: BodyFixture
) -> None:
    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    response = client.post(f"/api/v1/keys/{body.kid}/compromise", json={}, headers=operator)
    assert response.status_code == 200, response.text
    # Erased from the key table behind the app: the write side signs with the key again.
    sql("UPDATE signing_key SET state = 'active', compromised_at = NULL WHERE kid = {}", body.kid)
    issue(client, body, ONE)
    (revision,) = [i for i in all_items(client) if i["typ"] == "starmark-cert+jws"]
    assert not revision["verified"] and revision["number"] is None
    feed = feedparser.parse(client.get("/feed.atom").content)
    assert feed.entries[0].title.startswith("签名无效 Signature invalid")
