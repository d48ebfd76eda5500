"""The console's certificate pages: issue, change status, revise, list, marks, dashboard."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from registry.audit.tables import AuditEntry
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields, count_rows, uscc
from tests.registry.console.conftest import console_message, csrf_token, make_user, sign_in

START = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
ISSUED = (datetime.now(UTC).date() - timedelta(days=33)).isoformat()


def issue_form(number: str = "SMT-2026-0001", **overrides: str) -> dict[str, str]:
    form = {
        "number": number,
        "score": "92.5",
        "holder.name": "青岛海川智能家电有限公司",
        "holder.name_en": "Qingdao Haichuan Smart Appliances Co., Ltd.",
        "holder.uscc": uscc(number),
        "holder.address": "山东省青岛市崂山区海川路88号",
        "scope.zh": "冰箱、洗衣机的安装和维修服务",
        "scope.en": "Installation and repair",
        "sites": "青岛市\n烟台市",
        "issued_on": ISSUED,
        "valid_from": START,
        "valid_until": "",
    }
    form.update(overrides)
    return form


def post_form(client: TestClient[Any], path: str, form: dict[str, str], page: str) -> Any:
    return client.post(
        path, data={**form, "_csrf_token": csrf_token(client, page)}, follow_redirects=False
    )


def audit_actors(action: str) -> list[str]:
    async def read() -> list[dict[str, Any]]:
        return await AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == action)

    rows = run(read())
    return [row["actor"] for row in rows]


def test_issue_from_the_form_publishes_the_same_signed_certificate(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    answer = post_form(
        clerk, "/console/certificates/new", issue_form(), "/console/certificates/new"
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/certificates/SMT-2026-0001"
    page = clerk.get(answer.headers["location"])
    assert console_message(page.text) == ("ok", "Certificate SMT-2026-0001 issued.")
    assert 'data-status="valid"' in page.text
    # The public page and the API say what the console published, signed by the hosted key.
    public = clerk.get("/v/SMT-2026-0001", headers={"Accept": "text/html"})
    assert public.status_code == 200
    verdict = clerk.get("/api/v1/certificates/SMT-2026-0001/verification").json()
    assert verdict["status"] == "valid"
    assert verdict["signature"]["kid"] == body.kid
    certificate = verdict["certificate"]
    assert certificate["holder"]["name"] == "青岛海川智能家电有限公司"
    assert certificate["sites"] == ["青岛市", "烟台市"]
    assert certificate["level"] == "four_star"
    assert audit_actors("certificate.issue") == ["console:clerk@cqct.example"]


def test_a_bad_form_keeps_what_was_typed_names_the_fields_and_stores_nothing(
    clerk: TestClient[Any],
) -> None:
    before = count_rows()
    bad_uscc = uscc("SMT-2026-0001")[:17] + ("0" if uscc("SMT-2026-0001")[17] != "0" else "1")
    form = issue_form(**{"holder.uscc": bad_uscc, "score": "55", "holder.name": "某某 公司"})
    answer = post_form(clerk, "/console/certificates/new", form, "/console/certificates/new")
    assert answer.status_code == 422
    assert count_rows() == before
    result, _ = console_message(answer.text) or ("", "")
    assert result == "error"
    assert 'data-field="holder.uscc"' in answer.text
    assert 'data-field="score"' in answer.text
    assert f'value="{bad_uscc}"' in answer.text
    assert "某某 公司" in answer.text
    assert "冰箱、洗衣机的安装和维修服务" in answer.text


def test_a_number_already_taken_is_a_conflict_shown_on_the_form(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    assert (
        clerk.post("/api/v1/certificates", json=certificate_fields(), headers=body.auth).status_code
        == 201
    )
    before = count_rows()
    answer = post_form(
        clerk, "/console/certificates/new", issue_form(), "/console/certificates/new"
    )
    assert answer.status_code == 409
    assert "already taken" in answer.text
    assert count_rows() == before


def test_suspend_reinstate_and_revoke_with_confirmation(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    clerk.post("/api/v1/certificates", json=certificate_fields(), headers=body.auth)
    page = "/console/certificates/SMT-2026-0001"
    events = f"{page}/events"
    day = (datetime.now(UTC) - timedelta(days=10)).date().isoformat()
    suspended = post_form(
        clerk,
        events,
        {"status": "suspended", "effective_at": f"{day}T02:00:00Z", "reason": "客户投诉调查"},
        page,
    )
    assert suspended.status_code == 303
    history = clerk.get(page).text
    assert 'data-status="suspended"' in history
    # The signed instant, shown in China Standard Time as the dashboard shows times.
    assert f'<time datetime="{day}T02:00:00Z">{day} 10:00</time>' in history
    assert (
        post_form(clerk, events, {"status": "reinstated", "reason": "调查结束"}, page).status_code
        == 303
    )
    assert 'data-status="valid"' in clerk.get(page).text
    # Revoking without ticking the box changes nothing.
    before = count_rows()
    unconfirmed = post_form(clerk, events, {"status": "revoked", "reason": "违规"}, page)
    assert unconfirmed.status_code == 422
    assert console_message(unconfirmed.text)[0] == "error"  # type: ignore[index]
    assert 'data-field="confirm"' in unconfirmed.text
    assert "违规" in unconfirmed.text  # the reason typed is kept
    assert count_rows() == before
    revoked = post_form(
        clerk, events, {"status": "revoked", "reason": "违规", "confirm": "yes"}, page
    )
    assert revoked.status_code == 303
    shown = clerk.get(page)
    assert 'data-status="revoked"' in shown.text
    assert console_message(shown.text)[0] == "ok"  # type: ignore[index]
    assert (
        clerk.get("/api/v1/certificates/SMT-2026-0001/verification").json()["status"] == "revoked"
    )
    assert audit_actors("certificate.revoked") == ["console:clerk@cqct.example"]


def test_a_revision_from_the_prefilled_form(clerk: TestClient[Any], body: BodyFixture) -> None:
    clerk.post("/api/v1/certificates", json=certificate_fields(), headers=body.auth)
    page = "/console/certificates/SMT-2026-0001"
    shown = clerk.get(page)
    assert 'value="92.5"' in shown.text  # prefilled from the revision in force
    form = issue_form(score="96")
    del form["number"]
    form["valid_until"] = ""
    answer = post_form(clerk, f"{page}/revisions", form, page)
    assert answer.status_code == 303, answer.text
    verdict = clerk.get("/api/v1/certificates/SMT-2026-0001/verification").json()
    assert (verdict["revision"], verdict["level"]) == (2, "five_star")


def test_marks_are_offered_while_valid(clerk: TestClient[Any], body: BodyFixture) -> None:
    clerk.post("/api/v1/certificates", json=certificate_fields(), headers=body.auth)
    page = clerk.get("/console/certificates/SMT-2026-0001").text
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<"), ("pdf", b"%PDF")):
        assert f"/console/certificates/SMT-2026-0001/marks/{fmt}" in page
        mark = clerk.get(f"/console/certificates/SMT-2026-0001/marks/{fmt}")
        assert mark.status_code == 200
        assert mark.content.lstrip()[: len(magic)] == magic


def test_the_list_filters_and_the_dashboard_counts(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    today = datetime.now(UTC).date()
    clerk.post("/api/v1/certificates", json=certificate_fields("SMT-2026-0001"), headers=body.auth)
    # Started 14 months ago: its first surveillance falls due within 60 days.
    old = certificate_fields("SMT-2026-0002", score=97, start=today - timedelta(days=420))
    clerk.post("/api/v1/certificates", json=old, headers=body.auth)
    clerk.post(
        "/api/v1/certificates/SMT-2026-0001/events",
        json={"status": "suspended", "reason": "调查"},
        headers=body.auth,
    )
    listing = clerk.get("/console/certificates?status=suspended").text
    assert 'data-number="SMT-2026-0001"' in listing
    assert 'data-number="SMT-2026-0002"' not in listing
    assert 'data-number="SMT-2026-0002"' in clerk.get("/console/certificates?level=five_star").text
    dashboard = clerk.get("/console").text
    # The heading names the clerk's body as people know it.
    assert re.search(
        rf"<h1>{re.escape(body.name)} <span class=\"code\">{body.code}</span></h1>", dashboard
    )
    assert '<span data-count="total">2</span>' in dashboard
    assert 'data-count="status-suspended">1<' in dashboard
    assert 'data-count="level-five_star">1<' in dashboard
    due = dashboard.split('id="due"')[1].split("</section>")[0]
    assert "SMT-2026-0002" in due and "SMT-2026-0001" not in due
    changes = dashboard.split('id="changes"')[1].split("</section>")[0]
    assert "SMT-2026-0001" in changes


def test_an_operator_sees_every_body(console: TestClient[Any], body: BodyFixture) -> None:
    console.post("/api/v1/certificates", json=certificate_fields(), headers=body.auth)
    make_user("operator@registry.example")
    assert sign_in(console, "operator@registry.example").status_code == 303
    assert console.get("/console/certificates/SMT-2026-0001").status_code == 200
    assert '<span data-count="total">1</span>' in console.get("/console").text


def test_the_page_carries_the_live_checks_words_and_thresholds(clerk: TestClient[Any]) -> None:
    page = clerk.get("/console/certificates/new").text
    assert re.search(r'<script src="/static/js/console.js\?v=[0-9a-f]{12}" defer></script>', page)
    assert "data-live-checks=" in page
    thresholds = page.split('data-thresholds="')[1].split('"')[0].replace("&#34;", '"')
    assert json.loads(thresholds)[0] == [95.0, "Five-star"]
