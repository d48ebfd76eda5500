"""`/console/marks/sheet`: one PDF with the marks of the certificates chosen in the list.

`/console/marks/sheet?number=A&number=B` says which marks the sheet holds and which
certificates were left out and why (only a certificate valid now has a mark);
`/console/marks/sheet.pdf?number=...` is the PDF, one page a mark, each page the
one `.../marks/pdf` gives. Certificates of another body are left out as unknown.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from registry.console.accounts import ConsoleAccount
from registry.console.pages import _, error, ok, page
from registry.console.reading import body_of
from registry.errors import InvalidInputError, NotFoundError
from registry.verification.controllers import parse_mark_size
from registry.verification.services import MarkSheet, VerificationService, mark_sheet

#: At most this many certificates on one sheet (a page of the list).
MAX_SHEET: Final = 100

Numbers = Annotated[list[str] | None, QueryParameter(name="number")]


async def _sheet(
    request: Request[Any, Any, Any], account: ConsoleAccount, numbers: list[str] | None
) -> MarkSheet:
    asked = [n for n in (numbers or []) if n.strip()]
    if not asked:
        raise InvalidInputError(_("Choose at least one certificate in the list."))
    if len(asked) > MAX_SHEET:
        raise InvalidInputError(_("A sheet holds at most %(max)s marks.") % {"max": MAX_SHEET})
    own: list[str] = []
    others: list[tuple[str, str]] = []
    for number in asked:
        code = await body_of(number)
        if code is not None and account.sees_body(code):
            own.append(number)
        else:
            others.append((number.strip().upper()[:60], "not found"))
    read_path: VerificationService = request.app.state.console_read_path
    size, dpi = parse_mark_size(None, None)
    sheet = await mark_sheet(
        read_path, own, public_url=request.app.state.settings.public_url, size_mm=size, dpi=dpi
    )
    return MarkSheet(numbers=sheet.numbers, skipped=sheet.skipped + others, pdf=sheet.pdf)


class MarkSheetPages(Controller):
    path = "/marks"

    @get("/sheet", name="console-mark-sheet")
    async def summary(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        numbers: Numbers = None,
    ) -> Template:
        sheet = await _sheet(request, account, numbers)
        if sheet.pdf is None:
            message = error(_("No mark: none of the chosen certificates is valid now."))
        else:
            message = ok(
                _("%(count)s marks in the sheet, %(skipped)s certificates left out.")
                % {"count": len(sheet.numbers), "skipped": len(sheet.skipped)}
            )
        query = urlencode([("number", n) for n in sheet.numbers])
        return page(
            request,
            "mark_sheet.html",
            account=account,
            message=message,
            status_code=200 if sheet.pdf is not None else 410,
            sheet=sheet,
            pdf_url=f"/console/marks/sheet.pdf?{query}",
        )

    @get("/sheet.pdf", name="console-mark-sheet-pdf")
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        numbers: Numbers = None,
    ) -> Response[bytes]:
        sheet = await _sheet(request, account, numbers)
        if sheet.pdf is None:
            raise NotFoundError(_("No mark: none of the chosen certificates is valid now."))
        headers = {
            "Content-Disposition": 'attachment; filename="marks.pdf"',
            "Cache-Control": "no-store",
        }
        return Response(sheet.pdf, media_type="application/pdf", headers=headers)
