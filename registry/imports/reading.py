"""The one tabular reader of imports: file bytes -> numbered rows of named cells.

A certification body hands us what its staff already keep for the national
platform (证书信息表): a CSV saved from Excel (UTF-8 or GB18030, read by
`registry.csv_input`) or the workbook itself (`.xlsx`, read by
python-calamine). Headers are the English column names of `starmark cert
import` or the Chinese names of PRODUCT §4 "Import".

What comes out is what `registry.certificates.importer.import_certificates`
takes: `(line, {column: text})`, where `line` is the line of the CSV or the row
number Excel shows, so a row report points at the place a clerk can find.

Limits (PRODUCT §4 "Bad input"): a file that is neither CSV text nor an `.xlsx`
workbook (the bytes decide, not the name), one over 10 MB, or one with more
than 50,000 rows is refused as a whole with a sentence that says so.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal

from registry.certificates.importer import ALL_COLUMNS, REQUIRED_COLUMNS
from registry.csv_input import INVISIBLE, decode_csv, read_csv
from registry.errors import FieldError, InvalidInputError, PayloadTooLargeError

__all__ = [
    "HEADER_ALIASES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Row",
    "TabularFile",
    "read_table",
    "sniff_format",
]

#: PRODUCT §4 "Bad input": an upload over 10 MB is refused.
MAX_FILE_BYTES: Final = 10 * 1000 * 1000
#: ... and so is one with more than 50,000 rows (the header not counted).
MAX_ROWS: Final = 50_000
#: An .xlsx is a zip: what its parts may add up to once inflated. A 10 MB
#: workbook of 50,000 full rows inflates to well under this; a zip bomb does not.
MAX_XLSX_INFLATED_BYTES: Final = 300 * 1000 * 1000

#: The Chinese column names of PRODUCT §4 "Import" (the national platform's
#: 证书信息表), and the English ones, to the importer's columns.
HEADER_ALIASES: Final[dict[str, str]] = {
    **{name: name for name in ALL_COLUMNS},
    "证书编号": "number",
    "获证组织名称": "holder_name",
    "持证单位": "holder_name",
    "英文名称": "holder_name_en",
    "统一社会信用代码": "uscc",
    "地址": "address",
    "认证范围": "scope_zh",
    "英文认证范围": "scope_en",
    "评价得分": "score",
    "得分": "score",
    "颁证日期": "issued_on",
    "发证日期": "issued_on",
    "生效日期": "valid_from",
    "有效期起": "valid_from",
    "有效期至": "valid_until",
    "证书到期日期": "valid_until",
    "服务网点": "sites",
}
DATE_COLUMNS: Final = frozenset({"issued_on", "valid_from", "valid_until"})
#: Excel's day 0 for the 1900 date system (its serial 60 is the 29 February
#: 1900 that never was, hence the 30th, for every date after March 1900).
_EXCEL_EPOCH: Final = date(1899, 12, 30)
#: 2000-01-01 .. 2099-12-31 as Excel serials, the only dates the registry takes.
_SERIALS: Final = range(36526, 73051 + 1)
_DATE_TEXT: Final = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?"
)
_COMPACT_DATE: Final = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_SITE_BREAKS: Final = re.compile(r"\s*[\r\n；]+\s*")

Format = Literal["csv", "xlsx"]
Row = tuple[int, dict[str, str]]


@dataclass(frozen=True)
class TabularFile:
    """A file read and checked: its format and its rows, with the line each is on."""

    format: Format
    rows: list[Row]


def sniff_format(filename: str, data: bytes, *, upload_limits: bool = True) -> Format:
    """`xlsx` for a workbook, `csv` for anything else that may be text.

    The bytes decide: a renamed file is what it is. An `.xlsx` is a zip holding
    `[Content_Types].xml` and `xl/workbook.xml` (ECMA-376 Part 2, OPC).

    Raises:
        InvalidInputError: (field `file`) a zip that is not an Excel workbook, or a
            file named `.xlsx` that is not a zip at all.
    """
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                inflated = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, EOFError, ValueError) as e:
            raise _not_a_table("a damaged zip file") from e
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            what = "a Word or PowerPoint file" if "[Content_Types].xml" in names else "a zip file"
            raise _not_a_table(f"{what}, not an Excel workbook")
        if upload_limits and inflated > MAX_XLSX_INFLATED_BYTES:
            raise InvalidInputError(
                "the workbook is too large once unpacked: split it into files of at most "
                f"{MAX_ROWS:,} rows",
                errors=[FieldError("file", "workbook too large once unpacked")],
            )
        return "xlsx"
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise _not_a_table("named like an Excel workbook but is not one (not an .xlsx zip)")
    return "csv"


def _not_a_table(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"the file is {what}: upload a CSV file (UTF-8 or GB18030) or an Excel .xlsx workbook",
        errors=[FieldError("file", "not CSV or .xlsx")],
    )


def read_table(filename: str, data: bytes, *, upload_limits: bool = True) -> TabularFile:
    """Read an upload or a file given to `starmark cert import`; refuse it whole when
    it is not a table we take.

    `upload_limits` (10 MB, 50,000 rows) apply to what is uploaded; a file on
    the server's own disk (`starmark cert import`) is read whatever its size,
    as bulk issuance of 100,000 rows and more needs (docs/benchmarks.md).

    Blank rows are passed over; a row with a cell the registry cannot take as
    text is returned as `{"__error__": why}` so the row report names it.

    Raises:
        PayloadTooLargeError: over `MAX_FILE_BYTES`.
        InvalidInputError: (field `file`) not CSV or `.xlsx`, not readable, more
            than `MAX_ROWS` rows, or a header that does not name the columns.
    """
    if upload_limits and len(data) > MAX_FILE_BYTES:
        raise PayloadTooLargeError(
            f"the file is {len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES // 1_000_000} MB "
            "is taken: split it into smaller files",
            errors=[FieldError("file", "over 10 MB")],
        )
    kind = sniff_format(filename, data, upload_limits=upload_limits)
    lines = _xlsx_lines(data) if kind == "xlsx" else _csv_lines(data)
    max_rows = MAX_ROWS if upload_limits else None
    return TabularFile(kind, list(_named_rows(lines, max_rows=max_rows)))


def _csv_lines(data: bytes) -> Iterator[tuple[int, list[object]]]:
    for row in read_csv(decode_csv(data)):
        yield row.line, list(row.cells)


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, list[object]]]:
    """The first sheet's rows that are not blank, numbered as Excel numbers them."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        # Without skipping the empty area, row i of the list is Excel's row i + 1.
        rows = sheet.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, IndexError) as e:
        raise InvalidInputError(
            f"the workbook cannot be read ({e}): save it again from Excel as .xlsx",
            errors=[FieldError("file", "unreadable workbook")],
        ) from e
    for index, cells in enumerate(rows):
        if any(_is_filled(c) for c in cells):
            yield index + 1, list(cells)


def _is_filled(cell: object) -> bool:
    if cell is None:
        return False
    if isinstance(cell, str):
        return bool(cell.strip().strip(INVISIBLE).strip())
    return True


def _named_rows(
    lines: Iterable[tuple[int, list[object]]], *, max_rows: int | None
) -> Iterator[Row]:
    """The header checked, then each row as {column: text}; refuses over `max_rows` rows."""
    lines = iter(lines)
    try:
        _, header = next(lines)
    except StopIteration:
        raise InvalidInputError(
            "the file is empty: it needs a header row",
            errors=[FieldError("file", "empty")],
        ) from None
    names = _columns(header)
    count = 0
    for line, cells in lines:
        count += 1
        if max_rows is not None and count > max_rows:
            raise InvalidInputError(
                f"the file has more than {max_rows:,} rows: split it into smaller files",
                errors=[FieldError("file", f"more than {max_rows:,} rows")],
            )
        # A workbook row is as wide as the sheet; cells past the header's must be empty.
        while len(cells) > len(names) and not _is_filled(cells[-1]):
            cells = cells[:-1]
        if len(cells) != len(names):
            yield line, {"__error__": f"has {len(cells)} cells, the header has {len(names)}"}
            continue
        try:
            yield line, {name: _text(name, cell) for name, cell in zip(names, cells, strict=True)}
        except ValueError as e:
            yield line, {"__error__": str(e)}


def _columns(header: list[object]) -> list[str]:
    while header and not _is_filled(header[-1]):
        header = header[:-1]
    labels = [_plain(c) for c in header]
    names = [
        HEADER_ALIASES.get(label, HEADER_ALIASES.get(label.lower(), label)) for label in labels
    ]
    unknown = [label for label, n in zip(labels, names, strict=True) if n not in ALL_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    duplicated = sorted({n for n in names if n in ALL_COLUMNS and names.count(n) > 1})
    if unknown or missing or duplicated:
        problems = [FieldError(n or "(blank)", "unknown column") for n in unknown]
        problems += [FieldError(n, "required column is missing") for n in missing]
        problems += [FieldError(n, "column appears twice") for n in duplicated]
        raise InvalidInputError(
            "the header row must name these columns, in English or Chinese: "
            + ", ".join(ALL_COLUMNS)
            + " (the last five may be left out); see docs/import.md",
            errors=problems,
        )
    return names


def _plain(cell: object) -> str:
    """A header cell as a name: trimmed, without the `*` templates put on required columns."""
    text = "" if cell is None else str(cell)
    return text.strip().strip(INVISIBLE).strip().rstrip("*＊").strip()


def _text(column: str, cell: object) -> str:
    """A cell as the text the importer validates; dates as YYYY-MM-DD wherever they came from."""
    if column in DATE_COLUMNS:
        return _date_text(cell)
    if isinstance(cell, str):  # every CSV cell, most workbook cells
        return _cell_text(column, cell)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        # Excel keeps every number as a double: 85 is 85.0, 85.5 stays 85.5.
        return str(int(cell)) if cell.is_integer() else f"{cell:.15g}"
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (date, time, timedelta)):
        return str(cell)
    return _cell_text(column, str(cell))


def _cell_text(column: str, text: str) -> str:
    text = text.strip().strip(INVISIBLE).strip()
    if column == "sites":
        # One a line in a cell (Alt+Enter) or a full-width semicolon: the importer splits on ';'.
        text = _SITE_BREAKS.sub(";", text)
    return text


def _date_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        # A date cell formatted as a number: Excel's serial day.
        if float(cell).is_integer() and int(cell) in _SERIALS:
            return (_EXCEL_EPOCH + timedelta(days=int(cell))).isoformat()
        return f"{cell:.15g}" if isinstance(cell, float) else str(cell)
    text = str(cell).strip().strip(INVISIBLE).strip()
    match = _DATE_TEXT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match:
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
        except ValueError:
            return text  # 2026-02-30: the importer names the field
    if text.isdigit() and int(text) in _SERIALS:
        # A serial typed or pasted as text.
        return (_EXCEL_EPOCH + timedelta(days=int(text))).isoformat()
    return text
