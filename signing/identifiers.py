"""Identifiers: the Unified Social Credit Code and certificate numbers.

Unified Social Credit Code (统一社会信用代码), GB 32100-2015: 18 characters
of the 31-character alphabet ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, Z,
S, V, which are too easily confused with 1, 0, 2, 5 and U):

====  ==========================================================
1     registration authority (e.g. 9 = market regulation)
2     organisation type
3-8   administrative division code, GB/T 2260 (3-4: province)
9-17  organisation code, GB 11714
18    check character
====  ==========================================================

The check character (GB 32100-2015 §5): with ``C_i`` the alphabet index of
character ``i`` (0-based) and weights ``W_i = 3^i mod 31``,
``check = 31 - (Σ C_i·W_i mod 31)``, where 31 stands for 0.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from signing.errors import MalformedError

__all__ = [
    "PROVINCES",
    "USCC_ALPHABET",
    "Uscc",
    "compute_check_character",
    "looks_like_certificate_number",
    "looks_like_uscc",
    "normalise_text",
    "parse_certificate_number",
]

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_INDEX: Final = {c: i for i, c in enumerate(USCC_ALPHABET)}
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_NEVER_USED: Final = frozenset("IOZSV")

#: GB/T 2260 province-level divisions: the first two digits of characters 3-8.
PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "11": "北京市",
        "12": "天津市",
        "13": "河北省",
        "14": "山西省",
        "15": "内蒙古自治区",
        "21": "辽宁省",
        "22": "吉林省",
        "23": "黑龙江省",
        "31": "上海市",
        "32": "江苏省",
        "33": "浙江省",
        "34": "安徽省",
        "35": "福建省",
        "36": "江西省",
        "37": "山东省",
        "41": "河南省",
        "42": "湖北省",
        "43": "湖南省",
        "44": "广东省",
        "45": "广西壮族自治区",
        "46": "海南省",
        "50": "重庆市",
        "51": "四川省",
        "52": "贵州省",
        "53": "云南省",
        "54": "西藏自治区",
        "61": "陕西省",
        "62": "甘肃省",
        "63": "青海省",
        "64": "宁夏回族自治区",
        "65": "新疆维吾尔自治区",
        "71": "台湾省",
        "81": "香港特别行政区",
        "82": "澳门特别行政区",
    }
)

_USCC_SHAPE = re.compile(f"[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}")
_CERTIFICATE_NUMBER = re.compile(r"[A-Z0-9-]{6,40}")


def normalise_text(text: str) -> str:
    """Strip, NFKC-normalise (full-width ＡＢＣ１２３ from Chinese input methods
    become ABC123) and upper-case an identifier typed by a person."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def compute_check_character(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC.

    Raises:
        MalformedError: not 17 characters of the USCC alphabet.
    """
    if len(first17) != 17 or any(c not in _INDEX for c in first17):
        raise MalformedError(
            "a USCC check character is computed from 17 characters of "
            f"{USCC_ALPHABET}, got {first17!r}"
        )
    total = sum(_INDEX[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@dataclass(frozen=True, slots=True)
class Uscc:
    """A valid Unified Social Credit Code. Build it with `Uscc.parse`."""

    code: str

    @classmethod
    def parse(cls, text: str) -> Uscc:
        """Read a USCC typed by a person (spaces, lower case and full-width allowed).

        Raises:
            MalformedError: wrong length, a character outside the alphabet (the
                letters I, O, Z, S and V are never used), characters 3-8 not
                digits, an unknown province, or a wrong check character. The
                message says which.
        """
        if not isinstance(text, str):
            raise MalformedError(f"a USCC is a string, got {type(text).__name__}")
        code = normalise_text(text)
        if _USCC_SHAPE.fullmatch(code) and code[2:4] in PROVINCES:
            # The common case, decided by one regex; the loop below only
            # runs to say what is wrong.
            expected = compute_check_character(code[:17])
            if code[17] == expected:
                return cls(code)
        if len(code) != 18:
            raise MalformedError(f"a USCC has 18 characters, {code!r} has {len(code)}")
        for position, char in enumerate(code, start=1):
            if char in _NEVER_USED:
                raise MalformedError(
                    f"USCC character {position} is {char!r}; the letters I, O, Z, S and V "
                    "are never used (did you mean 1, 0, 2, 5 or U?)"
                )
            if char not in _INDEX:
                raise MalformedError(
                    f"USCC character {position} is {char!r}, which is not in the "
                    f"GB 32100 alphabet {USCC_ALPHABET}"
                )
        if not code[2:8].isdigit():
            raise MalformedError(
                f"USCC characters 3-8 ({code[2:8]!r}) must be digits: "
                "they are the administrative division code"
            )
        if code[2:4] not in PROVINCES:
            raise MalformedError(
                f"USCC characters 3-4 ({code[2:4]!r}) are not a GB/T 2260 province code"
            )
        expected = compute_check_character(code[:17])
        if code[17] != expected:
            raise MalformedError(
                f"USCC check character is {code[17]!r} but should be {expected!r} "
                f"for {code[:17]}: the code is mistyped"
            )
        return cls(code)

    @property
    def province(self) -> str:
        """The two-digit province code, e.g. ``"37"``."""
        return self.code[2:4]

    @property
    def province_name(self) -> str:
        """The province's Chinese name, e.g. 山东省."""
        return PROVINCES[self.province]

    def __str__(self) -> str:
        return self.code


def looks_like_uscc(text: str) -> bool:
    """Whether ``text`` has the shape of a USCC, check character not considered.

    For classifying bulk input (a pasted list of certificate numbers and USCCs):
    a USCC with a typo is still recognised as one, so the user is told that the
    USCC is wrong instead of that no certificate has that number.
    """
    return isinstance(text, str) and _USCC_SHAPE.fullmatch(normalise_text(text)) is not None


def parse_certificate_number(text: str) -> str:
    """The canonical (upper-case) certificate number: 6-40 of ``A-Z 0-9 -``.

    Certificate numbers are case-insensitive on input (PRODUCT §1).

    Raises:
        MalformedError: other characters or another length.
    """
    if not isinstance(text, str):
        raise MalformedError(f"a certificate number is a string, got {type(text).__name__}")
    number = normalise_text(text)
    if not _CERTIFICATE_NUMBER.fullmatch(number):
        if not 6 <= len(number) <= 40:
            raise MalformedError(
                f"a certificate number has 6 to 40 characters, {number[:50]!r} has {len(number)}"
            )
        bad = next(c for c in number if not ("A" <= c <= "Z" or "0" <= c <= "9" or c == "-"))
        raise MalformedError(
            f"a certificate number has only the characters A-Z, 0-9 and '-'; "
            f"{number[:50]!r} contains {bad!r}"
        )
    return number


def looks_like_certificate_number(text: str) -> bool:
    """Whether ``text`` reads as a certificate number (see `parse_certificate_number`)."""
    try:
        parse_certificate_number(text)
    except MalformedError:
        return False
    return True
