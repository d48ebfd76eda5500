"""Where everything of a mark goes: one :class:`Scene` that every format draws.

The mark is ``size_mm`` wide; the QR (with its 4-module quiet zone) is a square
on top, the text block below (the registry's host, stars, the headline, the
level, the number), on an opaque white background. A scene is laid out in its
format's own units: device pixels for PNG and PDF (:func:`pixel_scene`), QR
modules for SVG.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from registry.marks.errors import MarkSizeError
from registry.marks.fonts import MarkFont, mark_font
from registry.marks.qr import build_qr, check_url, host_of, normalise_number
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
#: The ink height of the certificate number: 7.8 u is 1.56 mm at the smallest
#: mark offered (20 mm), so a person can read it to compare it with the page.
_NUMBER_INK = 7.8
_NUMBER_WIDEST = 92.0
_NUMBER_LEADING = 2.0
#: A number breaks after a hyphen, so each line ends where the number has a hyphen.
_NUMBER_PIECE_RE = re.compile(r"[^-]*-|[^-]+")


def _number_lines(font: MarkFont, number: str, size: float, widest: float) -> list[str]:
    """``number`` broken into lines no wider than ``widest`` at em ``size``: after a
    hyphen where it has one, else between characters."""
    lines: list[str] = []
    for piece in _NUMBER_PIECE_RE.findall(number):
        joined = lines[-1] + piece if lines else piece
        if lines and font.advance_em(joined) * size <= widest:
            lines[-1] = joined
            continue
        lines.append("")
        for char in piece:  # a piece wider than a line is cut between characters
            if lines[-1] and font.advance_em(lines[-1] + char) * size > widest:
                lines.append("")
            lines[-1] += char
    return lines


def lay_out(
    *, font: MarkFont, width: float, module: float, qr_x: float, qr_y: float,
    matrix: Matrix, words: LevelWords, number: str, host: str,
) -> Scene:  # fmt: skip
    """The scene of a mark ``width`` units wide, its QR at ``(qr_x, qr_y)``, ``module`` a module.

    Raises:
        MarkFontMissingError: the font lacks a glyph of ``number`` or ``host``.
    """
    u = width / 100
    y = qr_y + module * len(matrix)  # the quiet zone below the QR is part of the symbol
    lines: list[TextLine] = []

    def line(text: str, size: float, after: float) -> None:
        nonlocal y
        advance = font.advance_em(text)
        low, high = font.ink_em(text)
        baseline = y + high * size
        lines.append(TextLine(text, size, width / 2 - advance * size / 2, baseline, TEXT_COLOUR))
        y = baseline - low * size + after

    # The host, so that a person can type it where the camera fails (issue 13), clear
    # of the QR's quiet zone even where a raster rounds its top edge up a pixel.
    y += 1.0 * u
    line(host, min(9.0 * u, 92.0 * u / font.advance_em(host)), _GAP * u)
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
        (NUMBER_LABEL, 4.4, 90.0, 1.6),
    )
    for text, largest, widest, after in specs:
        line(text, min(largest * u, widest * u / font.advance_em(text)), after * u)
    # The number keeps its height and breaks into lines rather than shrink.
    _, cap = font.ink_em("0H")
    size = _NUMBER_INK * u / cap
    for text in _number_lines(font, number, size, _NUMBER_WIDEST * u):
        line(text, size, _NUMBER_LEADING * u)
    y -= _NUMBER_LEADING * u
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


def prepare(url: str, number: str, level: str) -> tuple[MarkFont, Matrix, LevelWords, str, str]:
    """Everything a scene is made of: the font, the QR matrix, the level's words, the
    number and the registry's host (from ``url``).

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
    return font, matrix, words, number, host_of(url)


def pixel_scene(*, url: str, number: str, level: str, size_mm: float, dpi: int) -> Scene:
    """The scene in device pixels at ``dpi``: QR modules are whole pixels.

    A module is the SVG's module (``size_mm`` over the modules across) rounded up
    to whole pixels at ``dpi``, so it never prints smaller than the SVG's; the
    mark is then up to one pixel a module wider than ``size_mm`` (the QR with its
    quiet zone spans the whole width, as in the SVG).

    Raises:
        MarkSizeError: see `validate_size`, or the URL's QR does not fit.
        MarkInputError, MarkFontMissingError: as :func:`prepare`.
    """
    size_mm, dpi = validate_size(size_mm, dpi)
    font, matrix, words, number, host = prepare(url, number, level)
    width_px = round(size_mm / 25.4 * dpi)
    modules = len(matrix)
    if width_px < modules:
        least_mm = math.ceil(modules / dpi * 25.4 * 10) / 10
        raise MarkSizeError(
            f"a {size_mm:g} mm mark at {dpi} dpi is {width_px} px wide, too small for this URL's "
            f"QR ({modules} modules with its quiet zone); use at least {least_mm:g} mm at {dpi} dpi"
        )
    # An integer: every module is the same whole number of pixels (never resampled).
    # Rounding down would print modules up to 13% smaller than the SVG's (issue 13).
    scale = math.ceil(size_mm / 25.4 * dpi / modules - 1e-9)
    return lay_out(
        font=font, width=modules * scale, module=scale, qr_x=0, qr_y=0,
        matrix=matrix, words=words, number=number, host=host,
    )  # fmt: skip
