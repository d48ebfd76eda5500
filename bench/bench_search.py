"""Search latency at a million certificates, on SQLite and on PostgreSQL (issue 5, PRODUCT §7).

    .venv/bin/python bench/bench_search.py [--count 1000000] [--engines sqlite,postgresql]

Target: p95 under 50 ms for `GET /api/v1/certificates` at 1,000,000
certificates on both engines, two-character Chinese queries included.

For each engine, in one run, on loopback only:

1. a fresh database (SQLite: a temporary file; PostgreSQL: `sm_bench_search`,
   created here and dropped at the end) filled by bench/generate_certificates.py
   through the registry's migrations, triggers and indexes; the time is printed;
2. the database and index sizes;
3. the real server (`uvicorn --factory registry.asgi:build`, one worker, as
   `starmark serve` runs it) and one client sending a fixed mix of queries one
   at a time: two-, three- and four-character Chinese fragments of real names,
   Latin words, USCCs and certificate numbers (whole and in part), broad words
   (公司, 服务) that match most certificates, each kind with and without
   filters, plus filters alone. The mix is drawn from the generated rows with a
   fixed seed, so both engines get the same queries. One warm-up pass, then
   `--rounds` measured passes in a shuffled order; p50, p95, p99 per kind;
4. side by side, a plain `LIKE '%…%'` scan of the same data for a sample of the
   same queries (every term in any text field, the same filters, first 20 by
   name), timed in the database driver itself, and the ratio of the medians.

To measure again without generating again: `--keep DIR` keeps the databases
(the SQLite file in DIR, the PostgreSQL database undropped), then `--reuse`
(with the same `--keep DIR`, `--count` and `--pg-database`) measures them as
they are. `--pg-database` names the PostgreSQL database, so that two runs on
one server do not drop each other's.

Bounded: the scan sample is `--scan-queries` per kind, each run once; the
whole run takes about 10 minutes per engine at a million certificates on a
2-core machine, most of it generating and indexing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_certificates import (  # noqa: E402
    BODIES,
    CHUNK,
    COLUMNS,
    FORMS,
    SEED,
    generate,
    generate_rows,
)

from registry.certificates.search_text import fold  # noqa: E402

TARGET_P95_MS = 50.0
TARGET_RSS_MB = 200.0
#: Slowest measured requests listed per engine: which queries make the tail.
SLOWEST = 12
#: Verdicts that say the stored documents do not verify.
NOT_VERIFIED = frozenset({"signature_invalid", "malformed"})
PG_DATABASE = "sm_bench_search"


@dataclass(frozen=True)
class Query:
    kind: str
    params: tuple[tuple[str, str], ...]

    @property
    def q(self) -> str:
        return dict(self.params).get("q", "")

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.params)


@dataclass
class EngineResult:
    engine: str
    generate_seconds: float = 0.0
    sizes: list[tuple[str, float]] = field(default_factory=list)
    api_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    scan_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    #: How the read path judged every certificate the warm-up pass found.
    statuses: Counter[str] = field(default_factory=Counter)
    #: The server process's VmRSS and VmHWM (peak) in MB after the measured passes.
    rss_mb: tuple[float, float] | None = None
    #: (ms, query) of every measured request, for the slowest ones.
    timed: list[tuple[float, Query]] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


# --- the mix -------------------------------------------------------------------------------


def _distinctive(name: str) -> str:
    """A name without its organisation form (有限公司...): city, trade name, industry."""
    for form, _, _ in sorted(FORMS, key=lambda f: -len(f[0])):
        if name.endswith(form):
            return name[: -len(form)]
    return name


def build_mix(count: int, *, per_kind: int, seed: int = SEED) -> list[Query]:
    """A fixed mix of queries drawn from the rows the generator writes."""
    rng = random.Random(seed + 1)
    body_ids = {code: i + 1 for i, (code, _, _) in enumerate(BODIES)}
    rows = []
    starts = sorted({rng.randrange(0, max(1, count // CHUNK)) * CHUNK for _ in range(8)})
    for start in starts:
        chunk = generate_rows(
            start, min(CHUNK, count - start), body_ids=body_ids, today=_today(), seed=seed
        )
        rows += rng.sample(chunk, min(60, len(chunk)))
    rng.shuffle(rows)
    record = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    levels = ("five_star", "four_star", "three_star", "compliant")
    mix: list[Query] = []

    def add(kind: str, **params: str) -> None:
        mix.append(Query(kind, tuple(sorted(params.items()))))

    def fragment(name: str, n: int) -> str:
        text = _distinctive(name)
        if len(text) < n:
            text = name
        start = rng.randrange(0, len(text) - n + 1)
        return text[start : start + n]

    for i in range(per_kind):
        r = record[i % len(record)]
        s = record[(i + per_kind) % len(record)]
        t = record[(i + 2 * per_kind) % len(record)]
        add("zh2", q=fragment(r["holder_name"], 2))
        add("zh3", q=fragment(s["holder_name"], 3))
        add("zh4", q=fragment(t["holder_name"], 4))
        add("zh2+filter", q=fragment(s["holder_name"], 2), province=s["province"])
        add("zh3+filter", q=fragment(t["holder_name"], 3), level=rng.choice(levels))
        add("zh4+filter", q=fragment(r["holder_name"], 4), status="valid")
        english = [x for x in record if x["holder_name_en"]]
        e = english[i % len(english)]
        word = e["holder_name_en"].split()[1]
        add("latin", q=word if i % 2 else word[: max(3, len(word) - 2)].lower())
        add("latin+filter", q=word, province=e["province"], level=rng.choice(levels))
        add("uscc", q=r["uscc"] if i % 2 else r["uscc"].lower())
        add("uscc+filter", q=s["uscc"][:2] + s["uscc"][2:].lower(), status="valid")
        add("number", q=t["number"] if i % 2 else t["number"].lower())
        add("number part", q=r["number"][-7:])
        add("broad", q=rng.choice(("公司", "有限公司", "服务", "电器", "维修", "co., ltd.")))
        add(
            "broad+filter",
            q=rng.choice(("公司", "服务", "有限")),
            province=t["province"],
            level=rng.choice(levels),
        )
        add(
            "filters only",
            **rng.choice(
                (
                    {"province": r["province"]},
                    {"level": rng.choice(levels), "province": s["province"]},
                    {"body": rng.choice(BODIES)[0]},
                    {"status": rng.choice(("suspended", "revoked", "withdrawn", "expired"))},
                )
            ),
        )
    return mix


def _today() -> Any:
    from generate_certificates import _today as today

    return today()


# --- databases -------------------------------------------------------------------------------


def pg_admin(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


async def pg_execute(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def pg_version(url: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        shown = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size"):
            shown.append(f"{name}={await connection.fetchval('SELECT current_setting($1)', name)}")
        return f"{await connection.fetchval('SHOW server_version')} ({', '.join(shown)})"
    finally:
        await connection.close()


def sizes(url: str) -> list[tuple[str, float]]:
    """(object, MB): the database, then every table and index of certificate search."""
    if url.startswith("sqlite:"):
        path = Path(url[len("sqlite:///") :])
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            found = [("database file", path.stat().st_size / 1e6)]
            try:
                rows = connection.execute(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                ).fetchall()
            except sqlite3.OperationalError:
                return found  # SQLite built without DBSTAT_VTAB
            return found + [(name, size / 1e6) for name, size in rows if size > 1e6]
        finally:
            connection.close()

    async def work() -> list[tuple[str, float]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            database = await connection.fetchval("SELECT pg_database_size(current_database())")
            table = await connection.fetchval("SELECT pg_table_size('certificate')")
            found = [("database", database / 1e6), ("certificate (heap + TOAST)", table / 1e6)]
            for row in await connection.fetch(
                "SELECT indexname, pg_relation_size(quote_ident(indexname)::regclass) AS size "
                "FROM pg_indexes WHERE tablename = 'certificate' ORDER BY size DESC"
            ):
                found.append((row["indexname"], row["size"] / 1e6))
            return found
        finally:
            await connection.close()

    return asyncio.run(work())


# --- the plain LIKE scan -------------------------------------------------------------------------


def scan_sql(query: Query, *, postgres: bool) -> tuple[str, list[Any]]:
    """Every term anywhere in the text fields, the same filters, the first page by name."""
    params = dict(query.params)
    like = "ILIKE" if postgres else "LIKE"
    fields = ("holder_name", "holder_name_en", "scope_zh", "scope_en", "number", "uscc")
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}" if postgres else "?"

    for term in fold(params.get("q", "")).split():
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(" + " OR ".join(f"{f} {like} {arg(pattern)} ESCAPE '\\'" for f in fields) + ")"
        )
    for name in ("province", "level"):
        if name in params:
            where.append(f"{name} = {arg(params[name])}")
    if "body" in params:
        where.append(
            f"body = (SELECT id FROM certification_body WHERE code = {arg(params['body'])})"
        )
    if "status" in params:
        where.append(f"status = {arg(params['status'])}")
    sql = (
        "SELECT number FROM certificate"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY holder_name, number LIMIT 21"
    )
    return sql, args


def time_scans(url: str, queries: list[Query]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    if url.startswith("sqlite:"):
        connection = sqlite3.connect(url[len("sqlite:///") :])
        try:
            for query in queries:
                sql, args = scan_sql(query, postgres=False)
                started = time.perf_counter()
                connection.execute(sql, args).fetchall()
                times[query.kind].append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
        return times

    async def work() -> None:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            for query in queries:
                sql, args = scan_sql(query, postgres=True)
                started = time.perf_counter()
                await connection.fetch(sql, *args)
                times[query.kind].append((time.perf_counter() - started) * 1000)
        finally:
            await connection.close()

    asyncio.run(work())
    return times


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STARMARK_DATA_DIR": str(workdir),
        "STARMARK_KEY_PASSPHRASE": "bench passphrase, not a secret",
        # The limiter runs (its cost is part of every request) with limits one
        # measuring client never reaches: per-address limits would answer most with 429.
        "STARMARK_RATE_LIMITS": "search=1000000000/minute",
    }
    log = (workdir / f"server-{port}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "registry.asgi:build", "--host",
         "127.0.0.1", "--port", str(port), "--no-access-log", "--loop", "asyncio",
         "--http", "httptools"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited; see {log.name}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start within 60 s")


def run_mix(base: str, mix: list[Query], *, rounds: int, result: EngineResult) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:

        def one(query: Query) -> float:
            started = time.perf_counter()
            response = client.get("/api/v1/certificates", params=dict(query.params))
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                result.errors.append(
                    f"{response.status_code} {query.label()}: {response.text[:200]}"
                )
            return elapsed

        for query in mix:  # warm-up: caches of the OS, SQLite and PostgreSQL
            one(query)
        # The generated certificates must be judged as signed (their status, never
        # signature_invalid): search answers through the read path, from the log.
        for query in mix:
            response = client.get("/api/v1/certificates", params=dict(query.params))
            if response.status_code == 200:
                result.statuses.update(item["status"] for item in response.json()["items"])
        bad = {s: n for s, n in result.statuses.items() if s in NOT_VERIFIED}
        if bad or not result.statuses:
            raise SystemExit(f"the read path did not verify the generated data: {bad}")
        rng = random.Random(SEED)
        for _ in range(rounds):
            order = list(mix)
            rng.shuffle(order)
            for query in order:
                ms = one(query)
                result.api_ms[query.kind].append(ms)
                result.timed.append((ms, query))


def server_rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of process `pid` in MB: its resident memory now and at its peak."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024  # kB
    return found["VmRSS"], found["VmHWM"]


# --- the run --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def bench_engine(
    engine: str, args: argparse.Namespace, mix: list[Query], workdir: Path
) -> EngineResult:
    result = EngineResult(engine)
    database = args.pg_database
    if engine == "sqlite":
        path = workdir / "sm_bench_search.sqlite3"
        if not args.reuse:
            for stale in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                stale.unlink(missing_ok=True)
        elif not path.exists():
            raise SystemExit(f"--reuse: no database {path} (made by an earlier --keep {workdir})")
        url = f"sqlite:///{path}"
    else:
        admin = pg_admin(args.postgres_url)
        url = urlunsplit(urlsplit(args.postgres_url)._replace(path=f"/{database}"))
        if not args.reuse:
            asyncio.run(pg_execute(admin, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            asyncio.run(pg_execute(admin, f'CREATE DATABASE "{database}"'))
        print(f"PostgreSQL {asyncio.run(pg_version(admin))}", flush=True)
    try:
        if args.reuse:
            print(f"\n== {engine}: reusing {url} as it is (not generated)", flush=True)
        else:
            print(f"\n== {engine}: generating {args.count:,} certificates", flush=True)
            result.generate_seconds = generate(url, args.count)
            print(f"   generated and indexed in {result.generate_seconds:.0f} s", flush=True)
        result.sizes = sizes(url)
        server, base = start_server(url, workdir)
        try:
            print(f"   {len(mix)} queries x {args.rounds} rounds through {base}", flush=True)
            result.load_before = os.getloadavg()
            run_mix(base, mix, rounds=args.rounds, result=result)
            result.load_after = os.getloadavg()
            # One worker (uvicorn without --workers): the process started is the worker.
            result.rss_mb = server_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        sample: list[Query] = []
        for kind in dict.fromkeys(q.kind for q in mix):
            sample += [q for q in mix if q.kind == kind][: args.scan_queries]
        print(f"   plain LIKE scan: {len(sample)} queries", flush=True)
        result.scan_ms = time_scans(url, sample)
    finally:
        if engine != "sqlite" and not args.keep and not args.reuse:
            asyncio.run(
                pg_execute(
                    pg_admin(args.postgres_url),
                    f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                )
            )
    return result


def report(results: list[EngineResult], mix: list[Query]) -> None:
    kinds = list(dict.fromkeys(q.kind for q in mix))
    for result in results:
        print(f"\n### {result.engine}: search API latency (ms), {len(mix)} queries")
        print(f"{'kind':<16}{'p50':>8}{'p95':>8}{'p99':>8}{'LIKE p50':>11}{'ratio':>9}")
        everything: list[float] = []
        rows = [(kind, result.api_ms[kind], result.scan_ms.get(kind, [])) for kind in kinds]
        for _kind, api, _ in rows:
            everything += api
        all_scan = [v for values in result.scan_ms.values() for v in values]
        for kind, api, scan in [*rows, ("all", everything, all_scan)]:
            line = f"{kind:<16}" + "".join(f"{percentile(api, p):8.1f}" for p in (50, 95, 99))
            if scan:
                ratio = statistics.median(scan) / statistics.median(api)
                line += f"{statistics.median(scan):11.0f}{ratio:8.1f}x"
            print(line)
        p95 = percentile(everything, 95)
        verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
        print(f"p95 {p95:.1f} ms {verdict} the target of {TARGET_P95_MS:.0f} ms")
        print(
            "load average while measuring: before {:.2f} {:.2f} {:.2f}".format(*result.load_before)
            + "; after {:.2f} {:.2f} {:.2f}".format(*result.load_after)
        )
        if result.rss_mb is not None:
            rss, peak = result.rss_mb
            verdict = "meets" if peak < TARGET_RSS_MB else "MISSES"
            print(
                f"server RSS (one worker) after the passes: {rss:.0f} MB, peak {peak:.0f} MB; "
                f"{verdict} the target of {TARGET_RSS_MB:.0f} MB"
            )
        print("slowest requests (ms, kind, query):")
        for ms, query in sorted(result.timed, key=lambda t: -t[0])[:SLOWEST]:
            print(f"  {ms:8.1f}  {query.kind:<14}{query.label()}")
        made = (
            f"generated and indexed in {result.generate_seconds:.0f} s"
            if result.generate_seconds
            else "reused"
        )
        print(f"{made}; sizes (MB):")
        for name, size in result.sizes:
            print(f"  {name:<34}{size:10.1f}")
        judged = ", ".join(f"{status} {n}" for status, n in result.statuses.most_common())
        print(f"results judged by the read path (one pass of the mix): {judged}")
        if result.errors:
            print(f"{len(result.errors)} requests failed, e.g. {result.errors[0]}")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1e6:.0f} GB RAM"
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs{memory}, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-kind", type=int, default=20, help="queries of each kind")
    parser.add_argument("--scan-queries", type=int, default=2, help="LIKE scans of each kind")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STARMARK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server (loopback); the database --pg-database is created and dropped",
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the databases: the SQLite file in DIR, the PostgreSQL database undropped",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the databases an earlier run kept (--keep DIR for SQLite) without "
        "generating them again; they are kept. --count must be the one they were made with",
    )
    parser.add_argument(
        "--pg-database",
        default=PG_DATABASE,
        help=f"the PostgreSQL database created (and dropped) or reused (default {PG_DATABASE})",
    )
    args = parser.parse_args()
    if args.reuse and "sqlite" in args.engines and not args.keep:
        parser.error("--reuse on SQLite needs --keep DIR, the directory of the kept file")
    if not args.pg_database.replace("_", "").isalnum():
        parser.error("--pg-database: letters, digits and _ only")
    for url in (args.postgres_url,):
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("the benchmark runs on loopback only")
    print(f"machine: {machine()}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"python {platform.python_version()}, litestar {version('litestar')}, "
        f"piccolo {version('piccolo')}, SQLite {sqlite3.sqlite_version}, "
        f"asyncpg {version('asyncpg')}"
    )
    mix = build_mix(args.count, per_kind=args.per_kind)
    results = []
    with tempfile.TemporaryDirectory(prefix="sm-bench-search-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for engine in args.engines.split(","):
            results.append(bench_engine(engine.strip(), args, mix, workdir))
    report(results, mix)


if __name__ == "__main__":
    main()
