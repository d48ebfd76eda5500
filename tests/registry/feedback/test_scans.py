"""Scan counts of /v/{number} per day, spikes, and the chart (PRODUCT §4)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.feedback.scans import DAYS, ScanCounter, is_spike
from registry.feedback.tables import ScanCount
from registry.settings import Settings
from signing.instants import day_in_cst
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields, make_body, make_operator_token

NUMBER = "SMT-SCAN-0001"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def client(clean_db: Engine[Any], settings: Settings) -> Iterator[TestClient[Any]]:
    """The app with no background flush during a test: the test flushes itself."""
    app = create_app(dataclasses.replace(settings, scan_flush_seconds=3600), engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def body(client: TestClient[Any], settings: Settings) -> BodyFixture:
    body = make_body(settings)
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER), headers=body.auth
    )
    assert response.status_code == 201, response.text
    return body


def flush(client: TestClient[Any]) -> None:
    counter: ScanCounter = client.app.state.scans
    run(counter.flush())


def add_past_scans(days_ago: int, count: int) -> None:
    day = day_in_cst(datetime.now(UTC)) - timedelta(days=days_ago)

    async def work() -> None:
        await ScanCount.insert(ScanCount(number=NUMBER, day=day, scans=count))

    run(work())


def scans(client: TestClient[Any], body: BodyFixture) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/bodies/{body.code}/certificates/{NUMBER}/scans", headers=body.auth
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_page_gets_count_per_day_and_nothing_else_does(
    client: TestClient[Any], body: BodyFixture
) -> None:
    first = client.get(f"/v/{NUMBER}")
    assert first.status_code == 200
    client.get(f"/v/{NUMBER.lower()}?lang=en")
    cached = client.get(f"/v/{NUMBER}", headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304  # the page's caching stays, and a 304 is a scan
    client.head(f"/v/{NUMBER}")
    client.get(f"/api/v1/certificates/{NUMBER}")
    client.get(f"/api/v1/certificates/{NUMBER}/verification")
    client.get("/v/SMT-NO-SUCH-0001")
    flush(client)
    client.get(f"/v/{NUMBER}")
    flush(client)

    data = scans(client, body)
    assert len(data["days"]) == DAYS
    today = day_in_cst(datetime.now(UTC)).isoformat()
    assert data["days"][-1] == {"day": today, "count": 4, "spike": False}
    assert data["total"] == 4
    assert data["spikes"] == []

    async def columns() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await ScanCount.select()
        return rows

    rows = run(columns())
    assert [(r["number"], r["count"]) for r in rows] == [(NUMBER, 4)]
    assert set(rows[0]) == {"id", "number", "day", "count"}  # no address, no user agent


def test_a_day_of_more_than_ten_times_the_median_is_a_spike(
    client: TestClient[Any], body: BodyFixture
) -> None:
    for days_ago in range(1, 61):
        add_past_scans(days_ago, 3)
    add_past_scans(70, 31)  # 31 > 10 x median 3
    add_past_scans(75, 25)  # not more than 30: no spike
    data = scans(client, body)
    assert data["median"] == 3
    assert data["threshold"] == 30
    spike_day = (day_in_cst(datetime.now(UTC)) - timedelta(days=70)).isoformat()
    assert data["spikes"] == [spike_day]

    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    chart = client.get(
        f"/api/v1/bodies/{body.code}/certificates/{NUMBER}/scans.svg", headers=operator
    )
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(chart.text)
    bars = [r for r in root.iter(f"{SVG}rect") if "bar" in r.get("class", "").split()]
    assert len(bars) == DAYS
    spikes = [r for r in bars if "spike" in r.get("class", "").split()]
    assert [r.get("data-day") for r in spikes] == [spike_day]
    assert spikes[0].get("fill") != bars[0].get("fill")
    title = spikes[0].find(f"{SVG}title")
    assert title is not None and "31" in (title.text or "")


def test_the_first_scans_of_a_new_mark_are_not_a_spike() -> None:
    assert not is_spike(15, 0)
    assert is_spike(20, 0)
    assert not is_spike(30, 3)
    assert is_spike(31, 3)


def test_only_the_body_and_the_operator_see_the_scans(
    client: TestClient[Any], body: BodyFixture, settings: Settings
) -> None:
    other = make_body(settings, "OTHR", "另一认证中心")
    path = f"/api/v1/bodies/{body.code}/certificates/{NUMBER}/scans"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=other.auth).status_code == 403
    assert client.get(path + ".svg", headers=other.auth).status_code == 403
    # Another body's own path does not reach this certificate either.
    elsewhere = f"/api/v1/bodies/{other.code}/certificates/{NUMBER}/scans"
    assert client.get(elsewhere, headers=other.auth).status_code == 404
