"""The `starmark` command against the real database (and a real server for uploads)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from registry.cli import main
from registry.settings import Settings
from signing.instants import CST
from tests.factories import certificate_fields, count_rows, make_body

STARMARK = Path(sys.executable).parent / "starmark"


def starmark(cli_env: dict[str, str], *args: str) -> Any:
    """Run the installed `starmark` command in its own process, as a script would."""
    return subprocess.run(
        [str(STARMARK), *args],
        env={**os.environ, **cli_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_own_key_made_and_used_offline_by_the_cli_is_accepted_by_a_remote_registry(
    clean_db: Any, settings: Settings, live_server: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    added = starmark(cli_env, "body", "add", "OWNKEY", "--name", "自持密钥认证中心")
    assert added.returncode == 0, added.stderr
    key_file = tmp_path / "ownkey.pem"
    generated = starmark(cli_env, "key", "generate", "--body", "OWNKEY", "--out", str(key_file))
    assert generated.returncode == 0, generated.stderr
    kid = generated.stdout.strip().splitlines()[-1]
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    token = starmark(cli_env, "token", "create", "--body", "OWNKEY").stdout.strip().splitlines()[-1]
    assert token.startswith("smk_")

    cert_file = tmp_path / "cert.json"
    cert_file.write_text(json.dumps(certificate_fields("OWN-2026-0001", score=95)), "utf-8")
    before = count_rows()
    # The remote registry never sees the private key: only the signed JWS travels.
    issued = starmark(
        {**cli_env, "DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3"},
        "cert",
        "issue",
        str(cert_file),
        "--body",
        "OWNKEY",
        "--key",
        str(key_file),
        "--registry",
        live_server,
        "--token",
        token,
    )
    assert issued.returncode == 0, issued.stderr
    assert "OWN-2026-0001" in issued.stdout
    assert count_rows()["certificate"] == before["certificate"] + 1

    document = httpx.get(f"{live_server}/api/v1/certificates/OWN-2026-0001").json()
    assert document["revisions"][0]["kid"] == kid
    assert document["status"] == "valid"
    jwks = httpx.get(f"{live_server}/.well-known/jwks.json").json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    decoded = jwt.api_jws.PyJWS().decode_complete(
        document["revisions"][0]["jws"], key=jwt.PyJWK(jwk), algorithms=["EdDSA"]
    )
    assert json.loads(decoded["payload"])["level"] == "five_star"

    # A status change signed offline too.
    suspended = starmark(
        cli_env,
        "cert",
        "status",
        "OWN-2026-0001",
        "suspended",
        "--reason",
        "整改",
        "--key",
        str(key_file),
        "--registry",
        live_server,
        "--token",
        token,
    )
    assert suspended.returncode == 0, suspended.stderr
    verdict = httpx.get(f"{live_server}/api/v1/certificates/OWN-2026-0001/verification").json()
    assert verdict["status"] == "suspended"


def test_token_create_prints_the_token_alone_on_the_last_line(
    clean_db: Any, cli_env: dict[str, str], settings: Settings
) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["body", "add", "CQCT", "--name", "华信认证中心"], env=cli_env
        ).exit_code
        == 0
    )
    result = runner.invoke(main, ["token", "create", "--body", "CQCT"], env=cli_env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("smk_") and " " not in token
    # It works, and it is not stored: only its hash is.
    assert token not in json.dumps(count_rows())
    usage = runner.invoke(main, ["token", "create"], env=cli_env)
    assert usage.exit_code == 2


def test_hosted_issue_status_and_key_compromise_from_the_cli(
    client: TestClient[Any], cli_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["body", "add", "CQCT", "--name", "华信认证中心"], env=cli_env
        ).exit_code
        == 0
    )
    generated = runner.invoke(main, ["key", "generate", "--body", "CQCT", "--hosted"], env=cli_env)
    assert generated.exit_code == 0, generated.output
    kid = generated.stdout.strip().splitlines()[-1]
    cert_file = tmp_path / "cert.json"
    cert_file.write_text(json.dumps(certificate_fields("CLI-2026-0001", score=82)), "utf-8")
    issued = runner.invoke(main, ["cert", "issue", str(cert_file), "--body", "CQCT"], env=cli_env)
    assert issued.exit_code == 0, issued.output
    assert "three_star" in issued.output

    status = runner.invoke(
        main, ["cert", "status", "CLI-2026-0001", "withdrawn", "--reason", "客户申请"], env=cli_env
    )
    assert status.exit_code == 0, status.output
    assert client.get("/api/v1/certificates/CLI-2026-0001/verification").json()["status"] == (
        "withdrawn"
    )
    # Nothing follows a withdrawal: a clear message, exit 1, nothing stored.
    before = count_rows()
    again = runner.invoke(main, ["cert", "status", "CLI-2026-0001", "reinstated"], env=cli_env)
    assert again.exit_code == 1
    assert "withdrawn" in again.output
    assert count_rows() == before

    # A key marked compromised before the documents were signed: they stop counting.
    compromised = runner.invoke(
        main, ["key", "compromise", "--at", "2020-01-01", "--", kid], env=cli_env
    )
    assert compromised.exit_code == 0, compromised.output
    verdict = client.get("/api/v1/certificates/CLI-2026-0001/verification").json()
    assert verdict["status"] == "signature_invalid"
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == kid)
    assert jwk["state"] == "compromised" and jwk["compromised_at"].startswith("2019-12-31T16:00")


def test_cli_errors_are_one_line_reasons_not_tracebacks(
    clean_db: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", "utf-8")
    result = runner.invoke(main, ["cert", "issue", str(bad), "--body", "NOPE"], env=cli_env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "not a JSON file" in result.output
    good = tmp_path / "good.json"
    good.write_text(json.dumps(certificate_fields()), "utf-8")
    unknown = runner.invoke(main, ["cert", "issue", str(good), "--body", "NOPE"], env=cli_env)
    assert unknown.exit_code == 1
    assert "no certification body with code NOPE" in unknown.output


def test_key_files_need_a_passphrase_the_user_chose(tmp_path: Path) -> None:
    # No STARMARK_KEY_PASSPHRASE: a key file is neither written nor read, and the
    # hosted keys' development stand-in (a file in the data directory) is not made.
    env: dict[str, str | None] = {
        "STARMARK_KEY_PASSPHRASE": None,
        "STARMARK_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "sqlite:////nonexistent/never-used.sqlite3",
    }
    runner = CliRunner()
    key_file = tmp_path / "own.pem"
    generated = runner.invoke(
        main, ["key", "generate", "--body", "OWN", "--out", str(key_file)], env=env
    )
    assert generated.exit_code == 2
    assert "set STARMARK_KEY_PASSPHRASE to encrypt the key file" in generated.output
    assert not key_file.exists()
    cert_file = tmp_path / "cert.json"
    cert_file.write_text(json.dumps(certificate_fields("OWN-2026-0001")), "utf-8")
    key_file.write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    args = ["cert", "issue", str(cert_file), "--body", "OWN", "--key", str(key_file)]
    issued = runner.invoke(
        main, [*args, "--registry", "http://127.0.0.1:9", "--token", "t"], env=env
    )
    assert issued.exit_code == 2
    assert "set STARMARK_KEY_PASSPHRASE to unlock the key file" in issued.output
    assert not (tmp_path / "data").exists()


def test_operator_api_registers_bodies_keys_and_tokens(
    client: TestClient[Any], settings: Settings
) -> None:
    from tests.factories import make_operator_token

    operator = {"Authorization": f"Bearer {make_operator_token()}"}
    body = make_body(settings)
    # A body token is not an operator token.
    assert (
        client.post(
            "/api/v1/bodies", json={"code": "X1", "name": "x"}, headers=body.auth
        ).status_code
        == 403
    )
    created = client.post(
        "/api/v1/bodies",
        json={"code": "NEWB", "name": "新认证机构", "name_en": "New CB"},
        headers=operator,
    )
    assert created.status_code == 201, created.text
    assert (
        client.post(
            "/api/v1/bodies", json={"code": "NEWB", "name": "again"}, headers=operator
        ).status_code
        == 409
    )
    hosted = client.post("/api/v1/bodies/NEWB/keys", json={"custody": "hosted"}, headers=operator)
    assert hosted.status_code == 201, hosted.text
    assert hosted.json()["custody"] == "hosted" and "d" not in hosted.json()["jwk"]
    from signing.keys import PrivateKey

    own = PrivateKey.generate()
    registered = client.post(
        "/api/v1/bodies/NEWB/keys", json={"jwk": own.public_key.to_jwk()}, headers=operator
    )
    assert registered.status_code == 201 and registered.json()["kid"] == own.kid
    bad_jwk = client.post(
        "/api/v1/bodies/NEWB/keys",
        json={"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "short"}},
        headers=operator,
    )
    assert bad_jwk.status_code == 422
    token = client.post("/api/v1/bodies/NEWB/tokens", json={"label": "ci"}, headers=operator)
    assert token.status_code == 201 and token.json()["token"].startswith("smk_")
    listed = client.get("/api/v1/bodies").json()["items"]
    newb = next(b for b in listed if b["code"] == "NEWB")
    assert {k["kid"] for k in newb["keys"]} == {hosted.json()["kid"], own.kid}
    compromise = client.post(
        f"/api/v1/keys/{own.kid}/compromise",
        json={"compromised_at": "2026-01-01"},
        headers=operator,
    )
    assert compromise.status_code == 200, compromise.text
    assert (
        client.post(f"/api/v1/keys/{own.kid}/compromise", json={}, headers=body.auth).status_code
        == 403
    )


def test_migrations_build_an_empty_database_from_nothing(tmp_path: Path, database_url: str) -> None:
    """Every migration runs forward on an empty database (this engine)."""
    import asyncio

    from registry import db

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        drop = None
    else:
        base, _, _ = database_url.rpartition("/")
        name = "sm_fresh_migration_test"
        import asyncpg

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(f"{base}/postgres")
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(admin(f"CREATE DATABASE {name}"))
        url = f"{base}/{name}"
        drop = lambda: asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))  # noqa: E731

    async def migrate_and_count() -> int:
        async with db.connected(url):
            from registry.certificates.tables import Certificate

            return await Certificate.count().run()

    try:
        assert asyncio.run(migrate_and_count()) == 0
        # Running again is a no-op, not an error.
        assert asyncio.run(migrate_and_count()) == 0
    finally:
        if drop:
            drop()
        from registry.certificates.tables import Certificate

        # Leave the suite's tables bound to the suite's database.
        db.use_engine(db.engine_from_url(database_url))
        del Certificate


def test_a_revoked_token_stops_working(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str]
) -> None:
    body = make_body(settings)
    assert client.post("/api/v1/certificates", json=certificate_fields("REV-TOK-0001"),
                       headers=body.auth).status_code == 201  # fmt: skip
    prefix = body.token[:12]
    result = CliRunner().invoke(main, ["token", "revoke", prefix], env=cli_env)
    assert result.exit_code == 0, result.output
    refused = client.post(
        "/api/v1/certificates", json=certificate_fields("REV-TOK-0002"), headers=body.auth
    )
    assert refused.status_code == 401
    assert client.get("/api/v1/certificates/REV-TOK-0002").status_code == 404


def test_token_list_says_when_each_token_was_last_used_and_which_are_revoked(
    client: TestClient[Any], settings: Settings, cli_env: dict[str, str]
) -> None:
    body = make_body(settings)
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "--body", body.code, "--label", "ERP"],
                         env=cli_env)  # fmt: skip
    spare = made.stdout.strip().splitlines()[-1][:12]

    def listed() -> dict[str, list[str]]:
        result = runner.invoke(main, ["token", "list", "--body", body.code], env=cli_env)
        assert result.exit_code == 0, result.output
        return {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}

    assert listed()[f"{body.token[:12]}…"][2] == "last used never"
    assert client.post("/api/v1/certificates", json=certificate_fields("LST-TOK-0001"),
                       headers=body.auth).status_code == 201  # fmt: skip
    assert runner.invoke(main, ["token", "revoke", spare], env=cli_env).exit_code == 0

    rows = listed()
    used = rows[f"{body.token[:12]}…"]
    # China Standard Time, as the console shows it; this minute or the one before.
    now = datetime.now(UTC)
    assert used[2] in {
        f"last used {(now - timedelta(minutes=m)).astimezone(CST):%Y-%m-%d %H:%M}" for m in (0, 1)
    }
    assert used[3] == "active"
    never_used = rows[f"{spare}…"]
    assert never_used[2] == "last used never"
    assert never_used[3].startswith("revoked ") and never_used[4] == "ERP"
    unknown = runner.invoke(main, ["token", "list", "--body", "NOSUCH"], env=cli_env)
    assert unknown.exit_code == 1 and "no certification body" in unknown.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":' * 1000 + "1" + "}" * 1000, "nested deeper than 32"),
        ('{"number": "CLI-2026-0001", "number": "CLI-2026-0002"}', "appears twice"),
        ('{"number": "CLI-2026-\\u0000"}', "NUL"),
    ],
)
def test_cert_issue_reads_files_by_the_registry_json_rules(
    clean_db: Any, cli_env: dict[str, str], tmp_path: Path, text: str, message: str
) -> None:
    before = count_rows()
    hostile = tmp_path / "hostile.json"
    hostile.write_text(text, "utf-8")
    result = CliRunner().invoke(
        main, ["cert", "issue", str(hostile), "--body", "CQCT"], env=cli_env
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert count_rows() == before


def test_cert_issue_refuses_dates_outside_the_years(
    clean_db: Any, cli_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    make_body(settings)
    before = count_rows()
    fields = certificate_fields("CLI-2026-0001", valid_from="9999-12-31")
    bad = tmp_path / "far.json"
    bad.write_text(json.dumps(fields), "utf-8")
    result = CliRunner().invoke(main, ["cert", "issue", str(bad), "--body", "CQCT"], env=cli_env)
    assert result.exit_code == 1, result.output
    assert "valid_from" in result.output and "2099-12-31" in result.output
    assert "Traceback" not in result.output
    assert count_rows() == before
