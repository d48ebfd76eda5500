"""USCC (GB 32100-2015) and certificate numbers."""

from __future__ import annotations

import random

import pytest

from signing.errors import MalformedError
from signing.identifiers import (
    PROVINCES,
    USCC_ALPHABET,
    Uscc,
    compute_check_character,
    looks_like_certificate_number,
    looks_like_uscc,
    parse_certificate_number,
)

# Codes in real-world form with a correct check character: the first is the
# example given for this project (its check worked by hand below); 914403001922038216
# is printed on Huawei Technologies Co., Ltd.'s business licence.
KNOWN = [
    ("91350100M000100Y43", "35", "福建省"),
    ("914403001922038216", "44", "广东省"),
    ("91370200264574251E", "37", "山东省"),
    ("91110000100006485K", "11", "北京市"),
]


@pytest.mark.parametrize(("code", "province", "name"), KNOWN)
def test_known_codes(code: str, province: str, name: str) -> None:
    uscc = Uscc.parse(code)
    assert uscc.code == code == str(uscc)
    assert uscc.province == province
    assert uscc.province_name == name
    assert compute_check_character(code[:17]) == code[17]


def test_the_check_character_of_the_project_example() -> None:
    # GB 32100-2015 §5 by hand: the weighted sum of 91350100M000100Y4 is 1640;
    # 1640 mod 31 = 28; 31 - 28 = 3, the alphabet's character "3".
    first17 = "91350100M000100Y4"
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    assert (total, total % 31) == (1640, 28)
    assert compute_check_character(first17) == "3"


def random_uscc(rng: random.Random) -> str:
    province = rng.choice(sorted(PROVINCES))
    first17 = (
        rng.choice("159Y")
        + rng.choice("123")
        + province
        + "".join(rng.choice("0123456789") for _ in range(4))
        + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    )
    return first17 + compute_check_character(first17)


def test_generated_codes_parse_and_every_other_check_character_fails() -> None:
    rng = random.Random(27922)
    for _ in range(200):
        code = random_uscc(rng)
        assert Uscc.parse(code).code == code
        for wrong in USCC_ALPHABET.replace(code[17], ""):
            with pytest.raises(MalformedError, match="check character"):
                Uscc.parse(code[:17] + wrong)


def test_lower_case_spaces_and_full_width_are_normalised() -> None:
    assert Uscc.parse("  91370200264574251e ").code == "91370200264574251E"
    assert Uscc.parse("９１３７０２００２６４５７４２５１Ｅ").code == "91370200264574251E"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_letters_never_used(letter: str) -> None:
    code = "91370200264574251E"
    with pytest.raises(MalformedError, match=f"is '{letter}'; the letters I, O, Z, S and V"):
        Uscc.parse(code[:10] + letter + code[11:])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("91370200264574251", "has 17"),
        ("91370200264574251E0", "has 19"),
        ("", "has 0"),
        ("91370200264574251!", "not in the GB 32100 alphabet"),
        ("913702A0264574251E", "characters 3-8"),
        ("919902002645742510", "not a GB/T 2260 province"),
        ("91370200264574251F", "should be 'E'"),
    ],
)
def test_invalid_codes(text: str, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        Uscc.parse(text)


def test_compute_check_character_needs_17_alphabet_characters() -> None:
    with pytest.raises(MalformedError):
        compute_check_character("1234")
    with pytest.raises(MalformedError):
        compute_check_character("9137020026457425I")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("CQC-2026-ASS-0001", "CQC-2026-ASS-0001"),
        ("  cqc-2026-ass-0001 ", "CQC-2026-ASS-0001"),
        ("ＣＱＣ１２３４５６", "CQC123456"),
        ("ABCDEF", "ABCDEF"),
        ("A" * 40, "A" * 40),
    ],
)
def test_certificate_numbers(text: str, number: str) -> None:
    assert parse_certificate_number(text) == number
    assert looks_like_certificate_number(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ABCDE", "6 to 40 characters"),
        ("A" * 41, "6 to 40 characters"),
        ("CQC 2026 0001", "contains ' '"),
        ("CQC_2026_0001", "contains '_'"),
        ("证书编号ABCDEF", "contains '证'"),
    ],
)
def test_invalid_certificate_numbers(text: str, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        parse_certificate_number(text)
    assert not looks_like_certificate_number(text)


@pytest.mark.parametrize(
    ("text", "uscc", "number"),
    [
        ("91370200264574251E", True, True),
        ("91370200264574251F", True, True),  # a mistyped USCC is still recognised as one
        ("91370200264574251e", True, True),
        ("CQC-2026-ASS-0001", False, True),
        ("证书编号", False, False),
        ("", False, False),
    ],
)
def test_bulk_input_classification(text: str, uscc: bool, number: bool) -> None:
    assert looks_like_uscc(text) is uscc
    assert looks_like_certificate_number(text) is number
