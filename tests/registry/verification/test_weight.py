"""The page stays light and self-contained: under 30 KB with its CSS and script, one origin."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.factories import BodyFixture
from tests.registry.verification.conftest import add_event, issue, today

BUDGET = 30 * 1024  # issue 4: HTML, CSS and script together, uncompressed


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_busy_page_with_its_css_and_script_is_under_30_kb(
    client: TestClient[Any], body: BodyFixture, lang: str
) -> None:
    start = today() - timedelta(days=700)
    issue(
        client,
        body,
        "SMT-BUSY-0001",
        start=start,
        sites=[f"第{i}服务网点（青岛市崂山区海川路{i}号）" for i in range(1, 11)],
    )
    for i, status in enumerate(
        ["surveillance_passed", "suspended", "reinstated", "surveillance_passed", "suspended"]
    ):
        add_event(
            client,
            body,
            "SMT-BUSY-0001",
            status,
            effective_at=(start + timedelta(days=100 + 100 * i)).isoformat(),
            reason="年度监督审核：服务网点抽查、投诉处理记录检查" * 2,
        )
    page = client.get("/v/SMT-BUSY-0001", params={"lang": lang})
    assert page.status_code == 200
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    # Fingerprinted URLs (registry/static_files.py).
    assert sorted(a.split("?v=")[0] for a in assets) == [
        "/static/css/site.css",
        "/static/js/check.js",
    ]
    sizes = {"html": len(page.content)}
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200
        sizes[asset] = len(response.content)
    assert sum(sizes.values()) < BUDGET, sizes


def test_nothing_is_loaded_from_another_origin(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    page = client.get(f"/v/{every_status['valid']}").text
    references = re.findall(r'(?:href|src|action)="([^"]+)"', page)
    assert references
    assert all(re.match(r"[/#](?!/)", ref) for ref in references), references
    css = client.get("/static/css/site.css").text
    assert "url(" not in css and "@import" not in css
    script = client.get("/static/js/check.js").text
    assert "http:" not in script and "https:" not in script and "//" + "cdn" not in script
