"""Readers of JSON payload members that collect every problem instead of stopping at one.

The payloads of `signing.documents` read each member with these: a reader
returns the value, or adds a `FieldProblem` naming the member (``holder.uscc``,
``sites[2]``) to a `Problems` and returns None, so that one
`InvalidPayloadError` can list everything to fix (PRODUCT §4: one 422 answer).

``strict`` readers are for signed payloads, which must already be in their one
canonical spelling; the others normalise what a certification body sends.

Text rules (PRODUCT §4 "Limits and hostile input") live here so that every
signed payload obeys them, whoever made it: no control characters (a scope or
a reason may span lines), no Unicode format characters (category Cf: zero-width
spaces and joiners, bidi overrides and isolates that can make a name read
backwards, the BOM), no line or paragraph separators, no surrogates and no
unassigned code points. Text is NFC-normalised, so that one name has one
spelling (and one signature); a strict reader requires it already is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from signing.errors import FieldProblem, InvalidPayloadError, MalformedError
from signing.instants import format_instant, parse_date, parse_instant

__all__ = [
    "MAX_JSON_DEPTH",
    "Problems",
    "check_constant",
    "read_date",
    "read_instant",
    "read_integer",
    "read_json",
    "read_number",
    "read_object",
    "read_optional_string",
    "read_parsed",
    "read_string",
    "text_problem",
    "type_name",
]

# Unicode general categories never allowed in text: controls (Cc: C0, DEL, C1;
# a newline is let through separately), format (Cf), line and paragraph
# separators (Zl, Zp), surrogates (Cs) and unassigned code points (Cn).
_REFUSED_CATEGORIES = {
    "Cc": "control characters",
    "Cf": "invisible format characters (zero-width, bidi controls, BOM)",
    "Zl": "line separators",
    "Zp": "paragraph separators",
    "Cs": "lone surrogates",
    "Cn": "unassigned code points",
}
_SCORE_TEXT = re.compile(r"\d{1,3}(?:\.\d+)?")

T = TypeVar("T")

#: PRODUCT §4: no request body nests deeper (a certificate needs 3 levels).
MAX_JSON_DEPTH = 32
# Strings (with their escapes) and the brackets outside them, to count depth.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_constant(name: str) -> Any:
    # RFC 8259 §6: NaN and Infinity are not JSON; Python's json would accept them.
    raise MalformedError(f"{name} is not a JSON number")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedError(f"the member {key!r} appears twice in one object")
            seen.add(key)
    return obj


def _check_json_depth(text: str) -> None:
    # Counted on the text, iteratively, before any recursive parser sees it.
    depth = 0
    for token in _JSON_TOKENS.findall(text):
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise MalformedError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif token in ("]", "}"):
            depth -= 1


def _check_json_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise MalformedError("JSON text holds a NUL character (\\u0000)")
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as e:
                    raise MalformedError(
                        f"JSON text holds a lone surrogate (U+{ord(item[e.start]):04X})"
                    ) from e


def read_json(data: bytes | str) -> Any:
    """Parse JSON given to the registry (a request body, a file): the rules of PRODUCT §4.

    Objects nested at most `MAX_JSON_DEPTH` deep, no member twice in one object,
    no lone surrogate and no NUL anywhere, no NaN or Infinity.

    Raises:
        MalformedError: not UTF-8, not JSON, or one of the rules above; the
            message says which.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedError(f"JSON is not valid UTF-8 at byte {e.start}") from e
    else:
        text = data
    _check_json_depth(text)
    try:
        value = json.loads(text, parse_constant=_json_constant, object_pairs_hook=_json_object)
    except json.JSONDecodeError as e:
        raise MalformedError(f"not JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except (ValueError, RecursionError) as e:
        # e.g. an integer literal beyond Python's int-string conversion limit.
        raise MalformedError(f"not JSON: {e}") from e
    _check_json_strings(value)
    return value


class Problems:
    """Collects FieldProblems; raises them all at once."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, field_name: str, message: str) -> None:
        """Record that ``field_name`` (a dotted path into the JSON) has this problem."""
        self.items.append(FieldProblem(field_name, message))

    def raise_if_any(self) -> None:
        """Raise every problem recorded so far, if there is one.

        Raises:
            InvalidPayloadError: carrying every recorded problem, in order.
        """
        if self.items:
            raise InvalidPayloadError(self.items)


def type_name(value: object) -> str:
    """What a JSON value is, in words for a message: ``null``, ``a string``, ``an array``...

    Raises:
        Nothing: any value has a name.
    """
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


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` may not be used as text of a payload, or None when it may.

    ``multiline`` lets line feeds through. The message names the first
    offending character by its code point (U+202E), since most cannot be seen.

    Raises:
        Nothing.
    """
    if text.isascii() and text.isprintable():
        return None  # the common case, without a per-character lookup
    for char in text:
        if multiline and char == "\n":
            continue
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            return f"must not contain {kind}; found U+{ord(char):04X}"
    return None


def read_object(
    value: object,
    where: str,
    problems: Problems,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    registry_filled: Sequence[str] = (),
) -> Mapping[str, Any] | None:
    """``value`` as an object with these members, reporting missing and unknown ones.

    ``where`` is the object's path (``""`` for the payload itself). Members in
    ``registry_filled`` are refused with a message saying the registry fills
    them in. The object is returned even when members are missing or unknown
    (those are problems), and None only when it is not an object at all.

    Raises:
        Nothing: problems are added to ``problems``.
    """
    if not isinstance(value, Mapping):
        problems.add(where or "payload", f"must be a JSON object, got {type_name(value)}")
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


def read_string(
    value: object,
    where: str,
    problems: Problems,
    *,
    strict: bool,
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """A non-empty string, trimmed and NFC-normalised (strict: must already be).

    At most ``max_length`` characters and none of the characters the module
    docstring refuses (line feeds allowed when ``multiline``).

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
    if not isinstance(value, str):
        problems.add(where, f"must be a string, got {type_name(value)}")
        return None
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        problems.add(where, problem)
        return None
    text = unicodedata.normalize("NFC", value.strip())
    if strict and text != value:
        problems.add(where, "must not start or end with white space and must be in Unicode NFC")
        return None
    if not text:
        problems.add(where, "must not be empty")
        return None
    if len(text) > max_length:
        problems.add(where, f"is {len(text)} characters long; at most {max_length} are allowed")
        return None
    return text


def read_optional_string(
    obj: Mapping[str, Any],
    name: str,
    where: str,
    problems: Problems,
    *,
    strict: bool,
    max_length: int,
    multiline: bool = False,
) -> str | None:
    """An optional member: absent (and, when not strict, null or blank) means None.

    A present member is read with `read_string`.

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
    if name not in obj:
        return None
    value = obj[name]
    if not strict and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if strict and value is None:
        problems.add(where, "must be a string; omit the member when there is none")
        return None
    return read_string(
        value, where, problems, strict=strict, max_length=max_length, multiline=multiline
    )


def read_parsed(
    value: object,
    where: str,
    problems: Problems,
    parse: Callable[[str], T],
) -> T | None:
    """Apply a `signing` parser to a string member, turning its error into a problem.

    Raises:
        Nothing: a non-string or a `MalformedError` from ``parse`` is added to
            ``problems`` and None returned; other exceptions of ``parse`` pass through.
    """
    if not isinstance(value, str):
        problems.add(where, f"must be a string, got {type_name(value)}")
        return None
    try:
        return parse(value)
    except MalformedError as e:
        problems.add(where, str(e))
        return None


def read_date(value: object, where: str, problems: Problems) -> date | None:
    """A ``YYYY-MM-DD`` date (`signing.instants.parse_date`).

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
    return read_parsed(value, where, problems, parse_date)


def read_instant(value: object, where: str, problems: Problems, *, strict: bool) -> datetime | None:
    """An RFC 3339 instant, truncated to whole seconds.

    Strict: it must be written in UTC as ``YYYY-MM-DDTHH:MM:SSZ``; otherwise
    any offset or a bare date (`signing.instants.parse_instant`) is read.

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
    dt = read_parsed(value, where, problems, parse_instant)
    if dt is None:
        return None
    if strict and format_instant(dt) != value:
        problems.add(
            where,
            f"must be written in UTC as YYYY-MM-DDTHH:MM:SSZ, e.g. {format_instant(dt)}",
        )
        return None
    return dt.replace(microsecond=0)


def read_integer(value: object, where: str, problems: Problems, *, minimum: int) -> int | None:
    """A JSON integer of at least ``minimum`` (a boolean is not one).

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
    # bool is an int in Python but not a number in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        problems.add(where, f"must be an integer, got {type_name(value)}")
        return None
    if value < minimum:
        problems.add(where, f"must be at least {minimum}, got {value}")
        return None
    return value


def read_number(value: object, where: str, problems: Problems, *, strict: bool) -> Decimal | None:
    """A score: a JSON number (or, when not strict, a numeric string), as a Decimal.

    Whether the score is allowed (its range, its decimals) is the scheme's rule,
    not this reader's.

    Raises:
        Nothing: a problem is added to ``problems`` and None returned.
    """
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
    problems.add(where, f"must be a number, got {type_name(value)}")
    return None


def check_constant(obj: Mapping[str, Any], name: str, expected: object, problems: Problems) -> None:
    """Member ``name`` must be exactly ``expected`` (same value and JSON type), when present.

    A missing member is left to `read_object`, which reports it.

    Raises:
        Nothing: a problem is added to ``problems``.
    """
    if name not in obj:
        return  # reported as missing
    value = obj[name]
    if value != expected or type(value) is not type(expected):
        problems.add(name, f"must be {expected!r}, got {value!r}")
