"""`/console/uploads`: a body that signs offline uploads its signed `.jws` files.

Each file is one write of its own, stored by the same service as the API's own-key
submission (`{"jws": ...}` to `POST /api/v1/certificates`, `.../revisions`,
`.../events`): `registry.certificates.services.submit_signed`. The console never
asks for a private key: the files were signed with `starmark` on the body's own
machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import ClientException
from litestar.response import Template

from registry.bodies.services import HostedKeyVault
from registry.certificates.services import WriteContext, submit_signed
from registry.console.accounts import ConsoleAccount
from registry.console.guards import require_writer
from registry.console.pages import _, error, ok, page
from registry.dependencies import utc_now
from registry.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from registry.settings import Settings
from signing.jws import MAX_TOKEN_LENGTH

#: At most this many files at a time, together at most this many bytes.
MAX_FILES: Final = 200
MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileResult:
    name: str
    result: str  # ok | error
    number: str
    text: str


class UploadPages(Controller):
    path = "/uploads"

    def _page(
        self,
        request: Request[Any, Any, Any],
        account: ConsoleAccount,
        *,
        results: list[FileResult] | None = None,
        message: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "uploads.html",
            account=account,
            message=message,
            status_code=status_code,
            results=results or [],
            max_files=MAX_FILES,
        )

    @get("/", name="console-uploads")
    async def form(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        return self._page(request, account)

    @post("/", status_code=200, request_max_body_size=MAX_UPLOAD_BYTES + 64 * 1024)
    async def upload(
        self, request: Request[Any, Any, Any], account: NamedDependency[ConsoleAccount]
    ) -> Template:
        require_writer(account)
        try:
            form = await request.form()
        except ClientException:
            return self._page(
                request,
                account,
                message=error(_("Nothing was stored: the files are larger than 10 MB together.")),
                status_code=413,
            )
        uploads = [f for f in _files(form) if f.filename]
        if not uploads or len(uploads) > MAX_FILES:
            return self._page(
                request,
                account,
                message=error(
                    _("Choose between 1 and %(max)s signed .jws files.") % {"max": MAX_FILES}
                ),
                status_code=422,
            )
        settings: Settings = request.app.state.settings
        vault: HostedKeyVault = request.app.state.vault
        results = []
        for upload in uploads:
            data = await upload.read()
            results.append(await _store_one(upload.filename, data, account, settings, vault))
        refused = sum(1 for r in results if r.result == "error")
        counts = {"stored": len(results) - refused, "refused": refused}
        text = _("%(stored)s files stored, %(refused)s refused.") % counts
        return self._page(
            request,
            account,
            results=results,
            message=error(text) if refused else ok(text),
            status_code=200 if not refused else 422,
        )


def _files(form: Any) -> list[UploadFile]:
    values = form.getall("files") if hasattr(form, "getall") else []
    if not values and isinstance(form, Mapping):
        single = form.get("files")
        values = [single] if single is not None else []
    return [v for v in values if isinstance(v, UploadFile)]


async def _store_one(
    name: str, data: bytes, account: ConsoleAccount, settings: Settings, vault: HostedKeyVault
) -> FileResult:
    """One file: stored (its own write), or the reason it was not."""
    if len(data) > MAX_TOKEN_LENGTH:
        return FileResult(name, "error", "", _("larger than a signed document can be"))
    try:
        token = data.decode("ascii")
    except UnicodeDecodeError:
        return FileResult(name, "error", "", _("not a signed .jws file (not text)"))
    ctx = WriteContext(
        principal=account.principal, now=utc_now(), vault=vault, clock_skew=settings.clock_skew
    )
    try:
        kind, stored = await submit_signed(token, ctx=ctx)
    except (InvalidInputError, ConflictError, NotFoundError, ForbiddenError) as e:
        detail = e.detail
        if e.errors:
            detail += " (" + "; ".join(f"{p.field}: {p.message}" for p in e.errors) + ")"
        return FileResult(name, "error", "", detail)
    words = {
        "issue": _("issued"),
        "revision": _("revision recorded"),
        "event": _("status change recorded"),
    }
    return FileResult(name, "ok", stored.number, words[kind])
