"""Screenshots of the public pages at phone (390 px) and desktop (1366 px) widths.

    .venv/bin/python docs/screenshots/take.py

Builds a demo registry (`starmark db migrate`, `starmark demo`) in a temporary
directory, serves it on a loopback port for the time it takes, and photographs
with Debian's Chromium (/usr/bin/chromium, driven by Playwright): the home page,
a search, a valid and a revoked certificate, /verify results and the receipt
page, in Chinese. The PNGs (palette, at most 2,400 px tall) are written beside
this file and shown in docs/verification-page.md and docs/tender.md.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STARMARK = Path(sys.executable).parent / "starmark"
CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
MAX_HEIGHT = 2400


@contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    """The registry of `env` on a free loopback port, stopped on leaving."""
    import uvicorn

    os.environ.update(env)
    from registry.app import create_app
    from registry.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    os.environ["STARMARK_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        create_app(Settings.from_env()), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the registry did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def save(page: Any, name: str) -> None:
    """A full-page PNG, cut at MAX_HEIGHT and reduced to 256 colours (small files)."""
    from PIL import Image

    height = min(int(page.evaluate("document.documentElement.scrollHeight")), MAX_HEIGHT)
    width = int(page.viewport_size["width"])
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
    image.save(HERE / f"{name}.png", optimize=True)
    print(f"{name}.png", file=sys.stderr)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "STARMARK_DATA_DIR": tmp,
            "DATABASE_URL": f"sqlite:///{tmp}/starmark.sqlite3",
            "STARMARK_KEY_PASSPHRASE": "screenshots only",
            "STARMARK_RATE_LIMITS": "off",
        }
        for command in (["db", "migrate"], ["demo"]):
            subprocess.run(  # noqa: S603 - our own installed command
                [str(STARMARK), *command],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
        with served(env) as base, sync_playwright() as playwright:
            import httpx

            def first(status: str) -> str:
                answer = httpx.get(f"{base}/api/v1/certificates", params={"status": status})
                return str(answer.json()["items"][0]["number"])

            valid, revoked = first("valid"), first("revoked")
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                for label, (width, height) in WIDTHS.items():
                    context = browser.new_context(
                        base_url=base, viewport={"width": width, "height": height}, locale="zh-CN"
                    )
                    page = context.new_page()
                    for name, path in (
                        ("home", "/"),
                        ("search", "/search?q=%E9%9D%92%E5%B2%9B"),  # 青岛
                        ("valid", f"/v/{valid}"),
                        ("revoked", f"/v/{revoked}"),
                    ):
                        page.goto(path)
                        if name in ("valid", "revoked"):
                            page.wait_for_selector("#browser-check[data-result]")
                        save(page, f"{name}-{label}")
                    page.goto("/verify")
                    numbers = httpx.get(f"{base}/api/v1/certificates", params={"limit": 12})
                    page.fill("#items", "\n".join(i["number"] for i in numbers.json()["items"]))
                    page.fill("#tender_name", "青岛市政府采购 家电安装维修服务项目")
                    page.fill("#tender_number", "QDCG-2026-117-02")
                    page.check("#keep")
                    page.click("form.tender-form button[type=submit]")
                    page.wait_for_selector("#results")
                    save(page, f"verify-results-{label}")
                    page.click("#receipt-page")
                    page.wait_for_selector("#browser-check[data-result]")
                    save(page, f"receipt-{label}")
                    context.close()
            finally:
                browser.close()


if __name__ == "__main__":
    main()
