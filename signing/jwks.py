"""`KeySet`: a JWKS (RFC 7517 §5) with Starmark's members.

The registry serves ``/.well-known/jwks.json`` (PRODUCT §4) with, on each key,
``kid``, ``kty``, ``crv``, ``x``, ``use: "sig"``, ``alg: "EdDSA"`` and our
members ``body``, ``not_before``, ``not_after``, ``state`` and
``compromised_at``. A plain JWKS without our members is accepted too: its keys
are unbounded, active and bound to no body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from signing.errors import InvalidKeyError, MalformedError, UnknownKeyError
from signing.instants import format_instant, parse_instant
from signing.keys import KeyRecord, KeyState, PublicKey

__all__ = ["KeySet"]


def _instant_member(jwk: Mapping[str, Any], name: str, where: str) -> datetime | None:
    value = jwk.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidKeyError(f"{where}: {name} must be an RFC 3339 string or null")
    try:
        return parse_instant(value)
    except MalformedError as e:
        raise InvalidKeyError(f"{where}: {name}: {e}") from e


def _record_from_jwk(jwk: Any, where: str) -> KeyRecord:
    if not isinstance(jwk, Mapping):
        raise InvalidKeyError(f"{where}: a JWK is a JSON object, got {type(jwk).__name__}")
    try:
        public_key = PublicKey.from_jwk(jwk)
    except InvalidKeyError as e:
        raise InvalidKeyError(f"{where}: {e}") from e
    kid = jwk.get("kid")
    # RFC 7517 leaves kid free-form; we bind it to the key (RFC 7638) so a key
    # set cannot present one key under another key's name.
    if kid is not None and kid != public_key.kid:
        raise InvalidKeyError(
            f"{where}: kid {kid!r} is not the key's RFC 7638 thumbprint {public_key.kid!r}"
        )
    if jwk.get("use", "sig") != "sig":
        raise InvalidKeyError(f"{where}: use must be 'sig', got {jwk.get('use')!r}")
    if jwk.get("alg", "EdDSA") != "EdDSA":
        raise InvalidKeyError(f"{where}: alg must be 'EdDSA', got {jwk.get('alg')!r}")
    body = jwk.get("body")
    if body is not None and (not isinstance(body, str) or not body):
        raise InvalidKeyError(f"{where}: body must be a non-empty string or null")
    state_text = jwk.get("state", KeyState.ACTIVE.value)
    try:
        state = KeyState(state_text)
    except ValueError as e:
        raise InvalidKeyError(
            f"{where}: state must be one of active, retired, compromised; got {state_text!r}"
        ) from e
    compromised_at = _instant_member(jwk, "compromised_at", where)
    try:
        return KeyRecord(
            public_key=public_key,
            body=body,
            not_before=_instant_member(jwk, "not_before", where),
            not_after=_instant_member(jwk, "not_after", where),
            state=state,
            compromised_at=compromised_at,
        )
    except InvalidKeyError as e:
        raise InvalidKeyError(f"{where}: {e}") from e


class KeySet:
    """An immutable set of `KeyRecord`, looked up by ``kid``."""

    __slots__ = ("_by_kid", "_records")

    _records: tuple[KeyRecord, ...]
    _by_kid: Mapping[str, KeyRecord]

    def __init__(self, records: Iterable[KeyRecord]) -> None:
        """Build from records.

        Raises:
            InvalidKeyError: two records with the same ``kid``.
        """
        self._records = tuple(records)
        by_kid: dict[str, KeyRecord] = {}
        for record in self._records:
            if record.kid in by_kid:
                raise InvalidKeyError(f"key {record.kid} appears twice in the key set")
            by_kid[record.kid] = record
        self._by_kid = MappingProxyType(by_kid)

    @classmethod
    def of(cls, *records: KeyRecord) -> KeySet:
        """A key set of these records.

        Raises:
            InvalidKeyError: two records with the same ``kid``.
        """
        return cls(records)

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        """Read a JWKS, as served by the registry or a plain one.

        Raises:
            InvalidKeyError: not ``{"keys": [...]}``; a key that is not a public
                Ed25519 JWK; a ``kid`` that is not the key's thumbprint; ``use``
                other than ``sig`` or ``alg`` other than ``EdDSA``; unreadable
                ``body``, ``state`` or instants; or a key listed twice. The
                message names the key by its index (``keys[2]``).
        """
        if not isinstance(jwks, Mapping):
            raise InvalidKeyError(f"a JWKS is a JSON object, got {type(jwks).__name__}")
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise InvalidKeyError('a JWKS has a "keys" array (RFC 7517 §5)')
        return cls(_record_from_jwk(jwk, f"keys[{i}]") for i, jwk in enumerate(keys))

    def to_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS as the registry serves it (instants RFC 3339 UTC, nulls for none)."""

        def instant(dt: datetime | None) -> str | None:
            return None if dt is None else format_instant(dt)

        return {
            "keys": [
                {
                    "kid": r.kid,
                    **r.public_key.to_jwk(),
                    "use": "sig",
                    "alg": "EdDSA",
                    "body": r.body,
                    "not_before": instant(r.not_before),
                    "not_after": instant(r.not_after),
                    "state": r.state.value,
                    "compromised_at": instant(r.compromised_at),
                }
                for r in self._records
            ]
        }

    def with_compromises(self, marks: Mapping[str, tuple[datetime, int]]) -> KeySet:
        """This set with each key in ``marks`` compromised at ``(compromised_at, leaf index)``.

        ``marks`` comes from the transparency log's key statements
        (`signing.verdict.compromise_marks`); a kid not in this set is left out
        (a document signed with it is unknown anyway).
        """
        return KeySet(
            r.compromised_by(*marks[r.kid]) if r.kid in marks else r for r in self._records
        )

    def get(self, kid: str) -> KeyRecord:
        """The record of key ``kid``.

        Raises:
            UnknownKeyError: no such key in this set.
        """
        try:
            return self._by_kid[kid]
        except (KeyError, TypeError) as e:
            raise UnknownKeyError(f"unknown key {kid!r}: not in the key set") from e

    @property
    def records(self) -> tuple[KeyRecord, ...]:
        """All records, in the order given."""
        return self._records

    def __contains__(self, kid: object) -> bool:
        return isinstance(kid, str) and kid in self._by_kid

    def __iter__(self) -> Iterator[KeyRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"KeySet({', '.join(r.kid for r in self._records)})"
