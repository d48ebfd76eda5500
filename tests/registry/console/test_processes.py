"""Several app processes share console sessions and the lockout (PRODUCT §4, issue 12).

Two app instances over one database stand for two processes: a session made by
one is honoured by the other, through the database store, or through Redis when
STARMARK_REDIS_URL is set (which also shares the wrong-password counts).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.console.store import DatabaseStore
from registry.settings import Settings
from tests.factories import BodyFixture, certificate_fields
from tests.registry.console.conftest import BASE_URL, csrf_token, make_user, sign_in
from tests.registry.test_rate_limits import REDIS_URL, redis_prefix  # noqa: F401 - a fixture


@contextmanager
def two_processes(settings: Settings, engine: Engine) -> Iterator[tuple[Any, Any]]:
    with ExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(settings, engine=engine)
            client = stack.enter_context(
                TestClient(app=app, base_url=BASE_URL, raise_server_exceptions=False)
            )
            client.headers["Accept"] = "text/html"
            client.headers["Accept-Language"] = "en"
            clients.append(client)
        yield clients[0], clients[1]


def hand_over(one: TestClient[Any], two: TestClient[Any]) -> None:
    """The browser's cookies, now sent to the other process."""
    for cookie in one.cookies.jar:
        two.cookies.set(cookie.name, cookie.value or "", domain=cookie.domain, path=cookie.path)


def test_a_session_made_by_one_process_is_honoured_by_another(
    clean_db: Engine, settings: Settings, body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    with two_processes(settings, clean_db) as (one, two):
        assert sign_in(one, "clerk@cqct.example").status_code == 303
        hand_over(one, two)
        assert two.get("/console").status_code == 200
        token = csrf_token(two, "/console")
        two.post("/console/logout", data={"_csrf_token": token})
        # Signed out in one process: out in every process.
        assert one.get("/console", follow_redirects=False).status_code == 303


def test_sessions_and_the_lockout_are_shared_through_redis(
    clean_db: Engine,
    settings: Settings,
    body: BodyFixture,
    redis_prefix: str,  # noqa: F811 - the fixture imported above
) -> None:
    limits = dataclasses.replace(
        settings.rate_limits, redis_url=REDIS_URL, redis_prefix=redis_prefix
    )
    shared = dataclasses.replace(settings, rate_limits=limits)
    make_user("clerk@cqct.example", body=body.code)
    with two_processes(shared, clean_db) as (one, two):
        assert sign_in(one, "clerk@cqct.example").status_code == 303
        hand_over(one, two)
        assert two.get("/console").status_code == 200
        for n in range(5):
            client = one if n % 2 else two
            assert sign_in(client, "clerk@cqct.example", "wrong password").status_code == 401
        assert sign_in(one, "clerk@cqct.example").status_code == 429
        assert sign_in(two, "clerk@cqct.example").status_code == 429


def test_the_database_store_forgets_expired_sessions_and_renews_used_ones(
    clean_db: Engine,
) -> None:
    store = DatabaseStore()

    async def work() -> tuple[bytes | None, bytes | None, int | None]:
        await store.set("old", b"data", expires_in=timedelta(seconds=-1))
        await store.set("live", b"data", expires_in=60)
        await store.get("live", renew_for=8 * 3600)
        return await store.get("old"), await store.get("live"), await store.expires_in("live")

    old, live, left = asyncio.run(work())
    assert old is None
    assert live == b"data"
    assert left is not None and left > 3600


def test_a_form_from_one_process_is_accepted_by_another_and_its_token_works_on_the_first(
    clean_db: Engine, settings: Settings, body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    with two_processes(settings, clean_db) as (one, two):
        assert sign_in(one, "clerk@cqct.example").status_code == 303
        form_token = csrf_token(one, "/console/tokens")
        hand_over(one, two)
        # The CSRF secret is shared (derived from the key passphrase): the form one
        # process served is accepted by the other.
        made = two.post("/console/tokens", data={"label": "ERP", "_csrf_token": form_token})
        assert made.status_code == 201
        found = re.search(r'id="token-secret"[^>]*value="(smk_[^"]+)"', made.text)
        assert found
        issued = one.post(
            "/api/v1/certificates",
            json=certificate_fields("SMT-2026-0500"),
            headers={"Authorization": f"Bearer {found.group(1)}", "Accept": "application/json"},
        )
        assert issued.status_code == 201
