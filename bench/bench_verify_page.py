"""Throughput of the verification page next to a bare Litestar hello-world (PRODUCT §7).

    .venv/bin/python bench/bench_verify_page.py [--seconds 5] [--rounds 3] [--connections 64]
        [--database-url postgresql://postgres@127.0.0.1:5432/EMPTY_DB]

Target: `GET /v/{number}` at least 50% of the hello-world rate, p99 under 25 ms at
64 connections. Measured side by side in one run, on loopback only:

- a temporary SQLite database (WAL) seeded with the demo (`starmark demo`:
  about 30 certificates of every level and status); or, with `--database-url`,
  an empty database (PostgreSQL) seeded the same way;
- two uvicorn servers with the same settings as `starmark serve` (one worker,
  asyncio's loop, httptools, no uvicorn access log), each in its own process:
  the bare hello-world app, and the registry app (`create_app`, every
  middleware included) with a hello-world route registered on it as well;
- wrk (Debian's /usr/bin/wrk; one thread, N connections) against the bare
  hello-world, the registry app's hello-world and `/v/{number}` cycling over
  every demo certificate, interleaved round by round so that drift hits all
  three alike; the median round of each is reported, and as the ratio the
  median of the rounds' ratios (page / bare hello-world of the same round).

Time: about (1 + seconds) x 3 x rounds, plus a few seconds to seed and start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import httpx
from litestar import Litestar, MediaType, get

ROOT = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
HELLO_PATH = "/bench/hello"


@get(HELLO_PATH, media_type=MediaType.TEXT, sync_to_thread=False)
def hello() -> str:
    return "Hello, world!"


def bare_app() -> Litestar:
    """uvicorn --factory: the bare hello-world."""
    return Litestar(route_handlers=[hello])


def registry_app() -> Litestar:
    """uvicorn --factory: the registry as `starmark serve` builds it, with hello-world added."""
    from registry.asgi import build

    app = build()
    app.register(hello)
    return app


async def seed(database_url: str) -> list[str]:
    from registry import db
    from registry.bodies.services import HostedKeyVault, ensure_registry_key
    from registry.certificates.tables import Certificate
    from registry.demo import seed_demo
    from registry.settings import Settings

    settings = Settings.from_env()
    vault = HostedKeyVault(settings.keys)
    async with db.connected(database_url):
        now = datetime.now(UTC)
        await ensure_registry_key(vault=vault, now=now)
        await seed_demo(vault=vault, now=now)
        rows = await Certificate.select(Certificate.number).order_by(Certificate.number)
    return [str(r["number"]) for r in rows]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    factory: str, env: dict[str, str], loop: str = "uvloop"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", f"bench_verify_page:{factory}",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--loop", loop, "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + HELLO_PATH, timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{factory} server exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{factory} server did not start")


LUA = """
local paths = {%s}
local headers = {["Accept"] = "text/html", ["Accept-Language"] = "zh-CN,zh;q=0.9"}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i], headers)
end
"""


@dataclass(frozen=True)
class Run:
    rps: float
    p99_ms: float
    non_2xx: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(base: str, paths: list[str], *, seconds: int, connections: int, workdir: Path) -> Run:
    script = workdir / "paths.lua"
    script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Run(rps=rps, p99_ms=p99, non_2xx=int(bad.group(1)) if bad else 0)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: SQLite in a temp dir)"
    )
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="asyncio",
        help="uvicorn's event loop for both servers (`starmark serve` runs on asyncio's)",
    )
    args = parser.parse_args()
    if not Path(WRK).exists():
        sys.exit("wrk is needed: apt-get install wrk")

    import sqlite3

    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.platform()}")
    # Other work on the machine lowers every figure and lengthens the p99 most.
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"python {platform.python_version()}, litestar {version('litestar')}, "
        f"uvicorn {version('uvicorn')}, uvloop {version('uvloop')}, "
        f"SQLite {sqlite3.sqlite_version}, {Path(WRK).name} -t1 -c{args.connections}, "
        f"loop {args.loop}"
    )
    postgres = args.database_url is not None and not args.database_url.startswith("sqlite:")
    print(f"database: {'PostgreSQL' if postgres else 'SQLite (WAL)'}")
    with tempfile.TemporaryDirectory(prefix="starmark-bench-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "STARMARK_DATA_DIR": str(workdir),
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "STARMARK_KEY_PASSPHRASE": "bench passphrase, not a secret",
            # The limiter runs (its cost is part of every request) with limits no single
            # benchmark client reaches: per-address limits would answer most with 429.
            "STARMARK_RATE_LIMITS": ";".join(
                f"{group}=1000000000/minute" for group in ("verify_page", "search", "bulk")
            ),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        os.environ.update(
            {k: env[k] for k in ("STARMARK_DATA_DIR", "DATABASE_URL", "STARMARK_KEY_PASSPHRASE")}
        )
        numbers = asyncio.run(seed(env["DATABASE_URL"]))
        pages = [f"/v/{n}" for n in numbers]
        bare, bare_url = start_server("bare_app", env, args.loop)
        app, app_url = start_server("registry_app", env, args.loop)
        try:
            # Every page once, so the run measures the steady state (verified, rendered).
            for path in pages:
                assert httpx.get(app_url + path, timeout=10).status_code == 200, path
            targets = {
                "bare hello-world": (bare_url, [HELLO_PATH]),
                "registry app hello-world": (app_url, [HELLO_PATH]),
                f"GET /v/{{number}} ({len(pages)} certificates)": (app_url, pages),
            }
            runs: dict[str, list[Run]] = {name: [] for name in targets}
            for _ in range(args.rounds):
                for name, (url, paths) in targets.items():
                    wrk(url, paths, seconds=1, connections=args.connections, workdir=workdir)
                    runs[name].append(
                        wrk(url, paths, seconds=args.seconds, connections=args.connections,
                            workdir=workdir)
                    )  # fmt: skip
        finally:
            for process in (bare, app):
                process.terminate()
                process.wait(timeout=10)

    median = {name: statistics.median(r.rps for r in rs) for name, rs in runs.items()}
    bare_runs = runs["bare hello-world"]
    # The ratio of each round (its runs follow one another within seconds), then the
    # median of those: other work on the machine moves a whole round more than the
    # ratio within it.
    ratio_of = {
        name: statistics.median(r.rps / b.rps for r, b in zip(rs, bare_runs, strict=True))
        for name, rs in runs.items()
    }
    print(f"\n{'':42} {'req/s':>9} {'ratio':>7} {'p99 ms':>8}  rounds (req/s)")
    for name, rs in runs.items():
        p99 = statistics.median(r.p99_ms for r in rs)
        each = ", ".join(f"{r.rps:.0f}" for r in rs)
        bad = sum(r.non_2xx for r in rs)
        note = f"  ({bad} non-2xx!)" if bad else ""
        print(f"{name:42} {median[name]:9.0f} {ratio_of[name]:7.1%} {p99:8.2f}  {each}{note}")
    print("ratio: the median of the rounds' ratios to the bare hello-world of the same round")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    page = next(name for name in runs if name.startswith("GET /v/"))
    ratio = ratio_of[page]
    p99 = statistics.median(r.p99_ms for r in runs[page])
    print(
        f"\ntarget: >= 50% of the bare hello-world and p99 < 25 ms at {args.connections} "
        f"connections: {'met' if ratio >= 0.5 and p99 < 25 else 'NOT met'} "
        f"({ratio:.1%}, p99 {p99:.2f} ms)"
    )


if __name__ == "__main__":
    main()
