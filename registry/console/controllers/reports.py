"""`/console/reports`: consumer reports about the body's marks, and its certificates' scan charts.

Through the feedback services the API uses (`GET /api/v1/bodies/{code}/reports`,
`.../reports/{id}/photo`, `POST .../reports/{id}/seen`, `.../scans.svg`), with the
console account as the principal: a body's staff see their own body's reports
only (another body's report is 404). Marking as seen is a form POST with the
console's CSRF token; a viewer reads but does not mark.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from registry.console.accounts import ConsoleAccount
from registry.console.guards import flash, require_writer
from registry.console.pages import _, error, page
from registry.console.reading import body_of, certificate_reading
from registry.dependencies import utc_now
from registry.errors import InvalidInputError, NotFoundError
from registry.feedback import reports, scans
from registry.feedback.chart import scan_chart_svg
from registry.feedback.reports import ReportPage

BodyQuery = Annotated[str | None, QueryParameter(name="body")]


def _body(account: ConsoleAccount, body_code: str | None) -> str | None:
    """The body whose reports are shown: the account's own; an operator's choice."""
    if not account.is_operator:
        return account.body_code
    return body_code.strip().upper() if body_code and body_code.strip() else None


class ReportPages(Controller):
    path = "/reports"

    @get("/", name="console-reports")
    async def list_reports(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        body_code: BodyQuery = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        code = _body(account, body_code)
        found = ReportPage(items=[], next_cursor=None)
        message = None
        if code is not None:
            try:
                found = await reports.list_reports(
                    code, principal=account.principal, limit=20, cursor=cursor
                )
            except InvalidInputError as e:
                message = error(e.detail)
        return page(
            request,
            "reports.html",
            account=account,
            message=message,
            body=code or "",
            reports=found.items,
            next_cursor=found.next_cursor,
        )

    @post("/{report_id:int}/seen", status_code=303)
    async def seen(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        report_id: FromPath[int],
    ) -> Redirect:
        form = await request.form()
        code = _body(account, str(form.get("body", "")))
        if code is None:
            raise NotFoundError(f"no report {report_id}")
        # Another body's report is not found before a viewer is told they may not write.
        await reports.require_report(report_id, code, principal=account.principal)
        require_writer(account)
        report = await reports.mark_seen(report_id, code, principal=account.principal)
        flash(request, "ok", _("Report %(id)s marked as seen.") % {"id": report.id})
        back = "/console/reports" + (f"?body={code}" if account.is_operator else "")
        return Redirect(back, status_code=303)

    @get("/{report_id:int}/photo", name="console-report-photo")
    async def photo(
        self,
        account: NamedDependency[ConsoleAccount],
        report_id: FromPath[int],
        body_code: BodyQuery = None,
    ) -> Response[bytes]:
        code = _body(account, body_code)
        if code is None:
            raise NotFoundError(f"no report {report_id}")
        photo = await reports.report_photo(report_id, code, principal=account.principal)
        return Response(
            photo.data,
            media_type=photo.media_type,
            headers={"Cache-Control": "private, no-store"},
        )


class ScanChartPage(Controller):
    path = "/certificates"

    @get("/{number:str}/scans.svg", name="console-scan-chart")
    async def scan_chart(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        number: FromPath[str],
    ) -> Response[str]:
        reading = await certificate_reading(
            account, number, read_path=request.app.state.console_read_path, now=utc_now()
        )
        code = await body_of(reading.number)
        assert code is not None
        history = await scans.scan_history(
            reading.number, body_code=code, principal=account.principal, now=utc_now()
        )
        return Response(
            scan_chart_svg(history),
            media_type="image/svg+xml",
            headers={
                "Cache-Control": "private, no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )
