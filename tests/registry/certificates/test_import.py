"""`starmark cert import`: CSV as bodies write it, row errors by line, all or nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from registry.bodies.services import HostedKeyVault, active_hosted_signer
from registry.certificates import importer, preparing
from registry.cli import main
from registry.principals import Principal
from registry.settings import Settings
from signing.keys import PrivateKey
from tests.factories import count_rows, make_body, uscc

STARMARK = Path(sys.executable).parent / "starmark"

HEADER = [
    "number",
    "holder_name",
    "holder_name_en",
    "uscc",
    "address",
    "scope_zh",
    "scope_en",
    "score",
    "issued_on",
    "valid_from",
    "valid_until",
    "sites",
]


def row(number: str, **changes: str) -> dict[str, str]:
    values = {
        "number": number,
        "holder_name": "宁波甬港五金工具有限公司",
        "holder_name_en": "Ningbo Yonggang Hardware Tools Co., Ltd.",
        "uscc": uscc(number, "330203"),
        "address": "浙江省宁波市海曙区中山西路138号",
        "scope_zh": "电动工具的保修与维修",
        "scope_en": "",
        "score": "91.5",
        "issued_on": "2026-03-01",
        "valid_from": "2026-03-01",
        "valid_until": "",
        "sites": "宁波市;杭州市",
    }
    values.update(changes)
    return values


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str,
    header: list[str] = HEADER,
    delimiter: str = ",",
) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def run_import(cli_env: dict[str, str], path: Path, *extra: str) -> Any:
    return CliRunner().invoke(
        main, ["cert", "import", str(path), "--body", "CQCT", "--quiet", *extra], env=cli_env
    )


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("gb18030", ","),
        ("utf-8-sig", ";"),  # Excel where the list separator is ';'
        ("utf-8", "\t"),  # "Text (tab delimited)"
    ],
    ids=["utf-8", "utf-8-sig", "gb18030", "semicolons", "tabs"],
)
def test_import_reads_csv_as_chinese_excel_writes_it(
    client: TestClient[Any],
    settings: Settings,
    cli_env: dict[str, str],
    tmp_path: Path,
    encoding: str,
    delimiter: str,
) -> None:
    make_body(settings)
    path = write_csv(
        tmp_path / "in.csv",
        [row("IMP-2026-0001"), row("imp-2026-0002", score="79.9")],
        encoding=encoding,
        delimiter=delimiter,
    )
    result = run_import(cli_env, path)
    assert result.exit_code == 0, result.output
    assert "stored 2 certificate(s), rejected 0 row(s)" in result.stdout
    first = client.get("/api/v1/certificates/IMP-2026-0001").json()
    assert first["certificate"]["holder"]["name"] == "宁波甬港五金工具有限公司"
    assert first["certificate"]["sites"] == ["宁波市", "杭州市"]
    assert first["certificate"]["valid_until"] == "2029-02-28"
    second = client.get("/api/v1/certificates/IMP-2026-0002/verification").json()
    assert second["status"] == "valid" and second["level"] == "compliant"


def test_bad_rows_are_reported_by_line_and_only_good_rows_are_stored(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    bad_uscc = uscc("x", "330203")[:-1] + ("0" if uscc("x", "330203")[-1] != "0" else "1")
    rows = [
        row("IMP-2026-0010"),
        row("IMP-2026-0011", uscc=bad_uscc),  # line 3
        row("IMP-2026-0012", score="69.9"),  # line 4
        row("IMP-2026-0010"),  # line 5: repeats line 2
        row("IMP-2026-0013"),
    ]
    result = run_import(cli_env, write_csv(tmp_path / "in.csv", rows, encoding="utf-8"))
    assert result.exit_code == 1
    assert "line 3: IMP-2026-0011: uscc:" in result.output
    assert "line 4: IMP-2026-0012: score:" in result.output
    assert "line 5: IMP-2026-0010: number repeats line 2" in result.output
    assert "stored 2 certificate(s), rejected 3 row(s)" in result.stdout
    listed = client.get("/api/v1/certificates").json()["items"]
    assert [i["number"] for i in listed] == ["IMP-2026-0010", "IMP-2026-0013"]

    # A number taken by a different certificate is an error for that row; a row
    # the registry already holds with the same content counts as done.
    before = count_rows()
    again = run_import(
        cli_env,
        write_csv(
            tmp_path / "in2.csv",
            [row("IMP-2026-0013"), row("IMP-2026-0010", holder_name="另一家公司")],
            encoding="utf-8",
        ),
    )
    assert again.exit_code == 1
    assert "line 3: IMP-2026-0010: number is already taken" in again.output
    assert "stored 0 certificate(s), 1 already stored, rejected 1 row(s)" in again.stdout
    assert count_rows()["certificate"] == before["certificate"]
    holder = client.get("/api/v1/certificates/IMP-2026-0010").json()["certificate"]["holder"]
    assert holder["name"] == "宁波甬港五金工具有限公司"


def test_all_or_nothing_refuses_the_whole_file_for_one_bad_row(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    rows = [row("IMP-2026-0020"), row("IMP-2026-0021", valid_from="2026-02-30")]
    before = count_rows()
    result = run_import(
        cli_env, write_csv(tmp_path / "in.csv", rows, encoding="utf-8"), "--all-or-nothing"
    )
    assert result.exit_code == 1
    assert "line 3" in result.output and "nothing stored" in result.output
    assert count_rows() == before


def test_unknown_columns_and_unreadable_files_are_refused_before_anything_is_stored(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    before = count_rows()
    extra = write_csv(
        tmp_path / "extra.csv",
        [{**row("IMP-1"), "colour": "red"}],
        encoding="utf-8",
        header=[*HEADER, "colour"],
    )
    result = run_import(cli_env, extra)
    assert result.exit_code == 1 and "colour: unknown column" in result.output
    missing = write_csv(tmp_path / "missing.csv", [], encoding="utf-8", header=["number", "score"])
    result = run_import(cli_env, missing)
    assert result.exit_code == 1 and "holder_name: required column is missing" in result.output
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x00garbage\x81\x30")
    result = run_import(cli_env, binary)
    assert result.exit_code == 1 and "neither UTF-8 nor GB18030" in result.output
    assert count_rows() == before


def test_import_shows_a_progress_bar(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    path = write_csv(
        tmp_path / "in.csv", [row(f"IMP-2026-{i:04d}") for i in range(30)], encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["cert", "import", str(path), "--body", "CQCT"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "importing" in result.output and "30/30" in result.output


def _children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            continue
        if int(parent) == pid and state != "Z":
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_an_import_killed_mid_run_resumes_from_the_same_file(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    make_body(settings)
    # Signed in worker processes (the size the command hands to them); batches of at
    # most 2,000 rows, each its own transaction.
    total = preparing.PROCESS_MIN_ROWS
    numbers = [f"RES-2026-{i:05d}" for i in range(total)]
    path = write_csv(tmp_path / "big.csv", [row(n) for n in numbers], encoding="utf-8")
    command = [str(STARMARK), "cert", "import", str(path), "--body", "CQCT", "--quiet"]
    env = {**os.environ, **cli_env}
    crashed = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while count_rows()["certificate"] == 0:
            assert crashed.poll() is None, crashed.stderr.read() if crashed.stderr else ""
            assert time.monotonic() < deadline, "the first batch never committed"
            time.sleep(0.02)
        # A file this large is signed in worker processes while batches are written.
        workers = _children(crashed.pid)
        assert workers, "the import started no worker process"
        crashed.kill()  # SIGKILL: no cleanup, as in a crash or an OOM kill
    finally:
        crashed.kill()
        crashed.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"still running after the import died: {workers}"
        time.sleep(0.1)
    kept = count_rows()["certificate"]
    assert 0 < kept < total, f"the kill came too late to test a resume ({kept} stored)"

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert (
        f"stored {total - kept} certificate(s), {kept} already stored, rejected 0 row(s)"
        in resumed.stdout
    )
    counts = count_rows()
    assert counts["certificate"] == counts["certificate_revision"] == total
    listed = client.get("/api/v1/certificates", params={"limit": 100}).json()["items"]
    assert [i["number"] for i in listed] == numbers[:100]
    for number in (numbers[0], numbers[-1]):
        verdict = client.get(f"/api/v1/certificates/{number}/verification").json()
        assert verdict["status"] == "valid", verdict
    # The kill lost no leaf: one per certificate, and the whole log recomputes.
    assert counts["log_entry"] == total + 1  # and the body's key statement
    verified = subprocess.run(
        [str(STARMARK), "log", "verify"], env=env, capture_output=True, text=True, timeout=300
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _rows() -> list[tuple[int, dict[str, str]]]:
    """Good rows, a bad date, a repeat in a later chunk and a short row, by line."""
    rows = [row(f"WRK-2026-{i:04d}") for i in range(9)]
    rows.insert(3, row("WRK-2026-0100", valid_from="2026-02-30"))
    rows.insert(7, row("wrk-2026-0001"))  # repeats line 3
    numbered: list[tuple[int, dict[str, str]]] = [(line, r) for line, r in enumerate(rows, 2)]
    numbered.insert(9, (11, {"__error__": "has 3 cells, the header has 12"}))
    return [(line, r) for line, (_, r) in enumerate(numbered, 2)]


def _signer() -> PrivateKey:
    return PrivateKey.from_seed(bytes(range(32)))


def test_worker_processes_prepare_exactly_what_this_process_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issuer = preparing.Issuer("CQCT", "中国质量认证中心", datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    rows = _rows()
    monkeypatch.setattr(preparing, "CHUNK_ROWS", 2)  # chunks of two rows: five tasks

    async def collect(process_min_rows: int) -> list[Any]:
        items = preparing.prepared(
            rows, issuer=issuer, signer=_signer(), workers=2, process_min_rows=process_min_rows
        )
        return [item async for item in items]

    here = asyncio.run(collect(process_min_rows=len(rows) + 1))

    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("prepared in the importer's process")

    monkeypatch.setattr(preparing, "prepare_rows", not_here)
    in_workers = asyncio.run(collect(process_min_rows=1))
    # Ed25519 is deterministic: the same rows at the same time sign to the same JWS.
    assert in_workers == here
    assert [type(i).__name__ for i in here].count("Prepared") == 10
    refused = {i.line: i.message for i in here if isinstance(i, preparing.Refused)}
    assert refused[5].startswith("valid_from: ") and "has 3 cells" in refused[11]


@pytest.mark.parametrize("all_or_nothing", [False, True])
def test_an_import_signed_in_worker_processes_stores_and_refuses_by_line(
    settings: Settings,
    client: TestClient[Any],
    monkeypatch: pytest.MonkeyPatch,
    all_or_nothing: bool,
) -> None:
    body = make_body(settings)
    monkeypatch.setattr(preparing, "CHUNK_ROWS", 2)
    before = count_rows()

    async def run_it() -> importer.ImportReport:
        now = datetime.now(UTC)
        signer = await active_hosted_signer(body.code, vault=HostedKeyVault(settings.keys), now=now)
        return await importer.import_certificates(
            _rows(),
            body_code=body.code,
            signer=signer,
            principal=Principal.cli(body_code=body.code),
            now=now,
            all_or_nothing=all_or_nothing,
            batch_size=3,
            workers=1,
            process_min_rows=1,
        )

    report = asyncio.run(run_it())
    rejected = [(r.line, r.number, r.message.split(":")[0]) for r in report.rejected]
    assert rejected == [
        (5, "WRK-2026-0100", "valid_from"),
        (9, "WRK-2026-0001", "number repeats line 3 of this file"),
        (11, "", "has 3 cells, the header has 12"),
    ]
    if all_or_nothing:
        assert (report.refused, report.stored) == (True, 0)
        assert count_rows() == before
        return
    assert (report.refused, report.stored) == (False, 9)
    for number in ("WRK-2026-0000", "WRK-2026-0008"):
        verdict = client.get(f"/api/v1/certificates/{number}/verification").json()
        assert verdict["status"] == "valid", verdict
