"""The transparency log at 10,000 and at 10,000,000 leaves, side by side (issue 10).

    .venv/bin/python bench/bench_log.py --engine sqlite|postgresql [--leaves 10000000]

Targets (PRODUCT §7): p95 of inclusion and consistency proofs under 10 ms at
10,000,000 leaves; appending stays O(log n), so one document (and a batch of
2,000) costs about the same at 10,000,000 leaves as at 10,000.

For the engine given, in one run:

1. two fresh databases through the registry's migrations, a small log
   (`--small`, 10,000 leaves) and a large one (`--leaves`). SQLite: files in a
   temporary directory under `--dir` (default /tmp, ~3 GB at 10,000,000,
   deleted at the end); PostgreSQL: `sm_bench_log_small` and
   `sm_bench_log_large`, created here and dropped at the end;
2. both filled with synthetic leaves: entry i is the ASCII string
   `bench-leaf.{i}` (typ `bench+jws`, number `BL{i}`), and every complete
   subtree hash (~2n `log_node` rows) is computed by a fast path here, a chunk
   of 2**17 leaves at a time with `signing.merkle.leaf_hash`/`node_hash`, and
   bulk-loaded (SQLite: executemany on the file; PostgreSQL: COPY). The fast
   path is checked against `signing.merkle.append_leaves` on the small log;
3. a checkpoint signed by `registry.log.services.latest_checkpoint` (it reads
   the stored right edge of the tree);
4. `--proofs` inclusion proofs (random index) and as many consistency proofs
   (random old size, to the checkpoint) on each log, through
   `registry.log.services.inclusion`/`consistency` and the `log_node` table,
   interleaved small/large. Every proof is then verified with
   `signing.merkle.verify_inclusion`/`verify_consistency` against the signed
   root (the leaf hash against the synthetic data too), outside the timing;
5. appends through `registry.log.store.append_entries` in a write
   transaction, commit included: `--singles` documents one at a time and
   `--batches` batches of 2,000, interleaved small/large. A document is a
   1,286-character ASCII string, the size of a certificate's JWS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from base64 import b64decode
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.engine.base import Engine

from registry import db
from registry.log import services
from registry.log.store import NewEntry, append_entries, node_id, subtree_hashes
from registry.log.tables import LogEntry
from signing.keys import PrivateKey
from signing.merkle import (
    Node,
    append_leaves,
    assemble_root_hash,
    leaf_hash,
    node_hash,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)

#: Leaves a fill step computes and writes at once (2**17: ~260,000 rows).
CHUNK_LEVEL = 17
ORIGIN = "bench.starmark.example/log"
DOCUMENT_CHARS = 1286
PG_DATABASES = {"small": "sm_bench_log_small", "large": "sm_bench_log_large"}


def leaf_data(index: int) -> str:
    return f"bench-leaf.{index}"


def chunk_nodes(start: int, count: int) -> tuple[list[tuple[int, bytes]], bytes | None]:
    """Every complete subtree inside leaves ``start .. start+count`` (start aligned).

    Answers the rows (node id, hash) and, for a full chunk, its top hash.
    """
    level_hashes = [leaf_hash(leaf_data(start + i).encode("ascii")) for i in range(count)]
    rows = [(node_id(Node(0, start + i)), h) for i, h in enumerate(level_hashes)]
    level, first = 0, start
    while len(level_hashes) >= 2:
        level_hashes = [
            node_hash(level_hashes[i], level_hashes[i + 1])
            for i in range(0, len(level_hashes) - 1, 2)
        ]
        level, first = level + 1, first // 2
        rows.extend((node_id(Node(level, first + i)), h) for i, h in enumerate(level_hashes))
    full = count == 1 << CHUNK_LEVEL
    return rows, (level_hashes[0] if full else None)


def tree_rows(leaves: int) -> Iterator[tuple[int, int, list[tuple[int, bytes]]]]:
    """(first leaf, leaf count, node rows) a chunk at a time, then the levels above chunks."""
    tops: list[bytes] = []
    size = 1 << CHUNK_LEVEL
    for start in range(0, leaves, size):
        count = min(size, leaves - start)
        rows, top = chunk_nodes(start, count)
        if top is not None:
            tops.append(top)
        yield start, count, rows
    level = CHUNK_LEVEL
    above: list[tuple[int, bytes]] = []
    while len(tops) >= 2:
        tops = [node_hash(tops[i], tops[i + 1]) for i in range(0, len(tops) - 1, 2)]
        level += 1
        above.extend((node_id(Node(level, i)), h) for i, h in enumerate(tops))
    yield leaves, 0, above


def check_fast_path(leaves: int) -> None:
    """The fast path stores exactly what `append_leaves` stores, hash for hash."""
    expected = append_leaves(
        [leaf_hash(leaf_data(i).encode("ascii")) for i in range(leaves)], size=0, edge={}
    )
    got = dict(row for _, _, rows in tree_rows(leaves) for row in rows)
    if got != {node_id(n): h for n, h in expected.items()}:
        raise SystemExit(f"fast path differs from signing.merkle.append_leaves at {leaves}")


def entry_rows(start: int, count: int, at: datetime) -> list[tuple[Any, ...]]:
    return [
        (i, "bench+jws", leaf_data(i), at, f"BL{i:08d}", "BENCH")
        for i in range(start, start + count)
    ]


ENTRY_COLUMNS = ["id", "typ", "jws", "recorded_at", "number", "body"]


def fill_sqlite(path: Path, leaves: int, at: datetime) -> None:
    conn = sqlite3.connect(path)
    # A bulk load: no rollback journal and no fsync while filling; WAL again after.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    for start, count, rows in tree_rows(leaves):
        with conn:
            conn.executemany(
                "INSERT INTO log_entry (id, typ, jws, recorded_at, number, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                entry_rows(start, count, at),
            )
            conn.executemany("INSERT INTO log_node (id, hash) VALUES (?, ?)", rows)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()


async def fill_postgresql(url: str, leaves: int, at: datetime) -> None:
    conn = await asyncpg.connect(url)
    try:
        for start, count, rows in tree_rows(leaves):
            if count:
                await conn.copy_records_to_table(
                    "log_entry", records=entry_rows(start, count, at), columns=ENTRY_COLUMNS
                )
            await conn.copy_records_to_table("log_node", records=rows, columns=["id", "hash"])
        await conn.execute("ANALYZE log_entry; ANALYZE log_node")
    finally:
        await conn.close()


@dataclass
class Log:
    name: str
    leaves: int
    url: str
    engine: Engine[Any]
    size: int = 0
    root: bytes = b""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(log: Log, call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    db.use_engine(log.engine)
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


async def measure_proofs(logs: list[Log], count: int, rng: random.Random) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    answers: list[tuple[Log, str, Any]] = []
    for _ in range(count):
        for log in logs:
            index = rng.randrange(log.size)
            ms, answer = await timed(log, partial(services.inclusion, str(index), str(log.size)))
            times.setdefault(f"inclusion {log.name}", []).append(ms)
            answers.append((log, "inclusion", answer))
            old = rng.randrange(1, log.size)
            ms, answer = await timed(log, partial(services.consistency, str(old), str(log.size)))
            times.setdefault(f"consistency {log.name}", []).append(ms)
            answers.append((log, "consistency", answer))
    for log, kind, answer in answers:  # outside the timing: every proof holds
        db.use_engine(log.engine)
        proof = [b64decode(h) for h in answer["proof"]]
        if kind == "inclusion":
            leaf = b64decode(answer["leaf_hash"])
            if leaf != leaf_hash(leaf_data(answer["index"]).encode("ascii")):
                raise SystemExit(f"{log.name}: leaf {answer['index']} has the wrong hash")
            verify_inclusion(
                leaf_hash=leaf, index=answer["index"], size=log.size, proof=proof, root=log.root
            )
        else:
            old = answer["from"]
            old_root = assemble_root_hash(old, await subtree_hashes(root_nodes(old)))
            verify_consistency(
                old_size=old, new_size=log.size, old_root=old_root, new_root=log.root, proof=proof
            )
    return times


async def measure_appends(logs: list[Log], singles: int, batches: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    serial = [0]
    now = datetime.now(UTC)

    def documents(n: int) -> list[NewEntry]:
        out = []
        for _ in range(n):
            serial[0] += 1
            tail = f".{serial[0]}"
            text = "eyJ" + "A" * (DOCUMENT_CHARS - 3 - len(tail)) + tail
            out.append(NewEntry("bench+jws", text, body="BENCH", number=f"BA{serial[0]:08d}"))
        return out

    async def append(entries: list[NewEntry]) -> list[int]:
        async with db.write_transaction(LogEntry._meta.db):
            return await append_entries(entries, recorded_at=now)

    for kind, rounds, n in (("one document", singles, 1), ("batch of 2,000", batches, 2000)):
        for _ in range(rounds):
            for log in logs:
                entries = documents(n)
                ms, _ = await timed(log, partial(append, entries))
                times.setdefault(f"{kind} {log.name}", []).append(ms)
    return times


async def prepare(log: Log) -> float:
    """Migrate, fill and checkpoint ``log``; answers the seconds the fill took."""
    await db.start(log.engine)
    await db.migrate(log.engine)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    started = time.perf_counter()
    if log.url.startswith("sqlite:"):
        await asyncio.to_thread(fill_sqlite, db.sqlite_path_from_url(log.url), log.leaves, at)
    else:
        await fill_postgresql(log.url, log.leaves, at)
    seconds = time.perf_counter() - started
    db.use_engine(log.engine)
    key = PrivateKey.generate()

    async def signer() -> PrivateKey:
        return key

    checkpoint = await services.latest_checkpoint(
        origin=ORIGIN, signer=signer, now=datetime.now(UTC)
    )
    if checkpoint.size != log.leaves:
        raise SystemExit(f"{log.name}: checkpoint of {checkpoint.size}, expected {log.leaves}")
    log.size, log.root = checkpoint.size, checkpoint.root
    return seconds


def pg_url(base: str, database: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))


async def pg_admin(base: str, sql: str) -> str:
    conn = await asyncpg.connect(pg_url(base, "postgres"))
    try:
        await conn.execute(sql)
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def report_rows(times: dict[str, list[float]], what: str, logs: list[Log]) -> None:
    small, large = logs
    print(f"{what:34} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'n':>5}")
    for key in sorted({k.rsplit(" ", 1)[0] for k in times}):
        for log in logs:
            values = times[f"{key} {log.name}"]
            label = f"{key}, {log.size:,} leaves"
            print(
                f"{label:34} {statistics.median(values):9.3f} {pct(values, 0.95):9.3f} "
                f"{pct(values, 0.99):9.3f} {len(values):5}"
            )
        ratio = statistics.median(times[f"{key} {large.name}"]) / statistics.median(
            times[f"{key} {small.name}"]
        )
        print(f"{'':34} median large / small = {ratio:.2f}x")


async def run(args: argparse.Namespace, workdir: Path) -> None:
    if args.engine == "sqlite":
        urls = {name: f"sqlite:///{workdir / f'{name}.sqlite3'}" for name in ("small", "large")}
        version = sqlite3.sqlite_version
    else:
        for database in PG_DATABASES.values():
            version = await pg_admin(
                args.postgres_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"
            )
            await pg_admin(args.postgres_url, f"CREATE DATABASE {database}")
        urls = {name: pg_url(args.postgres_url, d) for name, d in PG_DATABASES.items()}
    logs = [
        Log(name, leaves, urls[name], db.engine_from_url(urls[name]))
        for name, leaves in (("small", args.small), ("large", args.leaves))
    ]
    print(f"database: {args.engine} {version}", flush=True)
    check_fast_path(args.small)
    try:
        for log in logs:
            seconds = await prepare(log)
            print(
                f"{log.name}: {log.leaves:,} leaves and their subtree hashes loaded in "
                f"{seconds:.1f} s ({log.leaves / seconds:,.0f} leaves/s); "
                f"checkpoint root {log.root.hex()[:16]}...",
                flush=True,
            )
        if args.engine == "sqlite":
            size = (workdir / "large.sqlite3").stat().st_size / 2**20
            print(f"large database file: {size:,.0f} MB")
        print(f"load average before measuring: {loadavg()}", flush=True)
        rng = random.Random(20261130)
        proofs = await measure_proofs(logs, args.proofs, rng)
        appends = await measure_appends(logs, args.singles, args.batches)
        print(f"load average after measuring: {loadavg()}")
        print()
        report_rows(proofs, "proof (services, log_node)", logs)
        print()
        report_rows(appends, "append (write transaction)", logs)
        print()
        worst = max(pct(proofs[f"{k} large"], 0.95) for k in ("inclusion", "consistency"))
        print(
            f"proofs at {args.leaves:,} leaves: p95 at most {worst:.2f} ms "
            f"(target < 10 ms: {'met' if worst < 10 else 'NOT met'})"
        )
    finally:
        for log in logs:
            await db.stop(log.engine)
        if args.engine == "postgresql" and not args.keep:
            for database in PG_DATABASES.values():
                await pg_admin(
                    args.postgres_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                )


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--proofs", type=int, default=1000, help="of each kind, per log")
    parser.add_argument("--singles", type=int, default=200, help="one-document appends per log")
    parser.add_argument("--batches", type=int, default=5, help="2,000-document appends per log")
    parser.add_argument("--dir", default="/tmp", help="where the SQLite files go")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STARMARK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    args = parser.parse_args()
    print("bench_log: the transparency log, small and large, side by side")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    print(f"load average before: {loadavg()}; free in {args.dir}: ", end="")
    print(f"{shutil.disk_usage(args.dir).free / 2**30:.0f} GiB", flush=True)
    with tempfile.TemporaryDirectory(prefix="starmark-bench-log-", dir=args.dir) as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
