"""QR marks: the printable image that sends a phone to a certificate's verification page.

One concern a module: `errors`, `sizing` (what sizes are allowed and offered),
`words` (what a mark says), `qr` (the URL and its symbol), `fonts` (the shipped
font subset), `layout` (the scene every format draws), `png`, `svg`, `pdf`, and
`render` (the format dispatcher and its cache).

Pure rendering: no database, web framework or environment. The caller passes
the URL, the number, the level and the physical size.
"""

from registry.marks.errors import MarkError, MarkFontMissingError, MarkInputError, MarkSizeError
from registry.marks.fonts import FONT_FILE, font_path
from registry.marks.pdf import render_pdf
from registry.marks.png import render_png
from registry.marks.qr import build_qr, mark_url
from registry.marks.render import MarkCache, MarkFormat, render_mark
from registry.marks.sizing import (
    DEFAULT_DPI,
    DEFAULT_SIZE_MM,
    MAX_DPI,
    MAX_SIZE_MM,
    MIN_DPI,
    MIN_OFFERED_SIZE_MM,
    MIN_SIZE_MM,
    check_mark_size,
    validate_size,
)
from registry.marks.svg import render_svg
from registry.marks.words import LEVELS

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_SIZE_MM",
    "FONT_FILE",
    "LEVELS",
    "MAX_DPI",
    "MAX_SIZE_MM",
    "MIN_DPI",
    "MIN_OFFERED_SIZE_MM",
    "MIN_SIZE_MM",
    "MarkCache",
    "MarkError",
    "MarkFontMissingError",
    "MarkFormat",
    "MarkInputError",
    "MarkSizeError",
    "build_qr",
    "check_mark_size",
    "font_path",
    "mark_url",
    "render_mark",
    "render_pdf",
    "render_png",
    "render_svg",
    "validate_size",
]
