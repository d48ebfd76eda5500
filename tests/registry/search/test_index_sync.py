"""The search index follows every write: issue, revise, import, status change; and
the migration indexes certificates written before it."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from litestar.testing import TestClient
from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from registry import db
from registry.bodies.services import HostedKeyVault, active_hosted_signer
from registry.certificates.importer import import_certificates
from registry.principals import Principal
from registry.search import services
from registry.search.counts import CountsCache
from registry.search.query import STATUSES, parse_search
from registry.settings import Settings
from registry.verification.services import VerificationService
from tests.factories import certificate_fields, make_body, uscc


def found(client: TestClient[Any], **params: Any) -> list[str]:
    response = client.get("/api/v1/certificates", params=params)
    assert response.status_code == 200, response.text
    return [item["number"] for item in response.json()["items"]]


def test_issue_revise_and_status_change_are_searchable_at_once(
    client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    fields = certificate_fields("SMT-SYNC-0001", score=91)
    assert client.post("/api/v1/certificates", json=fields, headers=body.auth).status_code == 201
    assert found(client, q="海川") == ["SMT-SYNC-0001"]
    assert found(client, q="海川智能", level="four_star") == ["SMT-SYNC-0001"]

    # A new revision renames the holder and raises the level: the old name is gone.
    revised = {
        **{k: v for k, v in fields.items() if k != "number"},
        "score": 96,
        "holder": {**fields["holder"], "name": "青岛澜海电器有限公司", "name_en": "Qingdao Lanhai"},
    }
    response = client.post(
        "/api/v1/certificates/SMT-SYNC-0001/revisions", json=revised, headers=body.auth
    )
    assert response.status_code == 201, response.text
    assert found(client, q="海川") == []
    assert found(client, q="海川智能") == []
    assert found(client, q="澜海") == ["SMT-SYNC-0001"]
    assert found(client, q="lanhai", level="five_star") == ["SMT-SYNC-0001"]
    assert found(client, q="澜海", level="four_star") == []

    response = client.post(
        "/api/v1/certificates/SMT-SYNC-0001/events",
        json={"status": "suspended", "reason": "audit"},
        headers=body.auth,
    )
    assert response.status_code == 201, response.text
    assert found(client, q="澜海", status="suspended") == ["SMT-SYNC-0001"]
    assert found(client, q="澜海", status="valid") == []
    assert found(client, status="suspended") == ["SMT-SYNC-0001"]
    response = client.post(
        "/api/v1/certificates/SMT-SYNC-0001/events",
        json={"status": "reinstated"},
        headers=body.auth,
    )
    assert response.status_code == 201, response.text
    assert found(client, status="suspended") == []
    assert found(client, q="澜", status="valid") == ["SMT-SYNC-0001"]


def test_bulk_import_is_searchable(client: TestClient[Any], settings: Settings) -> None:
    body = make_body(settings)
    start = datetime.now(UTC).date() - timedelta(days=30)
    rows = [
        (
            i + 2,
            {
                "number": f"SMT-IMP-{i:04d}",
                "holder_name": name,
                "uscc": uscc(f"imp{i}", "440305"),
                "scope_zh": "手机的维修服务",
                "score": "88",
                "issued_on": start.isoformat(),
                "valid_from": start.isoformat(),
            },
        )
        for i, name in enumerate(["深圳鹏城通讯设备有限公司", "深圳南山电子有限公司"])
    ]

    async def work() -> None:
        now = datetime.now(UTC)
        signer = await active_hosted_signer(body.code, vault=HostedKeyVault(settings.keys), now=now)
        report = await import_certificates(
            rows, body_code=body.code, signer=signer, principal=Principal.cli(), now=now
        )
        assert report.stored == 2

    asyncio.run(work())
    assert found(client, q="鹏城") == ["SMT-IMP-0000"]
    assert found(client, q="深圳", province="44") == ["SMT-IMP-0001", "SMT-IMP-0000"]
    assert found(client, q="手机维修") == []
    assert found(client, q="手机 维修") == ["SMT-IMP-0001", "SMT-IMP-0000"]


# --- the migration's backfill ----------------------------------------------------------

SEARCH_COLUMNS_MIGRATION = "2026-12-01T10:00:00:000000"


@contextlib.contextmanager
def fresh_database(database_url: str, tmp_path: Path) -> Any:
    """An empty database on the engine under test, dropped afterwards."""
    if database_url.startswith("sqlite:"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    import asyncpg

    name = f"sm_search_fresh_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(database_url)
    admin = urlunsplit(parts._replace(path="/postgres"))

    async def admin_sql(sql: str) -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin_sql(f"CREATE DATABASE {name}"))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_migration_indexes_certificates_written_before_it(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    with fresh_database(database_url, tmp_path) as url:
        fresh = db.engine_from_url(url)

        async def work() -> list[str]:
            db.use_engine(fresh)
            await db.start(fresh)
            try:
                # The registry as it was before search: all migrations up to it.
                result = await run_forwards("registry", migration_id="2026-12-01T09:00:00:000000")
                assert result.success, result.message
                await fresh.run_querystring(
                    QueryString(
                        "INSERT INTO certification_body (code, name, created_at) "
                        "VALUES ('OLD', '旧机构', {})",
                        datetime.now(UTC),
                    )
                )
                for i, name in enumerate(("青岛海尔智家股份有限公司", "上海川沙电器有限公司")):
                    await fresh.run_querystring(
                        QueryString(
                            "INSERT INTO certificate (id, number, body, holder_name, "
                            "holder_name_en, uscc, province, level, score, scope_zh, scope_en, "
                            "issued_on, "
                            "valid_from, valid_until, status, current_revision, event_count, "
                            "created_at, updated_at) VALUES ({}, {}, "
                            "(SELECT id FROM certification_body WHERE code = 'OLD'), {}, {}, {}, "
                            "{}, 'four_star', 91, '家电维修', NULL, {}, {}, {}, 'valid', 1, 0, "
                            "{}, {})",
                            uuid.uuid4(),
                            f"OLD-CERT-{i:04d}",
                            name,
                            "Haier" if i == 0 else None,
                            uscc(f"old{i}", "370212"),
                            "37",
                            date.today() - timedelta(days=9),
                            date.today() - timedelta(days=9),
                            date.today() + timedelta(days=300),
                            datetime.now(UTC),
                            datetime.now(UTC),
                        )
                    )
                # Then the search migrations.
                result = await run_forwards("registry", migration_id="all")
                assert result.success, result.message
                now = datetime.now(UTC)
                results = []
                # The rows were written without signatures: found by the index,
                # never answered green by the read path (no signed revision: malformed).
                read_path = VerificationService.for_engine(fresh)
                for q in ("海尔", "海尔智家", "HAIER", "海川", "维修"):
                    page = await services.search(
                        parse_search(q=q, now=now), engine=fresh, read_path=read_path
                    )
                    results.append(",".join(i["number"] for i in page.items))
                    assert {i["status"] for i in page.items} <= {"signature_invalid", "malformed"}
                read_path.close()
                return results
            finally:
                await db.stop(fresh)
                db.use_engine(engine)

        assert asyncio.run(work()) == [
            "OLD-CERT-0000",
            "OLD-CERT-0000",
            "OLD-CERT-0000",
            "OLD-CERT-0001",
            # Both by scope, in name order: 上 (U+4E0A) before 青 (U+9752).
            "OLD-CERT-0001,OLD-CERT-0000",
        ]


def test_home_page_counts_catch_up_within_a_minute(
    client: TestClient[Any], settings: Settings
) -> None:
    """The counts are made at start and again every minute, in the background
    (docs/search.md); here every 50 ms, so a revocation shows in the next count."""
    body = make_body(settings)
    fields = certificate_fields("SMT-COUNT-0001", score=91)
    assert client.post("/api/v1/certificates", json=fields, headers=body.auth).status_code == 201
    cache = CountsCache(client.app.state.read_engine)
    assert cache.counts is None

    def revoke() -> None:
        response = client.post(
            "/api/v1/certificates/SMT-COUNT-0001/events",
            json={"status": "revoked", "reason": "audit"},
            headers=body.auth,
        )
        assert response.status_code == 201

    async def counted_after(instant: datetime) -> dict[str, int]:
        # Polled, as the pages read it: the cache has no event to wait on.
        while cache.counts is None or cache.counts.as_of <= instant:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return cache.counts.by_status()

    async def work() -> tuple[dict[str, int], dict[str, int]]:
        task = asyncio.create_task(
            cache.run(clock=lambda: datetime.now(UTC), every=timedelta(milliseconds=50))
        )
        try:
            before = await asyncio.wait_for(counted_after(datetime.min.replace(tzinfo=UTC)), 10)
            await asyncio.to_thread(revoke)
            revoked_at = datetime.now(UTC)
            return before, await asyncio.wait_for(counted_after(revoked_at), 10)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    before, after = asyncio.run(work())
    assert before["valid"] == 1
    assert after == {**{status: 0 for status in STATUSES}, "revoked": 1}
