"""Import jobs: uploaded through the API, run in the background by one worker of many,
resumed after a process died, reported row by row; and `starmark cert import` of an .xlsx."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.app import create_app
from registry.audit.tables import AuditEntry
from registry.bodies.services import HostedKeyVault, active_hosted_signer
from registry.certificates import importer
from registry.cli import main
from registry.dependencies import utc_now
from registry.imports import services
from registry.imports.reading import read_table
from registry.imports.tables import ImportJob
from registry.imports.worker import ImportWorker
from registry.principals import Principal
from registry.settings import ImportSettings, Settings
from tests.conftest import run
from tests.factories import BodyFixture, count_rows, make_body, uscc

HEADER = [
    "证书编号",
    "获证组织名称",
    "统一社会信用代码",
    "认证范围",
    "评价得分",
    "颁证日期",
    "生效日期",
    "服务网点",
]
#: A wrong check character: the row is refused, naming the USCC column.
BAD_USCC = uscc("bad", "330203")[:-1] + ("0" if uscc("bad", "330203")[-1] != "0" else "1")


def cells(number: str, **changes: Any) -> list[Any]:
    values = {
        "number": number,
        "holder_name": "宁波甬港五金工具有限公司",
        "uscc": uscc(number, "330203"),
        "scope_zh": "电动工具的保修与维修",
        "score": 91.5,
        "issued_on": date(2026, 3, 1),
        "valid_from": datetime(2026, 3, 1),
        "sites": "宁波市\n杭州市",
    }
    values.update(changes)
    return list(values.values())


def xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def no_worker(settings: Settings, **changes: Any) -> Settings:
    """The app without its background worker: the test runs jobs itself."""
    return dataclasses.replace(settings, imports=ImportSettings(worker=False, **changes))


def worker(settings: Settings, name: str, *, lease_seconds: float = 60) -> ImportWorker:
    return ImportWorker(
        vault=HostedKeyVault(settings.keys),
        settings=ImportSettings(worker=False, lease_seconds=lease_seconds),
        clock=utc_now,
        name=name,
    )


def upload(client: TestClient[Any], body: BodyFixture, name: str, data: bytes, **form: str) -> Any:
    return client.post(
        "/api/v1/imports",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=body.auth,
    )


def wait_until_finished(client: TestClient[Any], body: BodyFixture, job_id: str) -> Any:
    """Poll as a page would; the bound is generous, nothing is timed."""
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/v1/imports/{job_id}", headers=body.auth).json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def report(client: TestClient[Any], body: BodyFixture, job_id: str) -> list[list[str]]:
    answer = client.get(f"/api/v1/imports/{job_id}/report.csv", headers=body.auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


@pytest.fixture
def fast_client(clean_db: Engine, settings: Settings) -> Iterator[TestClient[Any]]:
    """The app with its background worker polling often."""
    fast = dataclasses.replace(settings, imports=ImportSettings(poll_seconds=0.1))
    with TestClient(app=create_app(fast, engine=clean_db), raise_server_exceptions=False) as c:
        yield c


def test_an_xlsx_with_chinese_headers_and_two_bad_rows_runs_in_the_background(
    fast_client: TestClient[Any], settings: Settings
) -> None:
    body = make_body(settings)
    other = make_body(settings, "ZJCT", "浙江认证")
    rows = [
        cells("XLS-2026-0001"),
        cells("XLS-2026-0002", score=88, valid_from=46082),  # a serial date, a whole score
        cells("XLS-2026-0003", uscc=BAD_USCC),  # line 4
        cells("XLS-2026-0004", issued_on="2026/3/1", valid_from="2026年3月1日"),
        cells("XLS-2026-0005", score=60),  # line 6: below every level
        cells("XLS-2026-0006"),
        cells("XLS-2026-0007"),
    ]
    answer = upload(fast_client, body, "证书信息表.xlsx", xlsx(rows))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["format"] == "xlsx" and job["rows"]["total"] == 7
    assert answer.headers["location"] == f"/api/v1/imports/{job['id']}"

    job = wait_until_finished(fast_client, body, job["id"])
    assert job["state"] == "done"
    assert job["rows"] == {"total": 7, "done": 7, "stored": 5, "already_stored": 0, "refused": 2}
    lines = report(fast_client, body, job["id"])
    assert lines[0] == ["line", "number", "field", "problem"]
    assert [(r[0], r[1], r[2]) for r in lines[1:]] == [
        ("4", "XLS-2026-0003", "uscc"),
        ("6", "XLS-2026-0005", "score"),
    ]

    for number in ("XLS-2026-0001", "XLS-2026-0002", "XLS-2026-0004", "XLS-2026-0007"):
        verdict = fast_client.get(f"/api/v1/certificates/{number}/verification").json()
        assert verdict["status"] == "valid", verdict
    second = fast_client.get("/api/v1/certificates/XLS-2026-0002").json()["certificate"]
    assert (second["valid_from"], second["score"], second["sites"]) == (
        "2026-03-01",
        88,
        ["宁波市", "杭州市"],
    )
    fourth = fast_client.get("/api/v1/certificates/XLS-2026-0004").json()["certificate"]
    assert (fourth["issued_on"], fourth["valid_from"]) == ("2026-03-01", "2026-03-01")
    for refused in ("XLS-2026-0003", "XLS-2026-0005"):
        assert fast_client.get(f"/api/v1/certificates/{refused}").status_code == 404

    # The audit records name who started the job.
    actors = query(
        AuditEntry.select(AuditEntry.actor).where(AuditEntry.action == "certificate.import")
    )
    assert actors and {a["actor"] for a in actors} == {job["created_by"]}
    assert job["created_by"].startswith("token:")
    # Another body never sees the job.
    assert fast_client.get(f"/api/v1/imports/{job['id']}", headers=other.auth).status_code == 404
    hidden = fast_client.get(f"/api/v1/imports/{job['id']}/report.csv", headers=other.auth)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    metrics = fast_client.get("/metrics").text
    assert 'starmark_import_rows{kind="total"} 7.0' in metrics


def test_all_or_nothing_stores_nothing_and_reports_the_bad_row(
    settings: Settings, clean_db: Engine
) -> None:
    body = make_body(settings)
    app = create_app(no_worker(settings), engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        before = count_rows()
        rows = [cells("AON-2026-0001"), cells("AON-2026-0002", valid_from="2026-02-30")]
        answer = upload(client, body, "in.xlsx", xlsx(rows), all_or_nothing="true")
        assert answer.status_code == 202, answer.text
        assert answer.json()["all_or_nothing"] is True
        assert run(worker(settings, "w1").run_next()) is True
        job = client.get(f"/api/v1/imports/{answer.json()['id']}", headers=body.auth).json()
        assert job["state"] == "done"
        assert job["rows"]["stored"] == 0 and job["rows"]["refused"] == 1
        lines = report(client, body, job["id"])
        assert lines[1][:3] == ["3", "AON-2026-0002", "valid_from"]
        after = count_rows()
        assert after["certificate"] == before["certificate"]
        assert after["log_entry"] == before["log_entry"]


def test_files_that_are_not_tables_too_large_or_too_long_are_refused_and_nothing_is_recorded(
    settings: Settings, clean_db: Engine
) -> None:
    body = make_body(settings)
    app = create_app(no_worker(settings), engine=clean_db)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        before = count_rows()
        renamed = upload(client, body, "certificates.xlsx", b"number,holder_name\r\nA,B\r\n")
        assert renamed.status_code == 422
        assert renamed.headers["content-type"].startswith("application/problem+json")
        assert "not an .xlsx" in renamed.json()["detail"]
        header = "number,holder_name,uscc,scope_zh,score,issued_on,valid_from\n"
        too_long = upload(client, body, "big.csv", (header + "x\n" * 50_001).encode())
        assert too_long.status_code == 422
        assert "more than 50,000 rows" in too_long.json()["detail"]
        too_big = upload(client, body, "big.csv", b"x" * 10_000_001)
        assert too_big.status_code == 413
        assert "10 MB" in too_big.json()["detail"]
        # Over what the upload route reads at all: refused while the form is read.
        far_too_big = upload(client, body, "big.csv", b"x" * 11_000_000)
        assert far_too_big.status_code == 413
        assert "10 MB" in far_too_big.json()["detail"]
        no_file = client.post("/api/v1/imports", data={"a": "b"}, headers=body.auth)
        assert no_file.status_code in (400, 422)
        anonymous = client.post(
            "/api/v1/imports", files={"file": ("a.csv", header.encode(), "text/csv")}
        )
        assert anonymous.status_code == 401
        assert count_rows() == before
        assert client.get("/api/v1/imports/not-a-job", headers=body.auth).status_code == 404
        # The API's 1 MiB request limit does not apply to an upload: 3 MB is taken.
        wide = header + ("y," * 6 + "z" * 88 + "\n") * 30_000
        taken = upload(client, body, "wide.csv", wide.encode())
        assert taken.status_code == 202, taken.text
        assert taken.json()["rows"]["total"] == 30_000


def query(q: Any) -> Any:
    """A Piccolo query run from a synchronous test."""

    async def work() -> Any:
        return await q

    return run(work())


def _queue(settings: Settings, body: BodyFixture, numbers: list[str]) -> str:
    principal = Principal(actor="token:test", body_code=body.code)
    job = run(services.start_import(principal, "in.xlsx", xlsx([cells(n) for n in numbers])))
    return str(job.id)


def _job(job_id: str) -> dict[str, Any]:
    row = query(ImportJob.select().where(ImportJob.id == job_id).first())
    assert row is not None
    return row


def test_two_app_processes_run_each_job_exactly_once(settings: Settings, clean_db: Engine) -> None:
    body = make_body(settings)
    jobs = [_queue(settings, body, [f"TWO-2026-{j}{i:03d}" for i in range(40)]) for j in range(3)]

    async def race() -> list[bool]:
        one, two = worker(settings, "process-1"), worker(settings, "process-2")

        async def drain(w: ImportWorker) -> list[bool]:
            ran = []
            while await w.run_next():
                ran.append(True)
            return ran

        first, second = await asyncio.gather(drain(one), drain(two))
        return first + second

    assert len(run(race())) == 3  # three jobs, each run by one worker once
    for job_id in jobs:
        job = _job(job_id)
        assert (job["state"], job["attempts"], job["rows_stored"]) == ("done", 1, 40)
    assert count_rows()["certificate"] == 120
    # Each job wrote one audit record for its one batch: nothing ran twice.
    audits = query(AuditEntry.count().where(AuditEntry.action == "certificate.import"))
    assert audits == 3


def test_two_apps_on_one_database_share_the_queue(settings: Settings, clean_db: Engine) -> None:
    body = make_body(settings)
    fast = dataclasses.replace(settings, imports=ImportSettings(poll_seconds=0.05))
    with (
        TestClient(app=create_app(fast, engine=clean_db)) as first,
        TestClient(app=create_app(fast, engine=clean_db)) as second,
    ):
        rows = [cells(f"APP-2026-{i:04d}") for i in range(50)]
        job = upload(first, body, "in.xlsx", xlsx(rows)).json()
        finished = wait_until_finished(second, body, job["id"])
        assert finished["rows"]["stored"] == 50
    assert _job(job["id"])["attempts"] == 1
    assert count_rows()["certificate"] == 50


def test_a_job_left_running_by_a_dead_process_is_taken_over_and_resumed(
    settings: Settings, clean_db: Engine
) -> None:
    body = make_body(settings)
    numbers = [f"DIE-2026-{i:04d}" for i in range(30)]
    job_id = _queue(settings, body, numbers)
    dead = worker(settings, "dead-host:1:0", lease_seconds=30)
    assert run(dead.claim()) is not None

    table = read_table("in.xlsx", bytes(_job(job_id)["data"]))

    async def store_first_ten() -> None:
        # What the dead process got done before it died: the first ten rows.
        now = utc_now()
        signer = await active_hosted_signer(body.code, vault=dead.vault, now=now)
        await importer.import_certificates(
            table.rows[:10],
            body_code=body.code,
            signer=signer,
            principal=Principal(actor="token:test", body_code=body.code),
            now=now,
        )

    asyncio.run(store_first_ten())
    assert count_rows()["certificate"] == 10

    # Its heartbeat is fresh: nobody takes the job.
    alive = worker(settings, "host-2:2:0", lease_seconds=30)
    assert run(alive.claim()) is None
    # Its heartbeat is older than the lease: the next worker takes it over.
    query(
        ImportJob.update({ImportJob.heartbeat_at: datetime.now(UTC) - timedelta(minutes=5)}).where(
            ImportJob.id == job_id
        )
    )
    assert run(alive.run_next()) is True
    job = _job(job_id)
    assert (job["state"], job["worker"], job["attempts"]) == ("done", "host-2:2:0", 2)
    assert (job["rows_stored"], job["rows_already_stored"], job["rows_refused"]) == (20, 10, 0)
    assert job["rows_done"] == 30
    counts = count_rows()
    assert counts["certificate"] == counts["certificate_revision"] == 30
    # The dead worker, back from the dead, changes nothing.
    run(dead._fail(job["id"], "late"))
    assert _job(job_id)["state"] == "done"


def test_a_job_whose_process_dies_every_time_fails_instead_of_looping(
    settings: Settings, clean_db: Engine
) -> None:
    body = make_body(settings)
    job_id = _queue(settings, body, ["LOOP-2026-0001"])
    query(
        ImportJob.update(
            {
                ImportJob.state: "running",
                ImportJob.attempts: 3,
                ImportJob.heartbeat_at: datetime.now(UTC) - timedelta(minutes=5),
            }
        ).where(ImportJob.id == job_id)
    )
    assert run(worker(settings, "w").claim()) is None
    job = _job(job_id)
    assert job["state"] == "failed" and "split the file" in job["error"]
    assert count_rows()["certificate"] == 0


def test_the_cli_imports_an_xlsx(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    path = tmp_path / "证书信息表.xlsx"
    path.write_bytes(
        xlsx(
            [
                cells("CLI-2026-0001"),
                cells("CLI-2026-0002", score=88),
                cells("CLI-2026-0003", uscc=BAD_USCC),
            ]
        )
    )
    result = CliRunner().invoke(
        main, ["cert", "import", str(path), "--body", "CQCT", "--quiet"], env=cli_env
    )
    assert result.exit_code == 1, result.output
    assert "line 4: CLI-2026-0003: uscc:" in result.output
    assert "stored 2 certificate(s), rejected 1 row(s)" in result.stdout
    verdict = client.get("/api/v1/certificates/CLI-2026-0002/verification").json()
    assert verdict["status"] == "valid"


def test_a_number_repeated_in_another_chunk_is_refused_as_a_repeat(
    settings: Settings, clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.imports import worker as worker_module

    monkeypatch.setattr(worker_module, "CHUNK_ROWS", 2)
    body = make_body(settings)
    numbers = ["REP-2026-0001", "REP-2026-0002", "REP-2026-0003", "REP-2026-0004"]
    job_id = _queue(settings, body, [*numbers, "rep-2026-0001"])
    assert run(worker(settings, "w").run_next()) is True
    job = _job(job_id)
    assert (job["rows_stored"], job["rows_refused"], job["rows_done"]) == (4, 1, 5)
    principal = Principal(actor="token:test", body_code=body.code)
    (refused,) = run(services.report_rows(principal, job_id))
    assert refused.text() == "line 6: REP-2026-0001: number: number repeats line 2 of this file"


def test_the_report_names_the_column_of_each_problem() -> None:
    from registry.imports.worker import report_problems

    assert report_problems("uscc: mistyped; sites[1]: too long; score: below 70") == [
        ("uscc", "mistyped"),
        ("sites[1]", "too long"),
        ("score", "below 70"),
    ]
    assert report_problems("number is already taken") == [("number", "number is already taken")]
    assert report_problems("has 9 cells, the header has 8") == [
        ("", "has 9 cells, the header has 8")
    ]
    row = services.ReportRow(7, "", "", "has 9 cells, the header has 8")
    assert row.text() == "line 7: -: -: has 9 cells, the header has 8"
    neutral = services.report_csv_bytes([services.ReportRow(2, "=HYPERLINK(1)", "number", "@x")])
    assert neutral.decode("utf-8-sig").splitlines()[1] == "2,'=HYPERLINK(1),number,'@x"
