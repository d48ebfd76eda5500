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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final, TypeVar

from signing.errors import FieldProblem, InvalidPayloadError, MalformedError
from signing.identifiers import Uscc, parse_certificate_number
from signing.instants import (
    format_date,
    format_instant,
    parse_date,
    parse_instant,
)
from signing.scheme import GB_T_27922_2011, SCHEMES, Scheme, StarLevel
from signing.status import EventStatus

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_REASON_LENGTH",
    "MAX_SCOPE_LENGTH",
    "MAX_SITES",
    "MAX_SITE_LENGTH",
    "REGISTRY_ISSUER",
    "CertificatePayload",
    "Holder",
    "Issuer",
    "ReceiptPayload",
    "Scope",
    "StatusEventPayload",
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

# C0 controls and DEL: never part of a name; a scope or reason may span lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_SCORE_TEXT = re.compile(r"\d{1,3}(?:\.\d+)?")

T = TypeVar("T")


class _Problems:
    """Collects FieldProblems; raises them all at once."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field_name: str, message: str) -> None:
        self.items.append(FieldProblem(field_name, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidPayloadError(self.items)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _object(
    value: object,
    where: str,
    problems: _Problems,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    registry_filled: Sequence[str] = (),
) -> Mapping[str, Any] | None:
    """``value`` as an object with these members, reporting missing and unknown ones."""
    if not isinstance(value, Mapping):
        problems.add(where or "payload", f"must be a JSON object, got {_type_name(value)}")
        return None
    prefix = f"{where}." if where else ""
    for name in required:
        if name not in value:
            problems.add(prefix + name, "is required")
    allowed = {*required, *optional}
    for name in value:
        if name in allowed:
            continue
        if name in registry_filled:
            problems.add(prefix + str(name), "is filled in by the registry; leave it out")
        else:
            problems.add(
                prefix + str(name),
                f"is not a known member (allowed: {', '.join(sorted(allowed))})",
            )
    return value


def _text(
    value: object,
    where: str,
    problems: _Problems,
    *,
    strict: bool,
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """A non-empty string, trimmed (strict: must already be trimmed)."""
    if not isinstance(value, str):
        problems.add(where, f"must be a string, got {_type_name(value)}")
        return None
    text = value.strip()
    if strict and text != value:
        problems.add(where, "must not start or end with white space")
        return None
    if not text:
        problems.add(where, "must not be empty")
        return None
    if len(text) > max_length:
        problems.add(where, f"is {len(text)} characters long; at most {max_length} are allowed")
        return None
    control = _CONTROL_EXCEPT_NEWLINE if multiline else _CONTROL
    if control.search(text):
        problems.add(where, "must not contain control characters")
        return None
    return text


def _optional_text(
    obj: Mapping[str, Any],
    name: str,
    where: str,
    problems: _Problems,
    *,
    strict: bool,
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """An optional member: absent (and, when not strict, null or blank) means None."""
    if name not in obj:
        return None
    value = obj[name]
    if not strict and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if strict and value is None:
        problems.add(where, "must be a string; omit the member when there is none")
        return None
    return _text(value, where, problems, strict=strict, max_length=max_length, multiline=multiline)


def _parsed(
    value: object,
    where: str,
    problems: _Problems,
    parse: Callable[[str], T],
) -> T | None:
    """Apply a `signing` parser to a string member, turning its error into a problem."""
    if not isinstance(value, str):
        problems.add(where, f"must be a string, got {_type_name(value)}")
        return None
    try:
        return parse(value)
    except MalformedError as e:
        problems.add(where, str(e))
        return None


def _date(value: object, where: str, problems: _Problems) -> date | None:
    return _parsed(value, where, problems, parse_date)


def _instant(value: object, where: str, problems: _Problems, *, strict: bool) -> datetime | None:
    dt = _parsed(value, where, problems, parse_instant)
    if dt is None:
        return None
    if strict and format_instant(dt) != value:
        problems.add(
            where,
            f"must be written in UTC as YYYY-MM-DDTHH:MM:SSZ, e.g. {format_instant(dt)}",
        )
        return None
    return dt.replace(microsecond=0)


def _integer(value: object, where: str, problems: _Problems, *, minimum: int) -> int | None:
    # bool is an int in Python but not a number in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        problems.add(where, f"must be an integer, got {_type_name(value)}")
        return None
    if value < minimum:
        problems.add(where, f"must be at least {minimum}, got {value}")
        return None
    return value


def _number(value: object, where: str, problems: _Problems, *, strict: bool) -> Decimal | None:
    """A score: a JSON number (or, when not strict, a numeric string), as a Decimal."""
    if isinstance(value, bool):
        problems.add(where, "must be a number, got a boolean")
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same double: 95.5
        # gives Decimal("95.5"), not the binary expansion.
        try:
            return Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of a float always parses
            problems.add(where, "must be a finite number")
            return None
    if isinstance(value, str) and not strict:
        text = value.strip()
        if _SCORE_TEXT.fullmatch(text):
            return Decimal(text)
        problems.add(where, f"{value!r} is not a score such as 92 or 92.5")
        return None
    problems.add(where, f"must be a number, got {_type_name(value)}")
    return None


def _score_problem(score: Decimal, scheme: Scheme) -> str | None:
    if not score.is_finite():
        return "must be a finite number"
    if (score * 10) % 1 != 0:
        return f"{score} has more than one decimal; give it like 92 or 92.5"
    try:
        scheme.level_for(score)
    except InvalidPayloadError as e:
        return e.problems[0].message
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


def _holder(value: object, problems: _Problems, *, strict: bool) -> Holder | None:
    obj = _object(
        value, "holder", problems, required=("name", "uscc"), optional=("name_en", "address")
    )
    if obj is None:
        return None
    name = (
        _text(obj["name"], "holder.name", problems, strict=strict, max_length=MAX_NAME_LENGTH)
        if "name" in obj
        else None
    )
    name_en = _optional_text(
        obj, "name_en", "holder.name_en", problems, strict=strict, max_length=MAX_NAME_LENGTH
    )
    address = _optional_text(
        obj, "address", "holder.address", problems, strict=strict, max_length=MAX_ADDRESS_LENGTH
    )
    uscc: Uscc | None = None
    if "uscc" in obj:
        uscc = _parsed(obj["uscc"], "holder.uscc", problems, Uscc.parse)
        if uscc is not None and strict and uscc.code != obj["uscc"]:
            problems.add("holder.uscc", f"must be written {uscc.code} (upper case, no spaces)")
            uscc = None
    if name is None or uscc is None:
        return None
    return Holder(name=name, uscc=uscc.code, name_en=name_en, address=address)


def _scope(value: object, problems: _Problems, *, strict: bool) -> Scope | None:
    obj = _object(value, "scope", problems, required=("zh",), optional=("en",))
    if obj is None:
        return None
    zh = (
        _text(
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
    en = _optional_text(
        obj, "en", "scope.en", problems, strict=strict, max_length=MAX_SCOPE_LENGTH, multiline=True
    )
    return None if zh is None else Scope(zh=zh, en=en)


def _sites(value: object, problems: _Problems, *, strict: bool) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        problems.add("sites", f"must be an array of strings, got {_type_name(value)}")
        return None
    if len(value) > MAX_SITES:
        problems.add("sites", f"has {len(value)} items; at most {MAX_SITES} are allowed")
        return None
    sites = [
        _text(v, f"sites[{i}]", problems, strict=strict, max_length=MAX_SITE_LENGTH)
        for i, v in enumerate(value)
    ]
    if any(s is None for s in sites):
        return None
    return tuple(s for s in sites if s is not None)


def _issuer(value: object, problems: _Problems, *, with_name: bool) -> Issuer | None:
    obj = _object(value, "issuer", problems, required=("code", "name") if with_name else ("code",))
    if obj is None:
        return None
    code = (
        _text(obj["code"], "issuer.code", problems, strict=True, max_length=MAX_CODE_LENGTH)
        if "code" in obj
        else None
    )
    name = (
        _text(obj["name"], "issuer.name", problems, strict=True, max_length=MAX_NAME_LENGTH)
        if with_name and "name" in obj
        else None
    )
    if code is None or (with_name and name is None):
        return None
    return Issuer(code=code, name=name)


def _check_constant(
    obj: Mapping[str, Any], name: str, expected: object, problems: _Problems
) -> None:
    if name not in obj:
        return  # reported as missing
    value = obj[name]
    if value != expected or type(value) is not type(expected):
        problems.add(name, f"must be {expected!r}, got {value!r}")


def _number_member(value: object, problems: _Problems, *, strict: bool) -> str | None:
    if strict:
        number = _parsed(value, "number", problems, parse_certificate_number)
        if number is not None and number != value:
            problems.add("number", f"must be written {number} (upper case, no spaces)")
            return None
        return number
    return _parsed(value, "number", problems, parse_certificate_number)


def _certificate_rules(
    *,
    scheme: Scheme | None,
    score: Decimal | None,
    level: StarLevel | None,
    issued_on: date | None,
    valid_from: date | None,
    valid_until: date | None,
    problems: _Problems,
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


def _level(value: object, problems: _Problems) -> StarLevel | None:
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
        problems = _Problems()
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
        problems = _Problems()
        payload = _object(obj, "", problems, required=_CERTIFICATE_MEMBERS)
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover - problems is non-empty
        _check_constant(payload, "type", cls.TYPE, problems)
        _check_constant(payload, "v", cls.VERSION, problems)

        def member(name: str, read: Callable[[object], T]) -> T | None:
            return read(payload[name]) if name in payload else None

        scheme = member("scheme", lambda v: _scheme(v, problems))
        return cls._assemble(
            problems,
            number=member("number", lambda v: _number_member(v, problems, strict=True)),
            revision=member("revision", lambda v: _integer(v, "revision", problems, minimum=1)),
            scheme=scheme,
            score=member("score", lambda v: _number(v, "score", problems, strict=True)),
            level=member("level", lambda v: _level(v, problems)),
            holder=member("holder", lambda v: _holder(v, problems, strict=True)),
            scope=member("scope", lambda v: _scope(v, problems, strict=True)),
            sites=member("sites", lambda v: _sites(v, problems, strict=True)),
            issued_on=member("issued_on", lambda v: _date(v, "issued_on", problems)),
            valid_from=member("valid_from", lambda v: _date(v, "valid_from", problems)),
            valid_until=member("valid_until", lambda v: _date(v, "valid_until", problems)),
            issuer=member("issuer", lambda v: _issuer(v, problems, with_name=True)),
            signed_at=member(
                "signed_at", lambda v: _instant(v, "signed_at", problems, strict=True)
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
        problems = _Problems()
        obj = _object(
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

        valid_from = member("valid_from", lambda v: _date(v, "valid_from", problems))
        valid_until: date | None
        if obj.get("valid_until") is None:
            valid_until = None if valid_from is None else scheme.latest_valid_until(valid_from)
        else:
            valid_until = _date(obj["valid_until"], "valid_until", problems)
        sites = () if obj.get("sites") is None else _sites(obj["sites"], problems, strict=False)
        issuer = _issuer({"code": issuer_code, "name": issuer_name}, problems, with_name=True)
        return cls._assemble(
            problems,
            number=member("number", lambda v: _number_member(v, problems, strict=False)),
            revision=_integer(revision, "revision", problems, minimum=1),
            scheme=scheme,
            score=member("score", lambda v: _number(v, "score", problems, strict=False)),
            level=None if obj.get("level") is None else _level(obj["level"], problems),
            holder=member("holder", lambda v: _holder(v, problems, strict=False)),
            scope=member("scope", lambda v: _scope(v, problems, strict=False)),
            sites=sites,
            issued_on=member("issued_on", lambda v: _date(v, "issued_on", problems)),
            valid_from=valid_from,
            valid_until=valid_until,
            issuer=issuer,
            signed_at=signed_at.replace(microsecond=0),
            strict=False,
        )

    @classmethod
    def _assemble(
        cls,
        problems: _Problems,
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


def _scheme(value: object, problems: _Problems) -> Scheme | None:
    if isinstance(value, str) and value in SCHEMES:
        return SCHEMES[value]
    problems.add("scheme", f"must be one of {', '.join(SCHEMES)}, got {value!r}")
    return None


def _event_status(value: object, problems: _Problems) -> EventStatus | None:
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
        problems = _Problems()
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
        problems = _Problems()
        payload = _object(obj, "", problems, required=_STATUS_MEMBERS, optional=("reason",))
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover
        _check_constant(payload, "type", cls.TYPE, problems)
        _check_constant(payload, "v", cls.VERSION, problems)

        def member(name: str, read: Callable[[object], T]) -> T | None:
            return read(payload[name]) if name in payload else None

        number = member("number", lambda v: _number_member(v, problems, strict=True))
        revision = member("revision", lambda v: _integer(v, "revision", problems, minimum=1))
        status = member("status", lambda v: _event_status(v, problems))
        effective_at = member(
            "effective_at", lambda v: _instant(v, "effective_at", problems, strict=True)
        )
        issuer = member("issuer", lambda v: _issuer(v, problems, with_name=False))
        signed_at = member("signed_at", lambda v: _instant(v, "signed_at", problems, strict=True))
        reason = _optional_text(
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
        problems = _Problems()
        obj = _object(
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
            else _instant(obj["effective_at"], "effective_at", problems, strict=False)
        )
        reason = _optional_text(
            obj,
            "reason",
            "reason",
            problems,
            strict=False,
            max_length=MAX_REASON_LENGTH,
            multiline=True,
        )
        canonical_number = _number_member(number, problems, strict=False)
        checked_revision = _integer(revision, "revision", problems, minimum=1)
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

    @classmethod
    def from_json(cls, obj: Any) -> ReceiptPayload:
        """Read a signed receipt payload.

        Raises:
            InvalidPayloadError: every problem found: unknown or missing
                members, ``request`` not an object, ``results`` not an array,
                unreadable instants, or an issuer other than the registry.
        """
        problems = _Problems()
        payload = _object(obj, "", problems, required=_RECEIPT_MEMBERS)
        if payload is None:
            problems.raise_if_any()
            raise AssertionError  # pragma: no cover
        _check_constant(payload, "type", cls.TYPE, problems)
        _check_constant(payload, "v", cls.VERSION, problems)
        request = payload.get("request")
        if "request" in payload and not isinstance(request, dict):
            problems.add("request", f"must be an object, got {_type_name(request)}")
        results = payload.get("results")
        if "results" in payload and not isinstance(results, list):
            problems.add("results", f"must be an array, got {_type_name(results)}")
        instants = {
            name: _instant(payload[name], name, problems, strict=True)
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
        )

    def to_json(self) -> dict[str, Any]:
        """The payload as signed."""
        return {
            "type": self.TYPE,
            "v": self.VERSION,
            "request": self.request,
            "results": self.results,
            "as_of": format_instant(self.as_of),
            "checked_at": format_instant(self.checked_at),
            "issuer": self.issuer.to_json(),
            "signed_at": format_instant(self.signed_at),
        }
