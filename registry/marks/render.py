"""A mark in the format asked for, from a process-wide cache of rendered marks.

PRODUCT.md §5: the QR encodes ``{public_base_url}/v/{NUMBER}`` and nothing else;
under it the mark shows the stars of the level, "售后服务认证" / "After-sales
Service Certified", the level in words and the certificate number. A mark must
decode, with an independent QR decoder, at its smallest offered size, to
exactly the URL. Each format is its own module (`png`, `svg`, `pdf`); this one
picks one and remembers what it rendered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final, Literal

from registry.marks.errors import MarkInputError
from registry.marks.pdf import render_pdf
from registry.marks.png import render_png
from registry.marks.qr import build_qr
from registry.marks.sizing import DEFAULT_DPI, DEFAULT_SIZE_MM, validate_size
from registry.marks.svg import render_svg

__all__ = [
    "MarkCache",
    "MarkFormat",
    "build_qr",  # registry/tender/controllers.py imports it from here
    "render_mark",
]

MarkFormat = Literal["png", "svg", "pdf"]

_RENDERERS: Final[dict[str, Callable[..., bytes]]] = {
    "png": render_png,
    "pdf": render_pdf,
}


class MarkCache:
    """A bounded, thread-safe LRU of rendered marks keyed by every input.

    Marks depend only on their inputs (the URL, number, level, size and dpi), so a
    cached mark never goes stale. Two threads asking for the same new mark at once
    may both render it; the answer is the same bytes.
    """

    def __init__(self, maxsize: int = 128) -> None:
        self._render = functools.lru_cache(maxsize=maxsize)(self._render_uncached)

    @staticmethod
    def _render_uncached(
        fmt: str, url: str, number: str, level: str, size_mm: float, dpi: int | None
    ) -> bytes:
        if fmt == "svg":
            return render_svg(url=url, number=number, level=level, size_mm=size_mm)
        return _RENDERERS[fmt](url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)

    def render(
        self,
        fmt: MarkFormat,
        *,
        url: str,
        number: str,
        level: str,
        size_mm: float = DEFAULT_SIZE_MM,
        dpi: int = DEFAULT_DPI,
    ) -> bytes:
        """:func:`render_png`, :func:`render_svg` or :func:`render_pdf`, from memory when seen.

        Raises:
            MarkInputError: an unknown ``fmt``; otherwise as the renderer.
        """
        if fmt not in ("png", "svg", "pdf"):
            raise MarkInputError(f"mark format {fmt!r} is not one of png, svg, pdf")
        # Validate first: NaN is never equal to itself, so it would never hit the cache.
        size_mm, dpi = validate_size(size_mm, dpi)
        return self._render(
            fmt,
            url,
            number.strip().upper() if isinstance(number, str) else number,
            str(level),
            size_mm,
            None if fmt == "svg" else dpi,  # an SVG has no resolution: one entry for all dpi
        )

    def cache_info(self) -> functools._CacheInfo:
        return self._render.cache_info()

    def clear(self) -> None:
        self._render.cache_clear()


_DEFAULT_CACHE: Final = MarkCache()


def render_mark(
    fmt: MarkFormat,
    *,
    url: str,
    number: str,
    level: str,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """A mark in ``fmt``, served from the process-wide :class:`MarkCache` when seen before."""
    return _DEFAULT_CACHE.render(fmt, url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
