"""Console fixtures: a body with a hosted key, accounts of each kind, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.console.accounts import add_user
from registry.principals import Principal
from registry.settings import Settings
from tests.conftest import run
from tests.factories import BodyFixture, make_body

PASSWORD = "a long enough password"
#: The suite's public URL is https, so the session cookie is Secure: the client speaks https.
BASE_URL = "https://testserver.local"


def make_user(
    email: str,
    *,
    body: str | None = None,
    role: str = "issuer",
    password: str | None = PASSWORD,
) -> str | None:
    """An account; returns the set-password token when no password is given."""

    async def work() -> str | None:
        made = await add_user(
            email,
            body_code=body,
            is_operator=body is None,
            role=role,
            password=password,
            now=datetime.now(UTC),
            principal=Principal.cli(),
        )
        return made.set_password_token

    return run(work())


_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient[Any], path: str = "/console/login") -> str:
    """The form token of a console page (and its cookie, now in the client)."""
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def sign_in(client: TestClient[Any], email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/console/login",
        data={"username": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


def console_message(html: str) -> tuple[str, str] | None:
    """(data-result, text) of the outcome hook `#console-message`."""
    found = re.search(
        r'id="console-message"[^>]*data-result="(ok|error)"[^>]*>(.*?)</p>', html, re.S
    )
    return None if found is None else (found.group(1), found.group(2).strip())


@pytest.fixture
def body(clean_db: Engine, settings: Settings) -> BodyFixture:
    return make_body(settings)


@pytest.fixture
def other_body(body: BodyFixture, settings: Settings) -> BodyFixture:
    return make_body(settings, "OTHR", "另一认证机构")


@pytest.fixture
def console(clean_db: Engine, settings: Settings) -> Iterator[TestClient[Any]]:
    """A browser-like client of the real app (https, so Secure cookies come back)."""
    app = create_app(settings, engine=clean_db)
    with TestClient(app=app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        client.headers["Accept"] = "text/html"
        client.headers["Accept-Language"] = "en"
        yield client


@pytest.fixture
def clerk(console: TestClient[Any], body: BodyFixture) -> TestClient[Any]:
    """Signed in as an issuer of `body`."""
    make_user("clerk@cqct.example", body=body.code)
    assert sign_in(console, "clerk@cqct.example").status_code == 303
    return console
