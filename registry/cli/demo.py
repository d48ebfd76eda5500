"""`starmark demo`: seed a demo body, key, token and sample certificates."""

from __future__ import annotations

import click

from registry.bodies.services import HostedKeyVault
from registry.cli.context import now, run_with_database
from registry.demo import DEMO_BODY, DemoResult, seed_demo
from registry.settings import Settings


@click.command()
def demo() -> None:
    """Seed a demo (once): a body, a hosted key, a token and ~30 certificates."""

    async def work(settings: Settings, vault: HostedKeyVault) -> DemoResult:
        return await seed_demo(vault=vault, now=now())

    result = run_with_database(work)
    if result.skipped:
        click.echo(f"the demo body {DEMO_BODY} exists already; nothing to do")
        return
    assert result.token is not None
    click.echo(f"seeded {result.created} certificates for the demo body {DEMO_BODY}")
    click.echo("open http://127.0.0.1:8000/api/v1/certificates to look around")
    click.echo(f"API token for {DEMO_BODY} (shown only once):")
    click.echo(result.token.token)
