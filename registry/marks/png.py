"""The mark as a PNG for screens and presses: an opaque 8-bit palette image with its DPI."""

from __future__ import annotations

import io
import math
from typing import Final

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from registry.marks.fonts import MarkFont, mark_font
from registry.marks.layout import STAR_COLOUR, Scene, pixel_scene, star_points
from registry.marks.sizing import DEFAULT_DPI, DEFAULT_SIZE_MM, validate_size

__all__ = ["render_png"]

# The PNG is 8-bit indexed: it encodes about three times faster than RGB and is half the
# size. Indices 0-127 are a grey ramp from black to white (the QR and the neutral text,
# antialiased); 128-255 a ramp from white to the stars' gold (the stars, antialiased).
_GREY_LUT: Final = [v >> 1 for v in range(256)]
_GOLD_LUT: Final = [128 + (v >> 1) for v in range(256)]
_PALETTE: Final = [
    *(round(i * 255 / 127) for i in range(128) for _ in range(3)),
    *(round(255 + (c - 255) * j / 127) for j in range(128) for c in STAR_COLOUR),
]


def _raster(scene: Scene, font: MarkFont) -> Image.Image:
    """The scene as an opaque palette image (see ``_PALETTE``)."""
    width, height = int(scene.width), math.ceil(scene.height)
    canvas = Image.new("L", (width, height), 255)
    n = len(scene.matrix)
    scale = int(scene.module)
    # One byte a module, then an exact integer upscale: NEAREST at a whole factor copies
    # pixels, it never blends, so module edges stay on pixel boundaries.
    modules = Image.frombytes(
        "L", (n, n), bytes(0 if dark else 255 for row in scene.matrix for dark in row)
    )
    canvas.paste(
        modules.resize((n * scale, n * scale), Image.Resampling.NEAREST),
        (int(scene.qr_x), int(scene.qr_y)),
    )
    draw = ImageDraw.Draw(canvas)
    for line in scene.lines:
        font.draw_text(draw, line)
    indexed = canvas.point(_GREY_LUT)
    if scene.stars:
        box, coverage = _star_coverage(scene)
        indexed.paste(coverage.point(_GOLD_LUT), box)
    indexed.putpalette(_PALETTE)  # "L" becomes "P" in place
    return indexed


def _star_coverage(scene: Scene) -> tuple[tuple[int, int], Image.Image]:
    """The star row's box origin and its antialiased coverage (0 none, 255 full)."""
    # Pillow's polygons are not antialiased: draw the row 4x larger and box-filter it down.
    ss = 4
    top = math.floor(min(cy - r for _, cy, r in scene.stars))
    bottom = math.ceil(max(cy + r for _, cy, r in scene.stars))
    width = int(scene.width)
    mask = Image.new("L", (width * ss, (bottom - top) * ss), 0)
    draw = ImageDraw.Draw(mask)
    for cx, cy, r in scene.stars:
        draw.polygon([(x * ss, (y - top) * ss) for x, y in star_points(cx, cy, r)], fill=255)
    return (0, top), mask.reduce(ss)


def render_png(
    *,
    url: str,
    number: str,
    level: str,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """The mark as an opaque palette PNG for ``size_mm`` at ``dpi``, the DPI in its pHYs chunk.

    The QR is scaled by a whole number of pixels a module and never resampled;
    that number is rounded up (:func:`pixel_scene`), so printed at ``dpi`` a
    module is never smaller than the SVG's and the mark is up to one pixel a
    module wider than ``size_mm``. The PNG's ``Description`` text says the width
    and module size it prints at; the SVG prints at exactly ``size_mm``.

    Raises:
        MarkSizeError: see :func:`validate_size`, or the URL's QR does not fit.
        MarkInputError: an unknown level, a malformed number, or ``url`` not ending
            in ``/v/{NUMBER}``.
        MarkFontMissingError: the font subset is missing or incomplete.
    """
    size_mm, dpi = validate_size(size_mm, dpi)
    scene = pixel_scene(url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
    image = _raster(scene, mark_font())
    width_mm = scene.width / dpi * 25.4
    info = PngInfo()
    info.add_text(
        "Description",
        f"QR mark {size_mm:g} mm; printed at {dpi} dpi it is {width_mm:.2f} mm wide, "
        f"a QR module {scene.module / dpi * 25.4:.3f} mm (never smaller than the SVG's "
        f"{size_mm / len(scene.matrix):.3f} mm). The SVG prints at exactly {size_mm:g} mm.",
    )
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), compress_level=6, pnginfo=info)
    return out.getvalue()
