"""What went wrong with a `/verify` form, said in the page's language.

The API answers problem+json in English, with a `field` for each problem
(`registry.errors.FieldError`). The pages say the same problems again from the
field that is wrong, through the gettext catalogs (domain ``tender``), so that
a Chinese page carries no English sentence. What a person typed is quoted as
typed; a problem this module does not know is said by a general line.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from registry.errors import FieldError, InvalidInputError
from registry.tender.reasons import _

__all__ = ["PageProblem", "page_problem"]

_LINE: Final = re.compile(r"^(?P<source>paste|file) line (?P<line>\d+)$")
_COUNT: Final = re.compile(r"(\d+)")


class PageProblem(NamedTuple):
    """One line of the problem box: where (may be empty) and what to do."""

    where: str
    message: str


def _items_message(error: FieldError) -> str:
    text = error.message
    if text == "nothing to check":
        return _(
            "Nothing to check: paste certificate numbers or USCCs, one a line, "
            "or choose a CSV file."
        )
    if text.startswith(("at most", "1 to")):
        counts = _COUNT.findall(text)
        return _(
            "Too many items: at most %(n)s certificate numbers or USCCs can be checked at once. "
            "Split the list."
        ) % {"n": counts[0] if counts else ""}
    if text.startswith("more than"):
        return _(
            "Too many rows are neither a certificate number nor a USCC. Put the numbers or "
            "USCCs in the first column."
        )
    if text == "too many certificates for one receipt":
        return _("Too many certificates for one receipt. Split the list into smaller ones.")
    if text.startswith("paste numbers"):
        return _("No row is a certificate number or a USCC.")
    return _("The list could not be read. Paste one certificate number or USCC a line.")


def _one(error: FieldError) -> PageProblem:
    field = error.field
    line = _LINE.match(field)
    if line is not None:
        n = line.group("line")
        where = _("File line %(n)s") if line.group("source") == "file" else _("Pasted line %(n)s")
        return PageProblem(where % {"n": n}, _("neither a certificate number nor a USCC"))
    if field == "as_of":
        return PageProblem(
            _("Deadline"),
            _(
                "Not a date or time that can be read. Type it like 2026-10-01 09:30, "
                "2026/10/01 or 2026年10月1日 (Beijing time), from 2000-01-01 to 2099-12-31."
            ),
        )
    if field == "min_level":
        return PageProblem(_("Minimum level"), _("Choose a level from the list."))
    if field in ("tender_name", "tender_number"):
        where = _("Tender name") if field == "tender_name" else _("Tender number")
        return PageProblem(
            where, _("At most 200 characters, without line breaks or control characters.")
        )
    if field in ("items", "items[]") or field.startswith("items["):
        return PageProblem("", _items_message(error))
    if field == "file" and error.message == "not a .jws file":
        return PageProblem(_("File"), _("This file is not a receipt: a receipt is a .jws file."))
    if field in ("file", "paste") and error.message.endswith(", not CSV"):
        workbook = "Excel" in error.message
        return PageProblem(
            _("File"),
            _(
                "This is an Excel workbook, not a CSV file. In Excel, choose Save As, "
                "then “CSV UTF-8” or “CSV”, and upload that file."
            )
            if workbook
            else _(
                "This file is not a CSV file. In Excel, choose Save As, then “CSV UTF-8” "
                "or “CSV”, and upload that file."
            ),
        )
    if field in ("file", "paste") and error.message == "neither UTF-8 nor GB18030":
        return PageProblem(
            _("File"),
            _(
                "The file's characters are neither UTF-8 nor GB18030 and cannot be read. "
                "In Excel, choose Save As, then “CSV UTF-8” or “CSV”."
            ),
        )
    if field in ("file", "paste"):
        return PageProblem(
            _("File"),
            _(
                "The file is not a CSV file. Save it from Excel as CSV (UTF-8 or the "
                "Chinese default)."
            ),
        )
    if field == "jws" and error.message == "a receipt signed by this registry":
        return PageProblem(
            "",
            _(
                "This receipt does not verify: it was not signed by this registry, "
                "or it was changed."
            ),
        )
    if field == "jws":
        return PageProblem("", _("Choose a receipt file (.jws) or paste its text."))
    return PageProblem("", _("Something in the form could not be read. Check it and try again."))


def page_problem(error: InvalidInputError) -> list[PageProblem]:
    """Each problem of `error`, in the page's language; at least one line."""
    lines = [_one(e) for e in error.errors]
    # One line a kind is enough: many skipped rows say the same thing.
    unique = list(dict.fromkeys(lines))
    return unique or [
        PageProblem("", _("Something in the form could not be read. Check it and try again."))
    ]
