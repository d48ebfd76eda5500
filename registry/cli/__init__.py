"""The `starmark` command."""

from __future__ import annotations

import logging

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Starmark: a signed registry of GB/T 27922 after-sales service certificates."""
    before = set(logging.getLogger().handlers)
    logging.basicConfig(level=logging.WARNING, format="starmark: %(message)s")
    # `starmark serve` replaces this handler with the JSON lines of registry/logs.py
    # (which removes the handlers marked so): each line is printed once.
    for handler in set(logging.getLogger().handlers) - before:
        handler.starmark = True  # type: ignore[attr-defined]


def _register() -> None:
    from registry.cli import admin, backups, certs, demo, log, mark, users, verify

    main.add_command(verify.verify)
    main.add_command(admin.serve)
    main.add_command(admin.db_group)
    main.add_command(admin.body_group)
    main.add_command(admin.key_group)
    main.add_command(admin.token_group)
    main.add_command(certs.cert_group)
    main.add_command(demo.demo)
    main.add_command(mark.mark)
    main.add_command(log.log_group)
    main.add_command(backups.backup)
    main.add_command(backups.restore)
    main.add_command(users.user_group)


_register()
