"""The words, signs and colours of a status, an event and a star level, on every surface.

PRODUCT §1: the CNCA vocabulary (有效, 暂停, 撤销, 注销 ...) in Chinese, with
English beside it. One table here, read by the one template partial
(registry/templates/_status.html: the verification page, search and the
/verify pages) and by the bilingual CSV of /verify. Level words are
`signing.scheme.StarLevel`'s own (`zh`, `en`, `stars`), never copied.

These words are not in the gettext catalogs: each is written once, here, in
both languages, as the levels are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from signing.instants import CST
from signing.scheme import StarLevel

__all__ = [
    "EVENT_WORDS",
    "STATUS_WORDS",
    "EventWords",
    "StatusWords",
    "cst_text",
    "event_words",
    "install_words",
    "star_level",
    "status_words",
]

#: The colour of a status (CSS classes `v-<tone>`, `b-<tone>`, `s-<tone>`, `row-<tone>`).
Tone = Literal["ok", "warn", "info", "grey", "bad"]


@dataclass(frozen=True, slots=True)
class StatusWords:
    """How a status is said and shown: colour and a sign go with the words, never alone."""

    zh: str
    en: str
    tone: Tone
    #: The sign beside the word in lists and tables.
    sign: str
    #: The picture of the verification page's verdict (`status_icon` in _status.html).
    icon: str

    def word(self, lang: str) -> str:
        """The word in a page language (registry.i18n: zh-CN or en)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class EventWords:
    """How a status event is said in a certificate's history."""

    zh: str
    en: str

    def word(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


#: Every verdict status (`signing.verdict.VerdictStatus`), which include the
#: certificate statuses search shows.
STATUS_WORDS: Final[dict[str, StatusWords]] = {
    "valid": StatusWords("有效", "Valid", "ok", "✓", "check"),
    "suspended": StatusWords("暂停", "Suspended", "warn", "!", "pause"),
    "revoked": StatusWords("撤销", "Revoked", "bad", "✕", "cross"),
    "withdrawn": StatusWords("注销", "Withdrawn", "grey", "✕", "minus"),
    "expired": StatusWords("已过期", "Expired", "grey", "✕", "clock"),
    "not_yet_valid": StatusWords("尚未生效", "Not yet valid", "info", "!", "clock"),
    # A number the registry does not have: the mark that led here may be counterfeit.
    "not_found": StatusWords("未找到", "Not found", "bad", "?", "question"),
    "signature_invalid": StatusWords("签名无效", "Signature invalid", "bad", "✕", "warning"),
    "malformed": StatusWords("格式错误", "Malformed", "bad", "✕", "warning"),
}
#: Every status event kind (`signing.status`), and issuance.
EVENT_WORDS: Final[dict[str, EventWords]] = {
    "issued": EventWords("颁发", "Issued"),
    "surveillance_passed": EventWords("监督审核通过", "Surveillance audit passed"),
    "suspended": EventWords("暂停", "Suspended"),
    "reinstated": EventWords("恢复", "Reinstated"),
    "revoked": EventWords("撤销", "Revoked"),
    "withdrawn": EventWords("注销", "Withdrawn"),
}


def status_words(status: object) -> StatusWords:
    """The words of `status` (a string or a StrEnum); a status we do not know is
    shown as malformed, never as valid."""
    return STATUS_WORDS.get(str(status), STATUS_WORDS["malformed"])


def event_words(event: object) -> EventWords:
    """The words of an event kind; an unknown kind is shown by its code."""
    words = EVENT_WORDS.get(str(event))
    return words if words is not None else EventWords(str(event), str(event))


def star_level(value: object) -> StarLevel | None:
    """`value` as a StarLevel (a member or its code), None when it is neither."""
    if isinstance(value, StarLevel):
        return value
    try:
        return StarLevel(value) if isinstance(value, str) else None
    except ValueError:
        return None


def install_words(engine: Any) -> None:
    """`TemplateConfig(engine_callback=...)`: the tables above as Jinja globals, for
    registry/templates/_status.html."""
    env = engine.engine
    env.globals["status_words"] = status_words
    env.globals["event_words"] = event_words
    env.globals["star_level"] = star_level


def cst_text(moment: datetime | str | None) -> str:
    """An instant as people in China read it (PRODUCT §1): `YYYY-MM-DD HH:MM`, China
    Standard Time, on the pages, the console and the command line. A signed
    document's instant may come as RFC 3339 text; None is ""."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M")
