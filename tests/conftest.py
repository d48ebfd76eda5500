"""Test harness: the whole suite runs on SQLite (default) or on PostgreSQL.

STARMARK_TEST_DATABASE_URL=postgresql://... selects PostgreSQL (the tables of
that database are emptied between tests: never point it at real data). With
STARMARK_CI_STRICT=1 (set by .ci/run) a missing dependency is an error, not a
skip.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from registry import db
from registry.app import create_app
from registry.settings import DatabaseSettings, KeyCustodySettings, RateLimitSettings, Settings

T = TypeVar("T")
STRICT = os.environ.get("STARMARK_CI_STRICT") == "1"
TEST_PASSPHRASE = b"test passphrase, not a secret"
PUBLIC_URL = "https://verify.starmark.test"

# Child tables first, so deleting never trips a foreign key.
TABLES = (
    "console_session",
    "console_user",
    "import_job_row",
    "import_job",
    "consumer_report",
    "scan_count",
    "log_checkpoint",
    "log_node",
    "log_entry",
    "verification_receipt",
    "idempotent_reply",
    "audit_entry",
    "status_event",
    "certificate_revision",
    "certificate",
    "api_token",
    "signing_key",
    "certification_body",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a synchronous test (a fresh event loop each time)."""
    return asyncio.run(coro)


def missing_dependency(message: str) -> None:
    """Skip locally; fail in CI, where nothing may be skipped for want of a dependency."""
    if STRICT:
        pytest.fail(f"CI needs this: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("STARMARK_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.engine_from_url(database_url)
    db.use_engine(engine)

    async def prepare() -> None:
        await db.start(engine)
        try:
            await db.migrate(engine)
        finally:
            # Tests use a fresh event loop per call: no pool bound to one loop.
            await db.stop(engine)

    try:
        run(prepare())
    except OSError as e:
        pytest.exit(f"cannot reach the test database {database_url}: {e}", returncode=3)
    yield engine


async def _empty_tables(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    else:
        for table in TABLES:
            await engine.run_ddl(f"DELETE FROM {table}")


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    db.use_engine(engine)
    run(_empty_tables(engine))
    return engine


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        keys=KeyCustodySettings(passphrase=TEST_PASSPHRASE),
        data_dir=tmp_path,
        public_url=PUBLIC_URL,
        # The suite hammers endpoints: limits are off here and tested on their own
        # (tests/registry/test_rate_limits.py builds its own tiny ones).
        rate_limits=RateLimitSettings.off(),
    )


CHROMIUM = Path("/usr/bin/chromium")
#: Flags that keep Chromium off the network here (NOTES.md); --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


# Per test, not per session: while Playwright's sync API is open it keeps an event
# loop marked as running in the main thread, and every later `asyncio.run` there
# (factories, `run`, the CLI under CliRunner) would fail with "cannot be called
# from a running event loop". A launch costs under a second.
@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser).

    Set up a test's data in fixtures that come before this one: inside the test
    the main thread cannot run `asyncio.run` (the test client can, in its thread).
    """
    if not CHROMIUM.exists():
        missing_dependency("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_dependency("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live_server(clean_db: Engine, settings: Settings) -> Iterator[str]:
    """The real app served on a loopback port (for browsers and network clients)."""
    from tests.factories import serve_in_thread

    with serve_in_thread(create_app(settings, engine=clean_db)) as base_url:
        yield base_url


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for `starmark` commands that use the suite's database."""
    return {
        "DATABASE_URL": database_url,
        "STARMARK_DATA_DIR": str(tmp_path / "data"),
        "STARMARK_KEY_PASSPHRASE": TEST_PASSPHRASE.decode(),
    }


@pytest.fixture
def artifacts() -> Path:
    """Where tests save screenshots and files for a person to look at (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def client(clean_db: Engine, settings: Settings) -> Iterator[TestClient[Any]]:
    app = create_app(settings, engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client
