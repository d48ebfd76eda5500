"""What `starmark` prints: clean standard output, and a banner or a warning only when
it matters, once, on standard error."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry.cli import main
from registry.settings import Settings, serve_environment
from tests.registry.cli.test_registry_cli import starmark

WARNING = "STARMARK_KEY_PASSPHRASE is not set"


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite registry with the development passphrase (no STARMARK_KEY_PASSPHRASE)."""
    env = {k: v for k, v in os.environ.items() if k != "STARMARK_KEY_PASSPHRASE"}
    env["STARMARK_DATA_DIR"] = str(tmp_path / "data")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'starmark.sqlite3'}"
    env["STARMARK_KEY_PASSPHRASE"] = ""
    return env


def test_the_banner_shows_when_migrations_run_and_the_warning_once(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    first = starmark(dev_env, "db", "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "database is up to date"
    # Migrations ran, and the registry key was sealed with the stand-in: both said, once.
    assert "Running" in first.stderr
    assert first.stderr.count(WARNING) == 1
    again = starmark(dev_env, "db", "migrate")
    assert again.returncode == 0
    assert again.stderr == ""
    # A command that uses no hosted key says nothing either.
    body = starmark(dev_env, "body", "add", "QUIET", "--name", "安静认证中心")
    assert body.returncode == 0 and body.stderr == ""
    # One that makes a hosted key warns, once.
    key = starmark(dev_env, "key", "generate", "--body", "QUIET", "--hosted")
    assert key.returncode == 0, key.stderr
    assert key.stderr.count(WARNING) == 1
    assert WARNING not in key.stdout


def test_verify_json_prints_json_alone(dev_env: dict[str, str], tmp_path: Path) -> None:
    starmark(dev_env, "db", "migrate")
    usage = starmark(dev_env, "verify", "--help")
    assert usage.returncode == 0 and usage.stderr == ""
    missing = tmp_path / "nothing.jws"
    missing.write_text("not-a-jws", "ascii")
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": []}), "ascii")
    result = starmark(dev_env, "verify", str(missing), "--jwks", str(keys), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["status"] in ("malformed", "signature_invalid")
    assert result.stderr == ""


def test_serve_names_its_own_host_and_port_when_no_public_url_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert serve_environment({}, host="127.0.0.1", port=8123)["STARMARK_PUBLIC_URL"] == (
        "http://127.0.0.1:8123"
    )
    assert serve_environment({}, host="0.0.0.0", port=9000)["STARMARK_PUBLIC_URL"] == (
        "http://127.0.0.1:9000"
    )
    kept = {"STARMARK_PUBLIC_URL": "https://verify.example.cn"}
    assert serve_environment(kept, host="127.0.0.1", port=8123) == kept

    # `starmark serve --port 8123` as run: the app's settings (read in the server, from
    # the environment) use that address. uvicorn is replaced so that no server is left
    # running: what it would serve is read instead.
    import uvicorn

    seen: dict[str, str] = {}

    def fake_run(*args: Any, **kwargs: Any) -> None:
        seen["public_url"] = Settings.from_env().public_url
        seen["port"] = str(kwargs["port"])
        seen["loop"] = kwargs["loop"]  # not uvloop: its pauses (docs/benchmarks.md)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    # Set empty (so that monkeypatch restores it afterwards): empty counts as unset.
    monkeypatch.setenv("STARMARK_PUBLIC_URL", "")
    monkeypatch.setenv("STARMARK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STARMARK_KEY_PASSPHRASE", "chosen")
    result = CliRunner().invoke(main, ["serve", "--port", "8123", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert seen == {"public_url": "http://127.0.0.1:8123", "port": "8123", "loop": "asyncio"}


def test_the_demo_prints_its_own_address_and_a_console_link_that_opens(
    dev_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run PORT=8123` passes the address it serves on, so the demo's links lead
    there; the demo's console account gets a one-time link to set its password."""
    dev_env["STARMARK_PUBLIC_URL"] = "http://127.0.0.1:8123"
    assert starmark(dev_env, "db", "migrate").returncode == 0
    seeded = starmark(dev_env, "demo")
    assert seeded.returncode == 0, seeded.stderr
    lines = seeded.stdout.splitlines()
    assert "look around: http://127.0.0.1:8123/ " in lines[1] + " "
    assert "console account clerk@smdemo.example (issuer for SMDEMO)" in lines[2]
    link = lines[3]
    assert link.startswith("http://127.0.0.1:8123/console/set-password?token=")
    assert ":8000" not in seeded.stdout

    from litestar.testing import TestClient

    from registry.app import create_app

    for name, value in dev_env.items():
        monkeypatch.setenv(name, value)
    with TestClient(create_app(Settings.from_env())) as client:
        path = link.removeprefix("http://127.0.0.1:8123")
        assert client.get(path).status_code == 200
        assert client.get(path + "x").status_code == 404
