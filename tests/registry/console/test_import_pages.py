"""The console's import page, signed-file uploads and the PDF sheet of marks."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdfium2
from litestar.testing import TestClient

from registry.bodies.services import HostedKeyVault, register_public_key
from registry.imports.tables import ImportJob
from registry.principals import Principal
from registry.settings import Settings
from signing.documents import CertificatePayload, StatusEventPayload
from signing.jws import CERTIFICATE_TYP, STATUS_TYP, sign_compact
from signing.keys import PrivateKey
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields, count_rows, make_body
from tests.registry.console.conftest import console_message, csrf_token, make_user, sign_in
from tests.registry.imports.test_jobs import BAD_USCC, cells, xlsx


def import_jobs() -> int:
    return int(run(ImportJob.count().run()))


def upload_import(
    client: TestClient[Any], name: str, data: bytes, *, all_or_nothing: bool = False
) -> Any:
    form = {"_csrf_token": csrf_token(client, "/console/import")}
    if all_or_nothing:
        form["all_or_nothing"] = "yes"
    return client.post(
        "/console/import",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        follow_redirects=False,
    )


def wait_for_job(client: TestClient[Any], path: str) -> dict[str, Any]:
    """Poll the status the page's script polls; the bound is generous, nothing is timed."""
    deadline = time.monotonic() + 120
    while True:
        status: dict[str, Any] = client.get(f"{path}/status").json()
        if status["finished"]:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def test_an_xlsx_with_chinese_headers_and_two_bad_rows_is_imported_and_reported(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    data = xlsx(
        [
            cells("SMT-IMP-0001"),
            cells("SMT-IMP-0002", uscc=BAD_USCC),
            cells("SMT-IMP-0003"),
            cells("SMT-IMP-0004", holder_name=""),
        ]
    )
    answer = upload_import(clerk, "证书信息表.xlsx", data)
    assert answer.status_code == 303
    job_path = answer.headers["location"]
    assert re.fullmatch(r"/console/import/[0-9a-f-]{36}", job_path)
    status = wait_for_job(clerk, job_path)
    assert status["state"] == "done" and status["stored"] == 2 and status["refused"] == 2
    page = clerk.get(job_path)
    assert page.status_code == 200
    # Finished: the hook has its result, and the report names both rows by line and number.
    assert console_message(page.text) == (
        "error",
        "Import finished: 2 stored, 0 already stored, 2 refused.",
    )
    report = re.findall(r'<li data-line="(\d+)" data-number="([^"]*)">([^<]*)</li>', page.text)
    assert [(line, number) for line, number, _ in report] == [
        ("3", "SMT-IMP-0002"),
        ("5", "SMT-IMP-0004"),
    ]
    assert report[0][2].startswith("line 3: SMT-IMP-0002: uscc: ")
    assert report[1][2].startswith("line 5: SMT-IMP-0004: holder_name: ")
    download = clerk.get(f"{job_path}/report.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "number", "field", "problem"]
    assert [r[:3] for r in rows[1:]] == [
        ["3", "SMT-IMP-0002", "uscc"],
        ["5", "SMT-IMP-0004", "holder_name"],
    ]
    # The stored rows are published; the list of imports links the job.
    assert clerk.get("/v/SMT-IMP-0001").status_code == 200
    assert clerk.get("/v/SMT-IMP-0002").status_code == 404
    assert f'href="{job_path}"' in clerk.get("/console/import").text


def test_the_job_page_while_it_runs_has_no_result_and_refreshes_itself(
    clerk: TestClient[Any], body: BodyFixture, other_body: BodyFixture
) -> None:
    """A job another process is running: progress only, no result in the hook yet."""
    job_id = uuid.uuid4()
    now = datetime.now(UTC)
    job = ImportJob(
        id=job_id,
        body_code=body.code,
        created_by="test",
        file_name="x.xlsx",
        format="xlsx",
        state="running",
        total_rows=1,
        started_at=now,
        heartbeat_at=now,
        worker="elsewhere",
        data=xlsx([cells("SMT-WAIT-0001")]),
    )
    run(ImportJob.insert(job).run())
    view_id = job_id
    clerk.get("/console")  # shows (and so forgets) the sign-in message
    page = clerk.get(f"/console/import/{view_id}")
    assert page.status_code == 200
    assert 'id="console-message"' not in page.text
    assert 'http-equiv="refresh"' in page.text and 'data-state="running"' in page.text
    assert clerk.get(f"/console/import/{view_id}/status").json()["finished"] is False
    # Another body's staff do not find it.
    make_user("clerk@othr.example", body=other_body.code)
    assert sign_in(clerk, "clerk@othr.example").status_code == 303
    assert clerk.get(f"/console/import/{view_id}").status_code == 404


def test_a_bad_upload_is_refused_beside_the_file_field_and_nothing_is_stored(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    before, jobs = count_rows(), import_jobs()
    not_a_table = upload_import(clerk, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert not_a_table.status_code == 422
    result, text = console_message(not_a_table.text) or ("", "")
    assert result == "error" and text.startswith("Nothing was imported")
    assert 'id="file-problem"' in not_a_table.text
    too_large = upload_import(clerk, "big.csv", b"number\n" + b"x" * (10 * 1_000_000 + 10))
    assert too_large.status_code == 413
    assert "at most 10 MB" in too_large.text and 'id="file-problem"' in too_large.text
    assert count_rows() == before and import_jobs() == jobs


def test_a_viewer_cannot_import(console: TestClient[Any], body: BodyFixture) -> None:
    make_user("viewer@cqct.example", body=body.code, role="viewer")
    assert sign_in(console, "viewer@cqct.example").status_code == 303
    assert 'action="/console/import"' not in console.get("/console/import").text
    # The page in Chinese lists the (empty) imports.
    assert "最近的导入" in console.get("/console/import?lang=zh").text
    answer = upload_import(console, "c.xlsx", xlsx([cells("SMT-VIEW-0001")]))
    assert answer.status_code == 403
    assert console_message(answer.text) is not None
    assert import_jobs() == 0


# --- own-key bodies: signed files ------------------------------------------------


def test_signed_files_of_an_own_key_body_are_stored_by_the_api_s_service(
    console: TestClient[Any], settings: Settings, body: BodyFixture
) -> None:
    own_body = make_body(settings, "OWNK", "自有密钥认证机构", hosted=False)
    key = PrivateKey.generate()
    now = datetime.now(UTC)
    run(
        register_public_key(
            own_body.code,
            key.public_key.to_jwk(),
            not_before=now - timedelta(days=400),
            principal=Principal.cli(),
            vault=HostedKeyVault(settings.keys),
            now=now,
        )
    )
    payload = CertificatePayload.build(
        certificate_fields("SMT-OWN-0001"),
        issuer_code=own_body.code,
        issuer_name=own_body.name,
        revision=1,
        signed_at=now - timedelta(minutes=5),
    )
    document = sign_compact(payload.to_json(), key=key, typ=CERTIFICATE_TYP)
    event = StatusEventPayload.build(
        {"status": "suspended", "reason": "监督审核未按期进行"},
        number="SMT-OWN-0001",
        revision=1,
        issuer_code=own_body.code,
        signed_at=now - timedelta(minutes=1),
        now=now,
    )
    suspension = sign_compact(event.to_json(), key=key, typ=STATUS_TYP)
    make_user("clerk@ownk.example", body=own_body.code)
    assert sign_in(console, "clerk@ownk.example").status_code == 303
    page = console.get("/console/uploads")
    assert "private key" in page.text and 'type="password"' not in page.text
    answer = console.post(
        "/console/uploads",
        files=[
            ("files", ("SMT-OWN-0001.jws", document.encode(), "application/jose")),
            ("files", ("notes.jws", b"not a signed document", "application/jose")),
        ],
        data={"_csrf_token": csrf_token(console, "/console/uploads")},
    )
    assert answer.status_code == 422  # one of the two was refused
    assert console_message(answer.text) == ("error", "1 files stored, 1 refused.")
    assert re.search(r'data-file="SMT-OWN-0001.jws" data-result="ok"', answer.text)
    assert re.search(r'data-file="notes.jws" data-result="error"', answer.text)
    verdict = console.get("/api/v1/certificates/SMT-OWN-0001/verification").json()
    assert verdict["status"] == "valid" and verdict["signature"]["kid"] == key.kid
    assert console.get("/v/SMT-OWN-0001").status_code == 200
    # A status event signed offline, alone.
    answer = console.post(
        "/console/uploads",
        files=[("files", ("suspend.jws", suspension.encode(), "application/jose"))],
        data={"_csrf_token": csrf_token(console, "/console/uploads")},
    )
    assert console_message(answer.text) == ("ok", "1 files stored, 0 refused.")
    verdict = console.get("/api/v1/certificates/SMT-OWN-0001/verification").json()
    assert verdict["status"] == "suspended"


# --- the PDF sheet of marks ----------------------------------------------------------


def test_the_pdf_sheet_holds_the_marks_of_the_chosen_certificates_valid_now(
    clerk: TestClient[Any], body: BodyFixture, other_body: BodyFixture
) -> None:
    for number, owner in (
        ("SMT-MARK-0001", body),
        ("SMT-MARK-0002", body),
        ("SMT-MARK-0003", body),
        ("SMT-THEIRS-001", other_body),
    ):
        answer = clerk.post(
            "/api/v1/certificates", json=certificate_fields(number), headers=owner.auth
        )
        assert answer.status_code == 201, answer.text
    suspended = clerk.post(
        "/api/v1/certificates/SMT-MARK-0003/events",
        json={"status": "suspended", "reason": "test"},
        headers=body.auth,
    )
    assert suspended.status_code == 201, suspended.text
    listing = clerk.get("/console/certificates").text
    assert 'form="mark-sheet"' in listing and 'value="SMT-MARK-0001"' in listing
    chosen = "number=SMT-MARK-0001&number=SMT-MARK-0002&number=SMT-MARK-0003&number=SMT-THEIRS-001"
    summary = clerk.get(f"/console/marks/sheet?{chosen}")
    assert summary.status_code == 200
    assert console_message(summary.text) == (
        "ok",
        "2 marks in the sheet, 2 certificates left out.",
    )
    assert 'data-skipped="SMT-MARK-0003"' in summary.text
    assert 'data-skipped="SMT-THEIRS-001"' in summary.text
    sheet = clerk.get(f"/console/marks/sheet.pdf?{chosen}")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(sheet.content)
    try:
        assert len(pdf) == 2
        texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()
    # The marks are vector outlines (no text layer): each page is one mark's page.
    assert all(t.strip() == "" for t in texts)
    single = clerk.get("/console/certificates/SMT-MARK-0001/marks/pdf")
    page = pypdfium2.PdfDocument(single.content)
    try:
        assert page[0].get_size() == pypdfium2.PdfDocument(sheet.content)[0].get_size()
    finally:
        page.close()
    none_valid = clerk.get("/console/marks/sheet?number=SMT-MARK-0003")
    assert none_valid.status_code == 410
    assert console_message(none_valid.text) is not None
