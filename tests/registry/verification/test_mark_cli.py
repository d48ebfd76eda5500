"""`starmark mark NUMBER --format png|svg|pdf --out FILE`, run as a script would run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.querystring import QueryString
from PIL import Image

from registry.certificates.tables import Certificate
from tests.conftest import run
from tests.factories import BodyFixture
from tests.registry.verification.conftest import add_event, issue
from tests.registry.verification.test_marks_routes import decode, rasterise_svg

STARMARK = Path(sys.executable).parent / "starmark"
NUMBER = "SMT-CLI-MARK-0001"
BASE = "https://marks.starmark.test"


def starmark(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(STARMARK), *args],
        env={**os.environ, **cli_env, "STARMARK_PUBLIC_URL": BASE},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def raster_pdf(data: bytes, dpi: int) -> Image.Image:
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(data)[0]
    image: Image.Image = page.render(scale=dpi / 72).to_pil()
    return image


@pytest.fixture
def certificate(client: TestClient[Any], body: BodyFixture) -> str:
    issue(client, body, NUMBER, score=91)
    return NUMBER


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_every_format_at_the_smallest_size_decodes_to_the_page_url(
    certificate: str, cli_env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"mark.{fmt}"
    done = starmark(
        cli_env,
        "mark",
        certificate.lower(),
        "--format",
        fmt,
        "--out",
        str(out),
        "--size-mm",
        "20",
        "--dpi",
        "150",
    )
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    data = out.read_bytes()
    if fmt == "png":
        image = Image.open(io.BytesIO(data))
    elif fmt == "svg":
        image = rasterise_svg(data, dpi=150)
    else:
        assert data.startswith(b"%PDF-")
        image = raster_pdf(data, dpi=150)
    assert decode(image) == [f"{BASE}/v/{NUMBER}"]


def test_default_output_is_number_dot_format(
    certificate: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(STARMARK), "mark", certificate],
        env={**os.environ, **cli_env, "STARMARK_PUBLIC_URL": BASE},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    image = Image.open(tmp_path / f"{NUMBER}.png")
    # 25 mm at 600 dpi by default, modules rounded up to whole pixels (never narrower)
    assert 25 <= image.size[0] / 600 * 25.4 <= 25 * 1.06
    assert image.info["dpi"] == pytest.approx((600, 600), abs=0.01)
    assert decode(image) == [f"{BASE}/v/{NUMBER}"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--size-mm", "10"], 2),
        (["--size-mm", "nan"], 2),
        (["--dpi", "2400"], 2),
        (["--format", "gif"], 2),
    ],
)
def test_bad_sizes_are_usage_errors_and_write_nothing(
    certificate: str, cli_env: dict[str, str], tmp_path: Path, args: list[str], code: int
) -> None:
    out = tmp_path / "mark.png"
    done = starmark(cli_env, "mark", certificate, "--out", str(out), *args)
    assert done.returncode == code, done.stdout + done.stderr
    assert not out.exists()


def test_unknown_or_tampered_certificates_get_no_mark(
    certificate: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "mark.png"
    unknown = starmark(cli_env, "mark", "SMT-NONE-0001", "--out", str(out))
    assert unknown.returncode == 1
    assert "no certificate" in unknown.stderr
    run(
        Certificate._meta.db.run_querystring(
            QueryString(
                "UPDATE certificate SET level = {} WHERE number = {}", "five_star", certificate
            )
        )
    )
    tampered = starmark(cli_env, "mark", certificate, "--out", str(out))
    assert tampered.returncode == 1
    assert "does not verify" in tampered.stderr
    assert not out.exists()


def test_a_revoked_certificate_gets_no_mark_and_the_reason(
    client: TestClient[Any], body: BodyFixture, cli_env: dict[str, str], tmp_path: Path
) -> None:
    issue(client, body, "SMT-CLI-REVOKED-01", score=88)
    add_event(client, body, "SMT-CLI-REVOKED-01", "revoked", reason="伪造记录")
    out = tmp_path / "mark.svg"
    done = starmark(cli_env, "mark", "SMT-CLI-REVOKED-01", "--format", "svg", "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "certificate SMT-CLI-REVOKED-01 is not valid now (revoked at " in done.stderr
    assert "伪造记录" in done.stderr
    assert "a mark is made only for a certificate that is valid now" in done.stderr
    assert not out.exists()


def test_sizes_under_20_mm_say_they_are_for_close_scans_only(
    certificate: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    done = starmark(cli_env, "mark", certificate, "--size-mm", "15", "--out", str(tmp_path / "m"))
    assert done.returncode == 2
    assert "close scans only" in done.stderr
