"""Operator commands: serve, db, body, key, token, demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.cli.context import fail, now, run_with_database
from registry.log.backfill import backfill_log
from registry.principals import Principal
from registry.settings import (
    ConfigurationError,
    KeyFileSettings,
    Settings,
    serve_environment,
)
from registry.words import cst_text
from signing.errors import MalformedError
from signing.instants import parse_instant
from signing.keys import PrivateKey


def parse_when(value: str | None, option: str) -> object:
    if value is None:
        return now()
    try:
        return parse_instant(value)
    except MalformedError as e:
        raise click.BadParameter(str(e), param_hint=option) from e


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--no-migrate", is_flag=True, help="Do not run pending migrations first.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Serve the registry over HTTP."""
    import uvicorn

    # The app reads its settings from the environment (registry/asgi.py), also in
    # each worker: QR codes and links follow --host and --port unless
    # STARMARK_PUBLIC_URL says otherwise.
    os.environ.update(serve_environment(os.environ, host=host, port=port))
    try:
        bodies.warn_if_insecure(Settings.from_env().keys.insecure_warning())
    except ConfigurationError as e:
        fail(str(e), code=2)
    if not no_migrate:

        async def migrate(settings: Settings, vault: HostedKeyVault) -> None:
            await bodies.ensure_registry_key(vault=vault, now=now())
            await backfill_log(vault=vault, now=now())

        run_with_database(migrate)
    uvicorn.run(
        "registry.asgi:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # asyncio's own loop, not uvloop (uvicorn's choice when it is installed): at
        # the same rate uvloop paused the app for up to half a second now and then,
        # a page's p99 of 493 ms against 35 (docs/benchmarks.md, "Verification page").
        loop="asyncio",
        log_level="info",
        # Logging is the app's (registry/logs.py): JSON lines with the request id, and
        # one access line per request by route template, not uvicorn's raw paths.
        log_config=None,
        access_log=False,
    )


@click.group(name="db")
def db_group() -> None:
    """The database."""


@db_group.command()
def migrate() -> None:
    """Run pending migrations (SQLite or PostgreSQL, from DATABASE_URL)."""

    async def work(settings: Settings, vault: HostedKeyVault) -> int:
        await bodies.ensure_registry_key(vault=vault, now=now())
        # Documents of a database from before the transparency log become leaves.
        return await backfill_log(vault=vault, now=now())

    added = run_with_database(work)
    if added:
        click.echo(f"{added} documents added to the transparency log")
    click.echo("database is up to date")


@click.group(name="body")
def body_group() -> None:
    """Certification bodies."""


@body_group.command(name="add")
@click.argument("code")
@click.option("--name", required=True, help="Official Chinese name.")
@click.option("--name-en", default=None, help="English name.")
@click.option("--approval-no", default=None, help="Approval number (批准号), e.g. CNCA-R-2002-001.")
@click.option("--website", default=None, help="Web site, an http(s):// URL.")
@click.option("--phone", default=None, help="Telephone, e.g. '+86 10 8388 6666'.")
def body_add(
    code: str,
    name: str,
    name_en: str | None,
    approval_no: str | None,
    website: str | None,
    phone: str | None,
) -> None:
    """Register a certification body."""

    async def work(settings: Settings, vault: HostedKeyVault) -> dict[str, object]:
        return await bodies.add_body(
            code,
            name=name,
            name_en=name_en,
            contact=bodies.BodyContact(approval_no=approval_no, website=website, phone=phone),
            principal=Principal.cli(),
        )

    body = run_with_database(work)
    click.echo(f"registered {body['code']} {body['name']}")


@body_group.command(name="update")
@click.argument("code")
@click.option("--name-en", default=None, help="English name ('' clears it).")
@click.option("--approval-no", default=None, help="Approval number (批准号) ('' clears it).")
@click.option("--website", default=None, help="Web site, an http(s):// URL ('' clears it).")
@click.option("--phone", default=None, help="Telephone ('' clears it).")
def body_update(
    code: str,
    name_en: str | None,
    approval_no: str | None,
    website: str | None,
    phone: str | None,
) -> None:
    """Set an existing body's English name and contact details (options left out stay)."""

    async def work(settings: Settings, vault: HostedKeyVault) -> dict[str, object]:
        return await bodies.update_body(
            code,
            name_en=name_en,
            approval_no=approval_no,
            website=website,
            phone=phone,
            principal=Principal.cli(),
        )

    body = run_with_database(work)
    shown = ", ".join(
        f"{name} {body[name]}" for name in ("approval_no", "website", "phone") if body[name]
    )
    click.echo(f"updated {body['code']} {body['name']}" + (f": {shown}" if shown else ""))


@click.group(name="key")
def key_group() -> None:
    """Signing keys."""


@key_group.command(name="generate")
@click.option("--body", "body_code", required=True, help="The body's code.")
@click.option("--hosted", is_flag=True, help="The registry keeps the key, encrypted.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the private key here (encrypted PKCS#8, STARMARK_KEY_PASSPHRASE).",
)
def key_generate(body_code: str, hosted: bool, out: Path | None) -> None:
    """Make a key for a body; prints its kid on the last line."""
    if hosted == (out is not None):
        raise click.UsageError("give exactly one of --hosted or --out FILE")
    if out is not None:
        passphrase = KeyFileSettings.from_env().passphrase
        if not passphrase:
            raise click.UsageError("set STARMARK_KEY_PASSPHRASE to encrypt the key file")
        if out.exists():
            fail(f"{out} exists; refusing to overwrite a key file", code=2)
        key = PrivateKey.generate()

        async def register(settings: Settings, vault: HostedKeyVault) -> str:
            moment = now()
            return await bodies.register_public_key(
                body_code,
                key.public_key.to_jwk(),
                not_before=moment,
                principal=Principal.cli(),
                vault=vault,
                now=moment,
            )

        pem = key.to_pkcs8_pem(passphrase=passphrase)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            kid = run_with_database(register)
        except SystemExit:
            out.unlink()
            raise
        click.echo(
            f"private key written to {out} (keep it safe; the registry has only its public half)"
        )
    else:

        async def generate(settings: Settings, vault: HostedKeyVault) -> str:
            return await bodies.generate_hosted_key(
                body_code, vault=vault, now=now(), principal=Principal.cli()
            )

        kid = run_with_database(generate)
    click.echo(kid)


@key_group.command(name="compromise")
@click.argument("kid")
@click.option("--at", "at_text", help="Since when (RFC 3339 or date); default now.")
def key_compromise(kid: str, at_text: str | None) -> None:
    """Mark a key compromised: its documents from then on stop counting.

    A kid may start with '-': put `--` before it (`key compromise -- -9Ab...`).
    """
    at = parse_when(at_text, "--at")

    async def work(settings: Settings, vault: HostedKeyVault) -> None:
        await bodies.compromise_key(
            kid,
            at=at,  # type: ignore[arg-type]
            now=now(),
            principal=Principal.cli(),
            vault=vault,
        )

    run_with_database(work)
    click.echo(f"key {kid} marked compromised")


@key_group.command(name="retire")
@click.argument("kid")
def key_retire(kid: str) -> None:
    """Stop a key signing; what it signed stays valid (a kid starting with '-': use `--`)."""

    async def work(settings: Settings, vault: HostedKeyVault) -> None:
        await bodies.retire_key(kid, now=now(), principal=Principal.cli(), vault=vault)

    run_with_database(work)
    click.echo(f"key {kid} retired")


@click.group(name="token")
def token_group() -> None:
    """API tokens."""


@token_group.command(name="create")
@click.option("--body", "body_code", help="The body the token acts for.")
@click.option("--operator", is_flag=True, help="An operator token instead.")
@click.option("--label", default="", help="A note to tell tokens apart.")
def token_create(body_code: str | None, operator: bool, label: str) -> None:
    """Create a token; prints it alone on the last line. It is never shown again."""
    if operator == (body_code is not None):
        raise click.UsageError("give exactly one of --body CODE or --operator")

    async def work(settings: Settings, vault: HostedKeyVault) -> bodies.NewToken:
        return await bodies.create_token(body_code, label=label, principal=Principal.cli())

    new = run_with_database(work)
    click.echo(f"token {new.prefix}… for {body_code or 'the operator'}; it is shown only once:")
    click.echo(new.token)


@token_group.command(name="list")
@click.option("--body", "body_code", required=True, help="The body whose tokens to list.")
def token_list(body_code: str) -> None:
    """A body's tokens, newest first: prefix, created, last used, state, label.

    Times are China Standard Time, as in the console; "last used" is to the hour.
    """

    async def work(settings: Settings, vault: HostedKeyVault) -> list[dict[str, Any]]:
        await bodies.get_body(body_code)  # an unknown code is an error, not an empty list
        return await bodies.list_tokens(body_code)

    rows = run_with_database(work)
    if not rows:
        click.echo(f"{body_code} has no tokens")
    for row in rows:
        last_used = row["last_used_at"]
        revoked = row["revoked_at"]
        click.echo(
            "\t".join(
                (
                    f"{row['prefix']}…",
                    f"created {cst_text(row['created_at'])}",
                    f"last used {cst_text(last_used) if last_used else 'never'}",
                    f"revoked {cst_text(revoked)}" if revoked else "active",
                    row["label"],
                )
            )
        )


@token_group.command(name="revoke")
@click.argument("prefix")
def token_revoke(prefix: str) -> None:
    """Revoke a token by the prefix shown when it was created."""

    async def work(settings: Settings, vault: HostedKeyVault) -> None:
        await bodies.revoke_token(prefix, now=now(), principal=Principal.cli())

    run_with_database(work)
    click.echo(f"token {prefix} revoked")
