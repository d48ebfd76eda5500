"""Consumer reports and scan counts in the console: dashboard, list, photo, seen, chart."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient
from PIL import Image

from registry.feedback.reports import submit_report
from registry.feedback.tables import ConsumerReport, ScanCount
from signing.instants import day_in_cst
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields
from tests.registry.console.conftest import console_message, csrf_token, make_user, sign_in


def issue(client: TestClient[Any], owner: BodyFixture, number: str) -> None:
    answer = client.post(
        "/api/v1/certificates", json=certificate_fields(number), headers=owner.auth
    )
    assert answer.status_code == 201, answer.text


def report(number: str, body_code: str, *, photo: bytes | None = None, details: str = "") -> int:
    return run(
        submit_report(
            number=number,
            body_code=body_code,
            bought_where="青岛市崂山区某家电商场",
            problem="fake_mark",
            details=details or "标志模糊",
            contact="",
            photo=photo,
            now=datetime.now(UTC),
        )
    )


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def statuses() -> dict[int, str]:
    rows = run(ConsumerReport.select(ConsumerReport.id, ConsumerReport.status).run())
    return {int(r["id"]): str(r["status"]) for r in rows}


def test_reports_are_shown_to_their_body_only_and_marked_seen_with_csrf(
    clerk: TestClient[Any], body: BodyFixture, other_body: BodyFixture
) -> None:
    issue(clerk, body, "SMT-REP-0001")
    issue(clerk, other_body, "SMT-REP-THEIRS")
    ours = report("SMT-REP-0001", body.code, photo=png(), details="假冒标志")
    theirs = report("SMT-REP-THEIRS", other_body.code, details="另一机构的举报")
    # The dashboard counts the new report and links the latest.
    dashboard = clerk.get("/console").text
    assert re.search(r'data-count="new-reports">1<', dashboard)
    assert f'data-report="{ours}"' in dashboard and f'data-report="{theirs}"' not in dashboard
    # The list shows ours, with its photo through the console; never theirs.
    listing = clerk.get("/console/reports").text
    assert "假冒标志" in listing and "另一机构的举报" not in listing
    photo = clerk.get(f"/console/reports/{ours}/photo")
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
    assert clerk.get(f"/console/reports/{theirs}/photo").status_code == 404
    # The certificate page lists its reports and draws its scan chart.
    page = clerk.get("/console/certificates/SMT-REP-0001").text
    assert "假冒标志" in page and 'src="/console/certificates/SMT-REP-0001/scans.svg"' in page
    chart = clerk.get("/console/certificates/SMT-REP-0001/scans.svg")
    assert chart.status_code == 200 and chart.text.startswith("<svg")
    assert clerk.get("/console/certificates/SMT-REP-THEIRS/scans.svg").status_code == 404
    # Marking as seen without the form's token changes nothing.
    refused = clerk.post(f"/console/reports/{ours}/seen", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert statuses()[ours] == "new"
    token = csrf_token(clerk, "/console/reports")
    other = clerk.post(
        f"/console/reports/{theirs}/seen", data={"_csrf_token": token}, follow_redirects=False
    )
    assert other.status_code == 404
    seen = clerk.post(
        f"/console/reports/{ours}/seen", data={"_csrf_token": token}, follow_redirects=False
    )
    assert seen.status_code == 303
    after = clerk.get(seen.headers["location"])
    assert console_message(after.text) == ("ok", f"Report {ours} marked as seen.")
    assert statuses() == {ours: "seen", theirs: "new"}
    assert re.search(r'data-count="new-reports">0<', clerk.get("/console").text)


def test_a_viewer_reads_reports_but_does_not_mark_them(
    console: TestClient[Any], body: BodyFixture
) -> None:
    issue(console, body, "SMT-REP-0002")
    ours = report("SMT-REP-0002", body.code)
    make_user("viewer@cqct.example", body=body.code, role="viewer")
    assert sign_in(console, "viewer@cqct.example").status_code == 303
    listing = console.get("/console/reports").text
    assert "标志模糊" in listing and f'action="/console/reports/{ours}/seen"' not in listing
    token = csrf_token(console, "/console/reports")
    answer = console.post(
        f"/console/reports/{ours}/seen", data={"_csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert statuses()[ours] == "new"


def test_the_dashboard_names_a_recent_spike_of_scans(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    issue(clerk, body, "SMT-SPIKE-001")
    today = day_in_cst(datetime.now(UTC))

    async def add() -> None:
        for days_ago in range(1, 30):
            day = today - timedelta(days=days_ago)
            await ScanCount.insert(ScanCount(number="SMT-SPIKE-001", day=day, scans=2))
        spike_day = today - timedelta(days=1)
        await ScanCount.update({ScanCount.scans: 400}).where(
            (ScanCount.number == "SMT-SPIKE-001") & (ScanCount.day == spike_day)
        )

    run(add())
    dashboard = clerk.get("/console").text
    assert 'id="scan-spikes"' in dashboard
    assert 'data-spike="SMT-SPIKE-001"' in dashboard
    assert (today - timedelta(days=1)).isoformat() in dashboard
