"""`signing.fields.read_json`: the JSON the registry accepts (PRODUCT §4), wherever it is read."""

from __future__ import annotations

import re

import pytest

from signing.errors import MalformedError
from signing.fields import MAX_JSON_DEPTH, read_json, text_problem


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 32"),  # no RecursionError
        ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), "deeper than 32"),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "'c' appears twice"),
        ('["\\udc00"]', "lone surrogate (U+DC00)"),
        ('{"a\\u0000": 1}', "NUL"),
        ("[NaN]", "NaN is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ("{not json", "not JSON"),
        (b"\xff[]", "not valid UTF-8"),
    ],
)
def test_hostile_json_is_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=re.escape(message)):
        read_json(text)


def test_json_at_the_limits_is_read() -> None:
    deep = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert read_json(deep) is not None
    # Brackets and escaped quotes inside strings are text, not nesting.
    assert read_json('{"a": "[[[[\\"{{{{", "b": "\\ud83d\\ude00"}') == {"a": '[[[["{{{{', "b": "😀"}


@pytest.mark.parametrize(
    ("text", "multiline", "refused"),
    [
        ("青岛海川", False, False),
        ("line\nline", True, False),
        ("line\nline", False, True),
        ("tab\there", True, True),
        ("a\u202eb", True, True),
        ("a\u00adb", False, True),  # soft hyphen is Cf too
        ("Caf\u00e9 😀", False, False),
    ],
)
def test_text_problem(text: str, multiline: bool, refused: bool) -> None:
    assert (text_problem(text, multiline=multiline) is not None) is refused
