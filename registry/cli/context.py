"""What every database-backed command shares: settings, the clock, a database run."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import click

from registry import db
from registry.bodies.services import HostedKeyVault
from registry.certificates.tables import Certificate
from registry.errors import RegistryError
from registry.settings import ConfigurationError, Settings
from registry.verification.services import VerificationService

T = TypeVar("T")


def fail(message: str, *, code: int = 1) -> NoReturn:
    click.echo(f"starmark: {message}", err=True)
    sys.exit(code)


def now() -> datetime:
    return datetime.now(UTC)


async def certificate_answer(number: str, *, now: datetime) -> dict[str, Any]:
    """The certificate as the read path gives it (`GET /api/v1/certificates/{number}`),
    from the database `run_with_database` opened."""
    service = VerificationService.for_engine(Certificate._meta.db)
    try:
        return await service.document(number, now=now)
    finally:
        service.close()


def run_with_database(work: Callable[[Settings, HostedKeyVault], Awaitable[T]]) -> T:
    """Open the configured database (migrated), run `work`, close it.

    Registry errors end the command with exit 1 and a one-line reason.
    """
    try:
        settings = Settings.from_env()
    except ConfigurationError as e:
        fail(str(e), code=2)
    vault = HostedKeyVault(settings.keys)

    async def main() -> T:
        async with db.connected(settings.database.url):
            return await work(settings, vault)

    try:
        return asyncio.run(main())
    except RegistryError as e:
        lines = [e.detail, *(f"  {p.field}: {p.message}" for p in e.errors)]
        fail("\n".join(lines))
    except db.DatabaseUrlError as e:
        fail(str(e), code=2)
    except OSError as e:
        fail(f"cannot open the database: {e}")
