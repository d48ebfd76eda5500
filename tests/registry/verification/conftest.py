"""Certificates in every status, issued through the real API (tests/factories.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from registry.settings import Settings
from tests.factories import BodyFixture, certificate_fields, make_body


def today() -> Any:
    return datetime.now(UTC).date()


def issue(client: TestClient[Any], body: BodyFixture, number: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(number, **fields), headers=body.auth
    )
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


def add_event(
    client: TestClient[Any],
    body: BodyFixture,
    number: str,
    status: str,
    *,
    effective_at: str | None = None,
    reason: str | None = None,
) -> None:
    data: dict[str, Any] = {"status": status}
    if effective_at is not None:
        data["effective_at"] = effective_at
    if reason is not None:
        data["reason"] = reason
    response = client.post(f"/api/v1/certificates/{number}/events", json=data, headers=body.auth)
    assert response.status_code == 201, response.text


@pytest.fixture
def body(client: TestClient[Any], settings: Settings) -> BodyFixture:
    return make_body(settings)


#: status -> certificate number, for `every_status`.
NUMBERS = {
    "valid": "SMT-VALID-0001",
    "suspended": "SMT-SUSP-0001",
    "revoked": "SMT-REVOKED-0001",
    "withdrawn": "SMT-WITHDRAWN-0001",
    "expired": "SMT-EXPIRED-0001",
    "not_yet_valid": "SMT-LATER-0001",
}


@pytest.fixture
def every_status(client: TestClient[Any], body: BodyFixture) -> dict[str, str]:
    """One certificate in each status a signed certificate can be in, by status."""
    start = today() - timedelta(days=60)
    day = lambda n: (start + timedelta(days=n)).isoformat()  # noqa: E731 - a date n days in
    issue(client, body, NUMBERS["valid"], score=96.5, start=start)
    issue(client, body, NUMBERS["suspended"], score=92, start=start)
    add_event(
        client,
        body,
        NUMBERS["suspended"],
        "suspended",
        effective_at=day(30),
        reason="监督审核不合格",
    )
    issue(client, body, NUMBERS["revoked"], score=85, start=start)
    add_event(client, body, NUMBERS["revoked"], "revoked", effective_at=day(40), reason="伪造记录")
    issue(client, body, NUMBERS["withdrawn"], score=75, start=start)
    add_event(client, body, NUMBERS["withdrawn"], "withdrawn", effective_at=day(50))
    issue(client, body, NUMBERS["expired"], score=91, start=today() - timedelta(days=3 * 366 + 10))
    issue(client, body, NUMBERS["not_yet_valid"], score=88, start=today() + timedelta(days=12))
    return dict(NUMBERS)


def verdict_of(html: str) -> dict[str, str | None]:
    """The hooks of PRODUCT §4 and the verdict's words, read from a page."""
    tag = re.search(r'<section id="verdict"[^>]*>', html)
    assert tag is not None, "the page has no #verdict"
    attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(0)))
    words = re.search(r'<h1 id="verdict-word">([^<]*)</h1>', html)
    lang = re.search(r'<html lang="([^"]+)"', html)
    return {
        "status": attributes.get("data-status"),
        "level": attributes.get("data-level"),
        "words": words.group(1) if words else None,
        "lang": lang.group(1) if lang else None,
    }
