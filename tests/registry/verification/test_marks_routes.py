"""GET /v/{number}/mark.png and mark.svg: what a body downloads to print on its boxes.

Decoded with zxing-cpp (no code shared with the `qrcode` encoder); SVG rasterised
by cairosvg. PRODUCT §5: the QR encodes exactly `{public_url}/v/{NUMBER}`.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image

from registry.marks import MIN_DPI, MIN_OFFERED_SIZE_MM
from registry.marks import render as render_module
from tests.conftest import PUBLIC_URL, missing_dependency
from tests.factories import BodyFixture
from tests.registry.verification.conftest import issue

NUMBER = "SMT-MARK-2026-0001"


def decode(image: Image.Image) -> list[str]:
    import zxingcpp

    rgba = image.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    return [r.text for r in zxingcpp.read_barcodes(flat)]


def rasterise_svg(data: bytes, dpi: int) -> Image.Image:
    try:
        import cairosvg
    except (ImportError, OSError):
        missing_dependency("cairosvg and Debian's libcairo2 rasterise SVG marks")
    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=data, dpi=dpi)))


@pytest.fixture
def certificate(client: TestClient[Any], body: BodyFixture) -> str:
    issue(client, body, NUMBER, score=97)
    return NUMBER


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"size_mm": f"{MIN_OFFERED_SIZE_MM:g}", "dpi": str(MIN_DPI)},
        {"size_mm": "100", "dpi": "300"},
    ],
    ids=["default", "smallest", "largest"],
)
def test_png_mark_decodes_to_exactly_the_page_url(
    client: TestClient[Any], certificate: str, query: dict[str, str]
) -> None:
    response = client.get(f"/v/{certificate.lower()}/mark.png", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    size_mm = float(query.get("size_mm", 25))
    dpi = int(query.get("dpi", 600))
    # Modules are whole pixels rounded up: printed at its dpi it is never narrower
    # than asked, and at most a few per cent wider (one pixel a module).
    assert size_mm <= image.size[0] / dpi * 25.4 <= size_mm * 1.06
    assert decode(image) == [f"{PUBLIC_URL}/v/{NUMBER}"]
    assert f'filename="{NUMBER}-' in response.headers["content-disposition"]


@pytest.mark.parametrize("size_mm", [None, f"{MIN_OFFERED_SIZE_MM:g}"], ids=["default", "smallest"])
def test_svg_mark_decodes_to_exactly_the_page_url(
    client: TestClient[Any], certificate: str, size_mm: str | None
) -> None:
    params = {"size_mm": size_mm} if size_mm else {}
    response = client.get(f"/v/{certificate}/mark.svg", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert f'width="{size_mm or 25}mm"'.encode() in response.content
    # Rasterised as a printer at the smallest resolution offered would.
    image = rasterise_svg(response.content, dpi=MIN_DPI)
    assert decode(image) == [f"{PUBLIC_URL}/v/{NUMBER}"]


BAD_SIZES = [
    ({"size_mm": "10"}, "size_mm"),  # the renderer's minimum, below what the routes offer
    ({"size_mm": "15"}, "size_mm"),
    ({"size_mm": "19.9"}, "size_mm"),
    ({"size_mm": "100.1"}, "size_mm"),
    ({"size_mm": "-25"}, "size_mm"),
    ({"size_mm": "abc"}, "size_mm"),
    ({"size_mm": "nan"}, "size_mm"),
    ({"size_mm": "inf"}, "size_mm"),
    ({"size_mm": "1e309"}, "size_mm"),
    ({"size_mm": "9" * 5000}, "size_mm"),
    ({"dpi": "149"}, "dpi"),
    ({"dpi": "1201"}, "dpi"),
    ({"dpi": "600.5"}, "dpi"),
    ({"dpi": "1e3"}, "dpi"),
    ({"dpi": "99999999999999999999"}, "dpi"),
    ({"dpi": "-600"}, "dpi"),
]


@pytest.mark.parametrize(("query", "field"), BAD_SIZES, ids=[str(q) for q, _ in BAD_SIZES])
def test_bad_sizes_get_422_problem_details_naming_the_field(
    client: TestClient[Any], certificate: str, query: dict[str, str], field: str
) -> None:
    response = client.get(f"/v/{certificate}/mark.png", params=query)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [field]
    if field == "size_mm":
        svg = client.get(f"/v/{certificate}/mark.svg", params=query)
        assert svg.status_code == 422


@pytest.mark.parametrize("size_mm", ["15", "19.9"])
def test_a_mark_under_20_mm_is_refused_saying_it_is_for_close_scans_only(
    client: TestClient[Any], certificate: str, size_mm: str
) -> None:
    response = client.get(f"/v/{certificate}/mark.png", params={"size_mm": size_mm})
    assert response.status_code == 422
    assert "close scans only" in response.json()["detail"]
    assert "from 20 to 100" in response.json()["errors"][0]["message"]


def test_an_unknown_certificate_has_no_mark(client: TestClient[Any]) -> None:
    for path in ["/v/SMT-NONE-0001/mark.png", "/v/SMT-NONE-0001/mark.svg", "/v/bad<>/mark.png"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


def test_marks_are_cached_and_answer_304(client: TestClient[Any], certificate: str) -> None:
    cache = render_module._DEFAULT_CACHE
    params = {"size_mm": "30", "dpi": "300"}
    first = client.get(f"/v/{certificate}/mark.png", params=params)
    hits = cache.cache_info().hits
    second = client.get(f"/v/{certificate}/mark.png", params=params)
    assert cache.cache_info().hits == hits + 1
    assert second.content == first.content
    etag = first.headers["etag"]
    assert second.headers["etag"] == etag
    assert first.headers["cache-control"] == "public, max-age=60"
    not_modified = client.get(
        f"/v/{certificate}/mark.png", params=params, headers={"If-None-Match": etag}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""


#: Each status a signed certificate can be in but valid, and how the reason says it.
NOT_VALID = {
    "suspended": "suspended since",
    "revoked": "revoked at",
    "withdrawn": "withdrawn at",
    "expired": "expired at",
    "not_yet_valid": "not valid before",
}


@pytest.mark.parametrize("status", NOT_VALID)
def test_a_certificate_not_valid_now_has_no_mark_410_with_the_reason(
    client: TestClient[Any], every_status: dict[str, str], status: str
) -> None:
    number = every_status[status]
    for fmt in ("png", "svg"):
        response = client.get(f"/v/{number}/mark.{fmt}")
        assert response.status_code == 410, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 410
        assert problem["type"].endswith("/mark-unavailable")
        assert f"certificate {number} is not valid now" in problem["detail"]
        assert NOT_VALID[status] in problem["detail"]
    assert client.get(f"/v/{every_status['valid']}/mark.png").status_code == 200


def test_a_revoked_certificate_s_mark_is_a_readable_page_in_chinese_first(
    client: TestClient[Any], every_status: dict[str, str]
) -> None:
    number = every_status["revoked"]
    html = {"Accept": "text/html"}
    zh = client.get(f"/v/{number}/mark.png", headers=html)
    assert zh.status_code == 410
    assert zh.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in zh.text
    assert re.search(r'id="mark-unavailable" data-status="revoked">[^<]*撤销', zh.text)
    assert "只有当前有效的证书才提供标志" in zh.text
    assert "认证机构给出的原因：伪造记录" in zh.text  # the signed event's reason
    assert "not valid now" not in zh.text and "Revoked" not in zh.text
    en = client.get(f"/v/{number}/mark.svg", params={"lang": "en"}, headers=html)
    assert en.status_code == 410
    assert "Certificate SMT-REVOKED-0001 is revoked" in en.text
    assert "Reason given by the certification body: 伪造记录" in en.text
