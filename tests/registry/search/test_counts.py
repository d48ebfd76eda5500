"""The home and bodies pages never wait for a count (issue 11): the counts are made
in the background, at start and every minute, and the page says so until the
first one ends."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.search import counts
from registry.settings import Settings
from tests.factories import certificate_fields, make_body

#: How long the stand-in count blocks at most: a page that waited for it would
#: take this long, so the test fails (rather than hangs) in a bounded time.
BLOCK_SECONDS = 30
EN = {"Accept": "text/html", "Accept-Language": "en"}


def test_a_count_that_blocks_does_not_block_the_home_page(
    clean_db: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A count that blocks until released stands for the real one at a million
    # certificates (a second or more); after it the real count runs.
    started, release = threading.Event(), threading.Event()
    real_count = counts.count_certificates

    async def blocking_count(engine: Engine, *, now: datetime) -> counts.Counts:
        started.set()
        await asyncio.to_thread(release.wait, BLOCK_SECONDS)
        return await real_count(engine, now=now)

    monkeypatch.setattr(counts, "count_certificates", blocking_count)
    body = make_body(settings)
    app = create_app(settings, engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        assert started.wait(10), "the app did not start counting at start"
        fields = certificate_fields("SMT-HOME-0001", score=91)
        assert (
            client.post("/api/v1/certificates", json=fields, headers=body.auth).status_code == 201
        )

        began = time.monotonic()
        home = client.get("/", headers=EN)
        bodies = client.get("/bodies", headers=EN)
        assert time.monotonic() - began < BLOCK_SECONDS / 3
        assert home.status_code == 200 and bodies.status_code == 200
        assert "The certificates are being counted" in home.text
        assert "certificates in the registry" not in home.text
        assert "(being counted)" in bodies.text
        assert "SMT-HOME-0001" in client.get("/api/v1/certificates").text  # search is fresh

        release.set()
        deadline = time.monotonic() + 10
        while "1 certificates in the registry" not in home.text:
            assert time.monotonic() < deadline, "the counts did not appear after the count"
            time.sleep(0.05)
            home = client.get("/", headers=EN)
        assert "being counted" not in home.text
        assert "Counted at " in home.text
        bodies = client.get("/bodies", headers=EN)
        assert f'<a href="/search?body={body.code}&amp;lang=en">1 certificates</a>' in bodies.text


def test_the_counts_are_made_again_while_the_app_runs(
    client: TestClient[Any], settings: Settings
) -> None:
    """The app keeps one count task for its life; the page shows its counts."""
    cache = client.app.state.search_counts
    assert isinstance(cache, counts.CountsCache)
    deadline = time.monotonic() + 10
    while cache.counts is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert "0 certificates in the registry" in client.get("/", headers=EN).text
