"""The tabular reader: CSV or .xlsx, English or Chinese headers, Excel's dates and numbers."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from registry.errors import InvalidInputError, PayloadTooLargeError
from registry.imports.reading import MAX_ROWS, read_table

CHINESE_HEADER = [
    "证书编号",
    "获证组织名称",
    "统一社会信用代码",
    "认证范围",
    "评价得分",
    "颁证日期",
    "生效日期",
    "有效期至",
    "服务网点",
]


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_excel_dates_and_numbers_come_out_as_the_importer_reads_them() -> None:
    data = xlsx(
        [
            CHINESE_HEADER,
            # date cells, a score typed as a whole number, sites one a line in the cell
            [
                "A-1",
                "甲公司",
                "U1",
                "维修",
                88,
                date(2026, 3, 1),
                date(2026, 3, 2),
                None,
                "宁波\n杭州",
            ],
            # datetimes, a decimal score, a serial number, dates typed as text
            [
                "A-2",
                "乙公司",
                "U2",
                "维修",
                91.5,
                datetime(2026, 3, 1, 0, 0),
                46082,
                "2029/2/27",
                "",
            ],
            [
                "A-3",
                "丙公司",
                "U3",
                "维修",
                "79.9",
                "2026年3月1日",
                "20260301",
                "46082",
                "宁波；杭州",
            ],
        ]
    )
    table = read_table("证书信息表.xlsx", data)
    assert table.format == "xlsx"
    first, second, third = table.rows
    assert first == (
        2,
        {
            "number": "A-1",
            "holder_name": "甲公司",
            "uscc": "U1",
            "scope_zh": "维修",
            "score": "88",
            "issued_on": "2026-03-01",
            "valid_from": "2026-03-02",
            "valid_until": "",
            "sites": "宁波;杭州",
        },
    )
    assert second[0] == 3
    assert second[1]["score"] == "91.5"
    assert (second[1]["issued_on"], second[1]["valid_from"]) == ("2026-03-01", "2026-03-01")
    assert second[1]["valid_until"] == "2029-02-27"
    assert third[1]["score"] == "79.9"
    assert [third[1][c] for c in ("issued_on", "valid_from", "valid_until")] == [
        "2026-03-01",
        "2026-03-01",
        "2026-03-01",
    ]
    assert third[1]["sites"] == "宁波;杭州"


def test_the_other_chinese_names_english_names_and_marked_required_columns() -> None:
    header = [
        "证书编号*",
        "持证单位",
        "统一社会信用代码",
        "认证范围",
        "得分",
        "发证日期",
        "有效期起",
    ]
    table = read_table(
        "in.xlsx", xlsx([header, ["A-1", "甲", "U", "维修", 90, "2026-03-01", "2026-03-01"]])
    )
    assert set(table.rows[0][1]) == {
        "number",
        "holder_name",
        "uscc",
        "scope_zh",
        "score",
        "issued_on",
        "valid_from",
    }
    csv = (
        "Number,holder_name,uscc,scope_zh,score,issued_on,valid_from\r\n"
        "A-1,甲,U,维修,90,2026/3/1,2026/3/1\r\n"
    )
    table = read_table("in.csv", csv.encode("gb18030"))
    assert table.format == "csv"
    assert table.rows[0][1]["issued_on"] == "2026-03-01"


def test_blank_rows_keep_excel_row_numbers() -> None:
    header = CHINESE_HEADER[:7]
    good = ["A-1", "甲", "U", "维修", 90, "2026-03-01", "2026-03-01"]
    table = read_table("in.xlsx", xlsx([header, good, [], [], good]))
    assert [line for line, _ in table.rows] == [2, 5]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("certificates.xlsx", b"number,holder_name\r\nA,B\r\n", "not an .xlsx"),
        ("certificates.xlsx", b"%PDF-1.7 a pdf renamed", "not an .xlsx"),
        ("certificates.csv", b"%PDF-1.7 a pdf", "PDF"),
    ],
    ids=["csv-renamed-xlsx", "pdf-renamed-xlsx", "pdf-as-csv"],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused_whatever_its_name(
    name: str, data: bytes, says: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(name, data)
    assert says in caught.value.detail


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InvalidInputError) as caught:
        read_table("certificates.xlsx", out.getvalue())
    assert "not an Excel workbook" in caught.value.detail


def test_over_ten_megabytes_or_fifty_thousand_rows_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError) as too_big:
        read_table("in.csv", b"x" * (10_000_001))
    assert "10 MB" in too_big.value.detail
    header = "number,holder_name,uscc,scope_zh,score,issued_on,valid_from\n"
    with pytest.raises(InvalidInputError) as too_long:
        read_table("in.csv", (header + "x\n" * (MAX_ROWS + 1)).encode())
    assert "more than 50,000 rows" in too_long.value.detail
    # 50,000 is still taken (each row then fails on its own).
    assert len(read_table("in.csv", (header + "x\n" * MAX_ROWS).encode()).rows) == MAX_ROWS
    # A file on the server's disk (`starmark cert import`, bulk issuance) has no upload limits.
    on_disk = read_table("in.csv", (header + "x\n" * (MAX_ROWS + 1)).encode(), upload_limits=False)
    assert len(on_disk.rows) == MAX_ROWS + 1


def test_a_header_that_names_no_known_columns_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table("in.xlsx", xlsx([["证书编号", "颜色"], ["A-1", "红"]]))
    problems = {(e.field, e.message) for e in caught.value.errors}
    assert ("颜色", "unknown column") in problems
    assert ("holder_name", "required column is missing") in problems
