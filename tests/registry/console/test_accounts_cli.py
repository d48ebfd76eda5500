"""`starmark user add`: accounts for the console, with a password or a one-time link."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient

from registry.cli import main
from tests.factories import BodyFixture, make_body
from tests.registry.console.conftest import PASSWORD, csrf_token, sign_in


def test_user_add_prints_a_link_that_sets_the_password(
    console: TestClient[Any], body: BodyFixture, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["user", "add", "clerk@cqct.example", "--body", body.code], env=cli_env
    )
    assert result.exit_code == 0, result.output
    link = next(line for line in result.output.splitlines() if "set-password?token=" in line)
    assert link.startswith("http://127.0.0.1:8000/console/set-password?token=")  # the public URL
    path = link.removeprefix("http://127.0.0.1:8000")
    form = {"token": path.split("token=")[1], "_csrf_token": csrf_token(console, path)}
    console.post(
        "/console/set-password", data={**form, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert sign_in(console, "clerk@cqct.example").status_code == 303


def test_user_add_with_a_password_on_standard_input(
    console: TestClient[Any], body: BodyFixture, cli_env: dict[str, str]
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["user", "add", "op@registry.example", "--operator", "--password-stdin"],
        input=PASSWORD + "\n",
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "set-password" not in result.output
    assert sign_in(console, "op@registry.example").status_code == 303
    again = runner.invoke(main, ["user", "add", "op@registry.example", "--operator"], env=cli_env)
    assert again.exit_code == 1
    assert "has an account already" in again.output
    both = runner.invoke(main, ["user", "add", "x@example.cn"], env=cli_env)
    assert both.exit_code == 2


def test_a_body_with_its_own_key_is_told_to_upload_signed_files(
    console: TestClient[Any], clean_db: Any, settings: Any, cli_env: dict[str, str]
) -> None:
    own = make_body(settings, "OWNK", "自有密钥认证机构", hosted=False)
    runner = CliRunner()
    runner.invoke(
        main,
        ["user", "add", "clerk@ownk.example", "--body", own.code, "--password-stdin"],
        input=PASSWORD + "\n",
        env=cli_env,
    )
    assert sign_in(console, "clerk@ownk.example").status_code == 303
    page = console.get("/console/certificates/new")
    assert page.status_code == 200
    assert ".jws" in page.text
    assert 'name="holder.uscc"' not in page.text
