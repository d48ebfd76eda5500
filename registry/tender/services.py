"""Tender checks: many certificates at once, as of an instant, with a signed receipt.

PRODUCT §2 (tender evaluator) and §4 (`POST /api/v1/verifications`, the
`/verify` page). An item is a certificate number or a USCC; a USCC stands for
every certificate of that holder. The verdicts come from
`signing.verdict.certificate_verdict`, the code the `/v/` page and `starmark
verify` run, over documents loaded in a handful of queries whatever the number
of items (one for the numbers, one for the USCCs, one each for revisions and
events, one for the keys).

The receipt is a compact JWS (`typ: starmark-receipt+jws`) signed with the
registry's own key over the request, the results, ``as_of`` and
``checked_at`` (`signing.documents.ReceiptPayload`). Its results are the
verdicts without the certificate payloads they were computed from (each names
the holder, the dates, the level and the reason instead), so that a receipt
for 500 items stays a few hundred KiB; the payloads are public at
`/api/v1/certificates/{number}` anyway. docs/tender.md describes the format.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from registry.bodies.services import HostedKeyVault, load_keyset, registry_signer_for
from registry.csv_input import INVISIBLE, read_csv
from registry.errors import FieldError, InvalidInputError, NotFoundError
from registry.log.services import latest_checkpoint
from registry.tender.tables import VerificationReceipt
from registry.verification.services import VerificationService
from signing.documents import ReceiptPayload, TenderRef
from signing.errors import MalformedError
from signing.identifiers import (
    Uscc,
    looks_like_uscc,
    normalise_text,
    parse_certificate_number,
)
from signing.jwks import KeySet
from signing.jws import MAX_TOKEN_LENGTH, RECEIPT_TYP, CompactJWS, open_signed, sign_compact
from signing.scheme import StarLevel
from signing.verdict import (
    Verdict,
    VerdictStatus,
    document_verdict,
    failed_verdict,
    not_found_verdict,
)

__all__ = [
    "MAX_ITEMS",
    "MAX_RECEIPT_LENGTH",
    "MAX_SKIPPED_ROWS",
    "DuplicateRow",
    "InputRow",
    "Item",
    "ItemKind",
    "ItemResult",
    "ItemsRequest",
    "ParsedInput",
    "ReceiptCheck",
    "SignedReceipt",
    "SkippedRow",
    "check_receipt",
    "check_receipt_with",
    "classify_item",
    "keep_receipt",
    "load_receipt",
    "parse_items_request",
    "parse_rows",
    "read_rows",
    "receipt_id",
    "receipt_verdict",
    "request_record",
    "sign_receipt",
    "uscc_problem",
    "verify_items",
]

#: PRODUCT §4: at most 500 items per request (duplicates included).
MAX_ITEMS: Final = 500
#: A page upload with more rows than this that are neither a number nor a USCC
#: is not a list of bidders: it is refused as a whole rather than reported row by row.
MAX_SKIPPED_ROWS: Final = 100
#: How much of a skipped row is repeated back (and kept in the receipt).
SHOWN_TEXT: Final = 80
#: The longest receipt signed: under `MAX_TOKEN_LENGTH` with room for the form
#: that uploads it to the receipt-check page under the 1 MiB request limit.
#: 500 items of one certificate each take about 300 KiB; only USCCs with very
#: many certificates come near.
MAX_RECEIPT_LENGTH: Final = min(MAX_TOKEN_LENGTH, 1024 * 1024) - 64 * 1024


class ItemKind(StrEnum):
    """What an item names: one certificate, or every certificate of one holder."""

    NUMBER = "number"
    USCC = "uscc"


@dataclass(frozen=True, slots=True)
class Item:
    """A classified item: the canonical number or USCC, and which of the two it is."""

    value: str
    kind: ItemKind


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def classify_item(text: str) -> Item:
    """A certificate number or a USCC, read as a person typed it.

    A valid USCC (GB 32100-2015, check character included) is a USCC; anything
    else of 6 to 40 of ``A-Z 0-9 -`` is a certificate number. The two overlap:
    a body may number its certificates with 18 digits, so `verify_items`
    answers a registered certificate number as that certificate even when it
    reads as a USCC, and says what is wrong with a mistyped USCC when no
    certificate has that number (`uscc_problem`).

    Raises:
        MalformedError: neither, with a sentence saying why.
    """
    value = normalise_text(text).strip(INVISIBLE)
    if not value:
        raise MalformedError("empty: give a certificate number or a USCC")
    if looks_like_uscc(value):
        try:
            return Item(Uscc.parse(value).code, ItemKind.USCC)
        except MalformedError:
            pass  # a number, or a mistyped USCC: decided when looked up
    try:
        return Item(parse_certificate_number(value), ItemKind.NUMBER)
    except MalformedError as e:
        raise MalformedError(
            f"{_shown(value)!r} is neither a certificate number (6 to 40 of A-Z, 0-9 and '-') "
            "nor a USCC (18 characters)"
        ) from e


def uscc_problem(value: str) -> str | None:
    """What is wrong with ``value`` read as a USCC, if it has a USCC's length; else None."""
    if len(value) != 18 or not value.isalnum():
        return None
    try:
        Uscc.parse(value)
    except MalformedError as e:
        return str(e)
    return None


# --- what the API is sent ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemsRequest:
    """A checked request: the distinct items, and where the repeated ones were."""

    items: tuple[Item, ...]
    #: (index, item, index of its first occurrence) of each repeated item.
    duplicates: tuple[tuple[int, Item, int], ...]


def parse_items_request(items: object) -> ItemsRequest:
    """`items` of `POST /api/v1/verifications`: 1 to 500 strings, each a number or a USCC.

    Every bad item is named (``items[3]``); repeated items are answered once.

    Raises:
        InvalidInputError: not a list, empty, over the limit, or bad items.
    """
    if not isinstance(items, list):
        raise InvalidInputError(
            "items must be a list of certificate numbers and USCCs",
            errors=[FieldError("items", "a JSON array of strings")],
        )
    if not items:
        raise InvalidInputError(
            "items is empty: name at least one certificate number or USCC",
            errors=[FieldError("items", f"1 to {MAX_ITEMS} items")],
        )
    if len(items) > MAX_ITEMS:
        raise InvalidInputError(
            f"{len(items)} items is more than the limit of {MAX_ITEMS} per request; split the list",
            errors=[FieldError("items", f"at most {MAX_ITEMS} items, got {len(items)}")],
        )
    problems: list[FieldError] = []
    distinct: list[Item] = []
    first_index: dict[Item, int] = {}
    duplicates: list[tuple[int, Item, int]] = []
    for index, text in enumerate(items):
        if not isinstance(text, str):
            problems.append(FieldError(f"items[{index}]", "must be a string"))
            continue
        try:
            item = classify_item(text)
        except MalformedError as e:
            problems.append(FieldError(f"items[{index}]", str(e)))
            continue
        if item in first_index:
            duplicates.append((index, item, first_index[item]))
        else:
            first_index[item] = index
            distinct.append(item)
    if problems:
        raise InvalidInputError(
            f"{len(problems)} item(s) are neither a certificate number nor a valid USCC",
            errors=problems,
        )
    return ItemsRequest(items=tuple(distinct), duplicates=tuple(duplicates))


# --- what the /verify page is given: a paste or a CSV file ------------------------------


@dataclass(frozen=True, slots=True)
class InputRow:
    """The first non-empty cell of one row of a paste or a file, and where it was."""

    source: str
    line: int
    text: str
    #: Non-empty cells after the one read: not checked (PRODUCT §4: the first cell is read).
    other_cells: int = 0


@dataclass(frozen=True, slots=True)
class SkippedRow:
    row: InputRow
    reason: str


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    row: InputRow
    item: Item
    first: InputRow


@dataclass(frozen=True, slots=True)
class ParsedInput:
    """What a paste or an upload named, with nothing left out.

    ``items`` are distinct, in the order first seen (``first_rows`` says
    where); ``accepted`` is every row that named an item, duplicates included
    (what the request counts against `MAX_ITEMS`).
    """

    items: tuple[Item, ...]
    first_rows: tuple[InputRow, ...]
    accepted: tuple[InputRow, ...]
    skipped: tuple[SkippedRow, ...]
    duplicates: tuple[DuplicateRow, ...]

    @property
    def rows_with_other_cells(self) -> int:
        """How many item rows had more cells, which were not read (said on the page)."""
        return sum(1 for row in self.accepted if row.other_cells)


def read_rows(text: str, *, source: str) -> list[InputRow]:
    """The first non-empty cell of each row, with its line number (from 1).

    Empty rows name nothing and are passed over; every other row is returned,
    whatever its cell says (`parse_rows` decides). An upload is decoded first
    by `registry.csv_input.decode_csv`.

    Raises:
        InvalidInputError: (field ``source``) the text is not CSV (e.g. a field
            longer than the csv module allows).
    """
    rows: list[InputRow] = []
    for row in read_csv(text, field=source):
        values = [cell for cell in row.cells if cell]
        rows.append(
            InputRow(source=source, line=row.line, text=values[0], other_cells=len(values) - 1)
        )
    return rows


def parse_rows(rows: Iterable[InputRow]) -> ParsedInput:
    """Classify rows: items (distinct), rows skipped with why, duplicates with their first.

    Raises:
        InvalidInputError: no item at all, more than `MAX_ITEMS` item rows, or
            more than `MAX_SKIPPED_ROWS` rows that name nothing we know.
    """
    items: list[Item] = []
    first_rows: list[InputRow] = []
    accepted: list[InputRow] = []
    skipped: list[SkippedRow] = []
    duplicates: list[DuplicateRow] = []
    seen: dict[Item, InputRow] = {}
    for row in rows:
        try:
            item = classify_item(row.text)
        except MalformedError as e:
            skipped.append(SkippedRow(replace(row, text=_shown(row.text)), str(e)))
            continue
        accepted.append(row)
        first = seen.get(item)
        if first is not None:
            duplicates.append(DuplicateRow(row=row, item=item, first=first))
            continue
        seen[item] = row
        items.append(item)
        first_rows.append(row)
    if len(accepted) > MAX_ITEMS:
        raise InvalidInputError(
            f"{len(accepted)} rows name a certificate number or a USCC, more than the limit "
            f"of {MAX_ITEMS} per check; split the list",
            errors=[FieldError("items", f"at most {MAX_ITEMS} items, got {len(accepted)}")],
        )
    if len(skipped) > MAX_SKIPPED_ROWS:
        lines = ", ".join(str(s.row.line) for s in skipped[:5])
        raise InvalidInputError(
            f"{len(skipped)} rows are neither a certificate number nor a USCC (lines {lines}, "
            "...): put the numbers or USCCs in the first column",
            errors=[FieldError("items", f"more than {MAX_SKIPPED_ROWS} unreadable rows")],
        )
    if not items:
        detail = "no certificate number or USCC was found"
        if skipped:
            detail += "; " + "; ".join(f"line {s.row.line}: {s.reason}" for s in skipped[:5])
        raise InvalidInputError(
            detail,
            errors=[FieldError("items", "paste numbers or USCCs, one a line, or upload a CSV")]
            + [FieldError(f"{s.row.source} line {s.row.line}", s.reason) for s in skipped],
        )
    return ParsedInput(
        items=tuple(items),
        first_rows=tuple(first_rows),
        accepted=tuple(accepted),
        skipped=tuple(skipped),
        duplicates=tuple(duplicates),
    )


# --- verdicts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The verdicts for one item: one for a number, one per certificate for a USCC."""

    item: Item
    verdicts: tuple[Verdict, ...]
    min_level: StarLevel | None = None
    #: The status of each verdict's certificate at ``checked_at`` (same order as
    #: ``verdicts``): a bidder revoked after the deadline reads valid at the
    #: deadline and revoked now. Empty when the check was as of now.
    statuses_now: tuple[VerdictStatus, ...] = ()

    @property
    def meets_min_level(self) -> bool | None:
        """Whether any of the item's certificates meets the minimum level (None: none asked)."""
        if self.min_level is None:
            return None
        return any(v.meets_min_level for v in self.verdicts)

    def _envelope(self, verdicts: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item": self.item.value,
            "kind": self.item.kind.value,
            "verdicts": verdicts,
        }
        if self.min_level is not None:
            out["meets_min_level"] = self.meets_min_level
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"item", "kind", "verdicts": [<verdict JSON>...], "meets_min_level"?}``."""
        return self._envelope([v.to_json() for v in self.verdicts])

    def to_receipt_json(self) -> dict[str, Any]:
        """The same, each verdict in its receipt form (`receipt_verdict`), with
        ``status_now`` (the status at ``checked_at``) when it was asked as of another instant.
        """
        out = [receipt_verdict(v) for v in self.verdicts]
        for verdict, status_now in zip(out, self.statuses_now, strict=False):
            verdict["status_now"] = status_now.value
        return self._envelope(out)


def receipt_verdict(verdict: Verdict) -> dict[str, Any]:
    """A verdict as a receipt records it: the verdict JSON without ``certificate``,
    ``as_of`` and ``checked_at`` (the receipt's own), with the holder and the
    dates of the certificate it was about.
    """
    out: dict[str, Any] = {
        "number": verdict.number,
        "status": verdict.status.value,
        "signature": {
            "valid": verdict.signature_valid,
            "kid": verdict.kid,
            "issuer": verdict.issuer,
        },
        "revision": verdict.revision,
        "level": None if verdict.level is None else verdict.level.value,
        "warnings": list(verdict.warnings),
        "reason": verdict.reason,
        "reason_code": verdict.reason_code,
        "reason_params": dict(verdict.reason_params),
    }
    certificate = verdict.certificate
    if certificate is not None:
        out["holder"] = {"name": certificate.holder.name, "uscc": certificate.holder.uscc}
        out["valid_from"] = certificate.valid_from.isoformat()
        out["valid_until"] = certificate.valid_until.isoformat()
    if verdict.meets_min_level is not None:
        out["meets_min_level"] = verdict.meets_min_level
    return out


def _no_certificate_for(
    uscc: str, *, at: datetime, now: datetime, min_level: StarLevel | None
) -> Verdict:
    return failed_verdict(
        VerdictStatus.NOT_FOUND,
        f"no certificate is registered for the USCC {uscc}",
        number=None,
        at=at,
        now=now,
        min_level=min_level,
        code="not_found_uscc",
        params={"uscc": uscc},
    )


async def verify_items(
    items: Sequence[Item],
    *,
    read_path: VerificationService,
    at: datetime,
    now: datetime,
    min_level: StarLevel | None,
) -> list[ItemResult]:
    """The verdicts on every item at ``at``, in the order of ``items``.

    Every certificate the items name comes through the one read path, in one
    query whatever their number: signatures checked, status folded at ``at``,
    copies compared with the signed payloads. A USCC stands for the
    certificates whose *signed* holder has that USCC: the USCC column only
    finds candidates, so a certificate filed under a USCC that its signed
    documents do not name is no answer for it (and is `signature_invalid`
    when asked for by number). A number nobody issued gets the ``not_found``
    verdict; so does a USCC without certificates. A USCC's certificates are
    listed by number.

    When ``at`` is not ``now``, the same certificates are judged at ``now`` too
    (a second read), and each result carries the status now.
    """
    # Every item may be a certificate number, a USCC-shaped one included (classify_item).
    readings = await read_path.readings(
        numbers={i.value for i in items},
        usccs={i.value for i in items if i.kind is ItemKind.USCC},
        at=at,
        now=now,
        min_level=min_level,
    )
    by_number = {r.number: r.verdict for r in readings}
    now_by_number: dict[str | None, VerdictStatus] = {}
    if at != now:
        later = await read_path.readings(
            numbers={i.value for i in items},
            usccs={i.value for i in items if i.kind is ItemKind.USCC},
            at=now,
            now=now,
        )
        now_by_number = {r.number: r.verdict.status for r in later}
    by_uscc: dict[str, list[Verdict]] = {}
    for reading in readings:
        # The signed USCC when the documents verify; when they do not, the copy
        # found it and the answer is a failed verdict, never a green one.
        uscc = reading.signed_uscc
        if uscc is None and reading.snapshot is not None:
            uscc = str(reading.snapshot.row["uscc"])
        if uscc is not None:
            by_uscc.setdefault(uscc, []).append(reading.verdict)
    results = []
    for item in items:
        verdicts: list[Verdict]
        found = by_number.get(item.value)
        if found is not None:
            # A registered number is that certificate, even when it also reads as a USCC.
            item = Item(item.value, ItemKind.NUMBER)
            verdicts = [found]
        elif item.kind is ItemKind.NUMBER:
            missing = not_found_verdict(item.value, at=at, now=now, min_level=min_level)
            problem = uscc_problem(item.value)
            if problem is not None:
                missing = replace(
                    missing,
                    reason=f"{missing.reason}; read as a USCC, it is wrong: {problem}",
                    reason_params={**missing.reason_params, "uscc_problem": problem},
                )
            verdicts = [missing]
        else:
            verdicts = by_uscc.get(item.value) or [
                _no_certificate_for(item.value, at=at, now=now, min_level=min_level)
            ]
        statuses_now: tuple[VerdictStatus, ...] = ()
        if at != now:
            # A number nobody holds is as unknown now as at the deadline.
            statuses_now = tuple(now_by_number.get(v.number, v.status) for v in verdicts)
        results.append(
            ItemResult(
                item=item, verdicts=tuple(verdicts), min_level=min_level, statuses_now=statuses_now
            )
        )
    return results


# --- receipts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    """A receipt as signed and stored: its id (hash), the JWS, and what it says."""

    id: str
    jws: str
    payload: ReceiptPayload


def receipt_id(token: str) -> str:
    """base64url (no padding) of SHA-256 over the compact JWS text: 43 characters."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


async def sign_receipt(
    request: Mapping[str, Any],
    results: Sequence[ItemResult],
    *,
    as_of: datetime,
    now: datetime,
    vault: HostedKeyVault,
    log_origin: str,
    tender: TenderRef | None = None,
) -> SignedReceipt:
    """Sign a receipt for ``results`` with the registry's key; it is not stored.

    PRODUCT §4: receipts asked for anonymously are returned, not kept; a
    caller who asks to keep one passes the result to `keep_receipt`.
    ``now`` is both ``checked_at`` (when the verdicts were reached) and
    ``signed_at``; instants are whole seconds (`signing.instants`). The
    receipt names the transparency-log checkpoint of the registry as the
    verdicts were read (``log``: origin, size, root; PRODUCT §3), so a holder
    can later prove what the registry held then. ``tender``, when given, is
    signed with it: the tender's name and number, as the evaluator gave them.

    Raises:
        InvalidInputError: the receipt would be longer than a JWS may be
            (`MAX_RECEIPT_LENGTH`), which takes USCCs with very many
            certificates.
    """
    signer = registry_signer_for(vault, now)
    key = await signer()
    checkpoint = await latest_checkpoint(origin=log_origin, signer=signer, now=now)
    payload = ReceiptPayload(
        request=dict(request),
        results=[r.to_receipt_json() for r in results],
        as_of=as_of,
        checked_at=now,
        signed_at=now,
        log=checkpoint.summary(log_origin),
        tender=tender,
    )
    token = sign_compact(payload.to_json(), key=key, typ=RECEIPT_TYP)
    if len(token) > MAX_RECEIPT_LENGTH:
        count = sum(len(r.verdicts) for r in results)
        raise InvalidInputError(
            f"the receipt for these {len(results)} items ({count} certificates) would be "
            f"{len(token)} characters, over the limit of {MAX_RECEIPT_LENGTH}; split the list",
            errors=[FieldError("items", "too many certificates for one receipt")],
        )
    return SignedReceipt(id=receipt_id(token), jws=token, payload=payload)


async def keep_receipt(receipt: SignedReceipt) -> None:
    """Store a receipt under its id, so that `/verify/receipts/{id}` shows it to anyone."""
    items = receipt.payload.request.get("items")
    # The same request in the same second signs the same bytes, so the same id:
    # keeping it once is keeping it.
    await VerificationReceipt.insert(
        VerificationReceipt(
            id=receipt.id,
            jws=receipt.jws,
            as_of=receipt.payload.as_of,
            checked_at=receipt.payload.checked_at,
            item_count=len(items) if isinstance(items, list) else len(receipt.payload.results),
        )
    ).on_conflict(target=VerificationReceipt.id, action="DO NOTHING")


def _receipt_id_shape(rid: str) -> bool:
    return len(rid) == 43 and all(c.isascii() and (c.isalnum() or c in "-_") for c in rid)


async def load_receipt(rid: str) -> str:
    """The JWS of a receipt the registry signed, by its id.

    Raises:
        NotFoundError: no such receipt.
    """
    if not _receipt_id_shape(rid):
        raise NotFoundError(
            "a receipt id is 43 characters of A-Z, a-z, 0-9, '-' and '_' (the receipt's SHA-256)"
        )
    row = (
        await VerificationReceipt.select(VerificationReceipt.jws)
        .where(VerificationReceipt.id == rid)
        .first()
    )
    if row is None:
        raise NotFoundError(f"the registry has no receipt {rid}")
    return str(row["jws"])


def request_record(
    *,
    items: Sequence[str],
    as_of: str | None,
    min_level: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``request`` member of a receipt: what was asked, as it was given."""
    out: dict[str, Any] = {"items": list(items)}
    if as_of:
        out["as_of"] = as_of
    if min_level:
        out["min_level"] = min_level
    if extra:
        out.update(extra)
    return out


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """What the registry says about a receipt someone holds.

    ``verdict`` is `signing.verdict.document_verdict`'s (``valid``,
    ``signature_invalid`` or ``malformed``), the same answer `starmark verify
    receipt.jws --jwks` gives offline; ``payload`` is the receipt's content,
    present only when the verdict is valid (nothing unsigned is shown as if
    the registry had said it).
    """

    verdict: Verdict
    payload: ReceiptPayload | None


def check_receipt_with(token: str, *, keys: KeySet, now: datetime) -> ReceiptCheck:
    """Check a receipt against ``keys``: a valid receipt JWS, signed by the registry."""
    token = token.strip()
    try:
        typ = CompactJWS.parse(token).typ
    except MalformedError:
        typ = None
    if typ is not None and typ != RECEIPT_TYP:
        # document_verdict would judge a certificate as a certificate: this page is
        # asked about receipts only.
        verdict = document_verdict(token, keys=keys, at=now, now=now)
        return ReceiptCheck(
            verdict=replace(
                verdict,
                status=VerdictStatus.MALFORMED,
                reason_code="not_a_receipt",
                reason_params={"typ": typ},
                reason=f"this is not a verification receipt (typ {typ!r}, expected "
                f"{RECEIPT_TYP!r}); check certificates at /v/{{number}}",
                certificate=None,
                level=None,
            ),
            payload=None,
        )
    verdict = document_verdict(token, keys=keys, at=now, now=now)
    if not verdict.is_valid:
        return ReceiptCheck(verdict=verdict, payload=None)
    document = open_signed(token, keys=keys, typ=RECEIPT_TYP)
    return ReceiptCheck(verdict=verdict, payload=ReceiptPayload.from_json(document.payload))


async def check_receipt(token: str, *, now: datetime) -> ReceiptCheck:
    """`check_receipt_with` the registry's current key set (`/.well-known/jwks.json`)."""
    return check_receipt_with(token, keys=await load_keyset(), now=now)
