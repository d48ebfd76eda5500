"""Security headers on every answer, and errors as a browser or a program wants them
(PRODUCT §4 "Limits and hostile input"; issue 11 "Headers").

The router's own 404 and 405 once went out with no headers at all; /schema
loaded Redoc from a CDN and was blank offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from tests.registry.verification.test_headers import csp_directives


def assert_secured(response: Any) -> dict[str, str]:
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    return csp


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),  # the router's 404
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/static/css/none.css", 404),
        ("DELETE", "/api/v1/bodies", 405),  # the router's 405
        ("PUT", "/verify", 405),
    ],
)
@pytest.mark.parametrize("browser", [True, False], ids=["browser", "program"])
def test_errors_carry_the_headers_in_the_form_asked_for(
    client: TestClient[Any], method: str, path: str, status: int, browser: bool
) -> None:
    headers = {"Accept": "text/html,application/xhtml+xml"} if browser else {}
    response = client.request(method, path, headers=headers)
    assert response.status_code == status
    assert_secured(response)
    if browser and not path.startswith("/api/"):
        assert response.headers["content-type"].startswith("text/html")
        assert "<html" in response.text
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["status"] == status


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/site.css",
        "/static/vendor/redoc/redoc.standalone.js",
        "/.well-known/jwks.json",
        "/api/v1/bodies",
        "/healthz",
        "/schema/openapi.json",
        "/verify",
    ],
)
def test_every_answer_carries_the_headers(client: TestClient[Any], path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert_secured(response)


def test_schema_page_loads_nothing_from_elsewhere(client: TestClient[Any]) -> None:
    response = client.get("/schema", headers={"Accept": "text/html"})
    assert response.status_code == 200
    csp = assert_secured(response)
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in csp["script-src"]
    urls = re.findall(r"""(?:src|href|spec-url)=['"]([^'"]+)['"]""", response.text)
    assert urls and all(not urlsplit(u).netloc for u in urls), urls
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)  # no inline script


@pytest.mark.browser
def test_schema_page_works_with_no_network(live_server: str, browser: Any) -> None:
    context = browser.new_context(base_url=live_server)
    elsewhere: list[str] = []
    # Every request that is not for the registry is recorded and refused, as offline.
    context.route(
        re.compile(r"^(?!" + re.escape(live_server) + r").*"),
        lambda route: (elsewhere.append(route.request.url), route.abort()),
    )
    refused: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)
        page.goto("/schema")
        # Redoc rendered the API's title and its own operations from /schema/openapi.json.
        page.locator("h1", has_text="Starmark registry").wait_for(timeout=20_000)
        operation = page.locator("h2", has_text="Verify up to 500 certificate numbers")
        operation.first.wait_for(timeout=5_000)
    finally:
        context.close()
    assert elsewhere == []
    # Redoc's "API docs by Redocly" badge points at its CDN: our policy blocks
    # that one image (the request never leaves), and nothing else.
    assert all("logo-mini.svg" in message for message in refused), refused


def test_the_nginx_configuration_sends_hsts_on_every_answer() -> None:
    conf = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text("utf-8")
    hsts = re.search(r"add_header\s+Strict-Transport-Security\s+\"([^\"]+)\"\s+always;", conf)
    assert hsts is not None
    max_age = re.search(r"max-age=(\d+)", hsts.group(1))
    assert max_age is not None and int(max_age.group(1)) >= 31536000
