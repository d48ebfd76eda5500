"""Configuration, read once from the environment into frozen dataclasses.

Only `Settings.from_env` reads `os.environ`, and `KeyFileSettings.from_env`
(which it calls) for the commands that sign with a key file and need no
database; everything else is handed its settings (STYLE.md: library code never
reads the environment).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from limits import RateLimitItem
from limits import parse as parse_limit

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
    #: The file of the development stand-in passphrase, when that is what `passphrase`
    #: is (STARMARK_KEY_PASSPHRASE unset): the vault warns when it uses a hosted key.
    insecure_dev_file: Path | None = None

    def insecure_warning(self) -> str | None:
        """What to tell an operator when hosted keys are protected by the stand-in."""
        if self.insecure_dev_file is None:
            return None
        return (
            "STARMARK_KEY_PASSPHRASE is not set: hosted keys are protected by the insecure "
            f"development passphrase in {self.insecure_dev_file}. "
            "Set STARMARK_KEY_PASSPHRASE in production."
        )


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


class ConfigurationError(ValueError):
    """A configuration value the registry refuses to start with; the message says which."""


#: The rate-limit groups (PRODUCT §4 "Limits and hostile input") and their defaults,
#: per client address. The verification page is the QR target a person scans, so it is
#: generous; bulk checks, search and storing a receipt cost many reads or a signature.
RATE_LIMIT_GROUPS: dict[str, str] = {
    "verify_page": "600/minute",
    "search": "60/minute",
    "bulk": "10/minute",
    "keep": "5/hour",
    # A consumer report (举报) from /v/{number}/report: a person sends one or two.
    "report": "5/hour",
}
_OFF = "off"


@dataclass(frozen=True)
class RateLimitSettings:
    """`STARMARK_RATE_LIMITS`, `STARMARK_REDIS_URL` and `STARMARK_TRUSTED_PROXIES`.

    `STARMARK_RATE_LIMITS` names the groups to change, e.g.
    ``search=30/minute;bulk=5/minute;keep=off``; a group not named keeps its default,
    and ``off`` (alone) turns every limit off.
    """

    #: (group, limit) for each group that is limited; a group absent here is not.
    limits: tuple[tuple[str, RateLimitItem], ...] = field(
        default_factory=lambda: tuple(
            (group, parse_limit(text)) for group, text in RATE_LIMIT_GROUPS.items()
        )
    )
    #: Shared counters between processes; None: each process counts in memory.
    redis_url: str | None = field(default=None, repr=False)
    #: Redis keys start with this (several registries, or test runs, on one Redis).
    redis_prefix: str = "starmark-limits"
    #: Peers whose X-Forwarded-For is believed (reverse proxies), as CIDR blocks
    #: (`10.0.0.0/8`, `127.0.0.1/32`); none by default.
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def off(cls) -> RateLimitSettings:
        return cls(limits=())

    def limit_for(self, group: str) -> RateLimitItem | None:
        return next((item for name, item in self.limits if name == group), None)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RateLimitSettings:
        """Raises:
        ConfigurationError: a value that does not read, naming the variable.
        """
        return cls(
            limits=parse_rate_limits(env.get("STARMARK_RATE_LIMITS", "")),
            redis_url=env.get("STARMARK_REDIS_URL") or None,
            redis_prefix=env.get("STARMARK_REDIS_PREFIX") or "starmark-limits",
            trusted_proxies=parse_trusted_proxies(env.get("STARMARK_TRUSTED_PROXIES", "")),
        )


@dataclass(frozen=True)
class ImportSettings:
    """The background import worker (registry/imports/worker.py).

    `STARMARK_IMPORT_WORKER=off` keeps this process from running import jobs
    (another process on the same database runs them);
    `STARMARK_IMPORT_LEASE_SECONDS`: a running job whose worker has not written
    a heartbeat for this long is taken over by another (its process died);
    `STARMARK_IMPORT_POLL_SECONDS`: how often an idle worker looks for a job.
    """

    worker: bool = True
    lease_seconds: float = 60.0
    poll_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ImportSettings:
        """Raises:
        ConfigurationError: a value that does not read, naming the variable."""
        switch = (env.get("STARMARK_IMPORT_WORKER") or "on").strip().lower()
        if switch not in ("on", "off"):
            raise ConfigurationError("STARMARK_IMPORT_WORKER: 'on' or 'off'")

        def seconds(name: str, default: float) -> float:
            text = (env.get(name) or "").strip()
            if not text:
                return default
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not 0 < value <= 86400:
                raise ConfigurationError(f"{name}: a number of seconds, e.g. {default:g}")
            return value

        return cls(
            worker=switch == "on",
            lease_seconds=seconds("STARMARK_IMPORT_LEASE_SECONDS", cls.lease_seconds),
            poll_seconds=seconds("STARMARK_IMPORT_POLL_SECONDS", cls.poll_seconds),
        )


def parse_rate_limits(text: str) -> tuple[tuple[str, RateLimitItem], ...]:
    """``group=N/unit;group=off`` over the defaults (units: second, minute, hour, day).

    Raises:
        ConfigurationError: an unknown group, a malformed or a zero limit.
    """
    if text.strip().lower() == _OFF:
        return ()
    chosen = dict(RATE_LIMIT_GROUPS)
    for part in filter(None, (p.strip() for p in text.split(";"))):
        group, sep, value = (s.strip() for s in part.partition("="))
        example = "e.g. STARMARK_RATE_LIMITS='search=60/minute;bulk=10/minute'"
        if not sep or group not in RATE_LIMIT_GROUPS:
            raise ConfigurationError(
                f"STARMARK_RATE_LIMITS: {part!r} is not group=limit with a group among "
                f"{', '.join(RATE_LIMIT_GROUPS)} ({example})"
            )
        if value.lower() != _OFF:
            try:
                item = parse_limit(value)
            except ValueError:
                item = None
            if item is None or item.amount < 1 or ";" in value or "," in value:
                raise ConfigurationError(
                    f"STARMARK_RATE_LIMITS: {value!r} for {group} is not a limit like "
                    f"60/minute (N per second, minute, hour or day), nor 'off' ({example})"
                )
        chosen[group] = value
    return tuple(
        (group, parse_limit(value)) for group, value in chosen.items() if value.lower() != _OFF
    )


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """Addresses or CIDR blocks separated by commas or spaces, as CIDR blocks.

    Raises:
        ConfigurationError: one that is neither.
    """
    networks = []
    for part in text.replace(",", " ").split():
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as e:
            raise ConfigurationError(
                f"STARMARK_TRUSTED_PROXIES: {part!r} is not an IP address or a CIDR block "
                "(e.g. 10.0.0.0/8, 127.0.0.1)"
            ) from e
    return tuple(networks)


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
    #: STARMARK_LOG_ORIGIN: the transparency log's name in its checkpoints; by
    #: default the host (and port) of the public URL followed by `/log`.
    log_origin_setting: str | None = None
    #: STARMARK_OPERATOR_NAME: who runs this registry, named on printed receipts.
    operator_name: str = "Starmark"
    #: How often each process adds its scan counts of /v/{number} to the database
    #: (registry/feedback/scans.py); they are also added when the app stops.
    scan_flush_seconds: float = 5.0

    @property
    def log_origin(self) -> str:
        """The checkpoint origin (C2SP tlog-checkpoint), e.g. `verify.example.cn/log`."""
        if self.log_origin_setting:
            return self.log_origin_setting
        return urlsplit(self.public_url).netloc + "/log"

    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    imports: ImportSettings = field(default_factory=ImportSettings)

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
            log_origin_setting=env.get("STARMARK_LOG_ORIGIN") or None,
            operator_name=(env.get("STARMARK_OPERATOR_NAME") or "").strip() or "Starmark",
            rate_limits=RateLimitSettings.from_env(env),
            imports=ImportSettings.from_env(env),
        )


def serve_environment(env: Mapping[str, str], *, host: str, port: int) -> dict[str, str]:
    """The environment `starmark serve --host --port` runs the app with.

    Without STARMARK_PUBLIC_URL, QR codes and links name the address the server
    was started on (`http://127.0.0.1:8123` for `--port 8123`), not a default
    port nobody listens on; a wildcard host (0.0.0.0, ::) is named as the loopback
    address. A STARMARK_PUBLIC_URL that is set is kept as it is.
    """
    served = dict(env)
    if not served.get("STARMARK_PUBLIC_URL"):
        # A wildcard host is named, never bound to, here.
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104
        shown = wildcard.get(host, host)
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        served["STARMARK_PUBLIC_URL"] = f"http://{shown}:{port}"
    return served


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
    # No warning here: settings are read by every command. The vault warns, once, when
    # a hosted key is sealed or opened with it, and `starmark serve` when it starts.
    return KeyCustodySettings(passphrase=path.read_text().strip().encode(), insecure_dev_file=path)
