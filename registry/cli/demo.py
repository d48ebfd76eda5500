"""`starmark demo`: seed a demo body, key, token, console account and sample certificates."""

from __future__ import annotations

import click

from registry.bodies.services import HostedKeyVault
from registry.cli.context import now, run_with_database
from registry.console.accounts import SET_PASSWORD_VALIDITY, add_user
from registry.demo import DEMO_BODY, DemoResult, seed_demo
from registry.principals import Principal
from registry.settings import Settings

#: The demo's console account: an issuer of the demo body, whose password the person
#: trying the registry sets through the one-time link (no password is made up here).
DEMO_CLERK = "clerk@smdemo.example"


@click.command()
def demo() -> None:
    """Seed a demo (once): a body, a hosted key, a token, a console account and ~30
    certificates. Prints where to look, the one-time link that sets the console
    account's password, and the API token."""

    async def work(settings: Settings, vault: HostedKeyVault) -> tuple[DemoResult, str | None, str]:
        result = await seed_demo(vault=vault, now=now())
        link = None
        if not result.skipped:
            made = await add_user(
                DEMO_CLERK,
                body_code=DEMO_BODY,
                is_operator=False,
                role="issuer",
                password=None,
                now=now(),
                principal=Principal.cli(),
            )
            link = made.set_password_token
        return result, link, settings.public_url

    result, link, public_url = run_with_database(work)
    if result.skipped:
        click.echo(f"the demo body {DEMO_BODY} exists already; nothing to do")
        return
    assert result.token is not None
    click.echo(f"seeded {result.created} certificates for the demo body {DEMO_BODY}")
    click.echo(f"look around: {public_url}/ (the API: {public_url}/api/v1/certificates)")
    hours = int(SET_PASSWORD_VALIDITY.total_seconds() // 3600)
    click.echo(
        f"console account {DEMO_CLERK} (issuer for {DEMO_BODY}): "
        f"set its password within {hours} hours at"
    )
    click.echo(f"{public_url}/console/set-password?token={link}")
    click.echo(f"API token for {DEMO_BODY} (shown only once):")
    click.echo(result.token.token)
