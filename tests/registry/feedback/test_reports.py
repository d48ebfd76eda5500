"""Report this mark (举报): the form, what is stored (a photo without its metadata),
what is refused, the rate limit, and the body's API (PRODUCT §4)."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine
from PIL import Image

from registry.app import create_app
from registry.feedback.tables import ConsumerReport
from registry.settings import RateLimitSettings, Settings, parse_rate_limits
from tests.conftest import run
from tests.factories import (
    BodyFixture,
    certificate_fields,
    count_rows,
    make_body,
    make_operator_token,
)

NUMBER = "SMT-REPORT-0001"
OTHER = "SMT-REPORT-0002"
HTML = {"Accept": "text/html"}


@pytest.fixture
def body(client: TestClient[Any], settings: Settings) -> BodyFixture:
    body = make_body(settings)
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER), headers=body.auth
    )
    assert response.status_code == 201, response.text
    return body


@pytest.fixture
def other_body(client: TestClient[Any], settings: Settings, body: BodyFixture) -> BodyFixture:
    other = make_body(settings, "OTHR", "另一认证中心")
    response = client.post(
        "/api/v1/certificates", json=certificate_fields(OTHER), headers=other.auth
    )
    assert response.status_code == 201, response.text
    return other


def photo_with_gps() -> bytes:
    """A JPEG whose EXIF carries a camera model and a GPS position."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 3000"  # Model
    exif[0x8825] = {1: "N", 2: (36.0, 4.0, 1.0), 3: "E", 4: (120.0, 22.0, 5.0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at home")
    data = out.getvalue()
    assert b"Secret Phone 3000" in data
    return data


def send(
    client: TestClient[Any],
    number: str = NUMBER,
    *,
    photo: tuple[str, bytes, str] | None = None,
    lang: str = "zh-CN",
    **fields: str,
) -> Any:
    data = {"where": "青岛市崂山区某家电商场", "problem": "fake_mark", "details": "标志模糊"}
    data.update(fields)
    files = {"photo": photo} if photo else None
    return client.post(
        f"/v/{number}/report?lang={lang}",
        data=data,
        files=files,
        headers=HTML,
    )


def stored_reports() -> list[dict[str, Any]]:
    async def work() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await ConsumerReport.select().order_by(ConsumerReport.id)
        return rows

    return run(work())


def test_the_page_leads_to_a_form_in_the_pages_language(
    client: TestClient[Any], body: BodyFixture
) -> None:
    page = client.get(f"/v/{NUMBER}?lang=en")
    assert f'href="/v/{NUMBER}/report?lang=en"' in page.text
    form = client.get(f"/v/{NUMBER}/report?lang=en")
    assert form.status_code == 200
    assert "Where did you buy the product" in form.text
    assert "(optional)" in form.text
    zh = client.get(f"/v/{NUMBER}/report")
    assert '<html lang="zh-CN">' in zh.text
    assert "举报" in zh.text
    missing = client.get("/v/SMT-NO-SUCH-0001/report", headers=HTML)
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]


def test_a_report_with_a_photo_is_stored_without_its_metadata(
    client: TestClient[Any], body: BodyFixture
) -> None:
    response = send(client, photo=("photo.jpg", photo_with_gps(), "image/jpeg"), contact="")
    assert response.status_code == 200, response.text
    assert 'id="report-sent"' in response.text
    assert "认证机构" in response.text  # what happens next, in the page's language
    (report,) = stored_reports()
    assert report["number"] == NUMBER
    assert report["body_code"] == body.code
    assert report["bought_where"] == "青岛市崂山区某家电商场"
    assert report["problem"] == "fake_mark"
    assert report["status"] == "new"
    assert report["photo_type"] == "image/jpeg"
    stored = bytes(report["photo"])
    assert b"Secret Phone" not in stored and b"taken at home" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        image.load()
        assert image.size == (64, 48)
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info
        red, green, blue = image.convert("RGB").getpixel((32, 24))  # type: ignore[misc]
        assert red > 150 and green < 80 and blue < 80


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_stored(
    client: TestClient[Any], body: BodyFixture
) -> None:
    before = count_rows()["consumer_report"]
    response = send(
        client,
        photo=("photo.jpg", b"%PDF-1.4 not a picture at all" * 10, "image/jpeg"),
        lang="en",
        where="Market street 5",
    )
    assert response.status_code == 422
    assert "not a photo that can be read" in response.text
    assert 'id="photo-error"' in response.text
    assert 'value="Market street 5"' in response.text  # typed values kept
    assert count_rows()["consumer_report"] == before == 0


def test_missing_fields_are_named_beside_them_in_chinese(
    client: TestClient[Any], body: BodyFixture
) -> None:
    response = send(client, where="", problem="", details="写了几句")
    assert response.status_code == 422
    assert 'id="where-error"' in response.text and 'id="problem-error"' in response.text
    assert "写了几句" in response.text
    assert "Choose what was wrong" not in response.text  # Chinese words on a Chinese page
    assert count_rows()["consumer_report"] == 0


def test_a_photo_over_5_mb_is_refused(client: TestClient[Any], body: BodyFixture) -> None:
    big = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024 + 10)
    response = send(client, photo=("big.jpg", big, "image/jpeg"), lang="en")
    assert response.status_code == 422
    assert "larger than 5 MB" in response.text
    huge = b"\x00" * (6 * 1024 * 1024)
    response = send(client, photo=("huge.jpg", huge, "image/jpeg"), lang="en")
    assert response.status_code == 413
    assert count_rows()["consumer_report"] == 0


def test_a_decompression_bomb_is_refused(client: TestClient[Any], body: BodyFixture) -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG", optimize=True)
    assert len(bomb.getvalue()) < 5 * 1024 * 1024
    response = send(client, photo=("bomb.png", bomb.getvalue(), "image/png"), lang="en")
    assert response.status_code == 422
    assert "too many pixels" in response.text
    assert count_rows()["consumer_report"] == 0


@pytest.fixture
def limited_client(clean_db: Engine, settings: Settings) -> Iterator[TestClient[Any]]:
    limits = RateLimitSettings(limits=parse_rate_limits("report=2/hour"))
    app = create_app(dataclasses.replace(settings, rate_limits=limits), engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def test_reports_are_rate_limited(limited_client: TestClient[Any], settings: Settings) -> None:
    body = make_body(settings)
    created = limited_client.post(
        "/api/v1/certificates", json=certificate_fields(NUMBER), headers=body.auth
    )
    assert created.status_code == 201
    assert send(limited_client).status_code == 200
    assert send(limited_client).status_code == 200
    refused = send(limited_client)
    assert refused.status_code == 429
    assert "retry-after" in refused.headers
    assert '<html lang="zh-CN">' in refused.text
    assert count_rows()["consumer_report"] == 2


def test_the_body_lists_its_reports_newest_first_and_no_one_else_does(
    client: TestClient[Any], body: BodyFixture, other_body: BodyFixture
) -> None:
    for where in ("first shop", "second shop", "third shop"):
        assert send(client, where=where, lang="en").status_code == 200
    assert send(client, OTHER, where="elsewhere").status_code == 200
    assert send(client, photo=("p.png", _png(), "image/png"), where="with photo").status_code == 200

    first = client.get(f"/api/v1/bodies/{body.code}/reports?limit=2", headers=body.auth)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["where"] for r in page["items"]] == ["with photo", "third shop"]
    assert page["items"][0]["photo_url"] is not None
    assert page["items"][1]["photo_url"] is None
    rest = client.get(
        f"/api/v1/bodies/{body.code}/reports?limit=2&cursor={page['next_cursor']}",
        headers=body.auth,
    ).json()
    assert [r["where"] for r in rest["items"]] == ["second shop", "first shop"]
    assert rest["next_cursor"] is None

    photo = client.get(page["items"][0]["photo_url"], headers=body.auth)
    assert photo.status_code == 200
    assert photo.headers["content-type"].startswith("image/png")
    Image.open(io.BytesIO(photo.content)).verify()

    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    everything = client.get(f"/api/v1/bodies/{other_body.code}/reports", headers=operator)
    assert [r["where"] for r in everything.json()["items"]] == ["elsewhere"]

    other = client.get(f"/api/v1/bodies/{body.code}/reports", headers=other_body.auth)
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    assert client.get(page["items"][0]["photo_url"], headers=other_body.auth).status_code == 403
    report_id = page["items"][0]["id"]
    assert page["items"][0]["status"] == "new"
    assert (
        client.post(
            f"/api/v1/bodies/{body.code}/reports/{report_id}/seen", headers=other_body.auth
        ).status_code
        == 403
    )
    seen = client.post(f"/api/v1/bodies/{body.code}/reports/{report_id}/seen", headers=body.auth)
    assert seen.status_code == 200, seen.text
    assert seen.json()["status"] == "seen"
    stolen = client.get(
        f"/api/v1/bodies/{other_body.code}/reports/{report_id}/photo", headers=other_body.auth
    )
    assert stolen.status_code == 404
    assert client.get(f"/api/v1/bodies/{body.code}/reports").status_code == 401
    bad_cursor = client.get(f"/api/v1/bodies/{body.code}/reports?cursor=x", headers=body.auth)
    assert bad_cursor.status_code == 422


def _png() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGBA", (20, 20), (0, 0, 255, 128))
    image.save(out, format="PNG", pnginfo=_text_chunk())
    return out.getvalue()


def _text_chunk() -> Any:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone private")
    return info


def test_png_text_chunks_do_not_survive(client: TestClient[Any], body: BodyFixture) -> None:
    assert send(client, photo=("p.png", _png(), "image/png")).status_code == 200
    (report,) = stored_reports()
    assert report["photo_type"] == "image/png"
    assert b"someone private" not in bytes(report["photo"])
    assert re.search(rb"tEXt|iTXt|zTXt", bytes(report["photo"])) is None
