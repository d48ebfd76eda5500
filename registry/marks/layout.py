"""Where everything of a mark goes: one :class:`Scene` that every format draws.

The mark is ``size_mm`` wide; the QR (with its 4-module quiet zone) is a square
on top, the text block below (stars, the headline, the level, the number), on
an opaque white background. A scene is laid out in its format's own units:
device pixels for PNG and PDF (:func:`pixel_scene`), QR modules for SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from registry.marks.errors import MarkSizeError
from registry.marks.fonts import MarkFont, mark_font
from registry.marks.qr import build_qr, check_url, normalise_number
from registry.marks.sizing import validate_size
from registry.marks.words import HEADLINE_EN, HEADLINE_ZH, NUMBER_LABEL, LevelWords, level_words

__all__ = [
    "STAR_COLOUR",
    "TEXT_COLOUR",
    "Matrix",
    "Scene",
    "TextLine",
    "lay_out",
    "pixel_scene",
    "prepare",
    "star_points",
]

TEXT_COLOUR: Final = (0x1A, 0x1A, 0x1A)
#: A dark gold that keeps its contrast on white when printed in CMYK.
STAR_COLOUR: Final = (0xA6, 0x7C, 0x00)

Matrix = tuple[tuple[bool, ...], ...]


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    size: float  # em size, scene units
    x: float  # origin of the first glyph
    baseline: float
    colour: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Scene:
    """A mark laid out in abstract units, y down; every backend draws this."""

    width: float
    height: float
    qr_x: float
    qr_y: float
    module: float
    matrix: Matrix
    stars: tuple[tuple[float, float, float], ...]  # centre x, centre y, outer radius
    lines: tuple[TextLine, ...]


# Layout measures are in hundredths of the mark's width ("u" below).
_STAR_RADIUS = 4.6
_STAR_PITCH = 10.6
_GAP = 2.6
_MARGIN_BOTTOM = 5.0


def lay_out(
    *, font: MarkFont, width: float, module: float, qr_x: float, qr_y: float,
    matrix: Matrix, words: LevelWords, number: str,
) -> Scene:  # fmt: skip
    """The scene of a mark ``width`` units wide, its QR at ``(qr_x, qr_y)``, ``module`` a module.

    Raises:
        MarkFontMissingError: the font lacks a glyph of ``number``.
    """
    u = width / 100
    y = qr_y + module * len(matrix)  # the quiet zone below the QR is part of the symbol
    stars: list[tuple[float, float, float]] = []
    if words.stars:
        r = _STAR_RADIUS * u
        for i in range(words.stars):
            cx = width / 2 + (i - (words.stars - 1) / 2) * _STAR_PITCH * u
            stars.append((cx, y + r, r))
        y += 2 * r + _GAP * u
    specs: Sequence[tuple[str, float, float, float]] = (
        # text, largest em size, widest extent, space after (all in u)
        (HEADLINE_ZH, 11.0, 80.0, 2.2),
        (HEADLINE_EN, 6.2, 90.0, _GAP + 0.6),
        (f"{words.zh} {words.en}", 7.6, 90.0, _GAP + 0.6),
        (NUMBER_LABEL, 4.4, 90.0, 1.4),
        (number, 6.6, 88.0, 0.0),
    )
    lines: list[TextLine] = []
    for text, largest, widest, after in specs:
        advance = font.advance_em(text)
        size = min(largest * u, widest * u / advance)
        low, high = font.ink_em(text)
        baseline = y + high * size
        colour = TEXT_COLOUR
        lines.append(TextLine(text, size, width / 2 - advance * size / 2, baseline, colour))
        y = baseline - low * size + after * u
    return Scene(
        width=width,
        height=y + _MARGIN_BOTTOM * u,
        qr_x=qr_x,
        qr_y=qr_y,
        module=module,
        matrix=matrix,
        stars=tuple(stars),
        lines=tuple(lines),
    )


def star_points(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A regular five-pointed star, point up (inner radius r·sin18°/sin54°)."""
    inner = r * math.sin(math.radians(18)) / math.sin(math.radians(54))
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else inner
        angle = math.radians(-90 + 36 * k)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def prepare(url: str, number: str, level: str) -> tuple[MarkFont, Matrix, LevelWords, str]:
    """Everything a scene is made of: the font, the QR matrix, the level's words, the number.

    Raises:
        MarkInputError: an unknown level, a malformed number, or ``url`` not
            ending in ``/v/{NUMBER}``.
        MarkFontMissingError: the font subset is missing or incomplete.
    """
    number = normalise_number(number)
    check_url(url, number)
    words = level_words(level)
    font = mark_font()
    matrix = tuple(tuple(row) for row in build_qr(url=url).get_matrix())
    return font, matrix, words, number


def pixel_scene(*, url: str, number: str, level: str, size_mm: float, dpi: int) -> Scene:
    """The scene in device pixels at ``dpi``: QR modules are whole pixels.

    Raises:
        MarkSizeError: see `validate_size`, or the URL's QR does not fit.
        MarkInputError, MarkFontMissingError: as :func:`prepare`.
    """
    size_mm, dpi = validate_size(size_mm, dpi)
    font, matrix, words, number = prepare(url, number, level)
    width_px = round(size_mm / 25.4 * dpi)
    modules = len(matrix)
    scale = width_px // modules  # an integer: every module is the same whole number of pixels
    if scale < 1:
        least_mm = math.ceil(modules / dpi * 25.4 * 10) / 10
        raise MarkSizeError(
            f"a {size_mm:g} mm mark at {dpi} dpi is {width_px} px wide, too small for this URL's "
            f"QR ({modules} modules with its quiet zone); use at least {least_mm:g} mm at {dpi} dpi"
        )
    offset = (width_px - modules * scale) // 2
    return lay_out(
        font=font, width=width_px, module=scale, qr_x=offset, qr_y=offset,
        matrix=matrix, words=words, number=number,
    )  # fmt: skip
