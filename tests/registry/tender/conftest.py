"""A registry with certificates whose histories cover every "as of" case, built through the API.

Dates are relative to today (a status event may not take effect in the future):
``day(n)`` is 00:00 China Standard Time, ``n`` days after the common
``valid_from``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from registry.settings import Settings
from tests.factories import BodyFixture, certificate_fields, make_body, uscc

#: valid_from of every certificate, so that day(n) means the same for all.
START_DAYS_AGO = 400


@dataclass(frozen=True)
class World:
    client: TestClient[Any]
    body: BodyFixture
    start: date
    #: The USCC holding three certificates (five-star, three-star, expired).
    multi_uscc: str

    def day(self, n: int, time: str = "") -> str:
        """``valid_from`` + n days: a bare date (00:00 CST) or, with ``time``, an instant."""
        d = (self.start + timedelta(days=n)).isoformat()
        return f"{d}T{time}+08:00" if time else d

    def verify(self, items: list[str], **fields: Any) -> Any:
        return self.client.post("/api/v1/verifications", json={"items": items, **fields})


#: number -> what it is (the tests name them by these constants).
SUSPENDED_THEN_REINSTATED = "TND-SUSP-0001"  # four-star; suspended day 100, reinstated day 130
REVOKED = "TND-REVK-0001"  # four-star; revoked day 200
EXPIRED = "TND-EXPD-0001"  # compliant; valid until day 300 inclusive
FIVE_STAR = "TND-FIVE-0001"  # five-star, valid throughout
THREE_STAR = "TND-THRE-0001"  # three-star, valid throughout
UNKNOWN = "TND-NONE-0404"


def _issue(world_client: TestClient[Any], body: BodyFixture, fields: dict[str, Any]) -> None:
    response = world_client.post("/api/v1/certificates", json=fields, headers=body.auth)
    assert response.status_code == 201, response.text


def _event(
    world_client: TestClient[Any], body: BodyFixture, number: str, status: str, when: str
) -> None:
    response = world_client.post(
        f"/api/v1/certificates/{number}/events",
        json={"status": status, "effective_at": when, "reason": f"tender test: {status}"},
        headers=body.auth,
    )
    assert response.status_code == 201, response.text


def holder(name: str, code: str) -> dict[str, str]:
    return {"name": name, "uscc": code}


@pytest.fixture
def world(client: TestClient[Any], settings: Settings) -> Iterator[World]:
    body = make_body(settings)
    start = datetime.now(UTC).date() - timedelta(days=START_DAYS_AGO)
    multi = uscc("multi-holder")
    w = World(client=client, body=body, start=start, multi_uscc=multi)
    certificates = [
        (SUSPENDED_THEN_REINSTATED, 92, holder("青岛海川智能家电有限公司", uscc("susp")), None),
        (REVOKED, 91, holder("杭州云帆电子商务有限公司", uscc("revk")), None),
        (EXPIRED, 75, holder("北京多星售后服务有限公司", multi), w.day(300)),
        (FIVE_STAR, 97, holder("北京多星售后服务有限公司", multi), None),
        (THREE_STAR, 85, holder("北京多星售后服务有限公司", multi), None),
    ]
    for number, score, who, valid_until in certificates:
        fields = certificate_fields(number, score=score, start=start, holder=who)
        if valid_until is not None:
            fields["valid_until"] = valid_until
        _issue(client, body, fields)
    _event(client, body, SUSPENDED_THEN_REINSTATED, "suspended", w.day(100))
    _event(client, body, SUSPENDED_THEN_REINSTATED, "reinstated", w.day(130))
    _event(client, body, REVOKED, "revoked", w.day(200))
    yield w
