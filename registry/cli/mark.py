"""`starmark mark NUMBER --format png|svg|pdf [--out FILE] [--size-mm MM] [--dpi DPI]`.

The print-ready QR mark of a certificate in the configured database (PRODUCT §4,
§5): the QR encodes `{STARMARK_PUBLIC_URL}/v/{NUMBER}`, and the level printed
under it is read from the certificate's verified, signed payload, the same
code path as `GET /v/{number}/mark.png` (registry/verification/services.py).

Exit status: 0 written; 1 no such certificate, its signed record does not
verify, or it is not valid now (suspended, revoked, withdrawn, expired, not yet
valid): no mark is made for it and the reason is printed; 2 a usage error (a
size or resolution outside 20-100 mm and 150-1200 dpi, an unwritable output file).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from registry.bodies.services import HostedKeyVault
from registry.certificates.tables import Certificate
from registry.cli.context import fail, run_with_database
from registry.errors import InvalidInputError
from registry.marks import DEFAULT_DPI, DEFAULT_SIZE_MM, MarkFormat, check_mark_size
from registry.settings import Settings
from registry.verification.services import VerificationService, mark_bytes


@click.command()
@click.argument("number")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "svg", "pdf"]),
    default="png",
    show_default=True,
    help="PNG at --dpi, SVG or a one-page PDF for print (vector).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it ('-': standard output). Default: NUMBER.FORMAT here.",
)
@click.option(
    "--size-mm",
    type=float,
    default=DEFAULT_SIZE_MM,
    show_default=True,
    help="The mark's width in millimetres (20 to 100; 25 reads best).",
)
@click.option(
    "--dpi",
    type=int,
    default=DEFAULT_DPI,
    show_default=True,
    help="Resolution of the PNG, or the press a PDF is meant for (150 to 1200).",
)
def mark(number: str, fmt: MarkFormat, out: Path | None, size_mm: float, dpi: int) -> None:
    """Write the QR mark of certificate NUMBER."""
    try:
        size_mm, dpi = check_mark_size(size_mm, dpi)
    except InvalidInputError as e:
        raise click.UsageError(e.detail) from e

    async def work(settings: Settings, vault: HostedKeyVault) -> tuple[str, bytes]:
        service = VerificationService.for_engine(Certificate._meta.db)
        try:
            return await mark_bytes(
                service, number, fmt, public_url=settings.public_url, size_mm=size_mm, dpi=dpi
            )
        finally:
            service.close()

    canonical, data = run_with_database(work)
    if out is not None and str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = out or Path(f"{canonical}.{fmt}")
    try:
        path.write_bytes(data)
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror or e}", code=2)
    click.echo(f"wrote {path} ({fmt}, {size_mm:g} mm, {len(data)} bytes)")
