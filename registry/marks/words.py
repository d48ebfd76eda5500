"""What a mark says under its QR (PRODUCT §5): the headline, the level in words, the label.

The font subset shipped for marks must cover every character here
(:data:`MARK_TEXT`) plus those of a certificate number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from registry.marks.errors import MarkInputError

__all__ = ["HEADLINE_EN", "HEADLINE_ZH", "LEVELS", "MARK_TEXT", "NUMBER_LABEL", "LevelWords"]

HEADLINE_ZH: Final = "售后服务认证"
HEADLINE_EN: Final = "After-sales Service Certified"
NUMBER_LABEL: Final = "证书编号 Certificate No."


@dataclass(frozen=True, slots=True)
class LevelWords:
    """A level as a mark prints it: its stars, and its name in Chinese and English."""

    stars: int
    zh: str
    en: str


#: Keys are the values of ``signing.scheme.StarLevel`` (a StrEnum), so a
#: ``StarLevel`` member works wherever a level string does.
LEVELS: Final[dict[str, LevelWords]] = {
    "compliant": LevelWords(0, "达标级", "Compliant"),
    "three_star": LevelWords(3, "三星级", "Three-star"),
    "four_star": LevelWords(4, "四星级", "Four-star"),
    "five_star": LevelWords(5, "五星级", "Five-star"),
}

#: Every fixed string a mark can print; the font subset must cover all of them
#: plus the characters of a certificate number.
MARK_TEXT: Final = (
    HEADLINE_ZH,
    HEADLINE_EN,
    NUMBER_LABEL,
    *(f"{w.zh} {w.en}" for w in LEVELS.values()),
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
    # The registry's host (`qr.host_of`): a lower-case name (an international
    # domain in its xn-- form), an IPv6 address or a port.
    "abcdefghijklmnopqrstuvwxyz0123456789.-:[]",
)


def level_words(level: str) -> LevelWords:
    """The words of ``level`` (a ``StarLevel`` value or member).

    Raises:
        MarkInputError: not one of the levels.
    """
    words = LEVELS.get(str(level)) if isinstance(level, str) else None
    if words is None:
        raise MarkInputError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    return words
