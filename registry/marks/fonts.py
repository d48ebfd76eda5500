"""The mark's font subset (``static/fonts/``, see its README.md), read once into outlines.

A missing font or glyph is an error (:class:`MarkFontMissingError`), never tofu
boxes: every character of :data:`~registry.marks.words.MARK_TEXT` must have a glyph.
"""

from __future__ import annotations

import functools
import importlib.resources
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageDraw, ImageFont

from registry.marks.errors import MarkFontMissingError
from registry.marks.words import MARK_TEXT

if TYPE_CHECKING:
    from registry.marks.layout import TextLine

__all__ = ["FONT_FILE", "REPO_FONT_DIR", "Glyph", "MarkFont", "font_path", "mark_font"]

FONT_FILE: Final = "StarmarkMarkSans-Bold.otf"
#: The source tree's copy, used when ``registry.static`` is not installed.
REPO_FONT_DIR: Final = Path(__file__).resolve().parents[2] / "static" / "fonts"


def _font_dirs() -> list[Path]:
    """Where the font may be: the installed ``registry.static`` package, then the source tree."""
    dirs: list[Path] = []
    try:
        packaged = importlib.resources.files("registry.static").joinpath("fonts")
    except ModuleNotFoundError:
        pass
    else:
        dirs.append(Path(str(packaged)))
    dirs.append(REPO_FONT_DIR)
    return dirs


def font_path() -> Path:
    """The path of the mark's font subset.

    Raises:
        MarkFontMissingError: the font is in neither place it may be.
    """
    dirs = _font_dirs()
    for directory in dirs:
        candidate = directory / FONT_FILE
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(d) for d in dirs)
    raise MarkFontMissingError(
        f"the QR mark font {FONT_FILE} is missing (looked in {looked}); it ships in "
        "static/fonts/ and is rebuilt by deploy/fonts/subset_font.py. A mark is never "
        "rendered without it, since Chinese text would print as empty boxes"
    )


Ops = list[tuple[str, tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class Glyph:
    """One glyph's advance, vertical ink extent and outline, in font units (y up)."""

    advance: int
    y_min: float
    y_max: float
    ops: Ops  # the outline, recorded once so drawing never touches fontTools' lazy tables


class MarkFont:
    """The font subset, read once into plain data (safe to share between threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            font = TTFont(str(path), lazy=False)
            self.units_per_em = int(font["head"].unitsPerEm)
            cmap = font.getBestCmap()
            glyph_set = font.getGlyphSet()
            hmtx = font["hmtx"]
        except (OSError, TTLibError, KeyError, AssertionError) as e:
            raise MarkFontMissingError(f"the QR mark font {path} cannot be read: {e}") from e
        needed = sorted({c for text in MARK_TEXT for c in text})
        missing = [c for c in needed if ord(c) not in cmap]
        if missing:
            raise MarkFontMissingError(
                f"the QR mark font {path} lacks glyphs for {''.join(missing)!r}; "
                "rebuild it with deploy/fonts/subset_font.py"
            )
        self.glyphs: dict[str, Glyph] = {}
        for char in needed:
            name = cmap[ord(char)]
            recording = RecordingPen()
            glyph_set[name].draw(recording)
            bounds = BoundsPen(glyph_set)
            recording.replay(bounds)
            y_min, y_max = (bounds.bounds[1], bounds.bounds[3]) if bounds.bounds else (0.0, 0.0)
            self.glyphs[char] = Glyph(hmtx[name][0], y_min, y_max, list(recording.value))
        self._pil_lock = threading.Lock()

    def glyph(self, char: str) -> Glyph:
        try:
            return self.glyphs[char]
        except KeyError:
            raise MarkFontMissingError(f"the QR mark font has no glyph for {char!r}") from None

    def advance_em(self, text: str) -> float:
        return sum(self.glyph(c).advance for c in text) / self.units_per_em

    def ink_em(self, text: str) -> tuple[float, float]:
        """The lowest and highest ink of a line, in em (y up)."""
        inked = [self.glyph(c) for c in text if self.glyph(c).ops]
        return (
            min(g.y_min for g in inked) / self.units_per_em,
            max(g.y_max for g in inked) / self.units_per_em,
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one MarkFont per font file, kept for the process
    def pil(self, size_px: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(
            str(self.path), size=size_px, layout_engine=ImageFont.Layout.BASIC
        )

    def draw_text(self, draw: ImageDraw.ImageDraw, line: TextLine) -> None:
        # FreeType faces are not safe to use from two threads at once.
        with self._pil_lock:
            draw.text(
                (round(line.x), round(line.baseline)),
                line.text,
                font=self.pil(round(line.size, 2)),
                fill=line.colour[0],  # neutral grey, drawn on the "L" canvas
                anchor="ls",
            )


@functools.lru_cache(maxsize=4)
def _load_font(path: Path) -> MarkFont:
    return MarkFont(path)


def mark_font() -> MarkFont:
    """The mark's font subset, read once a process.

    Raises:
        MarkFontMissingError: the font is missing, unreadable or lacks a glyph.
    """
    return _load_font(font_path())
