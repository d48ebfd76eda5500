"""CSV that people give us: a file saved from Excel, or cells pasted from a spreadsheet.

One reader for every surface that takes one: `starmark cert import` (a header
row, then one certificate a row) and the `/verify` page (a paste or an upload,
the first cell of each row). PRODUCT §4: UTF-8 (with or without BOM) or
GB18030, which is what Chinese Excel writes for "CSV". Files that are not
text (a workbook, a PDF, UTF-16 "Unicode text") are refused with a sentence
that says what to do, never decoded into something else.

The delimiter is found by `csv.Sniffer` among tab (a paste from a
spreadsheet), comma and semicolon (a European-style CSV), else the most
frequent of them; comma when there is none (a single column has no
delimiter). Quoting is Excel's (`"`, doubled to escape) whatever the sniffer
guesses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from registry.errors import FieldError, InvalidInputError

__all__ = ["DELIMITERS", "INVISIBLE", "CsvRow", "decode_csv", "read_csv", "sniff_delimiter"]

#: What a delimiter may be: tab, comma, semicolon.
DELIMITERS: Final = "\t,;"
#: The sniffer reads this much of the text (whole lines): it looks at every
#: character of every line it is given, and the first lines say enough.
_SNIFF_CHARS: Final = 16 * 1024
#: Characters Excel and web pages leave around a value that are not spaces to `str.strip`.
INVISIBLE: Final = "\ufeff\u200b\u200c\u200d\u2060"
_MAGIC: Final = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\xff\xfe", "UTF-16 text (Excel's 'Unicode text')"),
    (b"\xfe\xff", "UTF-16 text"),
)
_SAVE_AS: Final = "save it from Excel as 'CSV UTF-8' or 'CSV' and try again"


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One row that is not blank: where it starts (from 1) and its cells, trimmed."""

    line: int
    cells: tuple[str, ...]


def decode_csv(data: bytes, *, field: str = "file") -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GB18030.

    Raises:
        InvalidInputError: (field `field`) not CSV text in either encoding; the
            message says what the file looks like and how to save it.
    """
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InvalidInputError(
                f"the file is {what}, not CSV text (neither UTF-8 nor GB18030): {_SAVE_AS}",
                errors=[FieldError(field, f"{what}, not CSV")],
            )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise InvalidInputError(
                f"the file is in an encoding we cannot read: byte 0x{data[e.start]:02X} on "
                f"line {line} is neither UTF-8 nor GB18030; {_SAVE_AS}",
                errors=[FieldError(field, "neither UTF-8 nor GB18030")],
            ) from e
    if "\x00" in text:
        # UTF-16 without a BOM, or a binary file, decodes with NULs between characters.
        raise InvalidInputError(
            f"the file contains NUL characters, so it is not CSV text (UTF-16?): {_SAVE_AS}",
            errors=[FieldError(field, "not CSV text")],
        )
    return text


def sniff_delimiter(text: str) -> str:
    """Tab, comma or semicolon, as `csv.Sniffer` reads the first lines.

    When the sniffer cannot tell, the most frequent of the three; comma if none
    is there (a single column).
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        # A cut line would have fewer delimiters than its neighbours.
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer wants a delimiter on (nearly) every line; a paste of numbers where
    # a few rows carry a second cell has none that regular: take the most frequent.
    counts = {candidate: sample.count(candidate) for candidate in DELIMITERS}
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def read_csv(text: str, *, field: str = "file") -> Iterator[CsvRow]:
    """The rows of `text` that have a non-blank cell, with the line each starts on.

    Cells are stripped of spaces and of the invisible characters spreadsheets
    and web pages leave around values; a quoted cell may span lines.

    Raises:
        InvalidInputError: (field `field`) the text is not CSV (e.g. a cell
            longer than the csv module allows), naming the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    start = 1
    try:
        for cells in reader:
            trimmed = tuple(c.strip().strip(INVISIBLE).strip() for c in cells)
            if any(trimmed):
                yield CsvRow(start, trimmed)
            start = reader.line_num + 1
    except csv.Error as e:
        raise InvalidInputError(
            f"line {reader.line_num} cannot be read as CSV: {e}",
            errors=[FieldError(field, f"line {reader.line_num}: {e}")],
        ) from e
