"""Signing in, sessions, lockout, CSRF and the guards (PRODUCT §4, the console)."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.factories import BodyFixture, certificate_fields, count_rows
from tests.registry.console.conftest import (
    PASSWORD,
    console_message,
    csrf_token,
    make_user,
    sign_in,
)


def test_login_with_the_right_password_opens_the_dashboard(
    console: TestClient[Any], body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    answer = sign_in(console, "Clerk@CQCT.example")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("starmark_console=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/console", "max-age=28800"} <= flags
    page = console.get("/console")
    assert page.status_code == 200
    assert console_message(page.text) == ("ok", "Signed in as clerk@cqct.example.")
    assert "clerk@cqct.example" in page.text


def test_a_wrong_password_is_refused(console: TestClient[Any], body: BodyFixture) -> None:
    make_user("clerk@cqct.example", body=body.code)
    answer = sign_in(console, "clerk@cqct.example", "not the password")
    assert answer.status_code == 401
    assert console_message(answer.text) == ("error", "Wrong e-mail address or password.")
    # In the page's language.
    console.headers["Accept-Language"] = "zh-CN"
    answer = sign_in(console, "clerk@cqct.example", "not the password")
    assert console_message(answer.text) == ("error", "电子邮箱或密码错误。")
    assert console.get("/console", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account(console: TestClient[Any], body: BodyFixture) -> None:
    make_user("clerk@cqct.example", body=body.code)
    for _ in range(5):
        assert sign_in(console, "clerk@cqct.example", "wrong password").status_code == 401
    # Locked: even the right password is not looked at.
    locked = sign_in(console, "clerk@cqct.example", PASSWORD)
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert console_message(locked.text) == (
        "error",
        "Too many wrong passwords. Try again in 15 minutes.",
    )


def test_five_wrong_passwords_from_one_address_lock_it_for_every_account(
    console: TestClient[Any], body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    for n in range(5):
        assert sign_in(console, f"nobody{n}@cqct.example", "wrong password").status_code == 401
    assert sign_in(console, "clerk@cqct.example", PASSWORD).status_code == 429


def test_without_a_session_pages_redirect_to_the_login(console: TestClient[Any]) -> None:
    for path in ("/console", "/console/certificates?status=valid", "/console/certificates/new"):
        answer = console.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login?next=/console")
    answer = console.get("/console/certificates?status=valid", follow_redirects=False)
    assert "next=/console/certificates%3Fstatus%3Dvalid" in answer.headers["location"]


def test_signing_in_returns_to_the_page_asked_for_but_never_elsewhere(
    console: TestClient[Any], body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    token = csrf_token(console)
    form = {"username": "clerk@cqct.example", "password": PASSWORD, "_csrf_token": token}
    back = console.post(
        "/console/login", data={**form, "next": "/console/certificates"}, follow_redirects=False
    )
    assert back.headers["location"] == "/console/certificates"
    away = console.post(
        "/console/login", data={**form, "next": "https://evil.example/"}, follow_redirects=False
    )
    assert away.headers["location"] == "/console"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    clerk: TestClient[Any],
) -> None:
    before = count_rows()
    fields = {"number": "SMT-2026-0001", "score": "92", "holder.name": "某公司"}
    answer = clerk.post("/console/certificates/new", data=fields)
    assert answer.status_code == 403
    result, text = console_message(answer.text) or ("", "")
    assert result == "error"
    assert "nothing was changed" in text
    wrong = clerk.post("/console/certificates/new", data={**fields, "_csrf_token": "x" * 80})
    assert wrong.status_code == 403
    assert count_rows() == before
    # Still signed in: only the forged request was refused.
    assert clerk.get("/console").status_code == 200


def test_public_pages_and_the_api_stay_cookieless(clerk: TestClient[Any]) -> None:
    for path in ("/", "/search?q=x", "/api/v1/certificates"):
        answer = clerk.get(path)
        assert "set-cookie" not in answer.headers, path


def test_sign_out_ends_the_session(clerk: TestClient[Any]) -> None:
    token = csrf_token(clerk, "/console")
    answer = clerk.post("/console/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    page = clerk.get(answer.headers["location"])
    assert console_message(page.text) == ("ok", "You are signed out.")
    assert clerk.get("/console", follow_redirects=False).status_code == 303


def test_the_one_time_link_sets_the_password_once(
    console: TestClient[Any], body: BodyFixture
) -> None:
    token = make_user("new@cqct.example", body=body.code, password=None)
    assert token
    path = f"/console/set-password?token={token}"
    form = {"token": token, "_csrf_token": csrf_token(console, path)}
    short = console.post(
        "/console/set-password", data={**form, "password": "short", "password_again": "short"}
    )
    assert short.status_code == 422
    answer = console.post(
        "/console/set-password",
        data={**form, "password": PASSWORD, "password_again": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert sign_in(console, "new@cqct.example").status_code == 303
    assert console.get(path).status_code == 404  # spent


def test_another_bodys_certificate_is_not_found(
    clerk: TestClient[Any], other_body: BodyFixture
) -> None:
    theirs = clerk.post(
        "/api/v1/certificates",
        json=certificate_fields("OTH-2026-0001"),
        headers=other_body.auth,
    )
    assert theirs.status_code == 201
    assert clerk.get("/console/certificates/OTH-2026-0001").status_code == 404
    assert clerk.get("/console/certificates/OTH-2026-0001/marks/png").status_code == 404
    token = csrf_token(clerk, "/console")
    refused = clerk.post(
        "/console/certificates/OTH-2026-0001/events",
        data={"status": "suspended", "reason": "x", "_csrf_token": token},
    )
    assert refused.status_code == 404
    listing = clerk.get("/console/certificates?q=OTH-2026-0001")
    assert listing.status_code == 200
    assert 'data-number="OTH-2026-0001"' not in listing.text


def test_a_viewer_reads_but_cannot_write(console: TestClient[Any], body: BodyFixture) -> None:
    issued = console.post(
        "/api/v1/certificates", json=certificate_fields("SMT-2026-0001"), headers=body.auth
    )
    assert issued.status_code == 201
    make_user("viewer@cqct.example", body=body.code, role="viewer")
    assert sign_in(console, "viewer@cqct.example").status_code == 303
    page = console.get("/console/certificates/SMT-2026-0001")
    assert page.status_code == 200
    assert "/events" not in page.text  # no status form
    assert console.get("/console/certificates/new").status_code == 403
    token = csrf_token(console, "/console")
    before = count_rows()
    refused = console.post(
        "/console/certificates/SMT-2026-0001/events",
        data={"status": "suspended", "reason": "x", "_csrf_token": token},
    )
    assert refused.status_code == 403
    assert (console_message(refused.text) or ("",))[0] == "error"
    assert count_rows() == before
    assert console.get("/api/v1/certificates/SMT-2026-0001").json()["status"] == "valid"


def test_signing_in_replaces_a_session_id_planted_beforehand(
    console: TestClient[Any], body: BodyFixture
) -> None:
    make_user("clerk@cqct.example", body=body.code)
    planted = "f" * 64
    console.cookies.set("starmark_console", planted, domain="testserver.local", path="/console")
    answer = sign_in(console, "clerk@cqct.example")
    assert answer.status_code == 303
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("starmark_console=")
    )
    assert planted not in cookie
    # Whoever holds the planted id is not signed in.
    console.cookies.clear()
    console.cookies.set("starmark_console", planted, domain="testserver.local", path="/console")
    assert console.get("/console", follow_redirects=False).status_code == 303


def test_the_login_page_sets_no_session_cookie(console: TestClient[Any]) -> None:
    page = console.get("/console/login")
    assert page.status_code == 200
    assert not any(c.startswith("starmark_console=") for c in page.headers.get_list("set-cookie"))


def test_a_refused_form_is_explained_in_the_pages_language(clerk: TestClient[Any]) -> None:
    clerk.headers["Accept-Language"] = "zh-CN"
    answer = clerk.post("/console/certificates/new", data={"number": "SMT-2026-0001"})
    assert answer.status_code == 403
    assert console_message(answer.text) == (
        "error",
        "此表单已过期或并非来自本网站，因此未作任何更改。请刷新页面后重试。",
    )
    assert '<html lang="zh-CN">' in answer.text
