"""RFC 8785 canonical JSON: the published vectors, refusals, and the fast path's safety."""

from __future__ import annotations

import contextlib
import enum
import json
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from signing.errors import MalformedError
from signing.jcs import _fast_dumps, canonical_bytes, parse_canonical


def test_vector_output_is_accepted_and_input_canonicalises_to_it(
    jcs_vector: str, vectors_dir: Path
) -> None:
    source = (vectors_dir / "jcs" / "input" / f"{jcs_vector}.json").read_bytes()
    expected = (vectors_dir / "jcs" / "output" / f"{jcs_vector}.json").read_bytes()
    hex_text = (vectors_dir / "jcs" / "outhex" / f"{jcs_vector}.txt").read_text()
    assert bytes.fromhex("".join(hex_text.split())) == expected  # the vector agrees with itself

    assert canonical_bytes(json.loads(source)) == expected
    parsed = parse_canonical(expected)
    assert canonical_bytes(parsed) == expected
    assert parsed == json.loads(expected)


def test_a_non_canonical_vector_input_is_refused(jcs_vector: str, vectors_dir: Path) -> None:
    source = (vectors_dir / "jcs" / "input" / f"{jcs_vector}.json").read_bytes()
    with pytest.raises(MalformedError, match="canonical form"):
        parse_canonical(source)


CANONICAL = b'{"a":1,"b":[true,null,"x"],"c":{"d":95.5}}'


def test_a_canonical_document_parses() -> None:
    assert parse_canonical(CANONICAL) == {"a": 1, "b": [True, None, "x"], "c": {"d": 95.5}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(b'{"a":1, "b":2}', "canonical form", id="whitespace"),
        pytest.param(b'{"a":1,"b":2}\n', "canonical form", id="trailing-newline"),
        pytest.param(b'{"b":2,"a":1}', "canonical form", id="reordered-keys"),
        pytest.param(b'{"a":1.0}', "canonical form", id="integral-float-1.0"),
        pytest.param(b'{"a":1e2}', "canonical form", id="exponent-1e2"),
        pytest.param(b'{"a":1E+2}', "canonical form", id="exponent-1E+2"),
        pytest.param(b'{"a":95.50}', "canonical form", id="trailing-zero"),
        pytest.param(b'{"a":-0}', "canonical form", id="negative-zero"),
        pytest.param(b'{"a":"\\u00e9"}', "canonical form", id="escaped-e-acute"),
        pytest.param(b'{"a":"\\/"}', "canonical form", id="escaped-solidus"),
        pytest.param(b'{"a":"\\u001F"}', "canonical form", id="upper-case-hex-escape"),
        pytest.param(b'{"a":"\\u0041"}', "canonical form", id="escaped-ascii"),
        pytest.param(b'{"a":"\\ud83d\\ude02"}', "canonical form", id="escaped-astral"),
        pytest.param(b'{"a":1,"a":1}', "duplicate object member 'a'", id="duplicate-keys"),
        pytest.param(b'{"a":{"b":1,"b":2}}', "duplicate object member 'b'", id="nested-duplicate"),
        pytest.param(b'{"a":NaN}', "NaN is not a JSON number", id="NaN"),
        pytest.param(b'{"a":Infinity}', "Infinity is not a JSON number", id="Infinity"),
        pytest.param(b'{"a":-Infinity}', "Infinity is not a JSON number", id="-Infinity"),
        pytest.param(b'{"a":9007199254740992}', "safe integer", id="2**53"),
        pytest.param(b'{"a":9007199254740993}', "safe integer", id="2**53+1"),
        pytest.param(b'{"a":1e400}', "not representable", id="overflowing-float"),
        pytest.param(b'{"a":"\\ud800"}', "non-UTF-8", id="lone-surrogate"),
        pytest.param(b'\xef\xbb\xbf{"a":1}', "not JSON", id="utf8-bom"),
        pytest.param('{"a":1}'.encode("utf-16"), "UTF-8", id="utf16"),
        pytest.param(b'{"a":"\xff"}', "UTF-8", id="invalid-utf8"),
        pytest.param(b'{"a":1,}', "not JSON", id="trailing-comma"),
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested too deeply", id="deep-nesting"),
        pytest.param(b"1" * 5000, "not JSON", id="huge-integer-literal"),
    ],
)
def test_non_canonical_or_invalid_json_is_refused(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_canonical(payload)


def test_a_character_above_the_bmp_in_a_key_is_sorted_by_utf16() -> None:
    # RFC 8785 §3.2.3: keys sort by UTF-16 code units, so U+1F602 (D83D DE02)
    # sorts before U+FB33, although its code point is larger.
    obj = {"\ufb33": 1, "\U0001f602": 2}
    expected = '{"\U0001f602":2,"\ufb33":1}'.encode()
    assert canonical_bytes(obj) == expected
    assert parse_canonical(expected) == obj
    with pytest.raises(MalformedError, match="canonical form"):
        parse_canonical('{"\ufb33":1,"\U0001f602":2}'.encode())


class Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [1.5, "é", None]}, '{"a":[1.5,"é",null],"b":1}'),
        ({"n": 95.0}, '{"n":95}'),
        ({"n": 1e21}, '{"n":1e+21}'),
        ({"n": 1e-7}, '{"n":1e-7}'),
        ({"n": 0.000001}, '{"n":0.000001}'),
        ({"n": 2**53 - 1}, '{"n":9007199254740991}'),
        ({"c": Colour.RED}, '{"c":"red"}'),
        ((1, 2), "[1,2]"),
        ("\u2028\x7f", '"\u2028\x7f"'),
    ],
)
def test_canonical_bytes(value: Any, expected: str) -> None:
    assert canonical_bytes(value) == expected.encode()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(math.nan, id="NaN"),
        pytest.param(math.inf, id="inf"),
        pytest.param(2**53, id="2**53"),
        pytest.param(-(2**53), id="-2**53"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param({"a": {1, 2}}, id="set"),
        pytest.param(date(2026, 1, 1), id="date"),
        pytest.param(Decimal("1.5"), id="Decimal"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
def test_values_without_a_jcs_form_are_refused(value: Any) -> None:
    with pytest.raises(MalformedError, match="cannot canonicalise"):
        canonical_bytes(value)


def test_nesting_too_deep_is_refused() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(MalformedError, match="nested too deeply"):
        canonical_bytes(deep)


# --- the fast path never disagrees with rfc8785 ---------------------------------------

# Floats where Python's repr and ECMAScript's Number.prototype.toString are
# closest to disagreeing: around the fast path's bounds and at extremes.
_edge_floats = st.sampled_from(
    [1e-4, 9.999999999999999e-5, 1.0000000000000002e-4, 1e16, 9999999999999998.0,
     1e15 + 0.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 0.5, 123456.789]
)  # fmt: skip
_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-5, max_value=1e17),
    st.floats(min_value=-1e17, max_value=-1e-5),
    _edge_floats,
    _edge_floats.map(lambda x: -x),
)
_ints = st.one_of(
    st.integers(min_value=-(2**53) - 2, max_value=2**53 + 2),
    st.integers(),
    st.sampled_from([2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 0]),
)
_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from(["\U0001f602", "\ufb33", "\u20ac", "\x00", "\x1f", '"', "\\", "\u2028"]),
)
_scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
json_values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(_text, children, max_size=5),
    ),
    max_leaves=25,
)


def _rfc8785_or_none(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return None


@settings(max_examples=600, deadline=None)
@given(json_values)
@example({"\ufb33": 1, "\U0001f602": 2})
@example({"a": 1e16, "b": 1e-4, "c": 95.0})
def test_canonical_bytes_equals_rfc8785(value: Any) -> None:
    authority = _rfc8785_or_none(value)
    fast = _fast_dumps(value)
    if fast is not None:
        assert fast == authority
    if authority is None:
        with pytest.raises(MalformedError):
            canonical_bytes(value)
    else:
        assert canonical_bytes(value) == authority


def _renderings(value: Any) -> list[bytes]:
    """Ways a signer might have written ``value``: canonical and not."""
    out = []
    for ensure_ascii in (False, True):
        for sort_keys in (False, True):
            try:
                text = json.dumps(
                    value, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
                )
                out.append(text.encode("utf-8"))
            except (ValueError, TypeError, UnicodeEncodeError):
                pass
    with contextlib.suppress(ValueError, UnicodeEncodeError):
        out.append(json.dumps(value).encode("utf-8"))
    authority = _rfc8785_or_none(value)
    if authority is not None:
        out.append(authority)
    return out


@settings(max_examples=600, deadline=None)
@given(json_values)
@example({"\U0001f602": 1, "\ufb33": 2})
@example({"x": 1e16})
@example([1e-5, 0.0001, 9007199254740993])
def test_parse_canonical_accepts_exactly_the_rfc8785_form(value: Any) -> None:
    for payload in _renderings(value):
        try:
            reparsed = json.loads(payload, parse_constant=lambda c: math.nan)
            authority = _rfc8785_or_none(reparsed)
        except ValueError:
            authority = None
        if authority == payload:
            assert canonical_bytes(parse_canonical(payload)) == payload
        else:
            with pytest.raises(MalformedError):
                parse_canonical(payload)
