"""Static files: fingerprinted URLs kept for a year, others briefly; the favicon."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from litestar.testing import TestClient

from registry.security_headers import CONTENT_SECURITY_POLICY
from registry.static_files import IMMUTABLE, SHORT, static_dir


def test_pages_name_static_files_by_their_content(client: TestClient[Any]) -> None:
    page = client.get("/", headers={"Accept": "text/html"}).text
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    for url in urls:
        path, version = url.split("?v=")
        data = (static_dir() / path.removeprefix("/static/")).read_bytes()
        assert version == hashlib.sha256(data).hexdigest()[:12]
        answer = client.get(url)
        assert answer.status_code == 200 and answer.content == data
        assert answer.headers["cache-control"] == IMMUTABLE
        # The same file without (or with an old) fingerprint: kept for an hour only.
        assert client.get(path).headers["cache-control"] == SHORT
        assert client.get(f"{path}?v=000000000000").headers["cache-control"] == SHORT
        # The Content-Security-Policy allows them: same origin, no inline code.
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert client.get("/static/css/nothing.css").status_code == 404


def test_the_favicon_is_a_real_icon(client: TestClient[Any]) -> None:
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/x-icon")
    assert answer.content[:4] == b"\x00\x00\x01\x00"  # ICO header: type 1, an icon
    assert answer.headers["cache-control"] == SHORT
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert '<link rel="icon" href="/favicon.ico">' in page
