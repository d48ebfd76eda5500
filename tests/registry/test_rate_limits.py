"""Rate limits per client address and route group (PRODUCT §4, registry/ratelimit.py).

Tiny limits (a few requests a minute) so that each test reaches them in a few requests.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.ratelimit import client_address
from registry.settings import (
    ConfigurationError,
    RateLimitSettings,
    Settings,
    parse_rate_limits,
    parse_trusted_proxies,
)
from tests.conftest import missing_dependency
from tests.factories import serve_in_thread

REDIS_URL = "redis://127.0.0.1:6379/15"


def limited(settings: Settings, text: str, **changes: Any) -> Settings:
    limits = RateLimitSettings(limits=parse_rate_limits(text), **changes)
    return dataclasses.replace(settings, rate_limits=limits)


@pytest.fixture
def tiny(clean_db: Engine, settings: Settings) -> Iterator[TestClient[Any]]:
    app = create_app(limited(settings, "search=2/minute;bulk=1/minute;verify_page=2/minute"))
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


# ------------------------------------------------------------------ configuration


def test_limits_are_read_over_the_defaults_and_bad_values_are_refused_at_start() -> None:
    defaults = RateLimitSettings.from_env({})
    assert str(defaults.limit_for("verify_page")) == "600 per 1 minute"
    assert str(defaults.limit_for("bulk")) == "10 per 1 minute"
    chosen = RateLimitSettings.from_env(
        {"STARMARK_RATE_LIMITS": " search=30/minute ; keep=off;bulk=100/hour "}
    )
    assert str(chosen.limit_for("search")) == "30 per 1 minute"
    assert str(chosen.limit_for("bulk")) == "100 per 1 hour"
    assert chosen.limit_for("keep") is None
    assert str(chosen.limit_for("verify_page")) == "600 per 1 minute"
    assert RateLimitSettings.from_env({"STARMARK_RATE_LIMITS": "off"}).limits == ()

    for bad, words in [
        ("serch=60/minute", "'serch=60/minute' is not group=limit"),
        ("search=sixty", "'sixty' for search is not a limit like 60/minute"),
        ("search=0/minute", "'0/minute' for search"),
        ("search", "is not group=limit"),
    ]:
        with pytest.raises(ConfigurationError, match="STARMARK_RATE_LIMITS") as e:
            Settings.from_env({"STARMARK_RATE_LIMITS": bad, "STARMARK_KEY_PASSPHRASE": "p"})
        assert words in str(e.value)
    with pytest.raises(ConfigurationError, match="STARMARK_TRUSTED_PROXIES: 'proxy'"):
        parse_trusted_proxies("10.0.0.0/8, proxy")
    assert parse_trusted_proxies("10.1.2.3, fd00::/8") == ("10.1.2.3/32", "fd00::/8")


def test_the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() -> None:
    proxies = tuple(ipaddress.ip_network(n) for n in parse_trusted_proxies("10.0.0.0/8"))
    # An untrusted peer's X-Forwarded-For is whatever it wants: ignored.
    assert client_address("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    # Behind the proxy: the right-most address the proxies did not write themselves.
    assert client_address("10.0.0.2", "198.51.100.1", proxies) == "198.51.100.1"
    assert client_address("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.7", proxies) == (
        "198.51.100.1"
    )
    assert client_address("10.0.0.2", "not-an-address", proxies) == "10.0.0.2"


# ------------------------------------------------------------------ answers over the limit


def test_over_the_limit_the_api_answers_429_problem_json_with_retry_after(
    tiny: TestClient[Any],
) -> None:
    for _ in range(2):
        assert tiny.get("/api/v1/certificates", params={"q": "海川"}).status_code == 200
    refused = tiny.get("/api/v1/certificates", params={"q": "海川"})
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    problem = refused.json()
    assert problem["type"].endswith("/rate-limited")
    assert problem["status"] == 429
    assert "2 per minute" in problem["detail"]


def test_over_the_limit_a_person_gets_a_page_in_the_page_language(
    tiny: TestClient[Any],
) -> None:
    html = {"Accept": "text/html"}
    for _ in range(2):
        assert tiny.get("/v/SMT-2026-0001", headers=html).status_code == 404
    chinese = tiny.get("/v/SMT-2026-0001", headers=html)
    assert chinese.status_code == 429
    assert chinese.headers["content-type"].startswith("text/html")
    assert int(chinese.headers["retry-after"]) >= 1
    assert '<html lang="zh-CN">' in chinese.text and "请求过于频繁" in chinese.text
    english = tiny.get("/v/SMT-2026-0001", params={"lang": "en"}, headers=html)
    assert english.status_code == 429
    assert "Too many requests" in english.text
    assert f"try again in {english.headers['retry-after']} seconds" in english.text


def test_groups_count_apart_and_unlimited_routes_stay_open(tiny: TestClient[Any]) -> None:
    for _ in range(3):
        tiny.get("/search", params={"q": "x"})
    assert tiny.get("/search", params={"q": "x"}).status_code == 429
    # The search limit does not touch the verification page, bulk checks or health.
    assert tiny.get("/v/SMT-2026-0001").status_code == 404
    first = tiny.post("/api/v1/verifications", json={"items": ["SMT-2026-0001"]})
    assert first.status_code == 200
    assert tiny.post("/api/v1/verifications", json={"items": ["X"]}).status_code == 429
    # POST /verify (the page) is the same bulk group.
    assert tiny.post("/verify", data={"items": "SMT-2026-0001"}).status_code == 429
    for _ in range(5):
        assert tiny.get("/healthz").status_code == 200


def test_a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    tiny: TestClient[Any],
) -> None:
    for i in range(2):
        spoofed = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert tiny.get("/api/v1/certificates", headers=spoofed).status_code == 200
    fresh = {"X-Forwarded-For": "198.51.100.77"}
    assert tiny.get("/api/v1/certificates", headers=fresh).status_code == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(
    clean_db: Engine, settings: Settings
) -> None:
    app = create_app(
        limited(settings, "search=2/minute", trusted_proxies=("127.0.0.1/32",)),
        engine=clean_db,
    )
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as http:

        def search(client: str) -> int:
            # A client may send its own X-Forwarded-For; the proxy appends the peer.
            headers = {"X-Forwarded-For": f"6.6.6.6, {client}"}
            return http.get("/api/v1/certificates", headers=headers).status_code

        assert [search("203.0.113.5") for _ in range(3)] == [200, 200, 429]
        assert [search("203.0.113.6") for _ in range(3)] == [200, 200, 429]


# ------------------------------------------------------------------ shared through Redis


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as e:
        client.close()
        missing_dependency(f"Redis is not reachable at {REDIS_URL}: {e}")
    prefix = f"starmark-test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        # Only this run's keys: other runs may share the Redis.
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def test_two_app_instances_share_one_limit_through_redis(
    clean_db: Engine, settings: Settings, redis_prefix: str
) -> None:
    shared = limited(settings, "search=3/minute", redis_url=REDIS_URL, redis_prefix=redis_prefix)
    first = create_app(shared, engine=clean_db)
    second = create_app(shared, engine=clean_db)
    with (
        TestClient(app=first, raise_server_exceptions=False) as one,
        TestClient(app=second, raise_server_exceptions=False) as two,
    ):
        assert one.get("/api/v1/certificates").status_code == 200
        assert two.get("/api/v1/certificates").status_code == 200
        assert one.get("/api/v1/certificates").status_code == 200
        # The fourth request, whichever process answers it, is over the shared limit.
        refused = two.get("/api/v1/certificates")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert one.get("/api/v1/certificates").status_code == 429


def test_keeping_a_receipt_is_limited_and_a_refused_one_is_not_stored(
    clean_db: Engine, settings: Settings
) -> None:
    from tests.factories import count_rows, make_body
    from tests.registry.verification.conftest import issue

    # The suite's engine (no pool bound to one event loop), so that the factories
    # and row counts can run beside the app on PostgreSQL too.
    app = create_app(limited(settings, "keep=1/hour;bulk=100/minute"), engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        body = make_body(settings)
        issue(client, body, "SMT-KEEP-0001")
        request = {"items": ["SMT-KEEP-0001"], "keep": True}
        first = client.post("/api/v1/verifications", json=request)
        assert first.status_code == 200, first.text
        assert first.json()["receipt_url"]
        before = count_rows()["verification_receipt"]
        refused = client.post("/api/v1/verifications", json={**request, "as_of": "2026-01-01"})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert count_rows()["verification_receipt"] == before == 1
        # Checking without keeping is still allowed.
        plain = client.post("/api/v1/verifications", json={"items": ["SMT-KEEP-0001"]})
        assert plain.status_code == 200
