"""The mark on a one-page PDF for print: the SVG mark, converted by cairosvg.

The page is drawn from the same document as :func:`render_svg` makes, laid out
in device pixels at the press resolution (:func:`pixel_scene`), so the QR
modules fall on whole device pixels and the page rasterised at ``dpi`` has
exactly the pixel grid of :func:`render_png`. Everything is vector (module
runs, star polygons, glyph outlines): no font is embedded or substituted.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from registry.marks.fonts import mark_font
from registry.marks.layout import pixel_scene
from registry.marks.sizing import DEFAULT_DPI, DEFAULT_SIZE_MM, validate_size
from registry.marks.svg import svg_document

__all__ = ["render_pdf", "render_pdf_sheet"]


def render_pdf(
    *,
    url: str,
    number: str,
    level: str,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """The mark on a one-page PDF whose page is the mark at its physical size.

    ``dpi`` is the resolution of the press it is meant for: the QR module size is
    rounded up to whole device pixels at that resolution, as in the PNG (the page
    is then up to one device pixel a module wider than ``size_mm``, never narrower).

    Raises:
        MarkSizeError, MarkInputError, MarkFontMissingError: as :func:`render_png`.
    """
    # cairosvg loads libcairo2 through cffi when imported (a quarter of a second):
    # only PDF marks need it, so the app and the CLI start without paying for it.
    import cairocffi
    from cairosvg.parser import Tree
    from cairosvg.surface import PDFSurface

    size_mm, dpi = validate_size(size_mm, dpi)
    scene = pixel_scene(url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
    svg = svg_document(
        scene,
        mark_font(),
        width_mm=scene.width / dpi * 25.4,
        height=math.ceil(scene.height),  # whole device pixels, as the PNG
        title=url,
    )
    out = io.BytesIO()
    surface = PDFSurface(Tree(bytestring=svg), out, 96)  # draws the page
    # The same inputs give the same bytes: cairo would stamp the time of rendering
    # as /CreationDate; an empty date leaves it out.
    surface.cairo.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, "")
    surface.cairo.set_metadata(cairocffi.PDF_METADATA_TITLE, url)
    surface.finish()
    return out.getvalue()


def render_pdf_sheet(
    marks: Sequence[tuple[str, str, str]],
    *,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """The marks of several certificates in one PDF, one page each: `marks` are
    `(url, number, level)`; every page is exactly the page :func:`render_pdf` makes.

    Raises:
        ValueError: no marks; MarkSizeError, MarkInputError, MarkFontMissingError:
            as :func:`render_pdf`.
    """
    import cairocffi
    from cairosvg.parser import Tree
    from cairosvg.surface import PDFSurface

    if not marks:
        raise ValueError("a sheet needs at least one mark")
    size_mm, dpi = validate_size(size_mm, dpi)
    out = io.BytesIO()
    shared: list[Any] = []

    class _Page(PDFSurface):  # type: ignore[misc]
        """cairosvg's PDF surface drawing on the one PDF: a new page per mark."""

        def _create_surface(self, width: float, height: float) -> tuple[Any, float, float]:
            if not shared:
                shared.append(cairocffi.PDFSurface(out, width, height))
            else:
                shared[0].set_size(width, height)
            return shared[0], width, height

    for url, number, level in marks:
        scene = pixel_scene(url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
        svg = svg_document(
            scene,
            mark_font(),
            width_mm=scene.width / dpi * 25.4,
            height=math.ceil(scene.height),
            title=url,
        )
        drawn = _Page(Tree(bytestring=svg), out, 96)
        drawn.context.show_page()
    surface = shared[0]
    surface.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, "")
    surface.set_metadata(cairocffi.PDF_METADATA_TITLE, "Starmark marks")
    surface.finish()
    return out.getvalue()
