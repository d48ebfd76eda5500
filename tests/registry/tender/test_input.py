"""What the `/verify` page reads from a paste or a CSV file: encodings, rows, line numbers.

Pure functions of `registry.tender.services` over `registry.csv_input`; the same
files go through the page in test_pages.py and through a real browser in test_browser.py.
"""

from __future__ import annotations

import pytest

from registry.csv_input import decode_csv
from registry.errors import InvalidInputError
from registry.tender.services import (
    MAX_ITEMS,
    MAX_SKIPPED_ROWS,
    InputRow,
    Item,
    ItemKind,
    classify_item,
    parse_rows,
    read_rows,
)
from signing.errors import MalformedError
from tests.factories import uscc

HOLDER = uscc("input-holder")
CSV_TEXT = f"证书编号,企业名称\nCQC-2026-ASS-0001,青岛海川智能家电有限公司\n\n{HOLDER},北京多星\n"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(CSV_TEXT.encode("utf-8"), id="utf-8"),
        pytest.param(CSV_TEXT.replace("\n", "\r\n").encode("gb18030"), id="gb18030 with CRLF"),
    ],
)
def test_an_upload_reads_its_first_column_with_line_numbers(data: bytes) -> None:
    # Encodings and refusals: tests/registry/test_csv_input.py.
    rows = read_rows(decode_csv(data), source="file")
    assert [(r.line, r.text, r.other_cells) for r in rows] == [
        (1, "证书编号", 1),
        (2, "CQC-2026-ASS-0001", 1),
        (4, HOLDER, 1),
    ]


def test_first_non_empty_cell_quoted_cells_and_line_numbers() -> None:
    text = (
        ',"CQC-2026-0001",x\n'  # first cell empty: the second is read
        '"CQC-2026-\n0002",y\n'  # a quoted cell over two lines: the row starts on line 2
        "  \t \n"  # blank: nothing
        "  cqc-2026-0003  \n"  # spaces around
        "\ufeff\u200bCQC-2026-0004\n"  # invisible characters Excel and web pages leave
    )
    rows = read_rows(text, source="file")
    assert [(r.line, r.text) for r in rows] == [
        (1, "CQC-2026-0001"),
        (2, "CQC-2026-\n0002"),
        (5, "cqc-2026-0003"),
        (6, "CQC-2026-0004"),
    ]


def test_a_paste_from_a_spreadsheet_is_tab_separated() -> None:
    rows = read_rows("证书编号\t企业\nCQC-2026-0001\t青岛, 海川\n", source="paste")
    assert [(r.line, r.text) for r in rows] == [(1, "证书编号"), (2, "CQC-2026-0001")]


def test_a_semicolon_csv_reads_its_first_column() -> None:
    rows = read_rows("CQC-2026-0001;Qingdao\nCQC-2026-0002;Hangzhou\n", source="file")
    assert [r.text for r in rows] == ["CQC-2026-0001", "CQC-2026-0002"]


CLASSIFY = [
    ("CQC-2026-ASS-0001", Item("CQC-2026-ASS-0001", ItemKind.NUMBER)),
    ("cqc-2026-ass-0001", Item("CQC-2026-ASS-0001", ItemKind.NUMBER)),
    ("ＣＱＣ－２０２６－０００１", Item("CQC-2026-0001", ItemKind.NUMBER)),
    (HOLDER.lower(), Item(HOLDER, ItemKind.USCC)),
    (f" {HOLDER}\u3000", Item(HOLDER, ItemKind.USCC)),
    # A mistyped USCC is still looked up as the number it could be.
    ("91370212MA3C5XYZ1A", Item("91370212MA3C5XYZ1A", ItemKind.NUMBER)),
]


@pytest.mark.parametrize(("text", "item"), CLASSIFY, ids=[c[0] for c in CLASSIFY])
def test_classify(text: str, item: Item) -> None:
    assert classify_item(text) == item


@pytest.mark.parametrize("text", ["证书编号", "CQC", "CQC 2026 0001", "x" * 41, "", "   "])
def test_neither_a_number_nor_a_uscc(text: str) -> None:
    with pytest.raises(MalformedError):
        classify_item(text)


def row(line: int, text: str, source: str = "file") -> InputRow:
    return InputRow(source=source, line=line, text=text)


def test_skipped_rows_keep_their_line_numbers_and_duplicates_are_kept_once() -> None:
    parsed = parse_rows(
        [
            row(1, "证书编号"),
            row(2, "CQC-2026-0001"),
            row(3, HOLDER),
            row(4, "cqc-2026-0001"),
            row(5, "not a number"),
            row(6, "CQC-2026-0001"),
        ]
    )
    assert parsed.items == (Item("CQC-2026-0001", ItemKind.NUMBER), Item(HOLDER, ItemKind.USCC))
    assert [r.line for r in parsed.first_rows] == [2, 3]
    assert [(s.row.line, s.row.text) for s in parsed.skipped] == [
        (1, "证书编号"),
        (5, "not a number"),
    ]
    assert all("is neither a certificate number" in s.reason for s in parsed.skipped)
    assert [(d.row.line, d.first.line, d.item.value) for d in parsed.duplicates] == [
        (4, 2, "CQC-2026-0001"),
        (6, 2, "CQC-2026-0001"),
    ]
    assert len(parsed.accepted) == 4


def test_more_than_500_items_is_refused_naming_the_limit() -> None:
    rows = [row(i + 1, f"CQC-2026-{i:05d}") for i in range(MAX_ITEMS + 1)]
    with pytest.raises(InvalidInputError) as caught:
        parse_rows(rows)
    assert "limit of 500" in caught.value.detail
    # 500 exactly is fine; repeats count (they are rows of the request).
    assert len(parse_rows(rows[:MAX_ITEMS]).items) == MAX_ITEMS
    with pytest.raises(InvalidInputError):
        parse_rows([*rows[:MAX_ITEMS], row(9999, "CQC-2026-00000")])


def test_a_file_of_no_numbers_at_all_is_refused_listing_its_lines() -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_rows([row(1, "企业名称"), row(2, "青岛海川")])
    assert "no certificate number or USCC" in caught.value.detail
    assert "line 1" in caught.value.detail and "line 2" in caught.value.detail
    junk = [row(i + 1, f"公司{i}") for i in range(MAX_SKIPPED_ROWS + 1)]
    with pytest.raises(InvalidInputError, match="first column"):
        parse_rows([*junk, row(999, "CQC-2026-0001")])
