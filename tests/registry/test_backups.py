"""`starmark backup` and `starmark restore`, on the suite's engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from click.testing import CliRunner, Result
from piccolo.engine.base import Engine

from registry import db
from registry.bodies.services import HostedKeyVault
from registry.certificates import services
from registry.certificates.services import WriteContext
from registry.cli import main
from registry.principals import Principal
from registry.settings import Settings
from registry.verification.services import VerificationService
from tests.factories import certificate_fields, count_rows, make_body


def starmark(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def issue(settings: Settings, number: str) -> None:
    async def work() -> None:
        ctx = WriteContext(
            principal=Principal.cli(body_code="CQCT"),
            now=datetime.now(UTC),
            vault=HostedKeyVault(settings.keys),
        )
        await services.issue_certificate(certificate_fields(number), ctx=ctx)

    asyncio.run(work())


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database that does not exist yet (SQLite) or has no tables (PostgreSQL)."""
    if database_url.startswith("sqlite:"):
        yield f"sqlite:///{tmp_path / 'restored' / 'starmark.sqlite3'}"
        return
    import asyncpg

    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_restore"
    admin = urlunsplit(parts._replace(path="/postgres"))

    async def admin_run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(admin_run(f"CREATE DATABASE {name}"))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(admin_run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def restored_state(url: str) -> tuple[list[str], dict[str, str]]:
    """The certificate numbers in the database at `url`, and each one's verdict now."""

    async def work() -> tuple[list[str], dict[str, str]]:
        engine = db.engine_from_url(url)
        await db.start(engine)
        service = VerificationService.for_engine(engine)
        try:
            rows = await engine.run_ddl("SELECT number FROM certificate ORDER BY number")
            numbers = [r["number"] for r in rows]
            now = datetime.now(UTC)
            readings = await service.readings(numbers=numbers, at=now, now=now)
            return numbers, {r.number: r.verdict.status.value for r in readings}
        finally:
            service.close()
            await db.stop(engine)

    return asyncio.run(work())


def no_tables(url: str) -> bool:
    """True when nothing was written to the database at `url`."""
    if url.startswith("sqlite:"):
        return not db.sqlite_path_from_url(url).exists()

    async def work() -> bool:
        engine: Engine[Any] = db.engine_from_url(url)
        rows = await engine.run_ddl("SELECT to_regclass('certificate') IS NULL AS none")
        return bool(rows[0]["none"])

    return asyncio.run(work())


def test_a_backup_taken_during_writes_restores_a_consistent_prefix(
    clean_db: Engine[Any],
    settings: Settings,
    cli_env: dict[str, str],
    tmp_path: Path,
    restore_url: str,
) -> None:
    make_body(settings)
    issued: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            while not stop.is_set() and len(issued) < 500:
                number = f"BAK-2026-{len(issued):05d}"
                issue(settings, number)
                issued.append(number)
        except BaseException as e:  # reported by the assertion below
            failures.append(e)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(issued) < 5:
            assert not failures and time.monotonic() < deadline, failures
            time.sleep(0.01)
        backup = starmark(cli_env, "backup", str(tmp_path / "backup"))
        after_backup = len(issued)
        while len(issued) < after_backup + 3:  # writes go on after the snapshot too
            assert not failures and time.monotonic() < deadline, failures
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    assert backup.exit_code == 0, backup.output

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["engine"] == ("sqlite" if "sqlite" in settings.database.url else "postgresql")
    assert "checkpoint" in manifest
    saved = manifest["row_counts"]
    assert 5 <= saved["certificate"] < len(issued)
    assert saved["certificate_revision"] == saved["certificate"]

    # A target that `db migrate` alone has touched counts as empty (the registry's key).
    target_env = {**cli_env, "DATABASE_URL": restore_url}
    assert starmark(target_env, "db", "migrate").exit_code == 0
    restored = starmark(target_env, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert f"restored {saved['certificate']} certificate(s)" in restored.output
    assert "every certificate verifies" in restored.output

    # A prefix of the writes, each certificate whole and verified on the read path.
    numbers, verdicts = restored_state(restore_url)
    assert numbers == issued[: saved["certificate"]]
    assert set(verdicts.values()) == {"valid"}
    assert len(verdicts) == len(numbers)


@pytest.mark.parametrize("damage", ["flip a byte", "flip a manifest byte", "lose the database"])
def test_a_damaged_or_incomplete_backup_is_refused_and_nothing_is_written(
    clean_db: Engine[Any],
    settings: Settings,
    cli_env: dict[str, str],
    tmp_path: Path,
    restore_url: str,
    damage: str,
) -> None:
    make_body(settings)
    issue(settings, "BAK-2026-00001")
    backup_dir = tmp_path / "backup"
    assert starmark(cli_env, "backup", str(backup_dir)).exit_code == 0
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    data = backup_dir / manifest["files"][0]["name"]
    if damage == "lose the database":
        data.unlink()
        expected = "is missing"
    else:
        target = data if damage == "flip a byte" else backup_dir / "manifest.json"
        content = bytearray(target.read_bytes())
        content[len(content) // 2] ^= 0x01
        target.write_bytes(bytes(content))
        expected = "is damaged" if target == data else "does not match"

    result = starmark({**cli_env, "DATABASE_URL": restore_url}, "restore", str(backup_dir))
    assert result.exit_code == 1
    assert expected in result.output and "nothing was restored" in result.output
    assert no_tables(restore_url)


def test_restore_refuses_a_database_that_holds_certificates_and_backup_a_used_directory(
    clean_db: Engine[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    issue(settings, "BAK-2026-00001")
    assert starmark(cli_env, "backup", str(tmp_path / "backup")).exit_code == 0
    issue(settings, "BAK-2026-00002")
    before = count_rows()

    result = starmark(cli_env, "restore", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert "the database is not empty: certification_body (1 rows), certificate (2 rows)" in (
        result.output
    )
    assert count_rows() == before

    again = starmark(cli_env, "backup", str(tmp_path / "backup"))
    assert again.exit_code == 1 and "exists and is not empty" in again.output
    assert (
        json.loads((tmp_path / "backup" / "manifest.json").read_text())["row_counts"]["certificate"]
        == 1
    )
