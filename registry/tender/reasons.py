"""A verdict's reason in the page's language, from its ``reason_code`` and ``reason_params``.

`signing.verdict` keeps the English ``reason`` sentence for API clients and,
beside it, what the sentence says as data (`signing.verdict.REASON_CODES`).
The results page, the CSV and the printable receipt say it again here, through
the gettext catalogs (domain ``tender``; `make i18n`), so that a Chinese page
carries no English sentence. Instants are shown in China Standard Time, level
names are `StarLevel`'s own words. What a body wrote as the reason of an event
is quoted as written: it is the body's record, not the registry's words.

A verdict without a code (receipts signed before codes existed) is said by its
status alone; a technical detail (which signature failed, which rule) is added
on English pages only, since it exists only in English.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

from registry.i18n import Catalogs, current_language
from registry.words import star_level, status_words
from signing.errors import MalformedError
from signing.instants import CST, parse_instant

__all__ = ["instant_text", "reason_text"]


@functools.cache
def _catalogs() -> Catalogs:
    return Catalogs()


def _(message: str) -> str:
    """gettext in the page's language (`registry.i18n.current_language`)."""
    return _catalogs().gettext(message)


def N_(message: str) -> str:
    """Marks a message for `make i18n` where it is translated later (`_with_reason`)."""
    return message


def instant_text(value: object) -> str:
    """An RFC 3339 instant as a reader in China reads it: ``2026-10-01 09:30`` (UTC+8)."""
    if not isinstance(value, str):
        return ""
    try:
        moment = parse_instant(value).astimezone(CST)
    except MalformedError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S")


def _level(value: object) -> str:
    level = star_level(value)
    if level is None:
        return str(value or "")
    return level.en if current_language() == "en" else level.zh


def _with_reason(plain: str, quoted: str, params: Mapping[str, Any], **values: str) -> str:
    said = params.get("reason")
    if isinstance(said, str) and said:
        return _(quoted) % {**values, "reason": said}
    return _(plain) % values


def _valid(p: Mapping[str, Any]) -> str:
    return _("valid at %(at)s, signed by %(issuer)s") % {
        "at": instant_text(p.get("at")),
        "issuer": p.get("issuer", ""),
    }


def _overdue(p: Mapping[str, Any]) -> str:
    values = {"due": instant_text(p.get("due")), "months": str(p.get("months", ""))}
    if p.get("after") == "surveillance":
        tail = _("surveillance overdue since %(due)s (%(months)s months after the last one)")
    else:
        tail = _("surveillance overdue since %(due)s (%(months)s months after the start)")
    return _valid(p) + _("; ") + tail % values


#: One renderer per reason code; each reads only the parameters it names.
_SENTENCES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "valid": _valid,
    "valid_surveillance_overdue": _overdue,
    "suspended_since": lambda p: _with_reason(
        N_("suspended since %(since)s"),
        N_("suspended since %(since)s: %(reason)s"),
        p,
        since=instant_text(p.get("since")),
    ),
    "revoked_at": lambda p: _with_reason(
        N_("revoked at %(at)s"),
        N_("revoked at %(at)s: %(reason)s"),
        p,
        at=instant_text(p.get("at")),
    ),
    "withdrawn_at": lambda p: _with_reason(
        N_("withdrawn at %(at)s"),
        N_("withdrawn at %(at)s: %(reason)s"),
        p,
        at=instant_text(p.get("at")),
    ),
    "expired_at": lambda p: (
        _("expired at %(at)s (valid until %(valid_until)s inclusive)")
        % {"at": instant_text(p.get("at")), "valid_until": p.get("valid_until", "")}
    ),
    "not_valid_before": lambda p: (
        _("not valid before %(valid_from)s") % {"valid_from": p.get("valid_from", "")}
    ),
    "not_found": lambda p: (
        _("no certificate with number %(number)s is registered") % {"number": p.get("number", "")}
        + (_("; read as a USCC, it is not a valid one either") if p.get("uscc_problem") else "")
    ),
    "not_found_uscc": lambda p: (
        _("no certificate is registered for the USCC %(uscc)s") % {"uscc": p.get("uscc", "")}
    ),
    "signature_invalid": lambda p: _(
        "the signatures do not hold: nothing in these documents can be trusted"
    ),
    "malformed": lambda p: _("the signed documents break the rules of the registry"),
    "no_revision": lambda p: _("the certificate has no signed revision"),
    "valid_status_event": lambda p: (
        _("a valid status event of %(number)s, revision %(revision)s, signed by %(issuer)s")
        % {k: str(p.get(k, "")) for k in ("number", "revision", "issuer")}
    ),
    "valid_receipt": lambda p: (
        _(
            "a valid verification receipt of %(results)s results as of %(as_of)s, "
            "signed by the registry at %(signed_at)s"
        )
        % {
            "results": str(p.get("results", "")),
            "as_of": instant_text(p.get("as_of")),
            "signed_at": instant_text(p.get("signed_at")),
        }
    ),
    "not_a_receipt": lambda p: _(
        "this is not a verification receipt; check certificates at /v/ and their number"
    ),
}

#: Codes whose detail (English only, from `signing`) is added on English pages.
_DETAILED: Final = frozenset({"signature_invalid", "malformed"})


def _min_level_clause(verdict: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    minimum = params.get("min_level")
    if not minimum:
        return ""
    values = {"min_level": _level(minimum), "level": _level(params.get("level"))}
    if verdict.get("status") != "valid" or not params.get("level"):
        return _("; only a valid certificate meets the minimum level %(min_level)s") % values
    if verdict.get("meets_min_level"):
        return _("; meets the minimum level %(min_level)s") % values
    return _("; level %(level)s is below the minimum level %(min_level)s") % values


def reason_text(verdict: Mapping[str, Any]) -> str:
    """The reason of a verdict JSON (or a receipt's verdict) in the page's language."""
    code = verdict.get("reason_code")
    params = verdict.get("reason_params")
    if not isinstance(params, Mapping):
        params = {}
    sentence = _SENTENCES.get(code) if isinstance(code, str) else None
    if sentence is None:
        # A receipt from before reason codes: the status says it in every language.
        return status_words(verdict.get("status")).word(current_language())
    text = sentence(params)
    detail = params.get("detail")
    if code in _DETAILED and current_language() == "en" and isinstance(detail, str):
        text += f" ({detail})"
    if code != "valid_receipt" and code != "valid_status_event":
        text += _min_level_clause(verdict, params)
    return text
