"""`/v/{number}/report` (the 举报 form) and the body's reports and scans API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from registry.dependencies import provide_principal, utc_now
from registry.errors import (
    NotFoundError,
    problem_responses,
)
from registry.feedback import reports, scans
from registry.feedback.chart import scan_chart_svg
from registry.feedback.photos import MAX_PHOTO_BYTES
from registry.feedback.schemas import Report, ReportPage, ScanDay, ScanHistory
from registry.i18n import current_language
from registry.limits import form_text, read_form
from registry.principals import Principal
from registry.verification.services import VerificationService, canonical_number
from signing.instants import format_instant

__all__ = ["FeedbackApi", "ReportPages"]

#: The form's text fields and a 5 MB photo, with room for the multipart framing.
REPORT_MAX_BODY: Final = MAX_PHOTO_BYTES + 256 * 1024
BODY_TOKEN = {"principal": Provide(provide_principal)}


async def _certificate_body(request: Request[Any, Any, Any], number: str) -> tuple[str, str]:
    """(canonical number, issuing body's code) of a certificate the registry has.

    Raises:
        NotFoundError: the registry has no such certificate.
    """
    service: VerificationService = request.app.state.verification
    canonical = canonical_number(number)
    text = None if canonical is None else await service.reader.read(canonical)
    if canonical is None or text is None:
        raise NotFoundError(f"no certificate with number {number.strip().upper()[:60]}")
    return canonical, str(json.loads(text)["certificate"]["body_code"])


def _form_context(number: str, **values: Any) -> dict[str, Any]:
    return {
        "number": number,
        "en": current_language() == "en",
        "problems": reports.PROBLEMS,
        "max_mb": MAX_PHOTO_BYTES // (1024 * 1024),
        "where": "",
        "problem": "",
        "details": "",
        "contact": "",
        "codes": {},
        **values,
    }


async def _form(request: Request[Any, Any, Any]) -> Mapping[str, Any]:
    return await read_form(
        request, too_large="the report is larger than 5 MB: send a smaller photo"
    )


async def _photo(form: Mapping[str, Any]) -> bytes | None:
    value = form.get("photo")
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    # One byte over the cap is enough to refuse it; the rest is never read.
    data: bytes = await value.read(MAX_PHOTO_BYTES + 1)
    return data


class ReportPages(Controller):
    """The report form (举报) for people, in the page's language."""

    path = "/v/{number:str}/report"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def form(self, request: Request[Any, Any, Any], number: FromPath[str]) -> Template:
        canonical, _ = await _certificate_body(request, number)
        return Template("feedback/report.html", context=_form_context(canonical))

    @post("/", media_type=MediaType.HTML, status_code=200, request_max_body_size=REPORT_MAX_BODY)
    async def send(self, request: Request[Any, Any, Any], number: FromPath[str]) -> Template:
        canonical, body_code = await _certificate_body(request, number)
        form = await _form(request)
        values = {
            "where": form_text(form, "where"),
            "problem": form_text(form, "problem"),
            "details": form_text(form, "details"),
            "contact": form_text(form, "contact"),
        }
        try:
            await reports.submit_report(
                number=canonical,
                body_code=body_code,
                bought_where=values["where"],
                problem=values["problem"],
                details=values["details"],
                contact=values["contact"],
                photo=await _photo(form),
                now=utc_now(),
            )
        except reports.ReportInputError as e:
            return Template(
                "feedback/report.html",
                context=_form_context(canonical, codes=e.codes, **values),
                status_code=422,
            )
        return Template(
            "feedback/report_thanks.html",
            context={"number": canonical, "en": current_language() == "en"},
        )


def _report_json(report: reports.StoredReport) -> Report:
    photo_url = (
        f"/api/v1/bodies/{report.body_code}/reports/{report.id}/photo" if report.has_photo else None
    )
    return Report(
        id=report.id,
        number=report.number,
        created_at=format_instant(report.created_at.replace(microsecond=0)),
        where=report.bought_where,
        problem=report.problem,
        details=report.details,
        contact=report.contact,
        photo_url=photo_url,
        status=report.status,
    )


class FeedbackApi(Controller):
    """What the public told a body: its reports and its certificates' scans."""

    path = "/api/v1/bodies/{code:str}"
    tags = ["reports and scans"]
    dependencies = BODY_TOKEN

    @get(
        "/reports",
        summary="Consumer reports about the body's certificates, newest first (body or operator)",
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def list_reports(
        self,
        code: FromPath[str],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> ReportPage:
        page = await reports.list_reports(code, principal=principal, limit=limit, cursor=cursor)
        return ReportPage(items=[_report_json(r) for r in page.items], next_cursor=page.next_cursor)

    @get(
        "/reports/{report_id:int}/photo",
        summary="A report's photo, as the registry re-encoded it (body or operator)",
        media_type="image/jpeg",
        responses=problem_responses(401, 403, 404),
    )
    async def photo(
        self, code: FromPath[str], report_id: FromPath[int], principal: NamedDependency[Principal]
    ) -> Response[bytes]:
        photo = await reports.report_photo(report_id, code, principal=principal)
        return Response(
            photo.data,
            media_type=photo.media_type,
            headers={
                "Cache-Control": "private, max-age=3600",
                "Content-Disposition": f'inline; filename="report-{report_id}."'
                + ("png" if photo.media_type == "image/png" else "jpg"),
            },
        )

    @post(
        "/reports/{report_id:int}/seen",
        summary="Mark a report as seen by the body (body or operator)",
        status_code=200,
        responses=problem_responses(401, 403, 404),
    )
    async def seen(
        self, code: FromPath[str], report_id: FromPath[int], principal: NamedDependency[Principal]
    ) -> Report:
        report = await reports.mark_seen(report_id, code, principal=principal)
        return _report_json(report)

    @get(
        "/certificates/{number:str}/scans",
        summary="Scans of a certificate's page per day, last 90 days, spikes flagged",
        responses=problem_responses(401, 403, 404),
    )
    async def scan_counts(
        self, code: FromPath[str], number: FromPath[str], principal: NamedDependency[Principal]
    ) -> ScanHistory:
        history = await scans.scan_history(
            number, body_code=code, principal=principal, now=utc_now()
        )
        return msgspec.convert(
            {
                "number": history.number,
                "body": history.body_code,
                "days": [
                    ScanDay(day=d.day.isoformat(), count=d.count, spike=d.spike)
                    for d in history.days
                ],
                "median": history.median,
                "threshold": history.threshold,
                "spikes": [d.day.isoformat() for d in history.days if d.spike],
                "total": sum(d.count for d in history.days),
            },
            ScanHistory,
        )

    @get(
        "/certificates/{number:str}/scans.svg",
        summary="The last 90 days of scans as a small SVG bar chart, spikes in red",
        media_type="image/svg+xml",
        responses=problem_responses(401, 403, 404),
    )
    async def scan_chart(
        self, code: FromPath[str], number: FromPath[str], principal: NamedDependency[Principal]
    ) -> Response[str]:
        history = await scans.scan_history(
            number, body_code=code, principal=principal, now=utc_now()
        )
        return Response(
            scan_chart_svg(history),
            media_type="image/svg+xml",
            headers={
                "Cache-Control": "private, no-cache",
                # An SVG opened on its own is a document: it may run nothing and load nothing.
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )
