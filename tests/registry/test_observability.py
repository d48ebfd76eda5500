"""`GET /metrics`, request ids and what logs never hold (issue 11, registry/metrics.py, logs.py)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar import get
from litestar.testing import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from registry.app import create_app
from registry.cli import main
from registry.logs import configure_logging
from registry.settings import Settings
from registry.static_files import static_url
from tests.conftest import TEST_PASSPHRASE
from tests.factories import certificate_fields, make_body


def exposition(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def sample(families: dict[str, Any], name: str, **labels: str) -> float:
    for family in families.values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def test_metrics_count_requests_by_route_template_and_verdicts_by_status(
    client: TestClient[Any],
) -> None:
    before = exposition(client)
    number = "SMT-2031-424242"
    for _ in range(2):
        assert client.get(f"/v/{number}", headers={"Accept": "text/html"}).status_code == 404
    assert client.get(f"/api/v1/certificates/{number}/verification").status_code == 404
    response = client.get("/metrics")
    after = {f.name: f for f in text_string_to_metric_families(response.text)}

    route = {"method": "GET", "path": "/v/{number}", "status_code": "404"}
    requests = "starmark_requests_total"
    assert sample(after, requests, **route) - sample(before, requests, **route) == 2
    histogram = "starmark_request_duration_seconds_count"
    assert sample(after, histogram, **route) - sample(before, histogram, **route) == 2
    # One series per route: the number asked for is in no label and nowhere in the text.
    assert number not in response.text
    labels = {v for f in after.values() for s in f.samples for v in s.labels.values()}
    assert not any(number in v for v in labels)

    verdicts = "starmark_verdicts_total"
    page = {"status": "not_found", "surface": "page"}
    api = {"status": "not_found", "surface": "api"}
    assert sample(after, verdicts, **page) - sample(before, verdicts, **page) == 2
    assert sample(after, verdicts, **api) - sample(before, verdicts, **api) == 1
    assert after["starmark_log_size"].type == "gauge"
    assert after["starmark_import_rows"].type == "gauge"


def test_server_errors_are_counted_and_static_files_and_the_scrape_are_not(
    clean_db: Any, settings: Settings
) -> None:
    @get("/broken-for-a-test", sync_to_thread=False)
    def broken() -> None:
        raise RuntimeError("a bug")

    @get("/busy-for-a-test", sync_to_thread=False)
    def busy() -> float:
        """How many requests of this route are in progress, asked while one is."""
        families = text_string_to_metric_families(generate_latest().decode())
        return sample(
            {f.name: f for f in families},
            "starmark_requests_in_progress",
            method="GET",
            path="/busy-for-a-test",
        )

    app = create_app(settings, engine=clean_db)
    app.register(broken)
    app.register(busy)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        before = exposition(client)
        assert client.get("/broken-for-a-test").status_code == 500
        assert client.get("/busy-for-a-test").json() == 1
        assert (
            sample(exposition(client), "starmark_requests_in_progress", path="/busy-for-a-test")
            == 0
        )
        assert client.get(static_url("css/site.css")).status_code == 200
        after = exposition(client)

    route = {"method": "GET", "path": "/broken-for-a-test"}
    failed = {**route, "status_code": "500"}
    for name in ("starmark_requests_total", "starmark_requests_error_total"):
        assert sample(after, name, **failed) - sample(before, name, **failed) == 1, name
    # Counted while it ran, and no longer: the gauge is back where it was.
    assert sample(after, "starmark_requests_in_progress", **route) == 0
    paths = {
        s.labels.get("path")
        for name in ("starmark_requests", "starmark_request_duration_seconds")
        for s in after[name].samples
    }
    assert "/broken-for-a-test" in paths
    assert not any(p.startswith(("/static", "/metrics")) for p in paths if p), paths


def test_import_progress_is_a_gauge_of_rows_done_and_total(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.registry.certificates.test_import import row, write_csv

    make_body(settings)
    rows = [row(f"IMP-2026-{i:04d}") for i in range(1, 4)]
    path = write_csv(tmp_path / "in.csv", rows, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["cert", "import", str(path), "--body", "CQCT", "--quiet"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    # In-process here; across processes /metrics reads PROMETHEUS_MULTIPROC_DIR.
    families = exposition(client)
    assert sample(families, "starmark_import_rows", kind="total") == 3
    assert sample(families, "starmark_import_rows", kind="done") == 3


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """What an operator's log would hold: the served app's JSON lines, at DEBUG."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream)
    try:
        yield stream
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_log_line_of_a_request_carries_its_request_id(
    client: TestClient[Any], json_logs: io.StringIO
) -> None:
    given = client.get("/v/SMT-2031-000001", headers={"X-Request-Id": "lb-7f3a-01"})
    assert given.headers["x-request-id"] == "lb-7f3a-01"
    logged = [line for line in lines(json_logs) if line["logger"] == "starmark.access"]
    assert logged and logged[-1]["request_id"] == "lb-7f3a-01"
    assert logged[-1]["route"] == "/v/{number}" and logged[-1]["status"] == 404
    # The time in UTC to the millisecond, as an operator's tools parse it.
    written = logged[-1]["time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", written), written
    assert abs(datetime.fromisoformat(written) - datetime.now(UTC)) < timedelta(minutes=1)
    assert logged[-1]["method"] == "GET" and logged[-1]["duration_ms"] >= 0

    json_logs.truncate(0)
    json_logs.seek(0)
    # None given, or one that could forge a log line: a fresh id.
    for headers in ({}, {"X-Request-Id": 'x"}\n{"level": "critical'}):
        response = client.get("/api/v1/certificates", headers=headers)
        made = response.headers["x-request-id"]
        assert len(made) == 32 and made.isalnum()
        own = [line for line in lines(json_logs) if line["request_id"] == made]
        assert own, json_logs.getvalue()
    # httpx logs the test's own client side.
    orphans = {line["logger"] for line in lines(json_logs) if line["request_id"] == "-"}
    assert orphans <= {"httpx"}, orphans


def test_no_token_passphrase_or_private_key_reaches_the_logs(
    client: TestClient[Any],
    settings: Settings,
    cli_env: dict[str, str],
    tmp_path: Path,
    json_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    body = make_body(settings)
    token, passphrase = body.token, TEST_PASSPHRASE.decode()
    issued = client.post(
        "/api/v1/certificates", json=certificate_fields("SMT-2026-0101"), headers=body.auth
    )
    assert issued.status_code == 201, issued.text
    # A wrong token and a server error are logged too: still no secret.
    client.post(
        "/api/v1/certificates",
        json=certificate_fields("SMT-2026-0102"),
        headers={"Authorization": f"Bearer {token}x"},
    )
    # The CLI unlocks a key file with the passphrase and signs an import with it.
    from tests.registry.certificates.test_import import row, write_csv

    env = {**cli_env, "STARMARK_KEY_PASSPHRASE": passphrase}
    key_file = tmp_path / "body.key"
    made = CliRunner().invoke(
        main, ["key", "generate", "--body", "CQCT", "--out", str(key_file)], env=env
    )
    assert made.exit_code == 0, made.output
    csv_path = write_csv(tmp_path / "in.csv", [row("IMP-2026-0101")], encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["cert", "import", str(csv_path), "--body", "CQCT", "--key", str(key_file), "--quiet"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    private_key = key_file.read_text()

    everything = "\n".join(
        [json_logs.getvalue(), caplog.text, *(r.getMessage() for r in caplog.records)]
    )
    assert "SMT-2026-0101" in everything or "/api/v1/certificates" in everything
    for secret in (token, passphrase, private_key.strip(), "PRIVATE KEY"):
        assert secret not in everything
        assert secret not in result.output + made.output
