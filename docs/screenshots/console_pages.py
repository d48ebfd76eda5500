"""Regenerate the console's screenshots in docs/screenshots/console/ (docs/console.md).

    .venv/bin/python docs/screenshots/console_pages.py      # or: make screenshots

Seeds a throw-away SQLite registry with the command line (`starmark demo`, two
`starmark user add`), serves it with `starmark serve`, and photographs each
console page with Debian's Chromium (Playwright) at laptop (1366x768) and tablet
(820x1180) widths. It exits 1 when a page scrolls sideways at either width.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots" / "console"
STARMARK = Path(sys.executable).parent / "starmark"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "screenshot passphrase"  # noqa: S105 - a throw-away registry
WIDTHS = {"laptop": {"width": 1366, "height": 768}, "tablet": {"width": 820, "height": 1180}}
# Not the demo's own account (`starmark demo` makes clerk@smdemo.example, password unset).
CLERK = "screens@smdemo.example"
OPERATOR = "ops@registry.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def starmark(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own command line, fixed arguments
        [str(STARMARK), *args], env=env, input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not answer")


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/console/login?lang=en")
    page.fill('[name="username"]', email)
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/console")


def shoot(page: Any, base: str, name: str, path: str, overflow: list[str]) -> None:
    page.goto(f"{base}{path}")
    if not page.url.startswith(f"{base}/console") or page.title().startswith("404"):
        print(f"skipped {name}: {path} is not there")
        return
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.wait_for_load_state()
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if wide > 0:
            overflow.append(f"{name} at {width}: {wide}px wider than the window")
        page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)
    print(f"{name}: {path}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    overflow: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/starmark.sqlite3",
            "STARMARK_DATA_DIR": tmp,
            "STARMARK_PUBLIC_URL": base,
            "STARMARK_KEY_PASSPHRASE": "screenshots only",
        }
        env.pop("STARMARK_REDIS_URL", None)
        starmark(env, "db", "migrate")
        starmark(env, "demo")
        starmark(env, "user", "add", CLERK, "--body", "SMDEMO", "--password-stdin", stdin=PASSWORD)
        starmark(env, "user", "add", OPERATOR, "--operator", "--password-stdin", stdin=PASSWORD)
        server = subprocess.Popen(  # noqa: S603
            [str(STARMARK), "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{base}/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                context = browser.new_context(viewport=WIDTHS["laptop"], locale="en")
                page = context.new_page()
                shoot(page, base, "login", "/console/login?lang=en", overflow)
                sign_in(page, base, CLERK)
                page.goto(f"{base}/console/certificates?lang=en")
                # A valid certificate: its page offers the marks too.
                first = page.locator("tbody tr:has(.b-ok) a").first.get_attribute("href")
                for name, path in (
                    ("dashboard", "/console"),
                    ("list", "/console/certificates"),
                    ("new", "/console/certificates/new"),
                    ("certificate", str(first)),
                    ("import", "/console/import"),
                    ("uploads", "/console/uploads"),
                    ("reports", "/console/reports"),
                    ("tokens", "/console/tokens"),
                    ("keys", "/console/keys"),
                ):
                    shoot(page, base, name, path, overflow)
                context.close()
                context = browser.new_context(viewport=WIDTHS["laptop"], locale="en")
                page = context.new_page()
                sign_in(page, base, OPERATOR)
                for name, path in (
                    ("bodies", "/console/bodies"),
                    ("users", "/console/users"),
                    ("body-keys", "/console/bodies/SMDEMO/keys"),
                ):
                    shoot(page, base, name, path, overflow)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    for line in overflow:
        print(f"scrolls sideways: {line}", file=sys.stderr)
    return 1 if overflow else 0


if __name__ == "__main__":
    raise SystemExit(main())
