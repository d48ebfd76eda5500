"""Configuration, read once from the environment into frozen dataclasses.

Only `Settings.from_env` reads `os.environ`, and `KeyFileSettings.from_env`
(which it calls) for the commands that sign with a key file and need no
database; everything else is handed its settings (STYLE.md: library code never
reads the environment).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MAX_REQUEST_BYTES = 1024 * 1024  # PRODUCT §4: 413 for a request body over 1 MiB


@dataclass(frozen=True)
class DatabaseSettings:
    #: `sqlite:///relative`, `sqlite:////absolute`, `postgresql://...` or `postgres://...`
    url: str
    #: DATABASE_REPLICA_URL: a streaming replica of `url` for the public reads (PRODUCT §6);
    #: None reads from `url`. Writes, the console and the log's appends use `url`.
    replica_url: str | None = None


@dataclass(frozen=True)
class KeyCustodySettings:
    #: Unlocks hosted private keys (encrypted PKCS#8). Never logged, never stored in the DB.
    passphrase: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyFileSettings:
    """The passphrase of a body's own key files (encrypted PKCS#8).

    It encrypts the file `starmark key generate --out FILE` writes and unlocks
    the one given with `--key FILE`. Read from STARMARK_KEY_PASSPHRASE like the
    hosted keys' passphrase, but with no development stand-in: a key file
    leaves the machine, so its passphrase must be one the user chose.
    """

    #: None when STARMARK_KEY_PASSPHRASE is unset or empty.
    passphrase: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyFileSettings:
        """Without the side effects of `Settings.from_env` (no data directory is made)."""
        env = os.environ if environ is None else environ
        passphrase = env.get("STARMARK_KEY_PASSPHRASE")
        return cls(passphrase=passphrase.encode() if passphrase else None)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    keys: KeyCustodySettings
    data_dir: Path
    #: The base URL printed in QR codes (`{public_url}/v/{NUMBER}`).
    public_url: str = DEFAULT_PUBLIC_URL
    max_request_bytes: int = MAX_REQUEST_BYTES
    #: How far in the future a document's `signed_at` may lie (clock skew).
    clock_skew: timedelta = timedelta(minutes=5)
    #: Cache-Control max-age of public verification answers (PRODUCT §6).
    verify_max_age_seconds: int = 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = data_dir_from_env(env)
        url = database_url_from_env(env)
        # The same variable as key files', read in one place.
        key_file = KeyFileSettings.from_env(env)
        if key_file.passphrase:
            keys = KeyCustodySettings(passphrase=key_file.passphrase)
        else:
            keys = insecure_dev_key_custody(data_dir)
        return cls(
            database=DatabaseSettings(url=url, replica_url=env.get("DATABASE_REPLICA_URL") or None),
            keys=keys,
            data_dir=data_dir,
            public_url=(env.get("STARMARK_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"),
        )


def data_dir_from_env(env: Mapping[str, str]) -> Path:
    return Path(env.get("STARMARK_DATA_DIR") or "data").expanduser()


def database_url_from_env(env: Mapping[str, str]) -> str:
    """DATABASE_URL, or SQLite in `{STARMARK_DATA_DIR or ./data}/starmark.sqlite3`."""
    default = f"sqlite:///{data_dir_from_env(env) / 'starmark.sqlite3'}"
    return env.get("DATABASE_URL") or default


def insecure_dev_key_custody(data_dir: Path) -> KeyCustodySettings:
    """Development stand-in: a random passphrase kept in a file beside the database.

    Good enough for `make run` on a laptop; in production set
    STARMARK_KEY_PASSPHRASE from a secret store so that a copy of the data
    directory does not also hand over the keys.
    """
    path = data_dir / "INSECURE-dev-key-passphrase"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    log.warning(
        "STARMARK_KEY_PASSPHRASE is not set: hosted keys are protected by the insecure "
        "development passphrase in %s. Set STARMARK_KEY_PASSPHRASE in production.",
        path,
    )
    return KeyCustodySettings(passphrase=path.read_text().strip().encode())
