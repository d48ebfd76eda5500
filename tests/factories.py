"""Small factories for rows the tests need, built through the real services."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import uvicorn
from litestar import Litestar
from piccolo.querystring import QueryString

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.demo import demo_uscc
from registry.principals import Principal
from registry.settings import Settings

TABLE_NAMES = (
    "certification_body",
    "signing_key",
    "api_token",
    "certificate",
    "certificate_revision",
    "status_event",
    "audit_entry",
    "idempotent_reply",
    "verification_receipt",
    "log_entry",
    "log_node",
    "log_checkpoint",
    "consumer_report",
    "scan_count",
)


@dataclass(frozen=True)
class BodyFixture:
    code: str
    name: str
    token: str
    kid: str | None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_body(
    settings: Settings, code: str = "CQCT", name: str = "华信认证中心", *, hosted: bool = True
) -> BodyFixture:
    async def work() -> BodyFixture:
        operator = Principal.cli()
        await bodies.add_body(code, name=name, principal=operator)
        kid = None
        if hosted:
            kid = await bodies.generate_hosted_key(
                code, vault=HostedKeyVault(settings.keys), now=datetime.now(UTC), principal=operator
            )
        token = await bodies.create_token(code, principal=operator)
        return BodyFixture(code=code, name=name, token=token.token, kid=kid)

    return asyncio.run(work())


def make_operator_token() -> str:
    async def work() -> str:
        return (await bodies.create_token(None, principal=Principal.cli())).token

    return asyncio.run(work())


def uscc(seed: str = "holder", division: str = "370212") -> str:
    return demo_uscc(division, seed)


def certificate_fields(
    number: str = "SMT-2026-0001",
    *,
    score: Any = 92.5,
    start: date | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """POST /api/v1/certificates fields valid from `start` (default 30 days ago);
    `overrides` replace whole members."""
    start = start or (datetime.now(UTC).date() - timedelta(days=30))
    fields: dict[str, Any] = {
        "number": number,
        "score": score,
        "holder": {
            "name": "青岛海川智能家电有限公司",
            "name_en": "Qingdao Haichuan Smart Appliances Co., Ltd.",
            "uscc": uscc(number),
            "address": "山东省青岛市崂山区海川路88号",
        },
        "scope": {"zh": "冰箱、洗衣机的安装和维修服务", "en": "Installation and repair"},
        "sites": ["青岛市"],
        "issued_on": (start - timedelta(days=3)).isoformat(),
        "valid_from": start.isoformat(),
    }
    fields.update(overrides)
    return fields


def count_rows() -> dict[str, int]:
    from registry.audit.tables import AuditEntry

    engine = AuditEntry._meta.db

    async def work() -> dict[str, int]:
        counts = {}
        # A checkpoint signed for an unchanged log states what was already
        # there: reading the log's head is not a write.
        for table in (t for t in TABLE_NAMES if t != "log_checkpoint"):
            rows = await engine.run_querystring(QueryString(f"SELECT COUNT(*) AS n FROM {table}"))
            counts[table] = int(rows[0]["n"])
        return counts

    return asyncio.run(work())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_thread(app: Litestar) -> Iterator[str]:
    """The real app on a loopback port, for tests that need a network client."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
