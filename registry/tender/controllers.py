"""Bulk verification: `POST /api/v1/verifications` and the `/verify` pages.

PRODUCT §4. The pages work without JavaScript; the one thing that needs it is
the in-browser check of a receipt's signature (`static/js/tender.js`).

Pages:

- ``GET /verify``: the form (paste, or upload a CSV; as of; minimum level);
- ``POST /verify``: the results table, the rows skipped and repeated, and links
  to the stored receipt;
- ``GET /verify/receipts/{id}``: the receipt-check page of a receipt the
  registry signed (the target of the QR printed on it);
- ``GET /verify/receipts/{id}/print``: the printable receipt, with that QR;
- ``GET /verify/receipts/{id}/results.csv``: the results for Excel;
- ``GET /verify/receipts/{id}/receipt.jws``: the receipt itself, for
  `starmark verify receipt.jws --jwks JWKS.json`;
- ``GET|POST /verify/receipt``: check any receipt (pasted, uploaded, in
  ``?jws=``, or, for the in-browser check only, in the URL fragment).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Template

from registry.bodies.services import HostedKeyVault
from registry.csv_input import decode_csv
from registry.dependencies import parse_min_level, utc_now
from registry.errors import (
    FieldError,
    InvalidInputError,
    problem_responses,
)
from registry.i18n import current_language
from registry.limits import form_text, read_form
from registry.marks.render import build_qr
from registry.metrics import count_verdicts
from registry.settings import Settings
from registry.tender import services
from registry.tender.deadline import parse_deadline
from registry.tender.messages import page_problem
from registry.tender.reasons import instant_text, reason_text
from registry.tender.schemas import VerificationAnswer, VerificationRequest
from registry.tender.services import MAX_ITEMS, ReceiptCheck, SignedReceipt
from registry.verification.services import VerificationService
from registry.words import star_level, status_words
from signing.documents import TenderRef
from signing.errors import InvalidPayloadError, MalformedError
from signing.fields import Problems
from signing.instants import CST, parse_instant
from signing.scheme import StarLevel

#: The CSV download's columns, in each page language (it goes into an evaluation
#: file in one language: PRODUCT §4).
CSV_HEADERS: Final = {
    "zh-CN": (
        "查询项",
        "类型",
        "证书编号",
        "持证组织",
        "统一社会信用代码",
        "星级",
        "截止时点状态",
        "当前状态",
        "满足最低星级",
        "有效期自",
        "有效期至",
        "认证机构",
        "说明",
        "核验时点",
        "核验时间",
        "回执",
    ),
    "en": (
        "Item",
        "Kind",
        "Certificate number",
        "Holder",
        "USCC",
        "Level",
        "Status at the deadline",
        "Status now",
        "Meets minimum level",
        "Valid from",
        "Valid until",
        "Body",
        "Reason",
        "As of",
        "Checked at",
        "Receipt",
    ),
}


# --- the API -----------------------------------------------------------------------------


class _Problems:
    """Every problem of a request, collected so that one answer names them all."""

    def __init__(self) -> None:
        self.details: list[str] = []
        self.errors: list[FieldError] = []

    def add(self, error: InvalidInputError) -> None:
        self.details.append(error.detail)
        self.errors.extend(error.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidInputError("; ".join(self.details), errors=self.errors)


def _instant_param(value: object, name: str, now: datetime, problems: _Problems) -> Any:
    """``as_of``: a deadline as people type it (`parse_deadline`), default now; whole seconds."""
    if value is not None and not isinstance(value, str):
        problems.add(
            InvalidInputError(
                f"{name} must be a string",
                errors=[FieldError(name, "a date or an instant, e.g. 2026-10-01 09:30 (a string)")],
            )
        )
        return None
    try:
        return parse_deadline(value, field=name, now=now)
    except InvalidInputError as e:
        problems.add(e)
        return None


def tender_param(name: object, number: object, problems: _Problems) -> TenderRef | None:
    """The tender's name and number (form fields ``tender_name``, ``tender_number``):
    trimmed, at most 200 characters each, under the text rules of signed payloads."""
    found = Problems()
    tender = TenderRef.read({"name": name, "number": number}, "tender", found, strict=False)
    try:
        found.raise_if_any()
    except InvalidPayloadError as e:
        problems.add(
            InvalidInputError(
                f"the tender's name or number cannot be signed: {e}",
                errors=[
                    FieldError(p.field.replace("tender.", "tender_"), p.message) for p in e.problems
                ],
            )
        )
        return None
    return tender


def _min_level_param(value: object, problems: _Problems) -> StarLevel | None:
    if value is not None and not isinstance(value, str):
        value = repr(value)
    try:
        return parse_min_level(value)
    except InvalidInputError as e:
        problems.add(e)
        return None


def receipt_url(settings: Settings, rid: str) -> str:
    """Where a receipt is checked: what its printed QR code holds."""
    return f"{settings.public_url}/verify/receipts/{rid}"


class VerificationController(Controller):
    path = "/api/v1/verifications"
    tags = ["verifications"]

    @post(
        "/",
        status_code=200,
        summary="Verify up to 500 certificate numbers or USCCs as of an instant; signed receipt",
        description=(
            'Takes `{"items": ["<number or USCC>", ...], "as_of"?, "min_level"?}` (1 to '
            f"{MAX_ITEMS} items; a USCC stands for every certificate of that holder; "
            "`as_of` is RFC 3339 or a date meaning 00:00 China Standard Time). Answers "
            '`{"as_of", "checked_at", "results": [{"item", "kind", "verdicts": [...], '
            '"meets_min_level"?}], "duplicates", "receipt", "receipt_id", "receipt_url"}`; '
            "`receipt` is a compact JWS (`typ: starmark-receipt+jws`) signed by the "
            "registry's key in /.well-known/jwks.json (docs/tender.md)."
        ),
        responses=problem_responses(400, 413, 422),
    )
    async def verify_many(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        data: JSONBody[VerificationRequest],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
    ) -> VerificationAnswer:
        # Types and member names were checked by the struct (unknown members are
        # refused, not ignored); the values are checked here, every problem at once.
        now = utc_now().replace(microsecond=0)
        problems = _Problems()
        as_of = _instant_param(data.as_of, "as_of", now, problems)
        min_level = _min_level_param(data.min_level, problems)
        tender = (
            None
            if data.tender is None
            else tender_param(data.tender.name, data.tender.number, problems)
        )
        items_request: services.ItemsRequest | None = None
        try:
            items_request = services.parse_items_request(data.items)
        except InvalidInputError as e:
            # The items' problems first: they are what most needs fixing.
            problems.details.insert(0, e.detail)
            problems.errors[:0] = e.errors
        problems.raise_if_any()
        assert items_request is not None
        results = await services.verify_items(
            items_request.items,
            read_path=read_path,
            at=as_of,
            now=now,
            min_level=min_level,
        )
        count_verdicts((v.status.value for r in results for v in r.verdicts), surface="bulk")
        receipt = await services.sign_receipt(
            services.request_record(
                items=[i.strip() for i in data.items],
                as_of=data.as_of,
                min_level=data.min_level,
            ),
            results,
            as_of=as_of,
            now=now,
            vault=vault,
            log_origin=settings.log_origin,
            tender=tender,
        )
        if data.keep:
            # Storing is the costly part: `keep` is limited much more tightly than
            # the check itself (the `keep` group, registry/ratelimit.py); over the
            # limit the answer is 429 and nothing is stored.
            await request.app.state.rate_limiter.hit(request.scope, "keep")
            await services.keep_receipt(receipt)
        signed = receipt.payload.to_json()
        return msgspec.convert(
            {
                "as_of": signed["as_of"],
                "checked_at": signed["checked_at"],
                "results": [r.to_json() for r in results],
                "duplicates": [
                    {"index": index, "item": item.value, "same_as": first}
                    for index, item, first in items_request.duplicates
                ],
                "receipt": receipt.jws,
                "receipt_id": receipt.id,
                "receipt_url": receipt_url(settings, receipt.id) if data.keep else None,
            },
            VerificationAnswer,
        )


# --- pages ---------------------------------------------------------------------------------


def _cst(text: object) -> str:
    """An RFC 3339 instant as people in China read it: `2026-10-01 00:00:00 (UTC+8)`."""
    if not isinstance(text, str):
        return ""
    try:
        return parse_instant(text).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")
    except MalformedError:
        return text


@dataclass(frozen=True, slots=True)
class QrSymbol:
    """A QR code as one SVG path of unit squares (the template draws it)."""

    size: int
    path: str


def receipt_qr(url: str) -> QrSymbol:
    """The QR code of ``url``: error correction M, quiet zone included, smallest version."""
    matrix = build_qr(url=url).get_matrix()
    size = len(matrix)
    runs: list[str] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return QrSymbol(size=size, path="".join(runs))


def _page_helpers() -> dict[str, Any]:
    return {
        "cst": _cst,
        "levels": list(StarLevel),
        "max_items": MAX_ITEMS,
        "reason_text": reason_text,
        "instant_text": instant_text,
        "page_problem": page_problem,
    }


def _receipt_context(
    payload: Mapping[str, Any], *, rid: str | None, settings: Settings
) -> dict[str, Any]:
    request = payload.get("request") if isinstance(payload.get("request"), dict) else {}
    assert isinstance(request, dict)
    results = payload.get("results") if isinstance(payload.get("results"), list) else []
    assert isinstance(results, list)
    verdicts = [v for r in results for v in r.get("verdicts") or []]
    return {
        **_page_helpers(),
        "receipt": payload,
        # Not "request": Litestar puts the HTTP request into every template's context.
        "asked": request,
        "results": results,
        "summary": {
            "checked": len(results),
            "certificates": sum(1 for v in verdicts if v.get("status") != "not_found"),
            "valid": sum(1 for v in verdicts if v.get("status") == "valid"),
            "meeting": sum(1 for r in results if r.get("meets_min_level") is True),
        },
        "skipped_rows": request.get("skipped") or [],
        "min_level": star_level(request.get("min_level")),
        "rid": rid,
        "check_url": None if rid is None else receipt_url(settings, rid),
        "tender": payload.get("tender") if isinstance(payload.get("tender"), dict) else None,
        "operator_name": settings.operator_name,
        "status_now_shown": any("status_now" in v for v in verdicts),
    }


def _form_context(
    *,
    items_text: str = "",
    as_of: str = "",
    min_level: str = "",
    tender_name: str = "",
    tender_number: str = "",
    problem: InvalidInputError | None = None,
) -> dict[str, Any]:
    return {
        **_page_helpers(),
        "items_text": items_text,
        "as_of": as_of,
        "tender_name": tender_name,
        "tender_number": tender_number,
        "min_level_value": min_level,
        "problem": problem,
    }


async def _form(request: Request[Any, Any, Any]) -> Mapping[str, Any]:
    return await read_form(
        request,
        too_large="the request is larger than 1 MiB: split the list, or upload a smaller file",
    )


async def _file_field(form: Mapping[str, Any], name: str) -> tuple[str, bytes] | None:
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read()
    return value.filename, data


class TenderPages(Controller):
    path = "/verify"
    include_in_schema = False

    @get("/", media_type=MediaType.HTML)
    async def form(self) -> Template:
        return Template("tender/verify.html", context=_form_context())

    @post("/", media_type=MediaType.HTML, status_code=200)
    async def check(
        self,
        request: Request[Any, Any, Any],
        read_path: NamedDependency[VerificationService],
        vault: NamedDependency[HostedKeyVault],
        settings: NamedDependency[Settings],
    ) -> Template:
        form = await _form(request)
        items_text = form_text(form, "items")
        as_of_text = form_text(form, "as_of").strip()
        min_level_text = form_text(form, "min_level").strip()
        tender_name = form_text(form, "tender_name")
        tender_number = form_text(form, "tender_number")
        upload = await _file_field(form, "file")
        # "Keep a shareable link": only then is the receipt stored (PRODUCT §4).
        keep_link = form_text(form, "keep") in ("on", "1", "yes", "true")
        keep = _form_context(
            items_text=items_text,
            as_of=as_of_text,
            min_level=min_level_text,
            tender_name=tender_name,
            tender_number=tender_number,
        )
        keep["keep_link"] = keep_link
        now = utc_now().replace(microsecond=0)
        try:
            problems = _Problems()
            as_of = _instant_param(as_of_text or None, "as_of", now, problems)
            min_level = _min_level_param(min_level_text or None, problems)
            tender = tender_param(tender_name, tender_number, problems)
            problems.raise_if_any()
            rows = services.read_rows(items_text, source="paste")
            if upload is not None:
                rows += services.read_rows(decode_csv(upload[1]), source="file")
            if not rows:
                raise InvalidInputError(
                    "paste certificate numbers or USCCs, one a line, or choose a CSV file",
                    errors=[FieldError("items", "nothing to check")],
                )
            parsed = services.parse_rows(rows)
        except InvalidInputError as e:
            return Template("tender/verify.html", context={**keep, "problem": e}, status_code=422)
        results = await services.verify_items(
            parsed.items, read_path=read_path, at=as_of, now=now, min_level=min_level
        )
        count_verdicts((v.status.value for r in results for v in r.verdicts), surface="bulk")
        extra: dict[str, Any] = {}
        if upload is not None:
            extra["file"] = upload[0][:200]
        if parsed.skipped:
            extra["skipped"] = [
                {"source": s.row.source, "line": s.row.line, "text": s.row.text, "reason": s.reason}
                for s in parsed.skipped
            ]
        try:
            signed: SignedReceipt = await services.sign_receipt(
                services.request_record(
                    items=[row.text for row in parsed.accepted],
                    as_of=as_of_text or None,
                    min_level=min_level_text or None,
                    extra=extra,
                ),
                results,
                as_of=as_of,
                now=now,
                vault=vault,
                log_origin=settings.log_origin,
                tender=tender,
            )
        except InvalidInputError as e:  # a receipt too large for one JWS: split the list
            return Template("tender/verify.html", context={**keep, "problem": e}, status_code=422)
        if keep_link:
            # Storing a receipt is limited much more tightly (the `keep` group).
            await request.app.state.rate_limiter.hit(request.scope, "keep")
            await services.keep_receipt(signed)
        context = {
            **keep,
            **_receipt_context(
                signed.payload.to_json(), rid=signed.id if keep_link else None, settings=settings
            ),
            # Not kept: the page's downloads post the JWS back (`/verify/receipt/...`).
            "jws": signed.jws,
            "parsed": parsed,
        }
        return Template("tender/results.html", context=context)

    @get("/receipts/{rid:str}", media_type=MediaType.HTML)
    async def stored_receipt(
        self, rid: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        token = await services.load_receipt(rid)
        checked = await services.check_receipt(token, now=utc_now())
        return Template(
            "tender/receipt.html",
            context=_check_context(checked, rid=rid, token=None, settings=settings),
        )

    @get("/receipts/{rid:str}/print", media_type=MediaType.HTML)
    async def printable_receipt(
        self, rid: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        token = await services.load_receipt(rid)
        checked = await services.check_receipt(token, now=utc_now())
        context = _check_context(checked, rid=rid, token=None, settings=settings)
        context["qr"] = receipt_qr(receipt_url(settings, rid))
        return Template("tender/print.html", context=context)

    @get("/receipts/{rid:str}/receipt.jws", media_type="application/jose")
    async def receipt_file(self, rid: FromPath[str]) -> Response[bytes]:
        token = await services.load_receipt(rid)
        return Response(
            content=token.encode("ascii"),
            media_type="application/jose",
            headers={
                "Content-Disposition": f'attachment; filename="starmark-receipt-{rid[:12]}.jws"'
            },
        )

    @get("/receipts/{rid:str}/results.csv", media_type="text/csv")
    async def results_csv(self, rid: FromPath[str]) -> Response[bytes]:
        token = await services.load_receipt(rid)
        checked = await services.check_receipt(token, now=utc_now())
        if checked.payload is None:
            # A stored receipt that no longer verifies (its key was marked
            # compromised): its content is not repeated as if it still counted.
            raise InvalidInputError(f"receipt {rid} no longer verifies: {checked.verdict.reason}")
        return Response(
            content=results_csv_bytes(checked.payload.to_json(), rid=rid),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="starmark-results-{rid[:12]}.csv"'
            },
        )

    # --- a receipt that was returned, not kept: the results page posts its JWS back.
    # Each view checks the receipt (signature, registry key) before showing a word of it.

    async def _posted_receipt(self, request: Request[Any, Any, Any]) -> tuple[str, Any]:
        token = form_text(await _form(request), "jws").strip()
        if not token:
            raise InvalidInputError(
                "send the signed receipt (the jws field of the results page)",
                errors=[FieldError("jws", "the receipt's compact JWS")],
            )
        checked = await services.check_receipt(token, now=utc_now())
        if checked.payload is None:
            raise InvalidInputError(
                f"this receipt does not verify: {checked.verdict.reason}",
                errors=[FieldError("jws", "a receipt signed by this registry")],
            )
        return token, checked

    @post("/receipt/print", media_type=MediaType.HTML, status_code=200)
    async def printable_posted_receipt(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Template:
        token, checked = await self._posted_receipt(request)
        context = _check_context(checked, rid=None, token=token, settings=settings)
        context["qr"] = None  # not kept: no shareable URL to print
        context["rid"] = services.receipt_id(token)
        return Template("tender/print.html", context=context)

    @post("/receipt/results.csv", media_type="text/csv", status_code=200)
    async def posted_results_csv(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        token, checked = await self._posted_receipt(request)
        rid = services.receipt_id(token)
        return Response(
            content=results_csv_bytes(checked.payload.to_json(), rid=rid),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="starmark-results-{rid[:12]}.csv"'
            },
        )

    @post("/receipt/receipt.jws", media_type="application/jose", status_code=200)
    async def posted_receipt_file(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        token, _ = await self._posted_receipt(request)
        return Response(
            content=token.encode("ascii"),
            media_type="application/jose",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="starmark-receipt-{services.receipt_id(token)[:12]}.jws"'
                )
            },
        )

    @get("/receipt", media_type=MediaType.HTML)
    async def receipt_check_form(
        self, settings: NamedDependency[Settings], jws: FromQuery[str | None] = None
    ) -> Template:
        if not jws:
            return Template("tender/receipt.html", context=_check_context(None, settings=settings))
        checked = await services.check_receipt(jws, now=utc_now())
        return Template(
            "tender/receipt.html",
            context=_check_context(checked, rid=None, token=jws.strip(), settings=settings),
        )

    @post("/receipt", media_type=MediaType.HTML, status_code=200)
    async def receipt_check(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Template:
        form = await _form(request)
        token = form_text(form, "jws").strip()
        upload = await _file_field(form, "file")
        if upload is not None:
            try:
                token = upload[1].decode("ascii").strip()
            except UnicodeDecodeError:
                token = ""
                problem = InvalidInputError(
                    "the file is not a receipt: a receipt file (.jws) is ASCII text",
                    errors=[FieldError("file", "not a .jws file")],
                )
                return Template(
                    "tender/receipt.html",
                    context=_check_context(None, settings=settings, problem=problem),
                    status_code=422,
                )
        if not token:
            problem = InvalidInputError(
                "paste a receipt (the text of a .jws file) or choose the file",
                errors=[FieldError("jws", "nothing to check")],
            )
            return Template(
                "tender/receipt.html",
                context=_check_context(None, settings=settings, problem=problem),
                status_code=422,
            )
        checked = await services.check_receipt(token, now=utc_now())
        return Template(
            "tender/receipt.html",
            context=_check_context(checked, rid=None, token=token, settings=settings),
        )


def _check_context(
    checked: ReceiptCheck | None,
    *,
    settings: Settings,
    rid: str | None = None,
    token: str | None = None,
    problem: InvalidInputError | None = None,
) -> dict[str, Any]:
    payload = {} if checked is None or checked.payload is None else checked.payload.to_json()
    context = _receipt_context(payload, rid=rid, settings=settings)
    context.update(
        {
            "checked": checked,
            "verdict": None if checked is None else checked.verdict,
            "token": token,
            "problem": problem,
            "now": datetime.now(UTC),
        }
    )
    return context


# --- the CSV download -----------------------------------------------------------------------

#: Excel runs a cell that starts with one of these as a formula (CSV injection);
#: a leading apostrophe makes it text. Every cell is passed through `_text_cell`
#: (`_write_row`): an item or a number is echoed from what was asked, and what
#: cannot start so today (a USCC, a date) costs nothing to check.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _write_row(writer: Any, cells: Sequence[object]) -> None:
    writer.writerow([_text_cell(cell) for cell in cells])


def _status_cell(value: object) -> str:
    return status_words(value).word(current_language())


def _level_cell(value: object) -> str:
    level = star_level(value)
    if level is None:
        return ""
    return level.en if current_language() == "en" else level.zh


def _meets_cell(value: object) -> str:
    if value is None:
        return ""
    english = current_language() == "en"
    if value:
        return "yes" if english else "是"
    return "no" if english else "否"


def results_csv_bytes(payload: Mapping[str, Any], *, rid: str) -> bytes:
    """The results of a receipt as CSV for Excel: UTF-8 with a BOM (so Excel
    reads it as UTF-8), CRLF line ends, one row per verdict, then one per
    skipped row with its line number; in the page's language (``?lang=en``),
    reasons included (`registry.tender.reasons`).
    """
    english = current_language() == "en"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS["en" if english else "zh-CN"])
    as_of, checked_at = _cst(payload.get("as_of")), _cst(payload.get("checked_at"))
    results = payload.get("results")
    for result in results if isinstance(results, list) else []:
        if result.get("kind") == "uscc":
            kind = "USCC" if english else "统一社会信用代码"
        else:
            kind = "certificate number" if english else "证书编号"
        for verdict in result.get("verdicts") or []:
            holder = verdict.get("holder") or {}
            signature = verdict.get("signature") or {}
            _write_row(
                writer,
                (
                    result.get("item", ""),
                    kind,
                    verdict.get("number") or "",
                    _text_cell(holder.get("name")),
                    holder.get("uscc", ""),
                    _level_cell(verdict.get("level")),
                    _status_cell(verdict.get("status")),
                    _status_cell(verdict.get("status_now", verdict.get("status"))),
                    _meets_cell(verdict.get("meets_min_level")),
                    verdict.get("valid_from", ""),
                    verdict.get("valid_until", ""),
                    _text_cell(signature.get("issuer")),
                    _text_cell(reason_text(verdict)),
                    as_of,
                    checked_at,
                    rid,
                ),
            )
    request = payload.get("request")
    skipped = request.get("skipped") if isinstance(request, dict) else None
    for row in skipped if isinstance(skipped, list) else []:
        if english:
            source = "pasted" if row.get("source") == "paste" else "file"
            where = f"{source} line {row.get('line')}: neither a certificate number nor a USCC"
        else:
            source = "粘贴" if row.get("source") == "paste" else "文件"
            where = f"{source}第 {row.get('line')} 行：既不是证书编号，也不是统一社会信用代码"
        _write_row(
            writer,
            (
                _text_cell(row.get("text")),
                "skipped" if english else "已跳过",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                _text_cell(where),
                as_of,
                checked_at,
                rid,
            ),
        )
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
