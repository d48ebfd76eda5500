"""RFC 8785 JSON Canonicalization Scheme (JCS): the bytes we sign.

`canonical_bytes` is the one function that makes bytes to sign (STYLE: nothing
signs an ad-hoc ``json.dumps``); `parse_canonical` is its inverse, accepting a
payload only when it is exactly its own canonical form, so one document has one
byte string and one signature.

The authority is the ``rfc8785`` package. It is pure Python and costs about
30 µs for a certificate, about half of an Ed25519 verification (about 65 µs),
and the verify path must keep at least 70% of raw verify throughput. So both
functions first try a fast path on the C-accelerated ``json`` module::

    json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

produces exactly the JCS bytes when

* every integer is within rfc8785's range, ``|n| <= 2**53 - 1`` (RFC 8785
  §3.2.2.3 serialises numbers as IEEE 754 doubles, so larger integers are not
  exact; rfc8785 refuses them);
* every float is finite, not integral, and ``1e-4 <= |x| < 1e16``: there
  Python's ``repr`` and ECMAScript's ``Number.prototype.toString`` (which
  RFC 8785 §3.2.2.3 adopts) both give the shortest round-trip digits in plain
  positional notation. Outside that range ``repr`` switches to exponent form
  at other thresholds than ECMAScript, and integral floats print as ``95.0``
  instead of ``95``;
* every object key is a ``str`` with no character above U+FFFF: RFC 8785
  §3.2.3 sorts keys by UTF-16 code units, Python by code points, and the two
  orders differ only for characters outside the Basic Multilingual Plane;
* strings escape alike: both escape only ``"``, ``\\`` and U+0000..U+001F,
  with the same short forms and lower-case ``\\u00xx`` (RFC 8785 §3.2.2.2).

When a value falls outside those conditions, or the fast bytes do not match,
``rfc8785.dumps`` decides. A property test (tests/signing/test_jcs.py) checks
that the fast path never accepts anything ``rfc8785`` would render differently.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import rfc8785

from signing.errors import MalformedError

__all__ = ["canonical_bytes", "parse_canonical"]

_INT_MAX = 2**53 - 1  # rfc8785._impl._INT_MAX: the same bound, or the paths disagree.

# The fast encoder: json's C encoder with the JCS separators and key order.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _has_astral(payload: bytes) -> bool:
    """Whether UTF-8 ``payload`` has a character above U+FFFF (lead byte F0-F4).

    Such a character in a key changes the sort order (UTF-16 vs code points);
    rather than find out whether it sits in a key, such payloads take the slow
    path. Five memchr scans cost a third of one regex character-class scan.
    """
    return (
        b"\xf0" in payload
        or b"\xf1" in payload
        or b"\xf2" in payload
        or b"\xf3" in payload
        or b"\xf4" in payload
    )


class _OutsideFastPath(Exception):
    """A number the fast path cannot vouch for: let rfc8785 decide."""


def _fast_int(text: str) -> int:
    n = int(text)
    if -_INT_MAX <= n <= _INT_MAX:
        return n
    raise _OutsideFastPath


def _fast_float(text: str) -> float:
    x = float(text)
    # NaN fails both comparisons, infinities the upper bound.
    if 1e-4 <= abs(x) < 1e16 and not x.is_integer():
        return x
    raise _OutsideFastPath


def _reject_constant(name: str) -> NoReturn:
    # JSON (RFC 8259 §6) has no NaN or Infinity; Python's json accepts them.
    raise MalformedError(f"{name} is not a JSON number")


_FAST_DECODER = json.JSONDecoder(
    parse_float=_fast_float, parse_int=_fast_int, parse_constant=_reject_constant
)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedError(f"duplicate object member {key!r}")
            seen.add(key)
    return obj


_STRICT_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, object_pairs_hook=_no_duplicates
)


def _fits_fast_path(obj: object) -> bool:
    """Whether ``obj`` meets the conditions of the module docstring.

    Exact type checks on purpose: subclasses (enums, bool-like ints) go to
    rfc8785, which handles them.
    """
    t = type(obj)
    if t is str or obj is None or t is bool:
        return True
    if t is int:
        return -_INT_MAX <= obj <= _INT_MAX  # type: ignore[operator]
    if t is float:
        x: float = obj  # type: ignore[assignment]
        return 1e-4 <= abs(x) < 1e16 and not x.is_integer()
    if t is dict:
        for key, value in obj.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                return False
            if not key.isascii() and max(key) > "\uffff":
                return False
            if not _fits_fast_path(value):
                return False
        return True
    if t is list or t is tuple:
        return all(_fits_fast_path(item) for item in obj)  # type: ignore[attr-defined]
    return False


def _fast_dumps(obj: object) -> bytes | None:
    """JCS bytes of ``obj`` by the fast path, or None when it cannot vouch for them."""
    try:
        if not _fits_fast_path(obj):
            return None
        return _ENCODER.encode(obj).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        # Lone surrogates, nesting beyond the interpreter's limit, cycles: rfc8785 decides.
        return None


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical JSON bytes of ``obj``.

    ``obj`` is made of ``dict`` (string keys), ``list``/``tuple``, ``str``,
    ``int``, ``float``, ``bool`` and ``None``. Dates, Decimals and other types
    must be turned into strings or numbers first.

    Raises:
        MalformedError: ``obj`` has no JCS form: NaN or infinity, an integer
            beyond 2**53 - 1, a non-string key, an unsupported type, a lone
            surrogate, or nesting too deep to serialise.
    """
    fast = _fast_dumps(obj)
    if fast is not None:
        return fast
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as e:
        raise MalformedError(f"cannot canonicalise JSON value: {e}") from e
    except RecursionError as e:
        raise MalformedError("cannot canonicalise JSON value: nested too deeply") from e


def parse_canonical(payload: bytes) -> Any:
    """Parse JSON ``payload`` and check that it is exactly its own RFC 8785 form.

    Returns the parsed value (``dict``, ``list``, ``str``, ``int``, ``float``,
    ``bool`` or ``None``).

    Raises:
        MalformedError: not UTF-8, not JSON, NaN/Infinity constants, duplicate
            object members, a value with no JCS form, or bytes that differ from
            the canonical form (whitespace, key order, ``1.0``, ``1e2``,
            escaped non-ASCII...). The message says which.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedError(f"JSON is not valid UTF-8 at byte {e.start}") from e

    if not _has_astral(payload):
        try:
            obj = _FAST_DECODER.decode(text)
        except (_OutsideFastPath, ValueError, RecursionError):
            # Out of the fast domain or not JSON at all: the strict path says which.
            pass
        else:
            try:
                if _ENCODER.encode(obj).encode("utf-8") == payload:
                    # Equal bytes also rule out duplicate members: a dict cannot
                    # serialise a member twice, so input with one cannot match.
                    return obj
            except (UnicodeEncodeError, RecursionError, ValueError):
                pass
    return _parse_canonical_strict(payload, text)


def _parse_canonical_strict(payload: bytes, text: str) -> Any:
    try:
        obj = _STRICT_DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise MalformedError(f"not JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except RecursionError as e:
        raise MalformedError("JSON is nested too deeply") from e
    except ValueError as e:
        # e.g. an integer literal beyond Python's int-string conversion limit.
        raise MalformedError(f"not JSON: {e}") from e
    canonical = canonical_bytes(obj)
    if canonical != payload:
        at = next(
            (i for i, (a, b) in enumerate(zip(canonical, payload, strict=False)) if a != b),
            min(len(canonical), len(payload)),
        )
        raise MalformedError(
            f"JSON is not in RFC 8785 canonical form (first difference at byte {at}: "
            "check whitespace, member order, number form and string escapes)"
        )
    return obj
