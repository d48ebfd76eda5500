"""Console accounts: `starmark user add EMAIL (--body CODE | --operator)
[--role issuer|viewer] [--password-stdin]`."""

from __future__ import annotations

import sys

import click

from registry.bodies.services import HostedKeyVault
from registry.cli.context import fail, now, run_with_database
from registry.console.accounts import SET_PASSWORD_VALIDITY, NewAccount, add_user
from registry.principals import Principal
from registry.settings import Settings


@click.group(name="user")
def user_group() -> None:
    """Console accounts (/console)."""


@user_group.command(name="add")
@click.argument("email")
@click.option("--body", "body_code", help="The certification body the person works for.")
@click.option("--operator", is_flag=True, help="An operator's account (every body).")
@click.option(
    "--role",
    type=click.Choice(["issuer", "viewer"]),
    default="issuer",
    show_default=True,
    help="issuer reads and writes; viewer only reads.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of printing a link to set it.",
)
def add(email: str, body_code: str | None, operator: bool, role: str, password_stdin: bool) -> None:
    """Add a console account.

    Without --password-stdin it prints a one-time link, valid for 24 hours, where
    the person sets their own password.
    """
    if operator == (body_code is not None):
        fail("give exactly one of --body CODE and --operator", code=2)
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")

    async def work(settings: Settings, vault: HostedKeyVault) -> tuple[NewAccount, str]:
        made = await add_user(
            email,
            body_code=body_code,
            is_operator=operator,
            role=role,
            password=password,
            now=now(),
            principal=Principal.cli(),
        )
        return made, settings.public_url

    made, public_url = run_with_database(work)
    account = made.account
    who = "operator" if account.is_operator else f"{account.role} for {account.body_code}"
    click.echo(f"added {account.email} ({who})")
    if made.set_password_token is not None:
        hours = int(SET_PASSWORD_VALIDITY.total_seconds() // 3600)
        click.echo(f"set the password within {hours} hours at:")
        click.echo(f"{public_url}/console/set-password?token={made.set_password_token}")
