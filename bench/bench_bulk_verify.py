"""Bulk verification: a 500-item `POST /api/v1/verifications` against 500 single requests.

Issue 6's target: a 500-item batch (verdicts, signed receipt, stored) answers in
under one second on the 2-core machine. Side by side in one run, interleaved
round by round so that a busy neighbour hits every contender alike:

- ``POST /api/v1/verifications`` with 500 certificate numbers;
- the same with 500 USCCs (one certificate each here);
- 500 ``GET /api/v1/certificates/{number}/verification`` one after another on
  one keep-alive connection (what a client without the bulk API does);
- the same 500 GETs, 8 at a time.

The registry is the real one (`starmark serve`'s app under uvicorn, one worker)
in its own process on loopback, over a fresh database seeded through the real
services: N certificates signed with a hosted key, one in ten with a
suspension and a reinstatement, so verdicts fold events too.

    .venv/bin/python bench/bench_bulk_verify.py [--certificates 500] [--rounds 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/EMPTY_DB]

SQLite in a temporary directory by default; with ``--database-url`` an empty
PostgreSQL database (it is migrated and filled; drop it afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

from registry import db
from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.certificates import services as certificates
from registry.certificates.services import WriteContext
from registry.certificates.tables import Certificate
from registry.demo import demo_uscc
from registry.principals import Principal
from registry.settings import KeyCustodySettings

PASSPHRASE = "bench passphrase, not a secret"
BODY = "BENCH"
BATCH = 500
TARGET_SECONDS = 1.0
CONCURRENCY = 8


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def number(i: int) -> str:
    return f"BENCH-2026-{i:06d}"


async def seed(url: str, count: int) -> list[tuple[str, str]]:
    """`count` certificates issued through the real services; (number, USCC) of each."""
    vault = HostedKeyVault(KeyCustodySettings(passphrase=PASSPHRASE.encode()))
    operator = Principal.cli()
    seeded = []
    async with db.connected(url):
        if await Certificate.count():
            raise SystemExit(f"{url} already holds certificates: give an empty database")
        now = datetime.now(UTC)
        await bodies.ensure_registry_key(vault=vault, now=now)
        await bodies.add_body(BODY, name="基准测试认证中心", principal=operator)
        await bodies.generate_hosted_key(BODY, vault=vault, now=now, principal=operator)
        ctx = WriteContext(principal=operator, now=now, vault=vault)
        start = now.date() - timedelta(days=400)
        for i in range(count):
            uscc = demo_uscc("370212", f"bench-{i}")
            fields = {
                "number": number(i),
                "score": 70 + (i % 30),
                "holder": {"name": f"青岛基准测试第{i}号家电服务有限公司", "uscc": uscc},
                "scope": {"zh": "家用电器的安装、维修和退换货服务"},
                "sites": ["山东省青岛市"],
                "issued_on": (start - timedelta(days=3)).isoformat(),
                "valid_from": start.isoformat(),
            }
            await certificates.issue_certificate(fields, body_code=BODY, ctx=ctx)
            if i % 10 == 0:
                for status, day in (("suspended", 100), ("reinstated", 130)):
                    await certificates.add_status_event(
                        number(i),
                        {
                            "status": status,
                            "effective_at": (start + timedelta(days=day)).isoformat(),
                        },
                        ctx=ctx,
                    )
            seeded.append((number(i), uscc))
    return seeded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STARMARK_DATA_DIR": str(data_dir),
        "STARMARK_KEY_PASSPHRASE": PASSPHRASE,
        # The limiter runs (its cost is part of every request) with limits no single
        # benchmark client reaches: per-address limits would answer most with 429.
        "STARMARK_RATE_LIMITS": ";".join(
            f"{group}=1000000000/minute" for group in ("verify_page", "search", "bulk")
        ),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "registry.asgi:build",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            # As `starmark serve` runs it (registry/cli/admin.py).
            "--loop",
            "asyncio",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the registry did not start")


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=BATCH)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.certificates < BATCH:
        raise SystemExit(f"--certificates must be at least {BATCH}")

    with tempfile.TemporaryDirectory(prefix="starmark-bench-bulk-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        engine = "PostgreSQL" if url.startswith("postgres") else f"SQLite {sqlite3.sqlite_version}"
        began = time.perf_counter()
        seeded = asyncio.run(seed(url, args.certificates))[:BATCH]
        seed_seconds = time.perf_counter() - began
        numbers = [n for n, _ in seeded]
        usccs = [u for _, u in seeded]
        server, base = start_server(url, work / "data")
        receipt_sizes: list[int] = []
        try:
            with httpx.Client(base_url=base, timeout=60) as client:

                def batch(items: list[str]) -> Callable[[], None]:
                    def run() -> None:
                        response = client.post(
                            "/api/v1/verifications",
                            json={"items": items, "as_of": "2026-10-01", "min_level": "three_star"},
                        )
                        response.raise_for_status()
                        body = response.json()
                        assert len(body["results"]) == BATCH
                        receipt_sizes.append(len(body["receipt"]))

                    return run

                def singles_sequential() -> None:
                    for n in numbers:
                        response = client.get(
                            f"/api/v1/certificates/{n}/verification",
                            params={"at": "2026-10-01", "min_level": "three_star"},
                        )
                        response.raise_for_status()

                async def singles_concurrent_async() -> None:
                    limit = asyncio.Semaphore(CONCURRENCY)
                    async with httpx.AsyncClient(base_url=base, timeout=60) as aclient:

                        async def one(n: str) -> None:
                            async with limit:
                                response = await aclient.get(
                                    f"/api/v1/certificates/{n}/verification",
                                    params={"at": "2026-10-01", "min_level": "three_star"},
                                )
                                response.raise_for_status()

                        await asyncio.gather(*(one(n) for n in numbers))

                contenders: list[tuple[str, Callable[[], None]]] = [
                    (f"POST /api/v1/verifications, {BATCH} numbers", batch(numbers)),
                    (f"POST /api/v1/verifications, {BATCH} USCCs", batch(usccs)),
                    (f"{BATCH} x GET .../verification, one by one", singles_sequential),
                    (
                        f"{BATCH} x GET .../verification, {CONCURRENCY} at a time",
                        lambda: asyncio.run(singles_concurrent_async()),
                    ),
                ]
                # Warm-up: keys unsealed, caches and connections filled.
                for _, run in contenders:
                    run()
                times: dict[str, list[float]] = {name: [] for name, _ in contenders}
                for _ in range(args.rounds):
                    for name, run in contenders:
                        times[name].append(timed(run))
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, litestar "
        f"{version('litestar')}, piccolo {version('piccolo')}, uvicorn {version('uvicorn')}"
    )
    print(
        f"database: {engine}; {args.certificates} certificates seeded through the services in "
        f"{seed_seconds:.1f} s (1 in 10 suspended and reinstated); server: uvicorn, 1 worker, "
        f"loopback; {args.rounds} interleaved rounds after a warm-up; receipt "
        f"{max(receipt_sizes) / 1024:.0f} KiB"
    )
    print()
    sequential = statistics.median(times[contenders[2][0]])
    print(f"{'what':46} {'median s':>9} {'worst s':>8} {'items/s':>9} {'vs one by one':>14}")
    for name, _ in contenders:
        median = statistics.median(times[name])
        print(
            f"{name:46} {median:9.3f} {max(times[name]):8.3f} {BATCH / median:9,.0f} "
            f"{sequential / median:13.1f}x"
        )
    batch_median = statistics.median(times[contenders[0][0]])
    verdict = "met" if max(times[contenders[0][0]]) < TARGET_SECONDS else "NOT met"
    print()
    print(
        f"500-item batch: median {batch_median:.3f} s, worst {max(times[contenders[0][0]]):.3f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {verdict})"
    )


if __name__ == "__main__":
    main()
