"""`starmark verify NUMBER|FILE.jws [--registry URL | --jwks FILE] [--at WHEN] [--json]`.

PRODUCT §4, "Command-line contracts that scripts rely on": with ``--jwks`` the
check needs no network and no database. Exit status:

* 0: the document is valid at ``--at`` (default now) and, when
  ``--min-level`` is given, meets it;
* 1: it is not (bad signature, unknown or compromised key, expired, suspended,
  revoked, withdrawn, not yet valid, malformed, not found, below the level);
* 2: usage error, including a missing or unreadable JWS file, a missing,
  unreadable or invalid JWKS, and a registry that cannot be reached or answers
  something unreadable: in those cases nothing could be checked, so the
  answer is neither "valid" nor "not valid". A one-line reason goes to stderr.

The verdict itself comes from `signing.verdict`, the same code the registry's
verification page runs; with ``--registry`` the documents and keys are fetched
and checked here, not taken on the registry's word.

``--at`` is the instant asked about; it does not move this machine's clock.
A document whose ``signed_at`` is more than
`signing.verdict.FUTURE_SIGNED_AT_TOLERANCE` (5 minutes) after the clock now
claims to be signed in the future and is ``signature_invalid`` (exit 1),
whatever ``--at`` says.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import click

from signing.checkpoint import open_checkpoint
from signing.documents import REGISTRY_ISSUER
from signing.errors import InvalidKeyError, MalformedError, SigningError
from signing.identifiers import parse_certificate_number
from signing.instants import format_instant, parse_instant
from signing.jwks import KeySet
from signing.merkle import leaf_hash, verify_inclusion
from signing.note import NoteVerifier, decode_base64
from signing.scheme import StarLevel
from signing.verdict import (
    SignedInput,
    Verdict,
    VerdictStatus,
    certificate_verdict,
    compromise_marks,
    document_verdict,
    not_found_verdict,
)

USAGE_ERROR = 2
NOT_VALID = 1
HTTP_TIMEOUT_SECONDS = 15.0
#: Far more than any JWS or JWKS; a bound so a wrong path (a disk image...) is not read whole.
MAX_FILE_BYTES = 4 * 1024 * 1024

_WORDS = {
    VerdictStatus.VALID: ("VALID", "有效"),
    VerdictStatus.SUSPENDED: ("SUSPENDED", "暂停"),
    VerdictStatus.REVOKED: ("REVOKED", "撤销"),
    VerdictStatus.WITHDRAWN: ("WITHDRAWN", "注销"),
    VerdictStatus.EXPIRED: ("EXPIRED", "过期"),
    VerdictStatus.NOT_YET_VALID: ("NOT YET VALID", "尚未生效"),
    VerdictStatus.NOT_FOUND: ("NOT FOUND", "未找到"),
    VerdictStatus.SIGNATURE_INVALID: ("SIGNATURE INVALID", "签名无效"),
    VerdictStatus.MALFORMED: ("MALFORMED", "格式错误"),
}


def _usage_failure(message: str) -> NoReturn:
    click.echo(f"starmark verify: {message}", err=True)
    sys.exit(USAGE_ERROR)


def _read_file(path: Path, what: str) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        _usage_failure(f"cannot read {what} {path}: {e.strerror or e}")
    if len(data) > MAX_FILE_BYTES:
        _usage_failure(f"{what} {path} is larger than {MAX_FILE_BYTES} bytes")
    # A file that is not UTF-8 is not a JWS either: decoding with replacement
    # lets the verdict say so (signature invalid) instead of a usage error.
    return data.decode("utf-8", errors="replace")


def _keys_from_json(text: str, source: str) -> KeySet:
    try:
        return KeySet.from_jwks(json.loads(text))
    except (json.JSONDecodeError, RecursionError) as e:
        _usage_failure(f"{source} is not JSON: {e}")
    except InvalidKeyError as e:
        _usage_failure(f"{source} is not a usable JWKS: {e}")


def _looks_like_file(target: str) -> bool:
    path = Path(target)
    return (
        path.exists()
        or "/" in target
        or "\\" in target
        or path.suffix.lower() in {".jws", ".jwt", ".txt", ".json"}
    )


class _Registry:
    """The few GETs `verify` needs; every failure is a usage error (exit 2)."""

    def __init__(self, url: str) -> None:
        import httpx  # imported here: offline use (--jwks) must not need it

        self._httpx = httpx
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=True)

    def get(self, path: str, *, allow_404: bool = False) -> Any:
        url = f"{self.url}{path}"
        try:
            response = self._client.get(url, headers={"Accept": "application/json"})
        except self._httpx.HTTPError as e:
            _usage_failure(f"cannot reach the registry at {url}: {e}")
        if allow_404 and response.status_code == 404:
            return None
        if response.status_code != 200:
            _usage_failure(f"the registry answered HTTP {response.status_code} for {url}")
        try:
            return response.json()
        except ValueError as e:
            _usage_failure(f"the registry's answer for {url} is not JSON: {e}")

    def keys(self) -> KeySet:
        body = self.get("/.well-known/jwks.json")
        try:
            return KeySet.from_jwks(body)
        except InvalidKeyError as e:
            _usage_failure(f"the registry's JWKS is not usable: {e}")

    def close(self) -> None:
        self._client.close()


def _signed_inputs(items: Any, what: str) -> list[SignedInput]:
    if not isinstance(items, list):
        _usage_failure(f"the registry's answer has no {what} list")
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("jws"), str):
            _usage_failure(f"the registry's answer has a {what} entry without a jws")
        recorded_at = item.get("recorded_at")
        try:
            when = parse_instant(recorded_at) if isinstance(recorded_at, str) else None
        except MalformedError as e:
            _usage_failure(f"the registry's answer has an unreadable recorded_at: {e}")
        out.append(SignedInput(item["jws"], recorded_at=when))
    return out


def _summary(verdict: Verdict) -> str:
    english, chinese = _WORDS[verdict.status]
    lines = [f"{english}  {chinese}"]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<9} {value}")

    if verdict.number:
        revision = f" (revision {verdict.revision})" if verdict.revision else ""
        row("number", verdict.number + revision)
    if verdict.certificate is not None:
        holder = verdict.certificate.holder
        row("holder", f"{holder.name} ({holder.uscc})")
        if holder.name_en:
            row("", holder.name_en)
    if verdict.level is not None:
        stars = "★" * verdict.level.stars
        row("level", f"{verdict.level.value} {verdict.level.zh} {stars}".rstrip())
    if verdict.certificate is not None:
        c = verdict.certificate
        row("valid", f"{c.valid_from.isoformat()} to {c.valid_until.isoformat()} (inclusive)")
    if verdict.issuer or verdict.kid:
        row("signed by", f"{verdict.issuer or '?'}, key {verdict.kid or '?'}")
    row("as of", format_instant(verdict.as_of))
    if verdict.meets_min_level is not None:
        row("min level", "met" if verdict.meets_min_level else "NOT met")
    for warning in verdict.warnings:
        row("warning", warning.replace("_", " "))
    row("reason", verdict.reason)
    return "\n".join(lines)


@click.command()
@click.argument("target", metavar="NUMBER|FILE.jws")
@click.option(
    "--registry",
    "registry_url",
    metavar="URL",
    help="Fetch the certificate (for a NUMBER) and the keys from this registry.",
)
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Check offline against the keys in this JWKS file (no network, no database).",
)
@click.option(
    "--at",
    "at_text",
    metavar="WHEN",
    help="RFC 3339 instant, or a date meaning 00:00 China Standard Time. Default: now.",
)
@click.option(
    "--min-level",
    type=click.Choice([level.value for level in StarLevel]),
    help="Also require at least this star level.",
)
@click.option(
    "--log-key",
    "log_key_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="For a log bundle (GET /api/v1/log/bundle): the log's verifier key (GET /log/key).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict JSON.")
def verify(
    target: str,
    registry_url: str | None,
    jwks_file: Path | None,
    at_text: str | None,
    min_level: str | None,
    log_key_file: Path | None,
    as_json: bool,
) -> None:
    """Verify a certificate NUMBER or a signed FILE.jws (certificate, status event or receipt).

    Exits 0 only when valid at --at, 1 when not, 2 on a usage error. --at does
    not move the clock: a document signed more than 5 minutes after the clock
    now is not valid (signature invalid).
    """
    if registry_url and jwks_file:
        raise click.UsageError("give either --registry URL or --jwks FILE, not both")
    now = datetime.now(UTC)
    if at_text is None:
        at = now
    else:
        try:
            at = parse_instant(at_text)
        except MalformedError as e:
            raise click.BadParameter(str(e), param_hint="--at") from e
    level = None if min_level is None else StarLevel(min_level)

    is_file = _looks_like_file(target)
    number: str | None = None
    if not is_file:
        try:
            number = parse_certificate_number(target)
        except MalformedError as e:
            _usage_failure(f"{target!r} is neither a readable file nor a certificate number: {e}")
        if not registry_url:
            _usage_failure(
                "verifying a certificate number needs --registry URL; "
                "to check offline, give the certificate's FILE.jws with --jwks FILE"
            )
    elif not registry_url and not jwks_file:
        _usage_failure("give --jwks FILE to check offline, or --registry URL")

    token = _read_file(Path(target), "JWS file").strip() if is_file else ""
    logged: str | None = None
    bundled: _Bundled | None = None
    if token.startswith("{"):
        # A log bundle: the document, its inclusion proof and the signed checkpoint.
        bundled = _open_bundle(token, log_key_file)
        token, logged = bundled.token, bundled.summary
    elif log_key_file is not None:
        _usage_failure("--log-key goes with a log bundle (GET /api/v1/log/bundle?index=)")
    registry = _Registry(registry_url) if registry_url else None
    try:
        if jwks_file is not None:
            keys = _keys_from_json(_read_file(jwks_file, "JWKS file"), f"JWKS file {jwks_file}")
        else:
            assert registry is not None
            keys = registry.keys()
        log_index: int | None = None
        if bundled is not None:
            keys, log_index = _with_logged_compromises(keys, bundled), bundled.index
        if number is None:
            verdict = document_verdict(
                token, keys=keys, at=at, now=now, min_level=level, log_index=log_index
            )
        else:
            assert registry is not None
            found = registry.get(f"/api/v1/certificates/{quote(number, safe='')}", allow_404=True)
            if found is None:
                verdict = not_found_verdict(number, at=at, now=now, min_level=level)
            else:
                if not isinstance(found, dict):
                    _usage_failure("the registry's answer is not a JSON object")
                verdict = certificate_verdict(
                    revisions=_signed_inputs(found.get("revisions"), "revisions"),
                    events=_signed_inputs(found.get("events", []), "events"),
                    keys=keys,
                    at=at,
                    now=now,
                    min_level=level,
                    number=number,
                )
    finally:
        if registry is not None:
            registry.close()

    if as_json:
        out = verdict.to_json()
        if logged is not None:
            out["log"] = logged
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(verdict))
        if logged is not None:
            click.echo(logged)
    ok = verdict.is_valid and verdict.meets_min_level is not False
    sys.exit(0 if ok else NOT_VALID)


@dataclass(frozen=True, slots=True)
class _Bundled:
    """A log bundle whose checkpoint and inclusion proofs verified."""

    token: str
    index: int
    summary: str
    #: ``(index, JWS)`` of the log's statements about the document's key, each
    #: shown to be in the same checkpoint's tree.
    key_statements: tuple[tuple[int, str], ...]


def _logged(item: Any) -> tuple[str, int, list[bytes]]:
    token, index = item["jws"], item["index"]
    proof = [decode_base64(h, "a proof hash") for h in item["proof"]]
    if not (isinstance(token, str) and isinstance(index, int)) or isinstance(index, bool):
        raise TypeError("jws is a string, index an integer")
    return token, index, proof


def _open_bundle(text: str, log_key_file: Path | None) -> _Bundled:
    """A log bundle whose inclusion and checkpoint verify; else exit 1.

    A bundle is ``{"jws", "index", "checkpoint", "proof", "key_statements"}``:
    the checkpoint's signature is checked with the log's verifier key, then
    the JWS's leaf hash (RFC 6962 §2.1) with the inclusion proof against the
    checkpoint's root, and so is each key statement's (``key_statements``,
    ``[{"jws", "index", "proof"}]``, the log's statements about the key that
    signed the document; left out by bundles made before them).
    """
    if log_key_file is None:
        _usage_failure("a log bundle needs --log-key FILE (the text of GET /log/key)")
    try:
        bundle = json.loads(text)
        token, index, proof = _logged(bundle)
        note = bundle["checkpoint"]
        if not isinstance(note, str):
            raise TypeError("checkpoint is a string")
        items = bundle.get("key_statements", [])
        if not isinstance(items, list):
            raise TypeError("key_statements is a list")
        statements = [_logged(item) for item in items]
    except (ValueError, TypeError, KeyError, MalformedError) as e:
        _usage_failure(f"not a log bundle: {e}")
    try:
        verifier = NoteVerifier.from_text(_read_file(log_key_file, "log key file").strip())
    except SigningError as e:
        _usage_failure(f"the log key file is not a verifier key: {e}")
    try:
        checkpoint = open_checkpoint(note, verifier=verifier)
        for jws, at, path in [(token, index, proof), *statements]:
            verify_inclusion(
                leaf_hash=leaf_hash(jws.encode("ascii")),
                index=at,
                size=checkpoint.size,
                proof=path,
                root=checkpoint.root,
            )
    except (SigningError, UnicodeEncodeError) as e:
        click.echo(f"NOT IN THE LOG 不在透明日志中: {e}")
        sys.exit(NOT_VALID)
    summary = (
        f"in the log: entry {index} of {checkpoint.size} ({checkpoint.origin}), "
        "checkpoint signature and inclusion proof verified"
    )
    return _Bundled(token, index, summary, tuple((at, jws) for jws, at, _ in statements))


def _with_logged_compromises(keys: KeySet, bundled: _Bundled) -> KeySet:
    """``keys`` with the compromises the bundle's key statements show (by log position).

    The statements must verify under the registry's own key in the JWKS (the
    key whose ``body`` is ``registry``); one that does not means exit 1.
    """
    registry_keys = KeySet(r for r in keys if r.body == REGISTRY_ISSUER)
    try:
        return keys.with_compromises(
            compromise_marks(bundled.key_statements, registry_keys=registry_keys)
        )
    except SigningError as e:
        click.echo(f"SIGNATURE INVALID 签名无效: a key statement in the bundle: {e}")
        sys.exit(NOT_VALID)
