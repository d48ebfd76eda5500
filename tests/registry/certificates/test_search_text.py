"""Normalisation and gram tokens: what makes a query and the stored text comparable."""

from __future__ import annotations

import pytest

from registry.certificates.search_text import fold, is_ascii_free, search_columns, split_terms


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("ＴＣＬ王牌", "tcl王牌"),  # full-width Latin from a Chinese input method
        ("９１３７０２００２６４５７４２５１Ｅ", "91370200264574251e"),
        ("（惠州）", "(惠州)"),
        ("海尔\u3000智家", "海尔 智家"),  # ideographic space
        ("  Haier\t\nSmart   Home ", "haier smart home"),
        ("海\u200b尔", "海尔"),  # a zero-width space pasted from a web page
        ("a\x00b", "ab"),
        ("STRASSE Straße", "strasse strasse"),
        ("㍻", "平成"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold(typed: str | None, folded: str) -> None:
    assert fold(typed) == folded


def test_terms_are_split_at_spaces_and_kept_once() -> None:
    assert split_terms(fold("海尔  OR 海尔 NEAR( *")) == ("海尔", "or", "near(", "*")


def test_search_columns_are_folded_names_and_scope() -> None:
    columns = search_columns(
        holder_name="青岛海尔智家（ＱＤ）",
        holder_name_en="Haier Co.",
        scope_zh="冰箱维修",
        scope_en="Repair",
    )
    assert columns == {
        "name_key": "青岛海尔智家(qd)",
        "name_en_key": "haier co.",
        "scope_key": "冰箱维修\nrepair",
    }
    assert (
        search_columns(holder_name="㌀" * 200, holder_name_en=None, scope_zh="x", scope_en=None)[
            "name_key"
        ]
        == "アパート" * 50
    )


def test_short_terms_look_in_the_scope_only_without_ascii() -> None:
    assert is_ascii_free("空调") and is_ascii_free("、")
    assert not is_ascii_free("re") and not is_ascii_free("空a")
