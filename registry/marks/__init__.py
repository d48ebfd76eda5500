"""QR marks: the printable image that sends a phone to a certificate's verification page."""

from registry.marks.render import (
    LEVELS,
    MarkCache,
    MarkError,
    MarkFontMissingError,
    MarkFormat,
    MarkInputError,
    MarkSizeError,
    build_qr,
    font_path,
    mark_url,
    render_mark,
    render_pdf,
    render_png,
    render_svg,
    validate_size,
)

__all__ = [
    "LEVELS",
    "MarkCache",
    "MarkError",
    "MarkFontMissingError",
    "MarkFormat",
    "MarkInputError",
    "MarkSizeError",
    "build_qr",
    "font_path",
    "mark_url",
    "render_mark",
    "render_pdf",
    "render_png",
    "render_svg",
    "validate_size",
]
