"""`starmark verify`: the command-line contract of PRODUCT §4 (exit 0, 1, 2; --json)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry.cli import main
from signing.documents import CertificatePayload, StatusEventPayload
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, STATUS_TYP, sign_compact
from signing.keys import KeyRecord, KeyState, PrivateKey

KEY = PrivateKey.from_seed(bytes(range(32)))
SIGNED_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
NUMBER = "CQC-2026-ASS-0001"
VERDICT_KEYS = {
    "number", "status", "signature", "as_of", "checked_at", "revision", "level", "warnings",
    "certificate", "reason", "reason_code", "reason_params",
}  # fmt: skip


def certificate(*, signed_at: datetime = SIGNED_AT, **overrides: Any) -> CertificatePayload:
    fields: dict[str, Any] = {
        "number": NUMBER,
        "score": 96,
        "holder": {"name": "青岛海尔智家股份有限公司", "uscc": "91370200264574251E"},
        "scope": {"zh": "家用电器的售后服务"},
        "issued_on": "2026-01-05",
        "valid_from": "2026-01-05",
    }
    fields.update(overrides)
    return CertificatePayload.build(
        fields, issuer_code="CQC", issuer_name="中国质量认证中心", revision=1, signed_at=signed_at
    )


def cert_token(key: PrivateKey = KEY, **overrides: Any) -> str:
    return sign_compact(certificate(**overrides).to_json(), key=key, typ=CERTIFICATE_TYP)


def event_token(status: str, effective_at: str) -> str:
    event = StatusEventPayload.build(
        {"status": status, "effective_at": effective_at},
        number=NUMBER,
        revision=1,
        issuer_code="CQC",
        signed_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    return sign_compact(event.to_json(), key=KEY, typ=STATUS_TYP)


def served_jwks(**record: Any) -> dict[str, Any]:
    return KeySet.of(KeyRecord(KEY.public_key, body="CQC", **record)).to_jwks()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "cert": tmp_path / "cert.jws",
        "event": tmp_path / "event.jws",
        "jwks": tmp_path / "jwks.json",
        "plain": tmp_path / "plain.json",
        "garbage": tmp_path / "garbage.jws",
    }
    paths["cert"].write_text(cert_token() + "\n")
    paths["event"].write_text(event_token("suspended", "2026-02-01T00:00:00Z"))
    paths["jwks"].write_text(json.dumps(served_jwks()))
    paths["plain"].write_text(json.dumps({"keys": [KEY.public_key.to_jwk()]}))
    paths["garbage"].write_bytes(b"\x00\xffthis is not a JWS at all\n")
    return paths


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, ["verify", *map(str, args)], catch_exceptions=False)


def test_a_valid_certificate_exits_0_with_a_summary(files: dict[str, Path]) -> None:
    result = run(files["cert"], "--jwks", files["jwks"], "--at", "2026-03-01")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "VALID  有效"
    for text in (NUMBER, "青岛海尔智家股份有限公司", "five_star 五星级 ★★★★★", KEY.kid, "CQC"):
        assert text in result.stdout


def test_json_output_is_the_verdict(files: dict[str, Path]) -> None:
    result = run(files["cert"], "--jwks", files["jwks"], "--at", "2026-03-01T00:00:00Z", "--json")
    assert result.exit_code == 0
    verdict = json.loads(result.stdout)
    assert set(verdict) == VERDICT_KEYS
    assert verdict["status"] == "valid"
    assert verdict["signature"] == {"valid": True, "kid": KEY.kid, "issuer": "CQC"}
    assert verdict["as_of"] == "2026-03-01T00:00:00Z"
    assert verdict["certificate"] == certificate().to_json()
    assert (verdict["revision"], verdict["level"], verdict["warnings"]) == (1, "five_star", [])


def test_min_level(files: dict[str, Path]) -> None:
    met = run(files["cert"], "--jwks", files["jwks"], "--min-level", "five_star", "--json")
    assert met.exit_code == 0 and json.loads(met.stdout)["meets_min_level"] is True
    low = tmp_cert(files["cert"].parent, score=85)
    missed = run(low, "--jwks", files["jwks"], "--min-level", "four_star", "--json")
    assert missed.exit_code == 1
    assert json.loads(missed.stdout)["meets_min_level"] is False
    assert run(low, "--jwks", files["jwks"], "--min-level", "six_star").exit_code == 2


def tmp_cert(folder: Path, **overrides: Any) -> Path:
    path = folder / "other.jws"
    path.write_text(cert_token(**overrides))
    return path


def test_a_plain_jwks(files: dict[str, Path]) -> None:
    assert run(files["cert"], "--jwks", files["plain"]).exit_code == 0


@pytest.mark.parametrize(
    ("at", "status"),
    [
        ("2029-01-04T23:59:59+08:00", "valid"),
        ("2029-01-05", "expired"),
        ("2026-01-04", "not_yet_valid"),
    ],
)
def test_at(files: dict[str, Path], at: str, status: str) -> None:
    result = run(files["cert"], "--jwks", files["jwks"], "--at", at, "--json")
    assert json.loads(result.stdout)["status"] == status
    assert result.exit_code == (0 if status == "valid" else 1)


def test_a_compromised_key(files: dict[str, Path], tmp_path: Path) -> None:
    jwks = tmp_path / "compromised.json"
    jwks.write_text(
        json.dumps(served_jwks(state=KeyState.COMPROMISED, compromised_at=SIGNED_AT - timedelta(1)))
    )
    result = run(files["cert"], "--jwks", jwks, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "signature_invalid"


def test_an_unknown_key(files: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "stranger.jws"
    path.write_text(cert_token(key=PrivateKey.from_seed(b"\x03" * 32)))
    result = run(path, "--jwks", files["jwks"])
    assert result.exit_code == 1
    assert result.stdout.startswith("SIGNATURE INVALID")
    assert "unknown key" in result.stdout


def test_a_tampered_jws(files: dict[str, Path], tmp_path: Path) -> None:
    header, payload, signature = files["cert"].read_text().strip().split(".")
    path = tmp_path / "tampered.jws"
    path.write_text(f"{header}.{payload}.{signature[:-3]}AAA")
    assert run(path, "--jwks", files["jwks"]).exit_code == 1


def test_a_garbage_jws_file(files: dict[str, Path]) -> None:
    result = run(files["garbage"], "--jwks", files["jwks"], "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "signature_invalid"


def test_a_status_event_alone(files: dict[str, Path]) -> None:
    result = run(files["event"], "--jwks", files["jwks"], "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "valid"


def signed_ahead(folder: Path, ahead: timedelta) -> Path:
    """A certificate valid since yesterday, signed `ahead` of this machine's clock."""
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).date().isoformat()
    path = folder / "ahead.jws"
    path.write_text(cert_token(signed_at=now + ahead, issued_on=yesterday, valid_from=yesterday))
    return path


def test_a_document_signed_two_days_ahead_is_not_valid(
    files: dict[str, Path], tmp_path: Path
) -> None:
    path = signed_ahead(tmp_path, timedelta(days=2))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    # --at asks about an instant; it does not move the verifier's clock.
    for at in ([], ["--at", later]):
        result = run(path, "--jwks", files["jwks"], "--json", *at)
        assert result.exit_code == 1, result.output
        verdict = json.loads(result.stdout)
        assert verdict["status"] == "signature_invalid"
        assert verdict["signature"]["valid"] is False
        assert "claims to be signed in the future" in verdict["reason"]
    summary = run(path, "--jwks", files["jwks"])
    assert summary.exit_code == 1
    assert summary.stdout.startswith("SIGNATURE INVALID")


def test_a_document_signed_four_minutes_ahead_is_valid(
    files: dict[str, Path], tmp_path: Path
) -> None:
    path = signed_ahead(tmp_path, timedelta(minutes=4))
    result = run(path, "--jwks", files["jwks"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "valid"


def assert_usage_error(result: Any, words: str) -> None:
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_jws_file(files: dict[str, Path], tmp_path: Path) -> None:
    result = run(tmp_path / "missing.jws", "--jwks", files["jwks"])
    assert_usage_error(result, "cannot read JWS file")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_jwks_file(files: dict[str, Path], tmp_path: Path) -> None:
    assert_usage_error(
        run(files["cert"], "--jwks", tmp_path / "none.json"), "cannot read JWKS file"
    )


def test_an_invalid_jwks_file(files: dict[str, Path], tmp_path: Path) -> None:
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    assert_usage_error(run(files["cert"], "--jwks", not_json), "is not JSON")
    bad_key = tmp_path / "bad.json"
    bad_key.write_text(json.dumps({"keys": [{"kty": "RSA"}]}))
    assert_usage_error(run(files["cert"], "--jwks", bad_key), "not a usable JWKS: keys[0]")
    a_directory = tmp_path
    assert_usage_error(run(files["cert"], "--jwks", a_directory), "cannot read JWKS file")


def test_usage_errors(files: dict[str, Path]) -> None:
    assert_usage_error(run(files["cert"]), "give --jwks FILE")
    assert_usage_error(run(NUMBER, "--jwks", files["jwks"]), "needs --registry URL")
    assert_usage_error(run("a b c", "--registry", "http://127.0.0.1:9"), "neither a readable file")
    both = run(files["cert"], "--jwks", files["jwks"], "--registry", "http://127.0.0.1:9")
    assert both.exit_code == 2 and "not both" in both.stderr
    bad_at = run(files["cert"], "--jwks", files["jwks"], "--at", "soon")
    assert bad_at.exit_code == 2 and "RFC 3339" in bad_at.stderr


# --- --registry, against a real HTTP server ------------------------------------------


@pytest.fixture
def registry_server() -> Iterator[tuple[str, dict[str, tuple[int, Any]]]]:
    """A tiny HTTP server answering fixed JSON by path (not the registry app: this
    command must work against any server that speaks the documented API)."""
    routes: dict[str, tuple[int, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes.get(self.path, (404, {"title": "not found"}))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


def test_registry_number(registry_server: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    url, routes = registry_server
    routes["/.well-known/jwks.json"] = (200, served_jwks())
    routes[f"/api/v1/certificates/{NUMBER}"] = (
        200,
        {
            "number": NUMBER,
            "revisions": [{"revision": 1, "jws": cert_token()}],
            "events": [
                {
                    "status": "suspended",
                    "effective_at": "2026-02-01T00:00:00Z",
                    "recorded_at": "2026-02-01T00:00:05Z",
                    "jws": event_token("suspended", "2026-02-01T00:00:00Z"),
                }
            ],
        },
    )
    before = run(NUMBER.lower(), "--registry", url + "/", "--at", "2026-01-20", "--json")
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout)["status"] == "valid"
    after = run(NUMBER, "--registry", url, "--at", "2026-03-01", "--json")
    assert after.exit_code == 1
    assert json.loads(after.stdout)["status"] == "suspended"


def test_registry_not_found(registry_server: tuple[str, dict[str, tuple[int, Any]]]) -> None:
    url, routes = registry_server
    routes["/.well-known/jwks.json"] = (200, served_jwks())
    result = run("CQC-404404", "--registry", url, "--json")
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert (verdict["status"], verdict["number"]) == ("not_found", "CQC-404404")


def test_registry_file_with_registry_keys(
    registry_server: tuple[str, dict[str, tuple[int, Any]]], files: dict[str, Path]
) -> None:
    url, routes = registry_server
    routes["/.well-known/jwks.json"] = (200, served_jwks())
    assert run(files["cert"], "--registry", url).exit_code == 0


def test_registry_unreachable_or_unreadable(
    registry_server: tuple[str, dict[str, tuple[int, Any]]],
) -> None:
    url, routes = registry_server
    assert_usage_error(run(NUMBER, "--registry", url), "HTTP 404")  # no JWKS served
    routes["/.well-known/jwks.json"] = (200, {"keys": "none"})
    assert_usage_error(run(NUMBER, "--registry", url), "JWKS is not usable")
    assert_usage_error(run(NUMBER, "--registry", "http://127.0.0.1:9"), "cannot reach")


# --- the installed command, as a script runs it ---------------------------------------


def test_the_installed_starmark_command(files: dict[str, Path]) -> None:
    starmark = Path(sys.executable).parent / "starmark"
    assert starmark.exists(), "install the project: pip install -e ."
    ok = subprocess.run(
        [starmark, "verify", files["cert"], "--jwks", files["jwks"], "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "valid"
    expired = subprocess.run(
        [starmark, "verify", files["cert"], "--jwks", files["jwks"], "--at", "2030-01-01"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert expired.returncode == 1 and expired.stdout.startswith("EXPIRED")
    missing = subprocess.run(
        [starmark, "verify", files["cert"].with_name("nope.jws"), "--jwks", files["jwks"]],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
