"""Every benchmark, one after another, then each target's line: `make bench`.

Each benchmark runs as its own process with its own defaults (the sizes
docs/benchmarks.md records), on SQLite and on the PostgreSQL server at
`--postgres-url` (loopback only), and prints what it prints. At the end
this prints, per benchmark, the lines that say whether a target is met,
and exits 1 when a benchmark failed or a target was missed.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME[,NAME]] [--no-postgresql]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

A full run takes about an hour on the 2-core machine, most of it
filling 1,000,000 certificates and 10,000,000 log leaves twice; `--quick`
runs every benchmark at a size that takes a few minutes in all, whose
figures show that each benchmark works, not whether its target is met
(several targets are stated at the full size). Run it on a quiet machine:
every figure is set beside another measured in the same run, but a busy
neighbour still lengthens every tail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
VERDICT = re.compile(r"\b(met|NOT met|meets|MISSES)\b")


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    #: Takes an empty PostgreSQL database as `--database-url`.
    empty_database: bool = False
    #: Takes the server as `--postgres-url` and makes its own databases.
    server: bool = False
    #: Runs on SQLite as well (the default when it takes a database).
    sqlite: bool = True


BENCHES = (
    Bench("signing", "bench_signing.py", quick=("--rounds", "3")),
    Bench("marks", "bench_marks.py", quick=("--runs", "50")),
    Bench("verify_page", "bench_verify_page.py", quick=("--seconds", "2"), empty_database=True),
    Bench("bulk_verify", "bench_bulk_verify.py", quick=("--rounds", "2"), empty_database=True),
    Bench("import", "bench_import.py", quick=("--rows", "5000")),
    Bench(
        "search",
        "bench_search.py",
        quick=("--count", "20000", "--rounds", "1", "--per-kind", "5"),
        server=True,
    ),
    Bench(
        "log",
        "bench_log.py",
        quick=("--leaves", "200000", "--proofs", "200", "--singles", "50", "--batches", "2"),
        server=True,
    ),
)


def server_database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(server: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def runs(bench: Bench, *, quick: bool, server: str | None) -> list[tuple[str, list[str], str]]:
    """(label, command, database to drop afterwards or '') for each engine it runs on."""
    base = [sys.executable, str(HERE / bench.script), *bench.args, *(bench.quick if quick else ())]
    if bench.server:
        engines = "sqlite" if server is None else "sqlite,postgresql"
        if bench.name == "log":
            return [
                (
                    f"{bench.name} ({engine})",
                    [*base, "--engine", engine]
                    + (["--postgres-url", server] if engine == "postgresql" and server else []),
                    "",
                )
                for engine in engines.split(",")
            ]
        return [
            (
                bench.name,
                [*base, "--engines", engines] + (["--postgres-url", server] if server else []),
                "",
            )
        ]
    out = [(f"{bench.name} (sqlite)" if bench.empty_database else bench.name, base, "")]
    if bench.empty_database and server is not None:
        database = f"sm_bench_all_{bench.name}"
        url = server_database(server, database)
        out.append((f"{bench.name} (postgresql)", [*base, "--database-url", url], database))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: it works, not a verdict")
    parser.add_argument(
        "--only", help="comma-separated names: " + ", ".join(b.name for b in BENCHES)
    )
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STARMARK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server on loopback, to create and drop databases on",
    )
    args = parser.parse_args()
    server = None if args.no_postgresql else args.postgres_url
    if server and urlsplit(server).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the benchmarks run on loopback only")
    chosen = BENCHES
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {b.name for b in BENCHES}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
        chosen = tuple(b for b in BENCHES if b.name in names)

    summary: list[tuple[str, int, float, list[str]]] = []
    for bench in chosen:
        for label, command, database in runs(bench, quick=args.quick, server=server):
            print(f"\n===== {label}: {' '.join(command[1:])}", flush=True)
            if database:
                asyncio.run(_admin(server or "", f"DROP DATABASE IF EXISTS {database}"))
                asyncio.run(_admin(server or "", f"CREATE DATABASE {database}"))
            started = time.perf_counter()
            lines: list[str] = []
            try:
                with subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                ) as process:
                    assert process.stdout is not None
                    for line in process.stdout:
                        print(line, end="", flush=True)
                        lines.append(line.rstrip())
                code = process.returncode
            finally:
                if database:
                    asyncio.run(_admin(server or "", f"DROP DATABASE IF EXISTS {database}"))
            verdicts = [line.strip() for line in lines if VERDICT.search(line)]
            summary.append((label, code, time.perf_counter() - started, verdicts))

    print("\n===== summary" + (" (--quick: sizes too small for a verdict)" if args.quick else ""))
    failed = False
    for label, code, seconds, verdicts in summary:
        state = "ok" if code == 0 else f"exit {code}"
        print(f"{label:28} {state:8} {seconds:7.0f} s")
        for verdict in verdicts:
            print(f"    {verdict}")
        missed = any("NOT met" in v or "MISSES" in v for v in verdicts)
        failed = failed or code != 0 or (missed and not args.quick)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
