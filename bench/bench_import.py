"""Bulk issuance: `starmark cert import` of N generated rows on SQLite.

Certificates per second including validation, signing, storing and logging,
next to the same import in this process with and without the transparency
log, and a plain insert of the same rows without validation or signing, side
by side in one run on fresh SQLite databases. Target (PRODUCT §7): >= 2,000
per second with the log.

A file this large is signed in worker processes while the importer's process
writes (registry/certificates/preparing.py); one more in-process run signs in
the importer's own process, as a file under 7,500 rows is, to show what that
overlap is worth.

"Without the log" is a bench-only switch: in this process only,
`registry.certificates.importer.append_entries` is replaced by a function that
hands out consecutive indexes and writes nothing (no leaf, no subtree hash).
The product has no such switch.

    .venv/bin/python bench/bench_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from registry import db
from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.certificates import importer
from registry.certificates.tables import Certificate
from registry.db import write_transaction
from registry.demo import COMPANIES, demo_uscc
from registry.log.store import NewEntry
from registry.principals import Principal
from registry.settings import KeyCustodySettings

PASSPHRASE = "bench passphrase"
PREFIXES = [
    "华",
    "中",
    "东",
    "新",
    "恒",
    "永",
    "金",
    "瑞",
    "安",
    "泰",
    "鸿",
    "嘉",
    "宏",
    "盛",
    "祥",
]
SUFFIXES = ["科技", "电器", "家居", "机电", "服务", "智能", "实业", "贸易", "工程", "设备"]


def generate_csv(path: Path, rows: int) -> None:
    start = date(2025, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "number",
                "holder_name",
                "holder_name_en",
                "uscc",
                "address",
                "scope_zh",
                "scope_en",
                "score",
                "issued_on",
                "valid_from",
                "sites",
            ]
        )
        for i in range(rows):
            company = COMPANIES[i % len(COMPANIES)]
            city = company.name[:2]
            name = f"{city}{PREFIXES[i % 15]}{PREFIXES[(i // 15) % 15]}{SUFFIXES[i % 10]}有限公司"
            valid_from = start + timedelta(days=i % 600)
            writer.writerow(
                [
                    f"BENCH-{i:08d}",
                    name,
                    company.name_en,
                    demo_uscc(company.division, f"{i}"),
                    company.address,
                    company.scope_zh,
                    company.scope_en,
                    f"{70 + (i % 301) / 10:.1f}",
                    valid_from.isoformat(),
                    valid_from.isoformat(),
                    f"{city}市",
                ]
            )


async def prepare(url: str) -> None:
    async with db.connected(url):
        operator = Principal.cli()
        await bodies.add_body("BENCH", name="基准测试认证中心", principal=operator)
        vault = HostedKeyVault(KeyCustodySettings(passphrase=PASSPHRASE.encode()))
        await bodies.generate_hosted_key(
            "BENCH", vault=vault, now=datetime.now(UTC), principal=operator
        )


async def plain_insert(url: str, csv_path: Path) -> float:
    """The same rows as Certificate rows, in the same batches; nothing checked or signed."""
    async with db.connected(url):
        body = await bodies.get_body("BENCH")
        with csv_path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        started = time.perf_counter()
        for start in range(0, len(rows), 500):
            batch = [
                Certificate(
                    id=uuid.uuid4(),
                    number=r["number"],
                    body=body["id"],
                    holder_name=r["holder_name"],
                    holder_name_en=r["holder_name_en"],
                    uscc=r["uscc"],
                    province=r["uscc"][2:4],
                    level="three_star",
                    score=r["score"],
                    scope_zh=r["scope_zh"],
                    scope_en=r["scope_en"],
                    issued_on=date.fromisoformat(r["issued_on"]),
                    valid_from=date.fromisoformat(r["valid_from"]),
                    valid_until=date.fromisoformat(r["valid_from"]) + timedelta(days=1000),
                    status="valid",
                    current_revision=1,
                    event_count=0,
                )
                for r in rows[start : start + 500]
            ]
            async with write_transaction(Certificate._meta.db):
                await Certificate.insert(*batch)
        return time.perf_counter() - started


async def import_in_process(
    url: str, rows: list[tuple[int, dict[str, str]]], *, log: bool, workers: bool = True
) -> tuple[float, int]:
    """`importer.import_certificates` as the CLI calls it; ``log=False`` skips the log.

    ``workers=True`` signs in worker processes whatever the number of rows (the CLI's
    own run shows the product's choice); ``workers=False`` signs in this process, as
    the importer does a file under `PROCESS_MIN_ROWS` rows.
    """
    async with db.connected(url):
        vault = HostedKeyVault(KeyCustodySettings(passphrase=PASSPHRASE.encode()))
        moment = datetime.now(UTC)
        signer = await bodies.active_hosted_signer("BENCH", vault=vault, now=moment)
        real_append = importer.append_entries
        next_index = [0]

        async def no_log(entries: Sequence[NewEntry], *, recorded_at: datetime) -> list[int]:
            start = next_index[0]
            next_index[0] += len(entries)
            return list(range(start, next_index[0]))

        if not log:
            importer.append_entries = no_log  # type: ignore[assignment]
        try:
            started = time.perf_counter()
            report = await importer.import_certificates(
                rows,
                body_code="BENCH",
                signer=signer,
                principal=Principal.cli(body_code="BENCH"),
                now=moment,
                process_min_rows=1 if workers else len(rows) + 1,
            )
            seconds = time.perf_counter() - started
        finally:
            importer.append_entries = real_append
        return seconds, report.stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="starmark-bench-import-") as tmp:
        work = Path(tmp)
        csv_path = work / "certificates.csv"
        generate_csv(csv_path, args.rows)
        signed_url = f"sqlite:///{work / 'signed.sqlite3'}"
        plain_url = f"sqlite:///{work / 'plain.sqlite3'}"
        logged_url = f"sqlite:///{work / 'logged.sqlite3'}"
        unlogged_url = f"sqlite:///{work / 'unlogged.sqlite3'}"
        alone_url = f"sqlite:///{work / 'alone.sqlite3'}"
        for url in (signed_url, plain_url, logged_url, unlogged_url, alone_url):
            asyncio.run(prepare(url))

        env = {
            **os.environ,
            "DATABASE_URL": signed_url,
            "STARMARK_KEY_PASSPHRASE": PASSPHRASE,
            "STARMARK_DATA_DIR": str(work),
        }
        starmark = Path(sys.executable).parent / "starmark"
        started = time.perf_counter()
        result = subprocess.run(
            [str(starmark), "cert", "import", str(csv_path), "--body", "BENCH", "--quiet"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        signed_seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"import failed: {result.stderr[-2000:]}")
        rows = list(importer.read_rows(csv_path.read_text(encoding="utf-8")))
        logged_seconds, logged = asyncio.run(import_in_process(logged_url, rows, log=True))
        unlogged_seconds, unlogged = asyncio.run(import_in_process(unlogged_url, rows, log=False))
        alone_seconds, alone = asyncio.run(
            import_in_process(alone_url, rows, log=True, workers=False)
        )
        if {logged, unlogged, alone} != {args.rows}:
            sys.exit(f"in-process imports stored {logged}, {unlogged} and {alone} of {args.rows}")
        plain_seconds = asyncio.run(plain_insert(plain_url, csv_path))

    signed_rate = args.rows / signed_seconds
    plain_rate = args.rows / plain_seconds
    logged_rate = args.rows / logged_seconds
    unlogged_rate = args.rows / unlogged_seconds
    alone_rate = args.rows / alone_seconds
    print("bench_import: starmark cert import vs a plain insert of the same rows (SQLite)")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(f"load average before: {load_before}")
    print(f"rows: {args.rows:,}; {result.stdout.strip().splitlines()[-1]}")
    print(f"{'what':50} {'seconds':>9} {'certs/s':>10}")
    for what, seconds, rate in [
        ("starmark cert import (validate+sign+store+log, CLI)", signed_seconds, signed_rate),
        ("importer in process, with the log", logged_seconds, logged_rate),
        ("importer in process, log switched off (bench)", unlogged_seconds, unlogged_rate),
        ("importer in process, signing in its own process", alone_seconds, alone_rate),
        ("plain insert of the same rows (no checks, no JWS)", plain_seconds, plain_rate),
    ]:
        print(f"{what:50} {seconds:9.2f} {rate:10,.0f}")
    print(
        f"import / plain = {signed_rate / plain_rate:.1%}; "
        f"with log / without = {logged_rate / unlogged_rate:.1%} "
        f"(the log: {(logged_seconds - unlogged_seconds) / args.rows * 1e6:.0f} µs a certificate); "
        f"workers / own process = {logged_rate / alone_rate:.1%}; "
        f"target >= 2,000 certs/s with the log: {'met' if signed_rate >= 2000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
