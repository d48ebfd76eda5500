"""The one CSV reader: what `starmark cert import` and the `/verify` page accept.

Pure functions of `registry.csv_input`; the same files go through the import
command in tests/registry/certificates/test_import.py and through the page in
tests/registry/tender/test_pages.py.
"""

from __future__ import annotations

import codecs

import pytest

from registry.csv_input import decode_csv, read_csv, sniff_delimiter
from registry.errors import InvalidInputError

CSV_TEXT = (
    "证书编号,企业名称\nCQC-2026-ASS-0001,青岛海川智能家电有限公司\n\n91370212MA3C5XYZ1B,北京多星\n"
)

ENCODINGS = [
    pytest.param(CSV_TEXT.encode("utf-8"), id="utf-8"),
    pytest.param(codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8"), id="utf-8 with BOM"),
    pytest.param(CSV_TEXT.encode("gb18030"), id="gb18030 (Chinese Excel)"),
    pytest.param(CSV_TEXT.replace("\n", "\r\n").encode("gb18030"), id="gb18030 with CRLF"),
]


def rows(text: str) -> list[tuple[int, tuple[str, ...]]]:
    return [(r.line, r.cells) for r in read_csv(text)]


@pytest.mark.parametrize("data", ENCODINGS)
def test_utf8_and_gb18030_files_read_the_same(data: bytes) -> None:
    assert rows(decode_csv(data)) == [
        (1, ("证书编号", "企业名称")),
        (2, ("CQC-2026-ASS-0001", "青岛海川智能家电有限公司")),
        (4, ("91370212MA3C5XYZ1B", "北京多星")),
    ]


UNREADABLE = [
    # (bytes, words the message must contain)
    pytest.param(b"CQC-2026-0001\ncaf\xe9\n", "neither UTF-8 nor GB18030", id="latin-1"),
    pytest.param(b"\xff\xfeC\x00Q\x00C\x00", "UTF-16", id="utf-16 with BOM"),
    pytest.param("CQC-2026-0001\n".encode("utf-16-le"), "NUL", id="utf-16 without BOM"),
    pytest.param(b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook", id="xlsx"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook", id="xls"),
    pytest.param(b"%PDF-1.7\n", "PDF", id="pdf"),
]


@pytest.mark.parametrize(("data", "words"), UNREADABLE)
def test_a_file_we_cannot_read_gets_a_message_saying_what_to_do(data: bytes, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_csv(data, field="upload")
    assert words in caught.value.detail
    assert "save it from Excel as 'CSV UTF-8'" in caught.value.detail
    assert [e.field for e in caught.value.errors] == ["upload"]


def test_the_latin1_message_names_the_byte_and_the_line() -> None:
    with pytest.raises(InvalidInputError, match="byte 0xE9 on line 2"):
        decode_csv(b"CQC-2026-0001\ncaf\xe9\n")


DELIMITED = [
    # (text, delimiter)
    pytest.param(
        "证书编号\t企业\nCQC-2026-0001\t青岛, 海川\n", "\t", id="paste from a spreadsheet"
    ),
    pytest.param("CQC-2026-0001;Qingdao\nCQC-2026-0002;Hangzhou\n", ";", id="european csv"),
    pytest.param(
        'number;address\nA-1;"青岛, 崂山区"\nA-2;"杭州, 西湖区"\n', ";", id="; with quoted ,"
    ),
    pytest.param(
        "number,sites\nA-1,青岛;烟台\nA-2,杭州;宁波\nA-3,北京;天津\n",
        ",",
        id="comma csv with ; in cells",
    ),
    pytest.param("CQC-2026-0001\nCQC-2026-0002\n", ",", id="one column: no delimiter"),
    pytest.param(
        "A-1\n\nnot-a-number!\nA-2\t三星\n", "\t", id="a paste where one row has two cells"
    ),
    pytest.param("CQC-2026-0001", ",", id="one cell"),
    pytest.param("", ",", id="empty"),
]


@pytest.mark.parametrize(("text", "delimiter"), DELIMITED)
def test_the_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_a_semicolon_file_with_commas_in_its_cells_keeps_them() -> None:
    assert rows('number;address\nA-1;"青岛, 崂山区"\n') == [
        (1, ("number", "address")),
        (2, ("A-1", "青岛, 崂山区")),
    ]


def test_a_long_file_is_sniffed_from_its_first_lines() -> None:
    text = "".join(f"CQC-2026-{i:05d}\t青岛海川智能家电有限公司\n" for i in range(20_000))
    assert sniff_delimiter(text) == "\t"
    assert rows(text)[-1] == (20_000, ("CQC-2026-19999", "青岛海川智能家电有限公司"))


def test_cells_are_trimmed_blank_rows_skipped_and_a_row_starts_where_its_quote_opens() -> None:
    text = 'number,name\n"CQC-2026-\n0002",  x \n , \n\ufeff\u200bCQC-2026-0004\u2060,y\n'
    assert rows(text) == [
        (1, ("number", "name")),
        (2, ("CQC-2026-\n0002", "x")),
        (5, ("CQC-2026-0004", "y")),
    ]


def test_text_that_is_not_csv_is_refused_naming_the_line() -> None:
    text = "number\n" + '"' + "x" * 200_000 + '"\n'
    with pytest.raises(InvalidInputError, match="line 2 cannot be read as CSV") as caught:
        list(read_csv(text, field="paste"))
    assert [e.field for e in caught.value.errors] == ["paste"]
