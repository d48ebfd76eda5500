"""The mark as SVG: the QR as module runs, the stars as polygons, the text as glyph outlines.

No ``<text>`` and no font reference: the words are the shipped font's outlines
(fontTools' SVGPathPen), so the SVG shows and prints the same everywhere, with
no font installed. The PDF is made from this document too (`registry.marks.pdf`).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from fontTools.pens.recordingPen import replayRecording
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen

from registry.marks.fonts import MarkFont
from registry.marks.layout import STAR_COLOUR, Scene, TextLine, lay_out, prepare, star_points
from registry.marks.sizing import DEFAULT_DPI, DEFAULT_SIZE_MM, validate_size

__all__ = ["render_svg", "svg_document"]


def _num(value: float) -> str:
    """A compact decimal: at most 3 places, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _num_fine(value: float) -> str:
    return f"{value:.6g}"


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _qr_runs(scene: Scene) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules: (column, row, length)."""
    runs = []
    for y, row in enumerate(scene.matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((start, y, x - start))
            else:
                x += 1
    return runs


def _line_outline(font: MarkFont, line: TextLine, pen: SVGPathPen) -> None:
    """Replay a line's glyphs into ``pen`` in font units, each glyph at its advance."""
    x = 0
    for char in line.text:
        glyph = font.glyph(char)
        if glyph.ops:
            replayRecording(glyph.ops, TransformPen(pen, (1, 0, 0, 1, x, 0)))
        x += glyph.advance


def svg_document(
    scene: Scene, font: MarkFont, *, width_mm: float, height: float, title: str
) -> bytes:
    """``scene`` as an SVG document ``width_mm`` wide, its viewBox ``height`` scene units tall.

    The QR path is in modules, placed and scaled by the scene's ``qr_x``,
    ``qr_y`` and ``module``; stars and text are in scene units.

    Raises:
        MarkFontMissingError: the font lacks a glyph of the scene's text.
    """
    mm_per_unit = width_mm / scene.width
    qr_d = "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in _qr_runs(scene))
    qr_place = (
        ""
        if (scene.qr_x, scene.qr_y, scene.module) == (0, 0, 1)
        else f' transform="matrix({_num_fine(scene.module)} 0 0 {_num_fine(scene.module)} '
        f'{_num(scene.qr_x)} {_num(scene.qr_y)})"'
    )
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_num(width_mm)}mm" height="{_num(height * mm_per_unit)}mm" '
        f'viewBox="0 0 {_num(scene.width)} {_num(height)}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_num(scene.width)}" height="{_num(height)}" fill="#fff"/>',
        f'<path shape-rendering="crispEdges" fill="#000"{qr_place} d="{qr_d}"/>',
    ]
    if scene.stars:
        star_d = "".join(
            "M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in star_points(*star)) + "Z"
            for star in scene.stars
        )
        parts.append(f'<path fill="{_hex(STAR_COLOUR)}" d="{star_d}"/>')
    for line in scene.lines:
        pen = SVGPathPen(None, ntos=lambda v: _num(float(v)))
        _line_outline(font, line, pen)
        k = line.size / font.units_per_em
        parts.append(
            f'<path fill="{_hex(line.colour)}" transform="matrix({_num_fine(k)} 0 0 '
            f'{_num_fine(-k)} {_num(line.x)} {_num(line.baseline)})" d="{pen.getCommands()}"/>'
        )
    parts.append("</svg>\n")
    return "\n".join(parts).encode()


def render_svg(*, url: str, number: str, level: str, size_mm: float = DEFAULT_SIZE_MM) -> bytes:
    """The mark as SVG, ``size_mm`` wide (width/height in mm, viewBox in QR modules).

    The QR is one ``<path>`` of module runs, the stars are polygons and the text is
    glyph outlines (fontTools' SVGPathPen), so no font is needed to show or print it.

    Raises:
        MarkSizeError: ``size_mm`` outside 10-100 mm.
        MarkInputError, MarkFontMissingError: as :func:`render_png`.
    """
    size_mm, _ = validate_size(size_mm, DEFAULT_DPI)
    font, matrix, words, number, host = prepare(url, number, level)
    n = len(matrix)
    scene = lay_out(
        font=font, width=n, module=1, qr_x=0, qr_y=0,
        matrix=matrix, words=words, number=number, host=host,
    )  # fmt: skip
    return svg_document(scene, font, width_mm=size_mm, height=scene.height, title=url)
