"""The page's snapshot cache never answers from old rows (issue 9).

Each app keeps the snapshots it has read while the database says nothing has
changed: `PRAGMA data_version` on SQLite, the `registry_change` counter on
PostgreSQL. Here two apps share one database, as two `starmark serve`
processes would, and every write, through the other app or as raw SQL on a
connection of its own, must show in the next answer. Runs on both engines
(the suite does).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry import db
from registry.app import create_app
from registry.settings import Settings
from tests.factories import BodyFixture
from tests.registry.verification.conftest import add_event, issue, today, verdict_of
from tests.registry.verification.test_page import log_section

NUMBER = "SMT-FRESH-0001"


def raw_sql(database_url: str, statement: str) -> None:
    """One statement, committed, on a connection that is no app's."""
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(db.sqlite_path_from_url(database_url)) as connection:
            connection.execute(statement)
        return

    async def write() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(write())


@pytest.fixture
def other(
    client: TestClient[Any], settings: Settings, clean_db: Engine
) -> Iterator[TestClient[Any]]:
    """A second app on the same database, with its own reader and caches."""
    with TestClient(app=create_app(settings, engine=clean_db)) as second:
        yield second


def page(client: TestClient[Any]) -> dict[str, str | None]:
    response = client.get(f"/v/{NUMBER}", headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.text
    return verdict_of(response.text)


def test_a_status_change_made_through_another_app_shows_on_the_next_request(
    client: TestClient[Any], other: TestClient[Any], body: BodyFixture
) -> None:
    issue(client, body, NUMBER, score=92, start=today() - timedelta(days=30))
    # Both apps have read (and cached) the certificate as valid, twice over.
    for app in (client, other, client, other):
        assert page(app)["status"] == "valid"

    add_event(other, body, NUMBER, "suspended", reason="监督审核不合格")

    assert page(client)["status"] == "suspended"
    assert client.get(f"/api/v1/certificates/{NUMBER}/verification").json()["status"] == (
        "suspended"
    )
    assert page(other)["status"] == "suspended"


def test_a_copy_edited_by_raw_sql_is_judged_on_the_next_request(
    client: TestClient[Any], body: BodyFixture, database_url: str
) -> None:
    issue(client, body, NUMBER, score=92, start=today() - timedelta(days=30))
    assert page(client)["status"] == "valid"
    assert page(client)["status"] == "valid"

    raw_sql(database_url, f"UPDATE certificate SET level = 'five_star' WHERE number = '{NUMBER}'")

    assert page(client)["status"] == "signature_invalid"


def test_a_key_moved_by_raw_sql_vouches_for_nothing_on_the_next_request(
    client: TestClient[Any], body: BodyFixture, database_url: str
) -> None:
    # A write to another table than `certificate` (the body's keys) counts too.
    issue(client, body, NUMBER, score=92, start=today() - timedelta(days=30))
    assert page(client)["status"] == "valid"

    # The body's key now starts long after it signed the certificate.
    raw_sql(
        database_url,
        "UPDATE signing_key SET not_before = '2999-01-01T00:00:00+00:00' WHERE body IS NOT NULL",
    )

    assert page(client)["status"] != "valid"


def test_a_checkpoint_signed_by_another_app_shows_on_the_next_page(
    client: TestClient[Any], other: TestClient[Any], body: BodyFixture
) -> None:
    issue(client, body, NUMBER, score=92, start=today() - timedelta(days=30))
    # No checkpoint covers the new certificate yet; asked twice, the page keeps
    # saying so (the second answer from the cache: nothing was committed between).
    for _ in range(2):
        rows = log_section(client.get(f"/v/{NUMBER}", params={"lang": "en"}).text)
        assert rows[0]["text"].endswith("not yet in a signed checkpoint"), rows

    # Another process signs one (a monitor asked it for the latest checkpoint).
    size = int(other.get("/log/checkpoint").text.splitlines()[1])

    rows = log_section(client.get(f"/v/{NUMBER}", params={"lang": "en"}).text)
    assert rows[0]["text"].endswith(f"covered by the checkpoint of size {size}"), rows


def test_sqlite_reads_of_one_loop_iteration_share_one_look_and_the_next_one_looks_again(
    client: TestClient[Any], body: BodyFixture, database_url: str
) -> None:
    """Requests answered in one event-loop iteration all arrived before its one
    `PRAGMA data_version`; a commit shows in the iterations after it."""
    if not database_url.startswith("sqlite:"):
        pytest.skip("the SQLite reader; PostgreSQL's counter is read once a request")
    from registry.verification.snapshots import SQLiteSnapshotReader

    issue(client, body, NUMBER, score=92, start=today() - timedelta(days=30))
    reader = SQLiteSnapshotReader(str(db.sqlite_path_from_url(database_url)))

    async def scenario() -> None:
        first = await reader.read(NUMBER)
        assert first is not None
        looks: list[str] = []
        reader._connection().set_trace_callback(looks.append)
        await asyncio.sleep(0)
        # Three requests whose tasks run in the same iteration: one look.
        answers = await asyncio.gather(*(reader.read(NUMBER) for _ in range(3)))
        assert answers == [first] * 3
        assert looks.count("PRAGMA data_version") == 1, looks

        raw_sql(database_url, f"UPDATE certificate SET score = 12 WHERE number = '{NUMBER}'")
        await asyncio.sleep(0)
        changed = await reader.read(NUMBER)
        assert changed is not None and changed != first
        assert looks.count("PRAGMA data_version") == 2, looks

    try:
        asyncio.run(scenario())
    finally:
        reader.close()
