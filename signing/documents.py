"""The signed payloads (PRODUCT §3): certificate revision, status event, receipt.

Each payload class reads JSON two ways:

* ``from_json(obj)`` reads a *signed* payload. It is strict: the payload must
  already be in its one canonical spelling (upper-case number, trimmed text,
  instants as ``YYYY-MM-DDTHH:MM:SSZ``, optional members omitted rather than
  null), so that ``to_json()`` gives back exactly what was signed.
* ``build(fields, ...)`` reads what a certification body sends (PRODUCT §4,
  ``POST /api/v1/certificates``) and normalises it: any-case number, padded
  text, a score as a number or numeric string, a defaulted ``valid_until``.

Both collect *every* problem and raise one `InvalidPayloadError` listing them,
each naming its field (``holder.uscc``, ``sites[2]``), so an API can answer 422
once with everything to fix. Unknown members are errors: a signed payload
means exactly what its fields say and nothing else.

The member readers (text, dates, instants, numbers) are `signing.fields`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Final, TypeVar

from signing.errors import InvalidPayloadError, MalformedError
from signing.fields import (
    Problems,
    check_constant,
    read_date,
    read_instant,
    read_integer,
    read_number,
    read_object,
    read_optional_string,
    read_parsed,
    read_string,
    type_name,
)
from signing.identifiers import Uscc, parse_certificate_number
from signing.instants import format_date, format_instant
from signing.scheme import GB_T_27922_2011, SCHEMES, Scheme, StarLevel
from signing.status import EventStatus

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_REASON_LENGTH",
    "MAX_SCOPE_LENGTH",
    "MAX_SITES",
    "MAX_SITE_LENGTH",
    "MAX_TENDER_TEXT",
    "REGISTRY_ISSUER",
    "CertificatePayload",
    "Holder",
    "Issuer",
    "KeyStatementPayload",
    "ReceiptPayload",
    "Scope",
    "StatusEventPayload",
    "TenderRef",
]

MAX_NAME_LENGTH: Final = 200
MAX_SCOPE_LENGTH: Final = 2000
MAX_ADDRESS_LENGTH: Final = 300
MAX_SITES: Final = 50
MAX_SITE_LENGTH: Final = 200
MAX_REASON_LENGTH: Final = 1000
MAX_CODE_LENGTH: Final = 64

#: The issuer code of documents signed by the registry itself (receipts).
REGISTRY_ISSUER: Final = "registry"

T = TypeVar("T")


def _score_problem(score: Decimal, scheme: Scheme) -> str | None:
    if not score.is_finite():
        return "must be a finite number"
    # The range first: the decimals test of a huge score (1e30) would overflow
    # the Decimal context instead of answering.
    try:
        scheme.level_for(score)
    except InvalidPayloadError as e:
        return e.problems[0].message
    if (score * 10) % 1 != 0:
        return f"{score} has more than one decimal; give it like 92 or 92.5"
    return None


def _normal_score(score: Decimal) -> Decimal:
    """92.50 -> 92.5, 95.0 -> 95: one spelling per score."""
    return (
        Decimal(int(score))
        if score == score.to_integral_value()
        else score.quantize(Decimal("0.1"))
    )


def _score_json(score: Decimal) -> int | float:
    # PRODUCT §3: a JSON number with at most one decimal. A whole score is an
    # integer (RFC 8785 would print 95.0 as 95 anyway); a float has its one
    # decimal exactly in its shortest repr.
    return int(score) if score == score.to_integral_value() else float(score)


@dataclass(frozen=True, slots=True)
class Holder:
    """The certified organisation. ``uscc`` is the canonical 18-character code."""

    name: str
    uscc: str
    name_en: str | None = None
    address: str | None = None

    def to_json(self) -> dict[str, str]:
        """The ``holder`` object (optional members omitted when None)."""
        out = {"name": self.name, "uscc": self.uscc}
        if self.name_en is not None:
            out["name_en"] = self.name_en
        if self.address is not None:
            out["address"] = self.address
        return out


@dataclass(frozen=True, slots=True)
class Scope:
    """Which products and services the certificate covers."""

    zh: str
    en: str | None = None

    def to_json(self) -> dict[str, str]:
        """The ``scope`` object (``en`` omitted when None)."""
        out = {"zh": self.zh}
        if self.en is not None:
            out["en"] = self.en
        return out


@dataclass(frozen=True, slots=True)
class Issuer:
    """The signing body: its code, and in a certificate its name."""

    code: str
    name: str | None = None

    def to_json(self) -> dict[str, str]:
        """The ``issuer`` object (``name`` omitted when None)."""
        out = {"code": self.code}
        if self.name is not None:
            out["name"] = self.name
        return out


def _holder(value: object, problems: Problems, *, strict: bool) -> Holder | None:
    obj = read_object(
        value, "holder", problems, required=("name", "uscc"), optional=("name_en", "address")
    )
    if obj is None:
        return None
    name = (
        read_string(obj["name"], "holder.name", problems, strict=strict, max_length=MAX_NAME_LENGTH)
        if "name" in obj
        else None
    )
    name_en = read_optional_string(
        obj, "name_en", "holder.name_en", problems, strict=strict, max_length=MAX_NAME_LENGTH
    )
    address = read_optional_string(
        obj, "address", "holder.address", problems, strict=strict, max_length=MAX_ADDRESS_LENGTH
    )
    uscc: Uscc | None = None
    if "uscc" in obj:
        uscc = read_parsed(obj["uscc"], "holder.uscc", problems, Uscc.parse)
        if uscc is not None and strict and uscc.code != obj["uscc"]:
            problems.add("holder.uscc", f"must be written {uscc.code} (upper case, no spaces)")
            uscc = None
    if name is None or uscc is None:
        return None
    return Holder(name=name, uscc=uscc.code, name_en=name_en, address=address)


def _scope(value: object, problems: Problems, *, strict: bool) -> Scope | None:
    obj = read_object(value, "scope", problems, required=("zh",), optional=("en",))
    if obj is None:
        return None
    zh = (
        read_string(
            obj["zh"],
            "scope.zh",
            problems,
            strict=strict,
            max_length=MAX_SCOPE_LENGTH,
            multiline=True,
        )
        if "zh" in obj
        else None
    )
    en = read_optional_string(
        obj, "en", "scope.en", problems, strict=strict, max_length=MAX_SCOPE_LENGTH, multiline=True
    )
    return None if zh is None else Scope(zh=zh, en=en)


def _sites(value: object, problems: Problems, *, strict: bool) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        problems.add("sites", f"must be an array of strings, got {type_name(value)}")
        return None
    if len(value) > MAX_SITES:
        problems.add("sites", f"has {len(value)} items; at most {MAX_SITES} are allowed")
        return None
    sites = [
        read_string(v, f"sites[{i}]", problems, strict=strict, max_length=MAX_SITE_LENGTH)
        for i, v in enumerate(value)
    ]
    if any(s is None for s in sites):
        return None
    return tuple(s for s in sites if s is not None)


def _issuer(value: object, problems: Problems, *, with_name: bool) -> Issuer | None:
    obj = read_object(
        value, "issuer", problems, required=("code", "name") if with_name else ("code",)
    )
    if obj is None:
        return None
    code = (
        read_string(obj["code"], "issuer.code", problems, strict=True, max_length=MAX_CODE_LENGTH)
        if "code" in obj
        else None
    )
    name = (
        read_string(obj["name"], "issuer.name", problems, strict=True, max_length=MAX_NAME_LENGTH)
        if with_name and "name" in obj
        else None
    )
    if code is None or (with_name and name is None):
        return None
    return Issuer(code=code, name=name)


def _number_member(value: object, problems: Problems, *, strict: bool) -> str | None:
    if strict:
        number = read_parsed(value, "number", problems, parse_certificate_number)
        if number is not None and number != value:
            problems.add("number", f"must be written {number} (upper case, no spaces)")
            return None
        return number
    return read_parsed(value, "number", problems, parse_certificate_number)


def _certificate_rules(
    *,
    scheme: Scheme | None,
    score: Decimal | None,
    level: StarLevel | None,
    issued_on: date | None,
    valid_from: date | None,
    valid_until: date | None,
    problems: Problems,
) -> None:
    """The cross-field rules of a certificate, on whatever fields could be read."""
    if scheme is not None and score is not None:
        problem = _score_problem(score, scheme)
        if problem is not None:
            problems.add("score", problem)
        elif level is not None:
            earned = scheme.level_for(score)
            if level is not earned:
                problems.add(
                    "level",
                    f"{level.value} contradicts score {_normal_score(score)}, which is "
                    f"{earned.value} under {scheme.id}",
                )
    if issued_on is not None and valid_from is not None and issued_on > valid_from:
        problems.add(
            "issued_on",
            f"{issued_on} is after valid_from {valid_from}; a certificate "
            "cannot take effect before it is issued",
        )
    if valid_from is not None and valid_until is not None:
        if valid_until <= valid_from:
            problems.add("valid_until", f"{valid_until} must be after valid_from {valid_from}")
        elif scheme is not None and valid_until > scheme.latest_valid_until(valid_from):
            problems.add(
                "valid_until",
                f"{valid_until} is later than {scheme.latest_valid_until(valid_from)}, the day "
                f"before the {_ordinal(scheme.validity_years)} anniversary of valid_from "
                f"(the longest validity under {scheme.id})",
            )


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _level(value: object, problems: Problems) -> StarLevel | None:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return StarLevel(value)
    except ValueError:
        problems.add(
            "level",
            f"must be one of {', '.join(s.value for s in StarLevel)}, got {value!r}",
        )
        return None


_CERTIFICATE_MEMBERS: Final = (
    "type",
    "v",
    "number",
    "revision",
    "scheme",
    "score",
    "level",
    "holder",
    "scope",
    "sites",
    "issued_on",
    "valid_from",
    "valid_until",
    "issuer",
    "signed_at",
)
_CERTIFICATE_POST_REQUIRED: Final = (
    "number",
    "score",
    "holder",
    "scope",
    "issued_on",
    "valid_from",
)
_CERTIFICATE_POST_OPTIONAL: Final = ("level", "sites", "valid_until")
_CERTIFICATE_REGISTRY_FILLED: Final = ("type", "v", "scheme", "revision", "issuer", "signed_at")


@dataclass(frozen=True, slots=True)
class CertificatePayload:
    """A certificate revision, payload v1 (PRODUCT §3).

    The constructor checks the rules on typed values (it raises
    `InvalidPayloadError` like `from_json`), so a payload built in code is as
    trustworthy as one read from JSON.
    """

    TYPE: ClassVar[str] = "starmark.certificate"
    VERSION: ClassVar[int] = 1

    number: str
    revision: int
    scheme: Scheme
    score: Decimal
    level: StarLevel
    holder: Holder
    scope: Scope
    sites: tuple[str, ...]
    issued_on: date
    valid_from: date
    valid_until: date
    issuer: Issuer
    signed_at: datetime

    def __post_init__(self) -> None:
        problems = Problems()
        try:
            if parse_certificate_number(self.number) != self.number:
                problems.add("number", "must be upper case")
        except MalformedError as e:
            problems.add("number", str(e))
        if self.revision < 1:
            problems.add("revision", "must be at least 1")
        if self.issuer.name is None:
            problems.add("issuer.name", "is required")
        try:
            if Uscc.parse(self.holder.uscc).code != self.holder.uscc:
                problems.add("holder.uscc", "must be upper case without spaces")
        except MalformedError as e:
            problems.add("holder.uscc", str(e))
        if len(self.sites) > MAX_SITES:
            problems.add("sites", f"at most {MAX_SITES} are allowed")
        if self.signed_at.tzinfo is None or self.signed_at.utcoffset() is None:
            problems.add("signed_at", "must carry a UTC offset")
        _certificate_rules(
            scheme=self.scheme,
            score=self.score,
            level=self.level,
            issued_on=self.issued_on,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            problems=problems,
        )
        problems.raise_if_any()

    @classmethod
    def from_json(cls, obj: Any) -> CertificatePayload:
        """Read a signed certificate payload.

        Raises:
            InvalidPayloadError: every problem found (unknown or missing
                members, wrong types, a non-canonical spelling, an invalid
                USCC, a level that contradicts the score, dates out of order or
                beyond the scheme's validity...).
        """
        problems = Problems()
        payload = read_object(obj, "", problems, required=_CERTIFICATE_MEMBERS)
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover - problems is non-empty
        check_constant(payload, "type", cls.TYPE, problems)
        check_constant(payload, "v", cls.VERSION, problems)

        def member(name: str, read: Callable[[object], T]) -> T | None:
            return read(payload[name]) if name in payload else None

        scheme = member("scheme", lambda v: _scheme(v, problems))
        return cls._assemble(
            problems,
            number=member("number", lambda v: _number_member(v, problems, strict=True)),
            revision=member("revision", lambda v: read_integer(v, "revision", problems, minimum=1)),
            scheme=scheme,
            score=member("score", lambda v: read_number(v, "score", problems, strict=True)),
            level=member("level", lambda v: _level(v, problems)),
            holder=member("holder", lambda v: _holder(v, problems, strict=True)),
            scope=member("scope", lambda v: _scope(v, problems, strict=True)),
            sites=member("sites", lambda v: _sites(v, problems, strict=True)),
            issued_on=member("issued_on", lambda v: read_date(v, "issued_on", problems)),
            valid_from=member("valid_from", lambda v: read_date(v, "valid_from", problems)),
            valid_until=member("valid_until", lambda v: read_date(v, "valid_until", problems)),
            issuer=member("issuer", lambda v: _issuer(v, problems, with_name=True)),
            signed_at=member(
                "signed_at", lambda v: read_instant(v, "signed_at", problems, strict=True)
            ),
            strict=True,
        )

    @classmethod
    def build(
        cls,
        fields: Mapping[str, Any],
        *,
        issuer_code: str,
        issuer_name: str,
        revision: int,
        signed_at: datetime,
        scheme: Scheme = GB_T_27922_2011,
    ) -> CertificatePayload:
        """Build a payload from the fields a body sends (PRODUCT §4, POST /api/v1/certificates).

        ``fields`` is ``{"number", "score", "level"?, "holder": {...},
        "scope": {...}, "sites"?, "issued_on", "valid_from", "valid_until"?}``:
        the number in any case, the score as a number or numeric string, the
        level optional (when given it must agree with the score),
        ``valid_until`` defaulting to the scheme's longest validity, ``sites``
        to none. ``signed_at`` is truncated to whole seconds.

        Raises:
            InvalidPayloadError: every problem found, as for `from_json`;
                members the registry fills in (``type``, ``v``, ``scheme``,
                ``revision``, ``issuer``, ``signed_at``) are refused.
            ValueError: ``signed_at`` is naive.
        """
        if signed_at.tzinfo is None or signed_at.utcoffset() is None:
            raise ValueError("signed_at must be a timezone-aware datetime")
        problems = Problems()
        obj = read_object(
            fields,
            "",
            problems,
            required=_CERTIFICATE_POST_REQUIRED,
            optional=_CERTIFICATE_POST_OPTIONAL,
            registry_filled=_CERTIFICATE_REGISTRY_FILLED,
        )
        if obj is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover

        def member(name: str, read: Callable[[object], T]) -> T | None:
            return read(obj[name]) if name in obj else None

        valid_from = member("valid_from", lambda v: read_date(v, "valid_from", problems))
        valid_until: date | None
        if obj.get("valid_until") is None:
            valid_until = None if valid_from is None else scheme.latest_valid_until(valid_from)
        else:
            valid_until = read_date(obj["valid_until"], "valid_until", problems)
        sites = () if obj.get("sites") is None else _sites(obj["sites"], problems, strict=False)
        issuer = _issuer({"code": issuer_code, "name": issuer_name}, problems, with_name=True)
        return cls._assemble(
            problems,
            number=member("number", lambda v: _number_member(v, problems, strict=False)),
            revision=read_integer(revision, "revision", problems, minimum=1),
            scheme=scheme,
            score=member("score", lambda v: read_number(v, "score", problems, strict=False)),
            level=None if obj.get("level") is None else _level(obj["level"], problems),
            holder=member("holder", lambda v: _holder(v, problems, strict=False)),
            scope=member("scope", lambda v: _scope(v, problems, strict=False)),
            sites=sites,
            issued_on=member("issued_on", lambda v: read_date(v, "issued_on", problems)),
            valid_from=valid_from,
            valid_until=valid_until,
            issuer=issuer,
            signed_at=signed_at.replace(microsecond=0),
            strict=False,
        )

    @classmethod
    def _assemble(
        cls,
        problems: Problems,
        *,
        number: str | None,
        revision: int | None,
        scheme: Scheme | None,
        score: Decimal | None,
        level: StarLevel | None,
        holder: Holder | None,
        scope: Scope | None,
        sites: tuple[str, ...] | None,
        issued_on: date | None,
        valid_from: date | None,
        valid_until: date | None,
        issuer: Issuer | None,
        signed_at: datetime | None,
        strict: bool,
    ) -> CertificatePayload:
        _certificate_rules(
            scheme=scheme,
            score=score,
            level=level,
            issued_on=issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            problems=problems,
        )
        problems.raise_if_any()
        assert scheme is not None and score is not None  # no problems: every field was read
        if level is None and not strict:
            level = scheme.level_for(score)
        assert (
            number is not None
            and revision is not None
            and level is not None
            and holder is not None
            and scope is not None
            and sites is not None
            and issued_on is not None
            and valid_from is not None
            and valid_until is not None
            and issuer is not None
            and signed_at is not None
        )
        return cls(
            number=number,
            revision=revision,
            scheme=scheme,
            score=_normal_score(score),
            level=level,
            holder=holder,
            scope=scope,
            sites=sites,
            issued_on=issued_on,
            valid_from=valid_from,
            valid_until=valid_until,
            issuer=issuer,
            signed_at=signed_at,
        )

    def to_json(self) -> dict[str, Any]:
        """The payload exactly as signed (optional members omitted when None)."""
        return {
            "type": self.TYPE,
            "v": self.VERSION,
            "number": self.number,
            "revision": self.revision,
            "scheme": self.scheme.id,
            "score": _score_json(self.score),
            "level": self.level.value,
            "holder": self.holder.to_json(),
            "scope": self.scope.to_json(),
            "sites": list(self.sites),
            "issued_on": format_date(self.issued_on),
            "valid_from": format_date(self.valid_from),
            "valid_until": format_date(self.valid_until),
            "issuer": self.issuer.to_json(),
            "signed_at": format_instant(self.signed_at),
        }


def _scheme(value: object, problems: Problems) -> Scheme | None:
    if isinstance(value, str) and value in SCHEMES:
        return SCHEMES[value]
    problems.add("scheme", f"must be one of {', '.join(SCHEMES)}, got {value!r}")
    return None


def _event_status(value: object, problems: Problems) -> EventStatus | None:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return EventStatus(value)
    except ValueError:
        problems.add(
            "status", f"must be one of {', '.join(s.value for s in EventStatus)}, got {value!r}"
        )
        return None


_STATUS_MEMBERS: Final = (
    "type",
    "v",
    "number",
    "revision",
    "status",
    "effective_at",
    "issuer",
    "signed_at",
)


@dataclass(frozen=True, slots=True)
class StatusEventPayload:
    """A status event, payload v1 (PRODUCT §3). ``effective_at`` may lie in the past."""

    TYPE: ClassVar[str] = "starmark.status"
    VERSION: ClassVar[int] = 1

    number: str
    revision: int
    status: EventStatus
    effective_at: datetime
    issuer: Issuer
    signed_at: datetime
    reason: str | None = field(default=None)

    def __post_init__(self) -> None:
        problems = Problems()
        try:
            if parse_certificate_number(self.number) != self.number:
                problems.add("number", "must be upper case")
        except MalformedError as e:
            problems.add("number", str(e))
        if self.revision < 1:
            problems.add("revision", "must be at least 1")
        for name in ("effective_at", "signed_at"):
            dt: datetime = getattr(self, name)
            if dt.tzinfo is None or dt.utcoffset() is None:
                problems.add(name, "must carry a UTC offset")
        if self.reason is not None and len(self.reason) > MAX_REASON_LENGTH:
            problems.add("reason", f"at most {MAX_REASON_LENGTH} characters are allowed")
        problems.raise_if_any()

    @classmethod
    def from_json(cls, obj: Any) -> StatusEventPayload:
        """Read a signed status event payload.

        Raises:
            InvalidPayloadError: every problem found.
        """
        problems = Problems()
        payload = read_object(obj, "", problems, required=_STATUS_MEMBERS, optional=("reason",))
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover
        check_constant(payload, "type", cls.TYPE, problems)
        check_constant(payload, "v", cls.VERSION, problems)

        def member(name: str, read: Callable[[object], T]) -> T | None:
            return read(payload[name]) if name in payload else None

        number = member("number", lambda v: _number_member(v, problems, strict=True))
        revision = member("revision", lambda v: read_integer(v, "revision", problems, minimum=1))
        status = member("status", lambda v: _event_status(v, problems))
        effective_at = member(
            "effective_at", lambda v: read_instant(v, "effective_at", problems, strict=True)
        )
        issuer = member("issuer", lambda v: _issuer(v, problems, with_name=False))
        signed_at = member(
            "signed_at", lambda v: read_instant(v, "signed_at", problems, strict=True)
        )
        reason = read_optional_string(
            payload,
            "reason",
            "reason",
            problems,
            strict=True,
            max_length=MAX_REASON_LENGTH,
            multiline=True,
        )
        problems.raise_if_any()
        assert (
            number is not None
            and revision is not None
            and status is not None
            and effective_at is not None
            and issuer is not None
            and signed_at is not None
        )
        return cls(
            number=number,
            revision=revision,
            status=status,
            effective_at=effective_at,
            issuer=issuer,
            signed_at=signed_at,
            reason=reason,
        )

    @classmethod
    def build(
        cls,
        fields: Mapping[str, Any],
        *,
        number: str,
        revision: int,
        issuer_code: str,
        signed_at: datetime,
        now: datetime | None = None,
    ) -> StatusEventPayload:
        """Build an event from what a body sends (PRODUCT §4, POST .../events).

        ``fields`` is ``{"status", "effective_at"?, "reason"?}``;
        ``effective_at`` is RFC 3339 or a bare date (00:00 CST) and defaults
        to ``now`` (PRODUCT §4: "default effective_at now"), or to
        ``signed_at`` when ``now`` is not given. Instants are truncated to
        whole seconds. Whether the event may follow the certificate's history
        is `status.check_new_event`'s question.

        Raises:
            InvalidPayloadError: every problem found (unknown members included).
            ValueError: ``signed_at`` or ``now`` is naive.
        """
        if signed_at.tzinfo is None or signed_at.utcoffset() is None:
            raise ValueError("signed_at must be a timezone-aware datetime")
        if now is not None and (now.tzinfo is None or now.utcoffset() is None):
            raise ValueError("now must be a timezone-aware datetime")
        problems = Problems()
        obj = read_object(
            fields,
            "",
            problems,
            required=("status",),
            optional=("effective_at", "reason"),
            registry_filled=("type", "v", "number", "revision", "issuer", "signed_at"),
        )
        if obj is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover
        status = _event_status(obj["status"], problems) if "status" in obj else None
        effective_at = (
            (signed_at if now is None else now)
            if obj.get("effective_at") is None
            else read_instant(obj["effective_at"], "effective_at", problems, strict=False)
        )
        reason = read_optional_string(
            obj,
            "reason",
            "reason",
            problems,
            strict=False,
            max_length=MAX_REASON_LENGTH,
            multiline=True,
        )
        canonical_number = _number_member(number, problems, strict=False)
        checked_revision = read_integer(revision, "revision", problems, minimum=1)
        issuer = _issuer({"code": issuer_code}, problems, with_name=False)
        problems.raise_if_any()
        assert (
            status is not None
            and effective_at is not None
            and canonical_number is not None
            and checked_revision is not None
            and issuer is not None
        )
        return cls(
            number=canonical_number,
            revision=checked_revision,
            status=status,
            effective_at=effective_at.replace(microsecond=0),
            issuer=issuer,
            signed_at=signed_at.replace(microsecond=0),
            reason=reason,
        )

    def to_json(self) -> dict[str, Any]:
        """The payload exactly as signed (``reason`` omitted when None)."""
        out: dict[str, Any] = {
            "type": self.TYPE,
            "v": self.VERSION,
            "number": self.number,
            "revision": self.revision,
            "status": self.status.value,
            "effective_at": format_instant(self.effective_at),
            "issuer": self.issuer.to_json(),
            "signed_at": format_instant(self.signed_at),
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


_RECEIPT_MEMBERS: Final = (
    "type",
    "v",
    "request",
    "results",
    "as_of",
    "checked_at",
    "issuer",
    "signed_at",
)


#: The longest tender name or number a receipt records (PRODUCT §4).
MAX_TENDER_TEXT: Final = 200


@dataclass(frozen=True, slots=True)
class TenderRef:
    """The tender a receipt was made for: its name and its number, as the evaluator gave them.

    Either may be absent, not both; each obeys the text rules of
    `signing.fields` and is at most `MAX_TENDER_TEXT` characters.
    """

    name: str | None = None
    number: str | None = None

    @classmethod
    def read(cls, obj: object, where: str, problems: Problems, *, strict: bool) -> TenderRef | None:
        """Read ``{"name"?, "number"?}``; None (and problems added) when it is not one.

        Not strict (what a form sends): blank members count as absent, text is
        trimmed and NFC-normalised, and an object with neither gives None
        without a problem. Strict (a signed payload): at least one member.

        Raises:
            Nothing: a problem is added to ``problems`` and None returned.
        """
        members = read_object(obj, where, problems, required=(), optional=("name", "number"))
        if members is None:
            return None
        name, number = (
            read_optional_string(
                members, m, f"{where}.{m}", problems, strict=strict, max_length=MAX_TENDER_TEXT
            )
            for m in ("name", "number")
        )
        if name is None and number is None:
            if strict and "name" not in members and "number" not in members:
                problems.add(where, "names the tender: name, number or both")
            return None
        return cls(name=name, number=number)

    def to_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.number is not None:
            out["number"] = self.number
        return out


@dataclass(frozen=True, slots=True)
class ReceiptPayload:
    """A verification receipt signed by the registry (PRODUCT §4, POST /api/v1/verifications).

    ``request`` and ``results`` are kept as the JSON the registry answered;
    only the envelope is checked here.
    """

    TYPE: ClassVar[str] = "starmark.receipt"
    VERSION: ClassVar[int] = 1

    request: dict[str, Any]
    results: list[Any]
    as_of: datetime
    checked_at: datetime
    signed_at: datetime
    issuer: Issuer = field(default_factory=lambda: Issuer(REGISTRY_ISSUER))
    #: The transparency-log checkpoint the verdicts were read from:
    #: ``{"origin", "size", "root"}`` (PRODUCT §3); absent in older receipts.
    log: dict[str, Any] | None = None
    #: The tender the check was for (``{"name"?, "number"?}``); absent when none was given.
    tender: TenderRef | None = None

    @classmethod
    def from_json(cls, obj: Any) -> ReceiptPayload:
        """Read a signed receipt payload.

        Raises:
            InvalidPayloadError: every problem found: unknown or missing
                members, ``request`` not an object, ``results`` not an array,
                unreadable instants, or an issuer other than the registry.
        """
        problems = Problems()
        payload = read_object(
            obj, "", problems, required=_RECEIPT_MEMBERS, optional=("log", "tender")
        )
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover
        check_constant(payload, "type", cls.TYPE, problems)
        check_constant(payload, "v", cls.VERSION, problems)
        log = payload.get("log")
        tender = (
            TenderRef.read(payload["tender"], "tender", problems, strict=True)
            if "tender" in payload
            else None
        )
        if "log" in payload:
            members = read_object(log, "log", problems, required=("origin", "size", "root"))
            if members is not None and not (
                isinstance(members.get("origin"), str)
                and isinstance(members.get("size"), int)
                and isinstance(members.get("root"), str)
            ):
                problems.add("log", "origin and root are strings, size an integer")
        request = payload.get("request")
        if "request" in payload and not isinstance(request, dict):
            problems.add("request", f"must be an object, got {type_name(request)}")
        results = payload.get("results")
        if "results" in payload and not isinstance(results, list):
            problems.add("results", f"must be an array, got {type_name(results)}")
        instants = {
            name: read_instant(payload[name], name, problems, strict=True)
            for name in ("as_of", "checked_at", "signed_at")
            if name in payload
        }
        issuer = (
            _issuer(payload["issuer"], problems, with_name=False) if "issuer" in payload else None
        )
        if issuer is not None and issuer.code != REGISTRY_ISSUER:
            problems.add("issuer.code", f"a receipt is signed by the registry, got {issuer.code!r}")
        problems.raise_if_any()
        assert isinstance(request, dict) and isinstance(results, list) and issuer is not None
        as_of, checked_at, signed_at = (
            instants["as_of"],
            instants["checked_at"],
            instants["signed_at"],
        )
        assert as_of is not None and checked_at is not None and signed_at is not None
        return cls(
            request=request,
            results=results,
            as_of=as_of,
            checked_at=checked_at,
            signed_at=signed_at,
            issuer=issuer,
            log=dict(log) if isinstance(log, dict) else None,
            tender=tender,
        )

    def to_json(self) -> dict[str, Any]:
        """The payload as signed."""
        out: dict[str, Any] = {
            "type": self.TYPE,
            "v": self.VERSION,
            "request": self.request,
            "results": self.results,
            "as_of": format_instant(self.as_of),
            "checked_at": format_instant(self.checked_at),
            "issuer": self.issuer.to_json(),
            "signed_at": format_instant(self.signed_at),
        }
        if self.log is not None:
            out["log"] = self.log
        if self.tender is not None:
            out["tender"] = self.tender.to_json()
        return out


_KEY_MEMBERS: Final = ("type", "v", "kid", "body", "jwk", "not_before", "state", "signed_at")
#: The states a key statement names (`signing.keys.KeyState`).
KEY_STATES: Final = ("active", "retired", "compromised")


@dataclass(frozen=True, slots=True)
class KeyStatementPayload:
    """The registry's signed record of a body key (PRODUCT §3, a transparency-log leaf).

    Written when a key is registered, retired or marked compromised, signed
    with the registry's own key (`typ: starmark-key+jws`).
    """

    TYPE: ClassVar[str] = "starmark.key"
    VERSION: ClassVar[int] = 1

    kid: str
    body: str
    jwk: dict[str, Any]
    not_before: datetime
    not_after: datetime | None
    state: str
    compromised_at: datetime | None
    signed_at: datetime

    @classmethod
    def from_json(cls, obj: Any) -> KeyStatementPayload:
        """Read a signed key statement payload (the one reader of key statements).

        Raises:
            InvalidPayloadError: every problem found (unknown or missing
                members, wrong types, an unknown state, ``compromised_at``
                missing with state compromised or given without it).
        """
        problems = Problems()
        payload = read_object(
            obj, "", problems, required=_KEY_MEMBERS, optional=("not_after", "compromised_at")
        )
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover - problems is non-empty
        check_constant(payload, "type", cls.TYPE, problems)
        check_constant(payload, "v", cls.VERSION, problems)

        def text(name: str) -> str | None:
            if name not in payload:
                return None
            return read_string(payload[name], name, problems, strict=True, max_length=128)

        def instant(name: str) -> datetime | None:
            if name not in payload:
                return None
            return read_instant(payload[name], name, problems, strict=True)

        kid, body, state = text("kid"), text("body"), text("state")
        jwk = payload.get("jwk")
        if "jwk" in payload and not isinstance(jwk, dict):
            problems.add("jwk", f"must be an object, got {type_name(jwk)}")
        if state is not None and state not in KEY_STATES:
            problems.add("state", f"must be one of {', '.join(KEY_STATES)}; got {state!r}")
        not_before, not_after = instant("not_before"), instant("not_after")
        compromised_at, signed_at = instant("compromised_at"), instant("signed_at")
        if state is not None and (state == "compromised") != ("compromised_at" in payload):
            problems.add("compromised_at", "is required with state compromised and only with it")
        problems.raise_if_any()
        assert (
            kid is not None
            and body is not None
            and isinstance(jwk, dict)
            and not_before is not None
            and state is not None
            and signed_at is not None
        )
        return cls(
            kid=kid,
            body=body,
            jwk=jwk,
            not_before=not_before,
            not_after=not_after,
            state=state,
            compromised_at=compromised_at,
            signed_at=signed_at,
        )

    @property
    def compromised(self) -> bool:
        """True when the statement marks the key compromised."""
        return self.compromised_at is not None

    def to_json(self) -> dict[str, Any]:
        """The payload as signed: optional members left out rather than null."""
        out: dict[str, Any] = {
            "type": self.TYPE,
            "v": self.VERSION,
            "kid": self.kid,
            "body": self.body,
            "jwk": self.jwk,
            "not_before": format_instant(self.not_before),
            "state": self.state,
            "signed_at": format_instant(self.signed_at),
        }
        if self.not_after is not None:
            out["not_after"] = format_instant(self.not_after)
        if self.compromised_at is not None:
            out["compromised_at"] = format_instant(self.compromised_at)
        return out
