"""`starmark log verify` and `starmark log monitor` (PRODUCT §3, issue 10).

`verify` runs beside the database: it recomputes the whole tree from the
stored documents and holds it against the stored hashes, every checkpoint and
the certificate tables (`registry.log.audit`). `monitor` is what a third
party runs on a schedule against a registry's public URL, with no access to
its database: it keeps the last checkpoint it saw in a state directory and,
at each run, proves the new checkpoint extends it (RFC 6962 consistency) and
checks the signature of every new entry. Both exit 0 when all is well and 1
with a report when it is not; 2 is a usage error (nothing could be checked).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any, Final, NoReturn

import click

from registry.bodies.services import HostedKeyVault, registry_signer, registry_signer_for
from registry.cli.context import fail, now, run_with_database
from registry.log.audit import audit_log
from registry.log.services import latest_checkpoint, verifier_key
from registry.settings import Settings
from signing.checkpoint import Checkpoint, open_checkpoint
from signing.documents import KeyStatementPayload
from signing.errors import SigningError
from signing.jwks import KeySet
from signing.jws import KEY_TYP, open_signed
from signing.merkle import verify_consistency
from signing.note import NoteVerifier, decode_base64

NOT_CLEAN: Final = 1
USAGE: Final = 2
#: Entries fetched a call (the API's maximum).
ENTRIES_PAGE: Final = 1000
HTTP_TIMEOUT_SECONDS: Final = 30.0


@click.group(name="log")
def log_group() -> None:
    """The transparency log."""


@log_group.command(name="verify")
def log_verify() -> None:
    """Recompute the whole log and check it against the checkpoints and the tables."""

    async def work(settings: Settings, vault: HostedKeyVault) -> tuple[Any, int]:
        moment = now()
        signer = registry_signer_for(vault, moment)
        key = await signer()
        # Sign a checkpoint for what was appended since the last one, so that
        # the whole log is held against a signed root.
        await latest_checkpoint(origin=settings.log_origin, signer=signer, now=moment)
        verifier = NoteVerifier.for_key(settings.log_origin, key.public_key)
        return await audit_log(verifier=verifier), 0

    report, _ = run_with_database(work)
    click.echo(f"log of {report.size} entries, {report.checkpoints} checkpoints")
    if report.clean:
        click.echo("the log is consistent with every checkpoint and with the tables")
        return
    for problem in report.problems:
        click.echo(f"  {problem}")
    if report.more:
        click.echo(f"  ... and {report.more} more")
    fail(f"the log does not verify ({len(report.problems) + report.more} problems)")


def _stop(message: str) -> NoReturn:
    click.echo(f"starmark log monitor: {message}", err=True)
    sys.exit(USAGE)


def _alarm(message: str) -> NoReturn:
    click.echo(f"LOG NOT CONSISTENT 日志不一致: {message}")
    sys.exit(NOT_CLEAN)


class _Registry:
    def __init__(self, url: str) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._httpx = httpx
        self._client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)

    def text(self, path: str) -> str:
        try:
            response = self._client.get(self.url + path)
        except self._httpx.HTTPError as e:
            _stop(f"cannot reach {self.url}{path}: {e}")
        if response.status_code != 200:
            _stop(f"{self.url}{path} answered HTTP {response.status_code}")
        return response.text

    def json(self, path: str, **params: Any) -> Any:
        try:
            response = self._client.get(self.url + path, params=params)
        except self._httpx.HTTPError as e:
            _stop(f"cannot reach {self.url}{path}: {e}")
        if response.status_code != 200:
            _alarm(f"{path} {params} answered HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def close(self) -> None:
        self._client.close()


@log_group.command(name="monitor")
@click.option("--registry", "registry_url", required=True, metavar="URL")
@click.option(
    "--state",
    "state_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the last checkpoint seen (and the log's key) are kept between runs.",
)
@click.option(
    "--log-key",
    "log_key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The log's verifier key; by default the one pinned in --state at the first run.",
)
def log_monitor(registry_url: str, state_dir: Path, log_key_file: Path | None) -> None:
    """Check that the registry's log only grew since the last run, and every new entry."""
    state_dir.mkdir(parents=True, exist_ok=True)
    pinned = state_dir / "log-key"
    last_file = state_dir / "checkpoint"
    registry = _Registry(registry_url)
    try:
        if log_key_file is not None:
            key_text = log_key_file.read_text().strip()
        elif pinned.exists():
            key_text = pinned.read_text().strip()
        else:
            key_text = registry.text("/log/key").strip()
            click.echo(f"first run: pinning the log key {key_text}")
        try:
            verifier = NoteVerifier.from_text(key_text)
        except SigningError as e:
            _stop(f"not a log verifier key: {e}")
        pinned.write_text(key_text + "\n")
        note = registry.text("/log/checkpoint")
        try:
            new = open_checkpoint(note, verifier=verifier)
        except SigningError as e:
            _alarm(f"the registry's checkpoint does not verify with the pinned key: {e}")
        old: Checkpoint | None = None
        if last_file.exists():
            old = open_checkpoint(last_file.read_text(), verifier=verifier)
        start = 0 if old is None else old.size
        if old is not None:
            if new.size < old.size:
                _alarm(f"the log shrank from {old.size} to {new.size} entries")
            if new.size == old.size and new.root != old.root:
                _alarm(f"two different roots were signed for size {new.size}")
            if old.size > 0 and new.size > old.size:
                answer = registry.json(
                    "/api/v1/log/proofs/consistency", **{"from": old.size, "to": new.size}
                )
                try:
                    verify_consistency(
                        old_size=old.size,
                        new_size=new.size,
                        old_root=old.root,
                        new_root=new.root,
                        proof=[decode_base64(h, "a proof hash") for h in answer["proof"]],
                    )
                except (SigningError, KeyError, TypeError) as e:
                    _alarm(
                        f"the log of {new.size} entries does not extend the one of {old.size} "
                        f"seen before: history was rewritten ({e})"
                    )
        checked = _check_entries(registry, start, new.size)
        last_file.write_text(note)
        click.echo(
            f"log {new.origin}: {new.size} entries, root {base64.b64encode(new.root).decode()}; "
            f"{checked} new entries checked; consistent with the last checkpoint seen"
        )
    finally:
        registry.close()


def _check_entries(registry: _Registry, start: int, end: int) -> int:
    """Verify the signature of every entry start..end against the registry's JWKS."""
    if start >= end:
        return 0
    try:
        keys = KeySet.from_jwks(registry.json("/.well-known/jwks.json"))
    except SigningError as e:
        _alarm(f"the registry's JWKS cannot be read: {e}")
    checked = 0
    for page in range(start, end, ENTRIES_PAGE):
        answer = registry.json("/api/v1/log/entries", start=page, end=min(page + ENTRIES_PAGE, end))
        for entry in answer.get("entries", []):
            try:
                document = open_signed(str(entry["jws"]), keys=keys, typ=str(entry["typ"]))
                if document.typ == KEY_TYP:
                    KeyStatementPayload.from_json(document.payload)
            except SigningError as e:
                _alarm(f"entry {entry.get('index')} does not verify: {e}")
            checked += 1
    if checked != end - start:
        _alarm(f"the registry served {checked} entries of {start}..{end}")
    return checked


@log_group.command(name="key")
def log_key() -> None:
    """Print the log's verifier key (as GET /log/key)."""

    async def work(settings: Settings, vault: HostedKeyVault) -> str:
        return verifier_key(settings.log_origin, await registry_signer(vault, now()))

    click.echo(run_with_database(work))


__all__ = ["log_group"]
