"""The errors a mark raises: what the caller asked for, or a broken installation."""

from __future__ import annotations

__all__ = ["MarkError", "MarkFontMissingError", "MarkInputError", "MarkSizeError"]


class MarkError(ValueError):
    """The base of the errors about what a caller asked for."""


class MarkInputError(MarkError):
    """An unknown level, a malformed number or a URL that is not the number's mark URL."""


class MarkSizeError(MarkError):
    """A physical size or resolution outside what a mark can be printed at."""


class MarkFontMissingError(RuntimeError):
    """The mark's font subset is missing or lacks a glyph: an installation problem."""
