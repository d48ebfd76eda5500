"""The change feeds: `GET /api/v1/events` and `GET /feed.atom` (PRODUCT §4, issue 10).

Both read the transparency log (`log_entry`), in log order: certificate
revisions, status events and key statements (a body key registered, retired
or marked compromised). Key statements are included (typ
``starmark-key+jws``, ``number`` null) so that a follower of a body's feed
sees its keys change too; a ``number`` filter leaves them out.

One truth (PRODUCT §3): every member about a document (number, status,
revision, effective_at, the holder in the Atom titles) is read from its JWS
once the signature is verified with the registry's keys, judged at the
document's ``signed_at`` and at the log's ``recorded_at`` (a compromised key's
later documents do not count). The index columns ``number`` and ``body`` only
find candidates; an entry whose signature does not hold, or whose payload
disagrees with the columns that found it, is given with ``"verified": false``
and no document members (its JWS is still there: it is the evidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from registry.errors import FieldError, InvalidInputError
from registry.words import event_words
from signing.documents import CertificatePayload, KeyStatementPayload, StatusEventPayload
from signing.errors import MalformedError, SigningError
from signing.identifiers import parse_certificate_number
from signing.instants import format_instant
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, KEY_TYP, STATUS_TYP, open_signed
from signing.verdict import FUTURE_SIGNED_AT_TOLERANCE, compromise_marks

__all__ = [
    "ATOM_ENTRIES",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "FeedItem",
    "FeedQuery",
    "atom_feed",
    "events_page",
    "holder_names",
    "latest_items",
    "parse_feed_query",
    "verify_entry",
]

#: PRODUCT §4: lists take `limit` from 1 to 100 (default 20).
DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
#: `/feed.atom` gives the latest 50 changes.
ATOM_ENTRIES: Final = 50
#: The key statements' owner in the key set (`registry.bodies.services.REGISTRY_OWNER`).
_REGISTRY: Final = "registry"

ATOM_NS: Final = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """`?after=&limit=&body=&number=`, checked."""

    after: int | None = None
    limit: int = DEFAULT_LIMIT
    body: str | None = None
    number: str | None = None


def _whole(value: str, name: str, *, low: int, high: int | None = None) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 18 or int(text) < low or (high and int(text) > high):
        upto = f" to {high}" if high else ""
        raise InvalidInputError(
            f"{name} must be a whole number from {low}{upto}, got {value[:40]!r}",
            errors=[FieldError(name, f"a whole number from {low}{upto}")],
        )
    return int(text)


def parse_feed_query(
    *,
    after: str | None = None,
    limit: str | None = None,
    body: str | None = None,
    number: str | None = None,
) -> FeedQuery:
    """The feed's query parameters as a user typed them.

    Raises:
        InvalidInputError: a cursor that is no log index, a limit outside 1..100,
            a body code or certificate number that cannot be one.
    """
    body_code = body.strip().upper() if body and body.strip() else None
    if body_code is not None and (len(body_code) > 32 or not body_code.isprintable()):
        raise InvalidInputError(
            "body must be a certification body's code",
            errors=[FieldError("body", "a body's code, at most 32 characters")],
        )
    canonical = None
    if number and number.strip():
        try:
            canonical = parse_certificate_number(number)
        except MalformedError as e:
            raise InvalidInputError(
                f"number: {e}", errors=[FieldError("number", "a certificate number")]
            ) from e
    return FeedQuery(
        after=_whole(after, "after", low=0) if after else None,
        limit=_whole(limit, "limit", low=1, high=MAX_LIMIT) if limit else DEFAULT_LIMIT,
        body=body_code,
        number=canonical,
    )


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A log entry as the feeds give it: members about the document from its verified JWS."""

    index: int
    typ: str
    recorded_at: datetime
    jws: str
    verified: bool
    number: str | None = None
    body: str | None = None
    status: str | None = None
    revision: int | None = None
    effective_at: datetime | None = None
    reason: str | None = None
    #: The holder's name, for a certificate revision (its own payload).
    holder: str | None = None
    #: For a key statement: the key and its state.
    kid: str | None = None
    key_state: str | None = None

    def to_json(self) -> dict[str, Any]:
        """An item of `GET /api/v1/events` (PRODUCT §4); absent members are left out."""
        out: dict[str, Any] = {
            "index": self.index,
            "typ": self.typ,
            "number": self.number,
            "verified": self.verified,
        }
        if self.status is not None:
            out["status"] = self.status
        if self.revision is not None:
            out["revision"] = self.revision
        if self.effective_at is not None:
            out["effective_at"] = format_instant(self.effective_at)
        out["recorded_at"] = format_instant(self.recorded_at)
        out["jws"] = self.jws
        return out


def _instant(value: Any) -> datetime:
    """A timestamp as SQLite (text) or PostgreSQL (datetime) gives it, in UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:  # stored in UTC (Timestamptz)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _read_payload(
    typ: str, payload: Mapping[str, Any]
) -> tuple[datetime, str, dict[str, Any]] | None:
    """``(signed_at, issuer, FeedItem members)`` read by the payload's own type's
    rules; None for a type the feed does not know.

    Raises:
        SigningError: the payload breaks its type's rules.
    """
    if typ == CERTIFICATE_TYP:
        revision = CertificatePayload.from_json(payload)
        return (
            revision.signed_at,
            revision.issuer.code,
            {
                "number": revision.number,
                "body": revision.issuer.code,
                "revision": revision.revision,
                "holder": revision.holder.name,
            },
        )
    if typ == STATUS_TYP:
        event = StatusEventPayload.from_json(payload)
        return (
            event.signed_at,
            event.issuer.code,
            {
                "number": event.number,
                "body": event.issuer.code,
                "status": event.status.value,
                "revision": event.revision,
                "effective_at": event.effective_at,
                "reason": event.reason,
            },
        )
    if typ == KEY_TYP:
        # Signed by the registry's own key about a body's key.
        statement = KeyStatementPayload.from_json(payload)
        return (
            statement.signed_at,
            _REGISTRY,
            {"body": statement.body, "kid": statement.kid, "key_state": statement.state},
        )
    return None


def verify_entry(row: Mapping[str, Any], keys: KeySet, *, now: datetime) -> FeedItem:
    """Verify one log entry and read its members from the signed payload.

    The checks of `signing.verdict` for one document: the signature under the
    key named by ``kid``, ``typ`` as logged, ``signed_at`` not in the future and
    inside the key's window (a compromised key judged by the entry's leaf index
    and ``recorded_at``), the key bound to the document's issuer; then the
    payload by its type's rules, and the index columns that found it equal to
    what it says.
    """
    index, typ, jws = int(row["id"]), str(row["typ"]), str(row["jws"])
    recorded_at = _instant(row["recorded_at"])
    unverified = FeedItem(index, typ, recorded_at, jws, verified=False)
    try:
        document = open_signed(jws, keys=keys, typ=typ)
        read = _read_payload(typ, document.payload)
        if read is None:
            return unverified
        signed_at, issuer, members = read
        if signed_at > now + FUTURE_SIGNED_AT_TOLERANCE:
            return unverified
        document.key.check_usable(signed_at, recorded_at=recorded_at, log_index=index)
    except (SigningError, ValueError, KeyError, TypeError):
        return unverified
    if document.key.body is not None and document.key.body != issuer:
        return unverified
    item = FeedItem(index, typ, recorded_at, jws, verified=True, **members)
    # The columns found the entry; a payload that says otherwise was moved behind the app.
    if row["number"] != item.number or row["body"] != item.body:
        return unverified
    return item


async def with_logged_compromises(keys: KeySet, *, engine: Engine[Any]) -> KeySet:
    """``keys`` (the key table's) with the compromises the log's key statements
    state, by leaf index (`signing.verdict.compromise_marks`), as the read path
    judges them; none of them vouch for anything when a statement does not
    verify under the registry's key (never a green entry from a damaged log)."""
    rows = await engine.run_querystring(
        QueryString("SELECT id, jws FROM log_entry WHERE typ = {} ORDER BY id", KEY_TYP)
    )
    registry_keys = KeySet(r for r in keys if r.body == _REGISTRY)
    try:
        marks = compromise_marks(
            [(int(r["id"]), str(r["jws"])) for r in rows], registry_keys=registry_keys
        )
    except SigningError:
        return KeySet.of()
    return keys.with_compromises(marks)


_COLUMNS: Final = "SELECT id, typ, jws, recorded_at, number, body FROM log_entry"


def _query(query: FeedQuery, *, newest_first: bool, limit: int) -> QueryString:
    where: list[str] = []
    values: list[Any] = []
    if query.after is not None:
        where.append("id > {}")
        values.append(query.after)
    if query.body is not None:
        where.append("body = {}")
        values.append(query.body)
    if query.number is not None:
        where.append("number = {}")
        values.append(query.number)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    order = "DESC" if newest_first else "ASC"
    values.append(limit)
    return QueryString(f"{_COLUMNS}{clause} ORDER BY id {order} LIMIT {{}}", *values)


async def _log_size(engine: Engine[Any]) -> int:
    rows = await engine.run_querystring(
        QueryString("SELECT COALESCE(MAX(id) + 1, 0) AS size FROM log_entry")
    )
    return int(rows[0]["size"])


async def events_page(
    query: FeedQuery, *, engine: Engine[Any], keys: KeySet, now: datetime
) -> dict[str, Any]:
    """`GET /api/v1/events`: ``{"items": [...], "next_cursor": "<index>" | null}``.

    ``next_cursor`` is the index of the last item given when more follow; pass it
    as ``after``. A cursor beyond the log was not issued by this list.

    Raises:
        InvalidInputError: ``after`` is not an index of the log.
    """
    if query.after is not None:
        size = await _log_size(engine)
        if query.after >= size:
            raise InvalidInputError(
                f"after={query.after} is not an index of the log (it holds {size} entries)",
                errors=[FieldError("after", "the next_cursor of a previous page, or nothing")],
            )
    rows = await engine.run_querystring(_query(query, newest_first=False, limit=query.limit + 1))
    page = [verify_entry(row, keys, now=now) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return {
        "items": [item.to_json() for item in page],
        "next_cursor": str(page[-1].index) if more and page else None,
    }


async def latest_items(
    query: FeedQuery, *, engine: Engine[Any], keys: KeySet, now: datetime
) -> list[FeedItem]:
    """The latest `ATOM_ENTRIES` changes (under the query's filters), newest first."""
    rows = await engine.run_querystring(_query(query, newest_first=True, limit=ATOM_ENTRIES))
    return [verify_entry(row, keys, now=now) for row in rows]


# ----------------------------------------------------------------------------- Atom

#: What a change is called in an entry's title: (Chinese, English).
_KEY_WORDS: Final = {
    "active": ("密钥登记", "Key registered"),
    "retired": ("密钥停用", "Key retired"),
    "compromised": ("密钥泄露", "Key compromised"),
}
_REVISION_WORDS: Final = (("颁发", "Issued"), ("换版", "Revised"))
_UNVERIFIED_WORDS: Final = ("签名无效", "Signature invalid")


def _title(item: FeedItem, holder: str | None) -> str:
    if not item.verified:
        zh, en = _UNVERIFIED_WORDS
        return f"{zh} {en}: 日志条目 log entry {item.index}"
    if item.typ == KEY_TYP:
        zh, en = _KEY_WORDS.get(item.key_state or "", (item.key_state or "", item.key_state or ""))
        return f"{zh} {en}: {item.body} {item.kid}"
    if item.typ == CERTIFICATE_TYP:
        zh, en = _REVISION_WORDS[0] if item.revision == 1 else _REVISION_WORDS[1]
        what = f"{zh} {en}" if item.revision == 1 else f"{zh} {en} (revision {item.revision})"
    else:
        words = event_words(item.status)
        what = f"{words.zh} {words.en}"
    who = f"{holder} {item.number}" if holder else str(item.number)
    title = f"{what}: {who}"
    return f"{title} — {item.reason}" if item.reason else title


def _summary(item: FeedItem, title: str) -> str:
    if not item.verified:
        return (
            f"{title}. 该条目的签名未能通过验证。The signature of this log entry does not verify."
        )
    lines = [title]
    if item.effective_at is not None:
        lines.append(f"生效时间 Effective: {format_instant(item.effective_at)}")
    if item.reason:
        lines.append(f"原因 Reason: {item.reason}")
    lines.append(f"记录时间 Recorded: {format_instant(item.recorded_at)}")
    return "\n".join(lines)


def _tag_authority(public_url: str) -> str:
    # RFC 4151: tag:<authority>,<date>:<specific>; the host names the registry.
    return urlsplit(public_url).hostname or "starmark.invalid"


def atom_feed(
    items: Sequence[FeedItem],
    *,
    holders: Mapping[tuple[str, int], str],
    public_url: str,
    query: FeedQuery,
    now: datetime,
) -> bytes:
    """The Atom 1.0 document (RFC 4287) of ``items`` (newest first).

    ``holders`` gives the holder's name by (number, revision), read from the
    verified revisions (a status event names its certificate, not the holder).
    Entry ids are ``tag:`` URIs on the log index, so they never change.
    """
    authority = _tag_authority(public_url)
    filters = {k: v for k, v in (("body", query.body), ("number", query.number)) if v}
    self_url = f"{public_url}/feed.atom" + (f"?{urlencode(filters)}" if filters else "")
    specific = "".join(f"/{k}/{v}" for k, v in filters.items())

    ElementTree.register_namespace("", ATOM_NS)

    def sub(parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str) -> Any:
        element = ElementTree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", f"tag:{authority},2026:feed{specific}")
    sub(
        feed,
        "title",
        "星标认证注册库变更 Starmark registry changes"
        + (f" ({', '.join(filters.values())})" if filters else ""),
    )
    sub(feed, "updated", format_instant(items[0].recorded_at if items else now))
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=f"{public_url}/")
    author = sub(feed, "author")
    sub(author, "name", "Starmark")
    sub(author, "uri", f"{public_url}/")
    for item in items:
        holder = item.holder
        if holder is None and item.number is not None and item.revision is not None:
            holder = holders.get((item.number, item.revision))
        title = _title(item, holder)
        entry = sub(feed, "entry")
        sub(entry, "id", f"tag:{authority},2026:log/{item.index}")
        sub(entry, "title", title)
        sub(entry, "updated", format_instant(item.recorded_at))
        if item.number is not None:
            href = f"{public_url}/v/{item.number}"
        else:
            href = f"{public_url}/api/v1/log/bundle?index={item.index}"
        sub(entry, "link", rel="alternate", href=href)
        if item.body is not None:
            sub(entry, "category", term=item.body)
        sub(entry, "summary", _summary(item, title))
    return bytes(ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True))


def holder_names(revisions: Sequence[CertificatePayload]) -> dict[tuple[str, int], str]:
    """(number, revision) -> holder name, from verified revision payloads."""
    return {(r.number, r.revision): r.holder.name for r in revisions}
