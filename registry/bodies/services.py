"""Certification bodies, their keys (hosted or own) and API tokens."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from registry.audit.services import audit_entry
from registry.bodies.tables import ApiToken, CertificationBody, SigningKey
from registry.db import unique_conflicts, write_transaction
from registry.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from registry.log.store import NewEntry, append_entries
from registry.principals import Principal
from registry.settings import KeyCustodySettings
from signing.documents import MAX_NAME_LENGTH, KeyStatementPayload
from signing.errors import InvalidKeyError
from signing.fields import Problems, read_string
from signing.jwks import KeySet
from signing.jws import KEY_TYP, sign_compact
from signing.keys import KeyRecord, KeyState, PrivateKey, PublicKey

BODY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
REGISTRY_OWNER = "registry"
TOKEN_PREFIX = "smk_"  # noqa: S105 - a public prefix, not a secret

log = logging.getLogger(__name__)


def parse_body_code(code: str) -> str:
    normalised = code.strip().upper()
    if not BODY_CODE.fullmatch(normalised):
        raise InvalidInputError(
            f"body code {code!r} is not 2-32 characters of A-Z, 0-9 and '-'",
            errors=[FieldError("code", "2-32 characters of A-Z, 0-9 and '-'")],
        )
    if normalised == REGISTRY_OWNER.upper():
        raise InvalidInputError(
            "the code REGISTRY is reserved for the registry's own key",
            errors=[FieldError("code", "reserved")],
        )
    return normalised


def whole_second(moment: datetime) -> datetime:
    """Documents carry `signed_at` in whole seconds, so a key's window starts on one:
    a key made at 10:00:00.5 must be able to sign at 10:00:00."""
    return moment.replace(microsecond=0)


# --- bodies -------------------------------------------------------------------


#: 批准号 as CNCA writes it: CNCA-R-<year>-<serial>, e.g. CNCA-R-2002-001.
APPROVAL_NO = re.compile(r"^CNCA-R-(19|20)[0-9]{2}-[0-9]{3,4}$")
WEBSITE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s<>\"]*)?$")
PHONE = re.compile(r"^[+(]?[0-9][0-9 ()+-]{4,38}$")


@dataclass(frozen=True)
class BodyContact:
    """What a body tells the public besides its name: registry data, not signed."""

    approval_no: str | None = None
    website: str | None = None
    phone: str | None = None


def parse_body_contact(
    *, approval_no: str | None, website: str | None, phone: str | None
) -> dict[str, str | None]:
    """The contact fields given (None: leave as is; empty: clear), checked.

    Raises:
        InvalidInputError: an approval number, web site or telephone that does not read.
    """
    checked: dict[str, str | None] = {}
    errors: list[FieldError] = []
    rules = (
        ("approval_no", approval_no, APPROVAL_NO, "an approval number like CNCA-R-2002-001"),
        (
            "website",
            website,
            WEBSITE,
            "an http:// or https:// address, e.g. https://www.cqc.com.cn",
        ),
        (
            "phone",
            phone,
            PHONE,
            "a telephone number: digits, spaces, + - ( ), e.g. +86 10 8388 6666",
        ),
    )
    for name, value, pattern, rule in rules:
        if value is None:
            continue
        text = value.strip()
        if name == "approval_no":
            text = text.upper()
        if text and not pattern.fullmatch(text):
            errors.append(FieldError(name, rule))
        checked[name] = text or None
    if errors:
        raise InvalidInputError("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    return checked


async def add_body(
    code: str,
    *,
    name: str,
    name_en: str | None = None,
    contact: BodyContact | None = None,
    principal: Principal,
) -> dict[str, Any]:
    principal.require_operator()
    code = parse_body_code(code)
    contact = contact or BodyContact()
    # The text rules of signed payloads (signing.fields): the name is signed as `issuer.name`.
    problems = Problems()
    checked_name = read_string(name, "name", problems, strict=False, max_length=MAX_NAME_LENGTH)
    checked_name_en = _checked_name_en(name_en, problems)
    if problems.items:
        raise InvalidInputError(
            "; ".join(f"{p.field} {p.message}" for p in problems.items),
            errors=[FieldError(p.field, p.message) for p in problems.items],
        )
    checked = parse_body_contact(
        approval_no=contact.approval_no, website=contact.website, phone=contact.phone
    )
    assert checked_name is not None
    body = CertificationBody(
        code=code,
        name=checked_name,
        name_en=checked_name_en,
        approval_no=checked.get("approval_no"),
        website=checked.get("website"),
        phone=checked.get("phone"),
    )
    async with write_transaction(CertificationBody._meta.db):
        with unique_conflicts(f"a certification body with code {code} already exists"):
            await CertificationBody.insert(body)
        await audit_entry(principal, "body.add", code, name=name)
    return await get_body(code)


def _checked_name_en(name_en: str | None, problems: Problems) -> str | None:
    if name_en is None or not name_en.strip():
        return None
    return read_string(name_en, "name_en", problems, strict=False, max_length=MAX_NAME_LENGTH)


async def update_body(
    code: str,
    *,
    name_en: str | None = None,
    approval_no: str | None = None,
    website: str | None = None,
    phone: str | None = None,
    principal: Principal,
) -> dict[str, Any]:
    """Set a body's English name and contact details (None: unchanged; empty: cleared).

    The Chinese name and the code are signed into certificates as `issuer`, so
    they are not changed here.

    Raises:
        ForbiddenError: not an operator.
        NotFoundError: no such body.
        InvalidInputError: a value that does not read; nothing is changed.
    """
    principal.require_operator()
    changes: dict[Any, Any] = {}
    if name_en is not None:
        problems = Problems()
        checked_name_en = _checked_name_en(name_en, problems)
        if problems.items:
            raise InvalidInputError(
                "; ".join(f"{p.field} {p.message}" for p in problems.items),
                errors=[FieldError(p.field, p.message) for p in problems.items],
            )
        changes[CertificationBody.name_en] = checked_name_en
    checked = parse_body_contact(approval_no=approval_no, website=website, phone=phone)
    for name, value in checked.items():
        changes[getattr(CertificationBody, name)] = value
    body = await get_body(code)
    if changes:
        async with write_transaction(CertificationBody._meta.db):
            await CertificationBody.update(changes).where(CertificationBody.id == body["id"])
            await audit_entry(
                principal,
                "body.update",
                body["code"],
                **{column._meta.name: value for column, value in changes.items()},
            )
    return await get_body(code)


async def get_body(code: str) -> dict[str, Any]:
    row: dict[str, Any] | None = (
        await CertificationBody.select().where(CertificationBody.code == code.upper()).first()
    )
    if row is None:
        raise NotFoundError(f"no certification body with code {code}")
    return row


async def list_bodies() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await CertificationBody.select().order_by(CertificationBody.code)
    return rows


# --- keys ---------------------------------------------------------------------


#: Whether this process has warned about the development passphrase (`HostedKeyVault`).
_WARNED_INSECURE = False


def warn_if_insecure(warning: str | None) -> None:
    """Logs `KeyCustodySettings.insecure_warning()` once a process: when a hosted key is
    sealed or opened with the development passphrase, or a server starts with it; that
    is when it matters, not on every command."""
    global _WARNED_INSECURE
    if warning is not None and not _WARNED_INSECURE:
        _WARNED_INSECURE = True
        log.warning("%s", warning)


class HostedKeyVault:
    """Seals hosted private keys as encrypted PKCS#8 and opens them again.

    The passphrase comes from STARMARK_KEY_PASSPHRASE (settings); decrypted
    keys are kept in this process's memory only, keyed by kid, because
    opening PKCS#8 costs a key derivation each time.
    """

    def __init__(self, custody: KeyCustodySettings) -> None:
        self._passphrase = custody.passphrase
        self._insecure_warning = custody.insecure_warning()
        self._open: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def _warn_if_insecure(self) -> None:
        warn_if_insecure(self._insecure_warning)

    def seal(self, key: PrivateKey) -> str:
        self._warn_if_insecure()
        return key.to_pkcs8_pem(passphrase=self._passphrase).decode("ascii")

    def unseal(self, kid: str, pem: str) -> PrivateKey:
        with self._lock:
            key = self._open.get(kid)
        if key is None:
            self._warn_if_insecure()
            try:
                key = PrivateKey.from_pkcs8_pem(pem.encode("ascii"), passphrase=self._passphrase)
            except InvalidKeyError as e:
                raise ConflictError(
                    f"hosted key {kid} cannot be unlocked: is STARMARK_KEY_PASSPHRASE "
                    "the one it was created with?"
                ) from e
            with self._lock:
                self._open[kid] = key
        return key


def key_record_from_row(row: Mapping[str, Any], body_code: str | None) -> KeyRecord:
    return KeyRecord(
        public_key=PublicKey.from_jwk(json.loads(row["public_jwk"])),
        body=body_code,
        not_before=row["not_before"],
        not_after=row["not_after"],
        state=KeyState(row["state"]),
        compromised_at=row["compromised_at"],
    )


KEY_COLUMNS = (
    SigningKey.id,
    SigningKey.kid,
    SigningKey.public_jwk,
    SigningKey.not_before,
    SigningKey.not_after,
    SigningKey.state,
    SigningKey.compromised_at,
    SigningKey.custody,
    SigningKey.created_at,
    SigningKey.body.code.as_alias("body_code"),
)


async def load_keyset(*, body_code: str | None = None) -> KeySet:
    """Every key (or one body's keys) with its window and state."""
    query = SigningKey.select(*KEY_COLUMNS).order_by(SigningKey.id)
    if body_code is not None:
        query = query.where(SigningKey.body.code == body_code)
    rows = await query
    return KeySet.of(*(key_record_from_row(r, r["body_code"] or REGISTRY_OWNER) for r in rows))


async def list_keys(body_code: str | None = None) -> list[dict[str, Any]]:
    query = SigningKey.select(*KEY_COLUMNS).order_by(SigningKey.id)
    if body_code is not None:
        query = query.where(SigningKey.body.code == body_code)
    rows: list[dict[str, Any]] = await query
    return rows


async def _insert_key(
    body: dict[str, Any] | None,
    public_key: PublicKey,
    *,
    custody: str,
    sealed: str | None,
    not_before: datetime,
    not_after: datetime | None,
    principal: Principal,
    signer: PrivateKey | None,
    now: datetime,
) -> str:
    """Insert a key; a body's key is stated in the log in the same transaction."""
    kid = public_key.kid
    row = SigningKey(
        kid=kid,
        body=body["id"] if body else None,
        public_jwk=json.dumps(public_key.to_jwk(), sort_keys=True),
        not_before=not_before,
        not_after=not_after,
        state=KeyState.ACTIVE.value,
        custody=custody,
        encrypted_private_key=sealed,
    )
    async with write_transaction(SigningKey._meta.db):
        with unique_conflicts(f"key {kid} is already registered"):
            await SigningKey.insert(row)
        if signer is not None:
            await log_key_statement(kid, signer=signer, now=whole_second(now))
        await audit_entry(
            principal,
            "key.add",
            kid,
            body=body["code"] if body else REGISTRY_OWNER,
            custody=custody,
        )
    return kid


async def registry_signer(vault: HostedKeyVault, now: datetime) -> PrivateKey:
    """The registry's own key, created if this database has none yet."""
    await ensure_registry_key(vault=vault, now=now)
    return await active_hosted_signer(None, vault=vault, now=now)


def registry_signer_for(
    vault: HostedKeyVault, now: datetime
) -> Callable[[], Awaitable[PrivateKey]]:
    """The registry's own key as a log checkpoint signer wants it: fetched on the
    first call (a checkpoint that needs no new signature never loads it), then kept."""
    key: PrivateKey | None = None

    async def signer() -> PrivateKey:
        nonlocal key
        if key is None:
            key = await registry_signer(vault, now)
        return key

    return signer


def _key_statement(
    row: Mapping[str, Any], body_code: str, *, signer: PrivateKey, now: datetime
) -> NewEntry:
    """The registry's signed record of a body key as it stands in ``row`` (a log leaf)."""
    statement = KeyStatementPayload(
        kid=str(row["kid"]),
        body=body_code,
        jwk=json.loads(row["public_jwk"]),
        not_before=row["not_before"],
        not_after=row["not_after"],
        state=str(row["state"]),
        compromised_at=row["compromised_at"],
        signed_at=now,
    )
    token = sign_compact(statement.to_json(), key=signer, typ=KEY_TYP)
    return NewEntry(KEY_TYP, token, body=body_code)


async def body_key_ids() -> list[str]:
    """The kid of every body key (not the registry's own), oldest first."""
    rows = (
        await SigningKey.select(SigningKey.kid)
        .where(SigningKey.body.is_not_null())
        .order_by(SigningKey.id)
    )
    return [str(r["kid"]) for r in rows]


async def log_key_statement(kid: str, *, signer: PrivateKey, now: datetime) -> None:
    """Append the statement of key ``kid`` as it now stands (inside the write's transaction)."""
    row = await _get_key_row(kid)
    if row["body_code"] is None:
        return  # the registry's own key is published in the JWKS, not stated in the log
    await append_entries(
        [_key_statement(row, row["body_code"], signer=signer, now=now)], recorded_at=now
    )


async def generate_hosted_key(
    body_code: str,
    *,
    vault: HostedKeyVault,
    now: datetime,
    not_after: datetime | None = None,
    principal: Principal,
) -> str:
    """Generate a key the registry keeps (encrypted) and signs with. Returns its kid."""
    body = await get_body(parse_body_code(body_code))
    principal.require_operator_or_body(body["code"])
    key = PrivateKey.generate()
    return await _insert_key(
        body,
        key.public_key,
        custody="hosted",
        sealed=vault.seal(key),
        not_before=whole_second(now),
        not_after=not_after,
        principal=principal,
        signer=await registry_signer(vault, now),
        now=now,
    )


async def register_public_key(
    body_code: str,
    jwk: Mapping[str, Any],
    *,
    not_before: datetime,
    not_after: datetime | None = None,
    principal: Principal,
    vault: HostedKeyVault,
    now: datetime,
) -> str:
    """Register the public half of a key the body keeps itself. Returns its kid."""
    body = await get_body(parse_body_code(body_code))
    principal.require_operator_or_body(body["code"])
    try:
        public_key = PublicKey.from_jwk(jwk)
    except InvalidKeyError as e:
        raise InvalidInputError(str(e), errors=[FieldError("jwk", str(e))]) from e
    if not principal.is_operator and whole_second(not_before) < whole_second(now):
        # A body registering its own key cannot date it back (an operator can).
        raise InvalidInputError(
            "a key a body registers itself starts now or later",
            errors=[FieldError("not_before", "now or later (empty: now)")],
        )
    if not_after is not None and not_after <= not_before:
        raise InvalidInputError(
            "not_after must be later than not_before",
            errors=[FieldError("not_after", "must be later than not_before")],
        )
    return await _insert_key(
        body,
        public_key,
        custody="own",
        sealed=None,
        not_before=whole_second(not_before),
        not_after=not_after,
        principal=principal,
        signer=await registry_signer(vault, now),
        now=now,
    )


async def rotate_hosted_key(
    body_code: str, *, vault: HostedKeyVault, now: datetime, principal: Principal
) -> str:
    """A new hosted key for the body, and its active hosted keys retired, all at once.

    What the old keys signed inside their windows still counts; from now on the
    registry signs the body's documents with the new key. Returns the new kid.
    """
    body = await get_body(parse_body_code(body_code))
    principal.require_operator_or_body(body["code"])
    signer = await registry_signer(vault, now)
    old = [
        row["kid"]
        for row in await list_keys(body["code"])
        if row["custody"] == "hosted" and row["state"] == KeyState.ACTIVE.value
    ]
    key = PrivateKey.generate()
    async with write_transaction(SigningKey._meta.db):
        for kid in old:
            await SigningKey.update(
                {SigningKey.state: KeyState.RETIRED.value, SigningKey.not_after: now}
            ).where(SigningKey.kid == kid, SigningKey.state == KeyState.ACTIVE.value)
            await log_key_statement(kid, signer=signer, now=whole_second(now))
            await audit_entry(principal, "key.retire", kid, rotated=True)
        # _insert_key's transaction joins this one: the rotation is all or nothing.
        return await _insert_key(
            body,
            key.public_key,
            custody="hosted",
            sealed=vault.seal(key),
            not_before=whole_second(now),
            not_after=None,
            principal=principal,
            signer=signer,
            now=now,
        )


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")


def parse_public_key_text(text: str) -> dict[str, Any]:
    """The public JWK of a pasted key: a JWK (JSON) or a PEM public key.

    Raises:
        InvalidInputError: anything holding a private key (refused, and never kept),
            or text that is not an Ed25519 public key.
    """

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError(message, errors=[FieldError("public_key", message)])

    stripped = text.strip()
    private = (
        "a private key was pasted: nothing was stored. Paste only the public key "
        '(a JWK without "d", or a PEM "PUBLIC KEY"); keep the private key offline'
    )
    if not stripped:
        raise refuse("paste the public key: a JWK or a PEM public key")
    if len(stripped) > 10_000:
        raise refuse("a public key is far shorter than this")
    blocks = _PEM_BLOCK.findall(stripped)
    if any("PRIVATE" in b for b in blocks):
        raise refuse(private)
    if blocks:
        try:
            loaded = load_pem_public_key(stripped.encode("ascii", "replace"))
        except ValueError as e:
            raise refuse("the PEM text is not a public key") from e
        if not isinstance(loaded, Ed25519PublicKey):
            raise refuse("the PEM public key is not an Ed25519 key")
        return PublicKey(loaded).to_jwk()
    try:
        jwk = json.loads(stripped)
    except ValueError as e:
        raise refuse("not a JWK (JSON) nor a PEM public key") from e
    if not isinstance(jwk, dict):
        raise refuse("a JWK is a JSON object")
    if "d" in jwk or any(k in jwk for k in ("p", "q", "dp", "dq", "qi", "k")):
        raise refuse(private)
    try:
        return PublicKey.from_jwk(jwk).to_jwk()
    except InvalidKeyError as e:
        raise refuse(str(e)) from e


async def _active_registry_kid() -> str | None:
    row = (
        await SigningKey.select(SigningKey.kid)
        .where(SigningKey.body.is_null(), SigningKey.state == KeyState.ACTIVE.value)
        .first()
    )
    return None if row is None else str(row["kid"])


async def ensure_registry_key(*, vault: HostedKeyVault, now: datetime) -> str:
    """The registry's own active key (receipts), created on first start.

    Several processes may start at once and all find no key: the unique index
    `signing_key_one_active_registry_key` lets exactly one insert succeed, and
    the others use that first key.
    """
    kid = await _active_registry_kid()
    if kid is not None:
        return kid
    key = PrivateKey.generate()
    try:
        return await _insert_key(
            None,
            key.public_key,
            custody="hosted",
            sealed=vault.seal(key),
            not_before=whole_second(now),
            not_after=None,
            principal=Principal.cli(),
            signer=None,
            now=now,
        )
    except ConflictError:
        kid = await _active_registry_kid()
        if kid is None:  # pragma: no cover - the conflict was with a key that is gone again
            raise
        return kid


async def _get_key_row(kid: str) -> dict[str, Any]:
    row: dict[str, Any] | None = (
        await SigningKey.select(*KEY_COLUMNS, SigningKey.encrypted_private_key)
        .where(SigningKey.kid == kid)
        .first()
    )
    if row is None:
        raise NotFoundError(f"no key with kid {kid}")
    return row


async def retire_key(
    kid: str, *, now: datetime, principal: Principal, vault: HostedKeyVault
) -> None:
    """A retired key signs no more; what it signed inside its window still counts."""
    principal.require_operator()
    signer = await registry_signer(vault, now)
    row = await _get_key_row(kid)
    if row["state"] != KeyState.ACTIVE.value:
        raise ConflictError(f"key {kid} is {row['state']}, not active")
    not_after = row["not_after"] if row["not_after"] and row["not_after"] < now else now
    async with write_transaction(SigningKey._meta.db):
        await SigningKey.update(
            {SigningKey.state: KeyState.RETIRED.value, SigningKey.not_after: not_after}
        ).where(SigningKey.kid == kid)
        await log_key_statement(kid, signer=signer, now=whole_second(now))
        await audit_entry(principal, "key.retire", kid)


async def compromise_key(
    kid: str, *, at: datetime, now: datetime, principal: Principal, vault: HostedKeyVault
) -> None:
    """Documents signed or recorded from `at` on stop counting (PRODUCT §3)."""
    principal.require_operator()
    signer = await registry_signer(vault, now)
    row = await _get_key_row(kid)
    if at > now:
        raise InvalidInputError(
            "compromised_at lies in the future",
            errors=[FieldError("compromised_at", "must not be in the future")],
        )
    if row["compromised_at"] is not None and row["compromised_at"] <= at:
        raise ConflictError(
            f"key {kid} is already marked compromised since {row['compromised_at'].isoformat()}"
        )
    async with write_transaction(SigningKey._meta.db):
        await SigningKey.update(
            {SigningKey.state: KeyState.COMPROMISED.value, SigningKey.compromised_at: at}
        ).where(SigningKey.kid == kid)
        await log_key_statement(kid, signer=signer, now=whole_second(now))
        await audit_entry(principal, "key.compromise", kid, compromised_at=at.isoformat())


async def active_hosted_signer(
    body_code: str | None, *, vault: HostedKeyVault, now: datetime
) -> PrivateKey:
    """The newest active hosted key of a body (None: the registry's), usable now."""
    query = SigningKey.select(*KEY_COLUMNS, SigningKey.encrypted_private_key).where(
        SigningKey.custody == "hosted",
        SigningKey.state == KeyState.ACTIVE.value,
        SigningKey.not_before <= now,
    )
    if body_code is None:
        query = query.where(SigningKey.body.is_null())
    else:
        query = query.where(SigningKey.body.code == body_code)
    for row in await query.order_by(SigningKey.id, ascending=False):
        if row["not_after"] is None or row["not_after"] >= now:
            return vault.unseal(row["kid"], row["encrypted_private_key"])
    owner = body_code or REGISTRY_OWNER
    raise ConflictError(
        f"{owner} has no active hosted key: generate one "
        f"(starmark key generate --body {owner} --hosted) or submit a signed JWS"
    )


async def has_active_hosted_key(body_code: str, *, now: datetime) -> bool:
    """Whether the registry can sign for the body now (else it signs offline, own key)."""
    rows = await SigningKey.select(SigningKey.not_after).where(
        SigningKey.custody == "hosted",
        SigningKey.state == KeyState.ACTIVE.value,
        SigningKey.not_before <= now,
        SigningKey.body.code == body_code,
    )
    return any(row["not_after"] is None or row["not_after"] >= now for row in rows)


# --- tokens -------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    #: Shown once, never stored.
    token: str = ""
    prefix: str = ""


async def create_token(body_code: str | None, *, label: str = "", principal: Principal) -> NewToken:
    """A body token (or an operator token when body_code is None).

    An operator makes any token; a body (the console's issuer) its own.
    """
    body = await get_body(parse_body_code(body_code)) if body_code is not None else None
    if body is None:
        principal.require_operator()
    else:
        principal.require_operator_or_body(body["code"])
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[: len(TOKEN_PREFIX) + 8]
    async with write_transaction(ApiToken._meta.db):
        await ApiToken.insert(
            ApiToken(
                token_hash=hash_token(token),
                body=body["id"] if body else None,
                is_operator=body is None,
                prefix=prefix,
                label=label[:200],
            )
        )
        await audit_entry(
            principal, "token.create", prefix, body=body_code or "operator", label=label
        )
    return NewToken(token=token, prefix=prefix)


async def revoke_token(prefix: str, *, now: datetime, principal: Principal) -> None:
    """Revoke a token: an operator any, a body its own (another body's is unknown to it)."""
    if not principal.is_operator and principal.body_code is None:
        principal.require_operator()
    async with write_transaction(ApiToken._meta.db):
        query = ApiToken.select(ApiToken.id).where(
            ApiToken.prefix == prefix, ApiToken.revoked_at.is_null()
        )
        if not principal.is_operator:
            query = query.where(ApiToken.body.code == principal.body_code)
        rows = await query
        if not rows:
            raise NotFoundError(f"no active token starting with {prefix[:20]}")
        await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.prefix == prefix)
        await audit_entry(principal, "token.revoke", prefix)


async def list_tokens(body_code: str) -> list[dict[str, Any]]:
    """A body's tokens, newest first: prefix, label, created_at, revoked_at, last_used_at
    (never the secret)."""
    rows: list[dict[str, Any]] = (
        await ApiToken.select(
            ApiToken.prefix,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .where(ApiToken.body.code == body_code)
        .order_by(ApiToken.id, ascending=False)
    )
    return rows


#: How stale a token's `last_used_at` may get: it is written at most once this long,
#: so a busy program's calls do not each write (SQLite has one writer).
LAST_USED_STEP: Final = timedelta(hours=1)


async def authenticate(token: str, *, now: datetime, request_id: str | None = None) -> Principal:
    if not token.startswith(TOKEN_PREFIX):
        raise UnauthorizedError("the bearer token is not a Starmark token")
    row = (
        await ApiToken.select(
            ApiToken.id,
            ApiToken.prefix,
            ApiToken.is_operator,
            ApiToken.last_used_at,
            ApiToken.body.code.as_alias("body_code"),
        )
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None:
        raise UnauthorizedError("the bearer token is unknown or revoked")
    last_used = row["last_used_at"]
    if last_used is None or now - last_used >= LAST_USED_STEP:
        await _note_use(row["id"], now)
    return Principal(
        actor=f"token:{row['prefix']}",
        body_code=row["body_code"],
        is_operator=bool(row["is_operator"]),
        request_id=request_id,
    )


async def _note_use(token_id: int, now: datetime) -> None:
    """Writes when the token was used. A database too busy to take it does not refuse
    the request: the next use writes it."""
    try:
        async with write_transaction(ApiToken._meta.db):
            await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == token_id)
    except Exception as e:  # a note, never a reason to refuse
        log.warning("could not note the use of token %s: %s", token_id, e)
