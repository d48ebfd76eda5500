"""`/console/certificates`: the list, the issue form, one certificate and its actions.

Writes call the same services as `POST /api/v1/certificates` (and its
`/revisions`, `/events`), with the console account as the principal: the same
signed document and the same audit record (`console:<email>`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from registry.bodies.services import HostedKeyVault, has_active_hosted_key
from registry.certificates import services as writes
from registry.certificates.services import StoredCertificate, WriteContext
from registry.console.accounts import ConsoleAccount
from registry.console.feedback import certificate_reports
from registry.console.forms import (
    CERTIFICATE_FIELDS,
    certificate_request,
    field_messages,
    form_from_payload,
)
from registry.console.guards import flash, require_writer
from registry.console.pages import _, error, page
from registry.console.reading import body_of, certificate_reading
from registry.dependencies import utc_now
from registry.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
)
from registry.search.query import LEVELS, STATUSES, parse_search
from registry.search.services import search
from registry.settings import Settings
from registry.verification.controllers import parse_mark_size
from registry.verification.services import VerificationService, mark_bytes
from signing.status import EventStatus

#: The status changes the form offers, and the ones that cannot be undone (PRODUCT §4:
#: revoke and withdraw ask for confirmation).
EVENT_CHOICES: Final = tuple(
    s.value
    for s in (
        EventStatus.SUSPENDED,
        EventStatus.REINSTATED,
        EventStatus.REVOKED,
        EventStatus.WITHDRAWN,
        EventStatus.SURVEILLANCE_PASSED,
    )
)
PERMANENT: Final = frozenset({EventStatus.REVOKED.value, EventStatus.WITHDRAWN.value})
MARK_TYPES: Final = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def _read_path(request: Request[Any, Any, Any]) -> VerificationService:
    service: VerificationService = request.app.state.console_read_path
    return service


def _context(request: Request[Any, Any, Any], account: ConsoleAccount) -> WriteContext:
    settings: Settings = request.app.state.settings
    vault: HostedKeyVault = request.app.state.vault
    return WriteContext(
        principal=account.principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
    )


def _form_values(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names}


async def _write_or_errors(
    write: Callable[[], Awaitable[StoredCertificate]],
) -> tuple[StoredCertificate | None, RegistryError | None]:
    """The write, or the problem a person can fix in the form (bad fields, a conflict)."""
    try:
        return await write(), None
    except (InvalidInputError, ConflictError) as e:
        return None, e


class CertificatePages(Controller):
    path = "/certificates"

    # --- the list ------------------------------------------------------------------

    @get("/", name="console-certificates")
    async def list_certificates(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        body_code: Annotated[str | None, QueryParameter(name="body")] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        now = utc_now()
        # A body's staff search their own body's certificates only.
        scope = body_code if account.is_operator else account.body_code
        filters = {
            "q": q or "",
            "status": status or "",
            "level": level or "",
            "body": body_code or "",
        }
        items: list[dict[str, Any]] = []
        next_cursor = None
        message = None
        try:
            query = parse_search(
                q=q, status=status, level=level, body=scope, cursor=cursor, now=now
            )
            found = await search(
                query,
                engine=request.app.state.console_engine,
                read_path=_read_path(request),
                public_url=request.app.state.settings.public_url,
            )
            items, next_cursor = found.items, found.next_cursor
        except InvalidInputError as e:
            message = error("; ".join(f"{p.field}: {p.message}" for p in e.errors) or e.detail)
        return page(
            request,
            "certificates.html",
            account=account,
            message=message,
            status_code=200 if message is None else 422,
            items=items,
            next_cursor=next_cursor,
            filters=filters,
            statuses=STATUSES,
            levels=LEVELS,
        )

    # --- issuing -------------------------------------------------------------------

    async def _issue_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        *,
        values: dict[str, str],
        errors: dict[str, list[str]] | None = None,
        message: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        body_code = values.get("body") if account.is_operator else account.body_code
        hosted = bool(body_code) and await has_active_hosted_key(str(body_code), now=utc_now())
        return page(
            request,
            "issue.html",
            account=account,
            message=message,
            status_code=status_code,
            values=values,
            errors=errors or {},
            fields=CERTIFICATE_FIELDS,
            # An operator names the body; a body without a hosted key signs offline.
            hosted=hosted or account.is_operator,
        )

    @get("/new", name="console-issue")
    async def issue_form(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        require_writer(account)
        return await self._issue_page(request, account, values={})

    @post("/new", status_code=303)
    async def issue(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template | Redirect:
        require_writer(account)
        form = await request.form()
        values = _form_values(form, (*CERTIFICATE_FIELDS, "body"))
        fields = certificate_request(values)
        body_code = values["body"].strip().upper() or None if account.is_operator else None
        ctx = _context(request, account)
        stored, problem = await _write_or_errors(
            lambda: writes.issue_certificate(fields, body_code=body_code, ctx=ctx)
        )
        if problem is not None or stored is None:
            assert problem is not None
            return await self._issue_page(
                request,
                account,
                values=values,
                errors=field_messages(problem.errors),
                message=error(_("Nothing was stored: %(detail)s") % {"detail": problem.detail}),
                status_code=problem.status_code,
            )
        flash(request, "ok", _("Certificate %(number)s issued.") % {"number": stored.number})
        return Redirect(f"/console/certificates/{stored.number}", status_code=303)

    # --- one certificate -------------------------------------------------------------

    async def _certificate_page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        number: str,
        *,
        message: dict[str, str] | None = None,
        status_code: int = 200,
        status_values: dict[str, str] | None = None,
        status_errors: dict[str, list[str]] | None = None,
        revision_values: dict[str, str] | None = None,
        revision_errors: dict[str, list[str]] | None = None,
    ) -> Template:
        now = utc_now()
        reading = await certificate_reading(account, number, read_path=_read_path(request), now=now)
        document = await _read_path(request).document(reading.number, now=now)
        current = reading.revisions[-1] if reading.revisions else None
        body_code = await body_of(reading.number)
        reports = await certificate_reports(account, reading.number, body_code) if body_code else []
        return page(
            request,
            "certificate.html",
            account=account,
            message=message,
            status_code=status_code,
            reading=reading,
            verdict=reading.verdict,
            document=document,
            current=current,
            event_choices=EVENT_CHOICES,
            permanent=PERMANENT,
            status_values=status_values or {},
            status_errors=status_errors or {},
            revision_values=revision_values
            or (form_from_payload(current) if current is not None else {}),
            revision_errors=revision_errors or {},
            fields=CERTIFICATE_FIELDS,
            mark_types=tuple(MARK_TYPES),
            certificate_reports=reports,
        )

    @get("/{number:str}", name="console-certificate")
    async def certificate(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        number: FromPath[str],
    ) -> Template:
        return await self._certificate_page(request, account, number)

    @post("/{number:str}/events", status_code=303)
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        number: FromPath[str],
    ) -> Template | Redirect:
        await certificate_reading(account, number, read_path=_read_path(request), now=utc_now())
        require_writer(account)
        form = await request.form()
        values = _form_values(form, ("status", "effective_at", "reason", "confirm"))
        fields: dict[str, Any] = {"status": values["status"].strip()}
        for name in ("effective_at", "reason"):
            if values[name].strip():
                fields[name] = values[name].strip()
        problem: RegistryError | None = None
        stored = None
        if fields["status"] in PERMANENT and values["confirm"] != "yes":
            # Revoking and withdrawing cannot be undone: the box must be ticked.
            problem = InvalidInputError(
                "confirm",
                errors=[FieldError("confirm", _("Tick the box: this change is permanent."))],
            )
        else:
            ctx = _context(request, account)
            stored, problem = await _write_or_errors(
                lambda: writes.add_status_event(number, fields, ctx=ctx)
            )
        if problem is not None or stored is None:
            assert problem is not None
            errors: dict[str, list[str]] = {}
            for e in problem.errors:
                errors.setdefault(e.field.split(".", 1)[0], []).append(e.message)
            detail = (
                _("Nothing was changed: confirm the permanent change.")
                if "confirm" in errors
                else _("Nothing was changed: %(detail)s") % {"detail": problem.detail}
            )
            return await self._certificate_page(
                request,
                account,
                number,
                message=error(detail),
                status_code=problem.status_code,
                status_values=values,
                status_errors=errors,
            )
        flash(
            request,
            "ok",
            _("Status change recorded: %(status)s.") % {"status": fields["status"]},
        )
        return Redirect(f"/console/certificates/{stored.number}", status_code=303)

    @post("/{number:str}/revisions", status_code=303)
    async def revise(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        number: FromPath[str],
    ) -> Template | Redirect:
        await certificate_reading(account, number, read_path=_read_path(request), now=utc_now())
        require_writer(account)
        form = await request.form()
        values = _form_values(form, CERTIFICATE_FIELDS)
        fields = certificate_request(values, with_number=False)
        ctx = _context(request, account)
        stored, problem = await _write_or_errors(
            lambda: writes.add_revision(number, fields, ctx=ctx)
        )
        if problem is not None or stored is None:
            assert problem is not None
            return await self._certificate_page(
                request,
                account,
                number,
                message=error(_("Nothing was changed: %(detail)s") % {"detail": problem.detail}),
                status_code=problem.status_code,
                revision_values=values,
                revision_errors=field_messages(problem.errors),
            )
        flash(
            request,
            "ok",
            _("Revision %(revision)s recorded.") % {"revision": stored.row["current_revision"]},
        )
        return Redirect(f"/console/certificates/{stored.number}", status_code=303)

    @get("/{number:str}/marks/{fmt:str}", name="console-mark")
    async def mark(
        self,
        request: Request[Any, Any, Any],
        account: NamedDependency[ConsoleAccount],
        number: FromPath[str],
        fmt: FromPath[str],
    ) -> Response[bytes]:
        """The mark as PNG, SVG or PDF (the PDF has no public route)."""
        if fmt not in MARK_TYPES:
            raise NotFoundError(f"no mark format {fmt[:10]!r}; png, svg or pdf")
        await certificate_reading(account, number, read_path=_read_path(request), now=utc_now())
        size, dpi = parse_mark_size(None, None)
        canonical, data = await mark_bytes(
            _read_path(request),
            number,
            fmt,  # type: ignore[arg-type]
            public_url=request.app.state.settings.public_url,
            size_mm=size,
            dpi=dpi,
        )
        return Response(
            data,
            media_type=MARK_TYPES[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="{canonical}-mark.{fmt}"',
                "Cache-Control": "no-store",
            },
        )
