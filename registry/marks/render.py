"""The print-ready QR mark: PNG, SVG and PDF.

PRODUCT.md §5: the QR encodes ``{public_base_url}/v/{NUMBER}`` and nothing else
(error correction M, version 5 or lower for a 30-character number); under it
the mark shows the stars of the level, "售后服务认证" / "After-sales Service
Certified", the level in words and the certificate number. A mark must decode,
with an independent QR decoder, at its smallest offered size, to exactly the URL.

Pure rendering: no database, web framework or environment. The caller passes
the URL, the number, the level and the physical size. The one file this module
reads is the font subset shipped in ``static/fonts/`` (see its README.md), and
a missing font or glyph is an error (:class:`MarkFontMissingError`), never
tofu boxes.

Layout: the mark is ``size_mm`` wide; the QR (with its 4-module quiet zone) is
a square on top, the text block below, on an opaque white background. Every
format draws the same :class:`_Scene`, laid out once in its own units (pixels
for PNG and PDF, QR modules for SVG).
"""

from __future__ import annotations

import functools
import importlib.resources
import io
import math
import re
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
from fontTools.pens.basePen import BasePen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import RecordingPen, replayRecording
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont, TTLibError
from PIL import Image, ImageDraw, ImageFont

from signing.scheme import StarLevel

__all__ = [
    "FONT_FILE",
    "MAX_DPI",
    "MAX_SIZE_MM",
    "MIN_DPI",
    "MIN_SIZE_MM",
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

MarkFormat = Literal["png", "svg", "pdf"]

#: Physical limits offered to users. At the smallest, 10 mm at 150 dpi, the
#: mark is 59 px wide and a version-5 QR (45 modules with its quiet zone) gets
#: 1 px per module: the test suite checks that zxing-cpp still reads it.
MIN_SIZE_MM: Final = 10.0
MAX_SIZE_MM: Final = 100.0
MIN_DPI: Final = 150
MAX_DPI: Final = 1200
DEFAULT_SIZE_MM: Final = 25.0
DEFAULT_DPI: Final = 600

FONT_FILE: Final = "StarmarkMarkSans-Bold.otf"
#: The source tree's copy, used when ``registry.static`` is not installed.
REPO_FONT_DIR: Final = Path(__file__).resolve().parents[2] / "static" / "fonts"

#: PRODUCT.md §1: 6-40 characters of A-Z 0-9 and '-', upper case.
_NUMBER_RE: Final = re.compile(r"[A-Z0-9-]{6,40}")
#: What a QR payload any phone opens may contain: printable ASCII, no spaces.
_PRINTABLE_ASCII_RE: Final = re.compile(r"[!-~]+")
#: A bound on the work one request can ask for; a mark URL is far shorter.
_MAX_URL_LENGTH: Final = 300
_QUIET_ZONE_MODULES: Final = 4  # ISO/IEC 18004 §6.3.8: 4 modules on every side

_WHITE: Final = (255, 255, 255)
_QR_COLOUR: Final = (0, 0, 0)
_TEXT_COLOUR: Final = (0x1A, 0x1A, 0x1A)
#: A dark gold that keeps its contrast on white when printed in CMYK.
_STAR_COLOUR: Final = (0xA6, 0x7C, 0x00)

HEADLINE_ZH: Final = "售后服务认证"
HEADLINE_EN: Final = "After-sales Service Certified"
NUMBER_LABEL: Final = "证书编号 Certificate No."


@dataclass(frozen=True, slots=True)
class _LevelWords:
    stars: int
    zh: str
    en: str


#: Keys are the values of ``signing.scheme.StarLevel`` (a StrEnum), so a
#: ``StarLevel`` member works wherever a level string does; the words are its own.
LEVELS: Final[dict[str, _LevelWords]] = {
    level.value: _LevelWords(level.stars, level.zh, level.en) for level in StarLevel
}

#: Every fixed string a mark can print; the font subset must cover all of them
#: plus the characters of a certificate number.
MARK_TEXT: Final = (
    HEADLINE_ZH,
    HEADLINE_EN,
    NUMBER_LABEL,
    *(f"{w.zh} {w.en}" for w in LEVELS.values()),
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
)


class MarkError(ValueError):
    """The base of the errors about what a caller asked for."""


class MarkInputError(MarkError):
    """An unknown level, a malformed number or a URL that is not the number's mark URL."""


class MarkSizeError(MarkError):
    """A physical size or resolution outside what a mark can be printed at."""


class MarkFontMissingError(RuntimeError):
    """The mark's font subset is missing or lacks a glyph: an installation problem."""


# --------------------------------------------------------------------------- inputs


def validate_size(size_mm: object, dpi: object) -> tuple[float, int]:
    """Check a mark's width in millimetres and its resolution.

    Returns ``(size_mm, dpi)`` as ``(float, int)``.

    Raises:
        MarkSizeError: ``size_mm`` is not a number from 10 to 100, or ``dpi`` not
            a whole number from 150 to 1200 (NaN, infinities, booleans and strings
            included). The pixel count is therefore at most about 4,700 px wide.
    """
    allowed = (
        f"allowed: size_mm from {MIN_SIZE_MM:g} to {MAX_SIZE_MM:g} (the mark's width in mm), "
        f"dpi a whole number from {MIN_DPI} to {MAX_DPI}"
    )
    size = _finite(size_mm)
    if size is None or not MIN_SIZE_MM <= size <= MAX_SIZE_MM:
        raise MarkSizeError(f"size_mm={size_mm!r} is not allowed; {allowed}")
    resolution = _finite(dpi)
    if resolution is None or not resolution.is_integer() or not MIN_DPI <= resolution <= MAX_DPI:
        raise MarkSizeError(f"dpi={dpi!r} is not allowed; {allowed}")
    return size, int(resolution)


def _finite(value: object) -> float | None:
    """``value`` as a float when it is a finite int or float, else None."""
    # bool is an int, but dpi=True is a mistake, not 1 dpi; NaN would slip through a
    # range test written the other way round (every comparison with NaN is false).
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _normalise_number(number: str) -> str:
    if not isinstance(number, str):
        raise MarkInputError(f"certificate number must be a string, not {type(number).__name__}")
    upper = number.strip().upper()
    if not _NUMBER_RE.fullmatch(upper):
        raise MarkInputError(
            f"certificate number {number!r} is not 6-40 characters of A-Z, 0-9 and '-'"
        )
    return upper


def _level_words(level: str) -> _LevelWords:
    words = LEVELS.get(str(level)) if isinstance(level, str) else None
    if words is None:
        raise MarkInputError(f"level {level!r} is not one of {', '.join(LEVELS)}")
    return words


def mark_url(*, public_base_url: str, number: str) -> str:
    """The URL a mark's QR encodes: ``{base without trailing slash}/v/{NUMBER}``.

    Raises:
        MarkInputError: the base is not an absolute http(s) URL without query or
            fragment, or the number is not 6-40 characters of A-Z, 0-9 and '-'.
    """
    base = public_base_url.strip().rstrip("/")
    parts = urlsplit(base)
    if (
        not _PRINTABLE_ASCII_RE.fullmatch(base)
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
    ):
        raise MarkInputError(
            f"public base URL {public_base_url!r} must be an absolute http(s) URL of printable "
            "ASCII (an international domain in its xn-- form) without query or fragment"
        )
    return f"{base}/v/{_normalise_number(number)}"


def _check_url(url: str, number: str) -> None:
    # The QR and the printed number must name the same certificate.
    if not isinstance(url, str) or len(url) > _MAX_URL_LENGTH:
        raise MarkInputError(f"mark URL must be a string of at most {_MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if (
        not _PRINTABLE_ASCII_RE.fullmatch(url)
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or not parts.path.endswith(f"/v/{number}")
    ):
        raise MarkInputError(
            f"mark URL {url!r} is not an http(s) URL of printable ASCII ending in "
            f"/v/{number} without query or fragment; build it with mark_url()"
        )


def build_qr(*, url: str) -> qrcode.QRCode[Any]:
    """The QR symbol of a mark: error correction M, 4-module quiet zone, smallest version.

    One module is one unit (``box_size=1``); renderers scale it.
    """
    qr: qrcode.QRCode[Any] = qrcode.QRCode(
        version=None,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=1,
        border=_QUIET_ZONE_MODULES,
    )
    qr.add_data(url)
    qr.make(fit=True)
    return qr


# ---------------------------------------------------------------------------- font


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
class _Glyph:
    advance: int
    y_min: float
    y_max: float
    ops: Ops  # the outline, recorded once so drawing never touches fontTools' lazy tables


class _MarkFont:
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
        self.glyphs: dict[str, _Glyph] = {}
        for char in needed:
            name = cmap[ord(char)]
            recording = RecordingPen()
            glyph_set[name].draw(recording)
            bounds = BoundsPen(glyph_set)
            recording.replay(bounds)
            y_min, y_max = (bounds.bounds[1], bounds.bounds[3]) if bounds.bounds else (0.0, 0.0)
            self.glyphs[char] = _Glyph(hmtx[name][0], y_min, y_max, list(recording.value))
        self._pil_lock = threading.Lock()

    def glyph(self, char: str) -> _Glyph:
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

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one _MarkFont per font file, kept for the process
    def pil(self, size_px: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(
            str(self.path), size=size_px, layout_engine=ImageFont.Layout.BASIC
        )

    def draw_text(self, draw: ImageDraw.ImageDraw, line: _TextLine) -> None:
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
def _load_font(path: Path) -> _MarkFont:
    return _MarkFont(path)


def _mark_font() -> _MarkFont:
    return _load_font(font_path())


# -------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class _TextLine:
    text: str
    size: float  # em size, scene units
    x: float  # origin of the first glyph
    baseline: float
    colour: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Scene:
    """A mark laid out in abstract units, y down; every backend draws this."""

    width: float
    height: float
    qr_x: float
    qr_y: float
    module: float
    matrix: tuple[tuple[bool, ...], ...]
    stars: tuple[tuple[float, float, float], ...]  # centre x, centre y, outer radius
    lines: tuple[_TextLine, ...]


# Layout measures are in hundredths of the mark's width ("u" below).
_STAR_RADIUS = 4.6
_STAR_PITCH = 10.6
_GAP = 2.6
_MARGIN_BOTTOM = 5.0


def _layout(
    *, font: _MarkFont, width: float, module: float, qr_x: float, qr_y: float,
    matrix: tuple[tuple[bool, ...], ...], words: _LevelWords, number: str,
) -> _Scene:  # fmt: skip
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
    lines: list[_TextLine] = []
    for text, largest, widest, after in specs:
        advance = font.advance_em(text)
        size = min(largest * u, widest * u / advance)
        low, high = font.ink_em(text)
        baseline = y + high * size
        colour = _TEXT_COLOUR
        lines.append(_TextLine(text, size, width / 2 - advance * size / 2, baseline, colour))
        y = baseline - low * size + after * u
    return _Scene(
        width=width,
        height=y + _MARGIN_BOTTOM * u,
        qr_x=qr_x,
        qr_y=qr_y,
        module=module,
        matrix=matrix,
        stars=tuple(stars),
        lines=tuple(lines),
    )


def _star_points(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A regular five-pointed star, point up (inner radius r·sin18°/sin54°)."""
    inner = r * math.sin(math.radians(18)) / math.sin(math.radians(54))
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else inner
        angle = math.radians(-90 + 36 * k)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _prepare(
    url: str, number: str, level: str
) -> tuple[_MarkFont, tuple[tuple[bool, ...], ...], _LevelWords, str]:
    number = _normalise_number(number)
    _check_url(url, number)
    words = _level_words(level)
    font = _mark_font()
    matrix = tuple(tuple(row) for row in build_qr(url=url).get_matrix())
    return font, matrix, words, number


def _pixel_scene(*, url: str, number: str, level: str, size_mm: float, dpi: int) -> _Scene:
    """The scene in device pixels at ``dpi``: QR modules are whole pixels."""
    size_mm, dpi = validate_size(size_mm, dpi)
    font, matrix, words, number = _prepare(url, number, level)
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
    return _layout(
        font=font, width=width_px, module=scale, qr_x=offset, qr_y=offset,
        matrix=matrix, words=words, number=number,
    )  # fmt: skip


# ------------------------------------------------------------------------------ PNG


# The PNG is 8-bit indexed: it encodes about three times faster than RGB and is half the
# size. Indices 0-127 are a grey ramp from black to white (the QR and the neutral text,
# antialiased); 128-255 a ramp from white to the stars' gold (the stars, antialiased).
_GREY_LUT: Final = [v >> 1 for v in range(256)]
_GOLD_LUT: Final = [128 + (v >> 1) for v in range(256)]
_PALETTE: Final = [
    *(round(i * 255 / 127) for i in range(128) for _ in range(3)),
    *(round(255 + (c - 255) * j / 127) for j in range(128) for c in _STAR_COLOUR),
]


def _raster(scene: _Scene, font: _MarkFont) -> Image.Image:
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


def _star_coverage(scene: _Scene) -> tuple[tuple[int, int], Image.Image]:
    """The star row's box origin and its antialiased coverage (0 none, 255 full)."""
    # Pillow's polygons are not antialiased: draw the row 4x larger and box-filter it down.
    ss = 4
    top = math.floor(min(cy - r for _, cy, r in scene.stars))
    bottom = math.ceil(max(cy + r for _, cy, r in scene.stars))
    width = int(scene.width)
    mask = Image.new("L", (width * ss, (bottom - top) * ss), 0)
    draw = ImageDraw.Draw(mask)
    for cx, cy, r in scene.stars:
        draw.polygon([(x * ss, (y - top) * ss) for x, y in _star_points(cx, cy, r)], fill=255)
    return (0, top), mask.reduce(ss)


def render_png(
    *,
    url: str,
    number: str,
    level: str,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """The mark as an opaque RGB PNG, ``size_mm`` wide at ``dpi``, the DPI in its pHYs chunk.

    The QR is scaled by a whole number of pixels a module and never resampled.

    Raises:
        MarkSizeError: see :func:`validate_size`, or the URL's QR does not fit.
        MarkInputError: an unknown level, a malformed number, or ``url`` not ending
            in ``/v/{NUMBER}``.
        MarkFontMissingError: the font subset is missing or incomplete.
    """
    size_mm, dpi = validate_size(size_mm, dpi)
    scene = _pixel_scene(url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
    image = _raster(scene, _mark_font())
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), compress_level=6)
    return out.getvalue()


# ------------------------------------------------------------------------------ SVG


def _num(value: float) -> str:
    """A compact decimal: at most 3 places, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _qr_runs(scene: _Scene) -> list[tuple[int, int, int]]:
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


def _hex(colour: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _line_outline(font: _MarkFont, line: _TextLine, pen: BasePen | SVGPathPen) -> None:
    """Replay a line's glyphs into ``pen`` in font units, each glyph at its advance."""
    x = 0
    for char in line.text:
        glyph = font.glyph(char)
        if glyph.ops:
            replayRecording(glyph.ops, TransformPen(pen, (1, 0, 0, 1, x, 0)))
        x += glyph.advance


def render_svg(*, url: str, number: str, level: str, size_mm: float = DEFAULT_SIZE_MM) -> bytes:
    """The mark as SVG, ``size_mm`` wide (width/height in mm, viewBox in QR modules).

    The QR is one ``<path>`` of module runs, the stars are polygons and the text is
    glyph outlines (fontTools' SVGPathPen), so no font is needed to show or print it.

    Raises:
        MarkSizeError: ``size_mm`` outside 10-100 mm.
        MarkInputError, MarkFontMissingError: as :func:`render_png`.
    """
    size_mm, _ = validate_size(size_mm, DEFAULT_DPI)
    font, matrix, words, number = _prepare(url, number, level)
    n = len(matrix)
    scene = _layout(
        font=font, width=n, module=1, qr_x=0, qr_y=0, matrix=matrix, words=words, number=number
    )
    mm_per_unit = size_mm / scene.width
    height = scene.height
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_num(size_mm)}mm" height="{_num(height * mm_per_unit)}mm" '
        f'viewBox="0 0 {_num(scene.width)} {_num(height)}">',
        f"<title>{escape(url)}</title>",
        f'<rect width="{_num(scene.width)}" height="{_num(height)}" fill="#fff"/>',
        '<path shape-rendering="crispEdges" fill="#000" d="'
        + "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in _qr_runs(scene))
        + '"/>',
    ]
    if scene.stars:
        star_d = "".join(
            "M" + "L".join(f"{_num(x)} {_num(y)}" for x, y in _star_points(*star)) + "Z"
            for star in scene.stars
        )
        parts.append(f'<path fill="{_hex(_STAR_COLOUR)}" d="{star_d}"/>')
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


def _num_fine(value: float) -> str:
    return f"{value:.6g}"


# ------------------------------------------------------------------------------ PDF


class _PdfPathPen(BasePen):  # type: ignore[misc]
    """Glyph outlines as PDF path operators (ISO 32000-1 §8.5.2)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.ops: list[str] = []

    def _pt(self, *points: tuple[float, float]) -> str:
        return " ".join(f"{_num(x)} {_num(y)}" for x, y in points)

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{self._pt(pt)} m")

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{self._pt(pt)} l")

    def _curveToOne(
        self, pt1: tuple[float, float], pt2: tuple[float, float], pt3: tuple[float, float]
    ) -> None:
        self.ops.append(f"{self._pt(pt1, pt2, pt3)} c")

    def _closePath(self) -> None:
        self.ops.append("h")


def _pdf_rgb(colour: tuple[int, int, int]) -> str:
    return " ".join(_num(c / 255) for c in colour) + " rg"


def render_pdf(
    *,
    url: str,
    number: str,
    level: str,
    size_mm: float = DEFAULT_SIZE_MM,
    dpi: int = DEFAULT_DPI,
) -> bytes:
    """The mark on a one-page PDF whose page is the mark at its physical size.

    Vector, not Pillow's PDF writer (which would store the image as lossy JPEG):
    filled module rectangles, star polygons and glyph outlines, no embedded font.
    ``dpi`` is the resolution of the press it is meant for: the QR module size is
    snapped to whole device pixels at that resolution, so the page rasterised at
    ``dpi`` has exactly the pixel grid of :func:`render_png`.

    Raises:
        MarkSizeError, MarkInputError, MarkFontMissingError: as :func:`render_png`.
    """
    size_mm, dpi = validate_size(size_mm, dpi)
    scene = _pixel_scene(url=url, number=number, level=level, size_mm=size_mm, dpi=dpi)
    font = _mark_font()
    pt_per_px = 72 / dpi
    page_w, page_h = scene.width * pt_per_px, math.ceil(scene.height) * pt_per_px
    ops = [
        "1 1 1 rg",
        f"0 0 {_num(page_w)} {_num(page_h)} re f",
        # From here on: pixel units, origin top left, y down, as in the scene.
        f"{_num_fine(pt_per_px)} 0 0 {_num_fine(-pt_per_px)} 0 {_num(page_h)} cm",
        _pdf_rgb(_QR_COLOUR),
    ]
    m = scene.module
    ops += [
        f"{_num(scene.qr_x + x * m)} {_num(scene.qr_y + y * m)} {_num(w * m)} {_num(m)} re"
        for x, y, w in _qr_runs(scene)
    ]
    ops.append("f")
    if scene.stars:
        ops.append(_pdf_rgb(_STAR_COLOUR))
        for star in scene.stars:
            points = _star_points(*star)
            ops.append(f"{_num(points[0][0])} {_num(points[0][1])} m")
            ops += [f"{_num(x)} {_num(y)} l" for x, y in points[1:]]
            ops.append("h")
        ops.append("f")
    for line in scene.lines:
        k = line.size / font.units_per_em
        pen = _PdfPathPen()
        _line_outline(font, line, pen)
        ops += [
            "q",
            _pdf_rgb(line.colour),
            f"{_num_fine(k)} 0 0 {_num_fine(-k)} {_num(line.x)} {_num(line.baseline)} cm",
            *pen.ops,
            "f",
            "Q",
        ]
    return _pdf_document(
        content=zlib.compress("\n".join(ops).encode("ascii"), 9),
        width_pt=page_w,
        height_pt=page_h,
        title=url,
    )


def _pdf_document(*, content: bytes, width_pt: float, height_pt: float, title: str) -> bytes:
    """A minimal PDF 1.4 file with one page (ISO 32000-1 §7.5: header, objects, xref, trailer)."""
    title_literal = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_num(width_pt)} {_num(height_pt)}] "
            "/Resources << >> /Contents 4 0 R >>"
        ).encode(),
        f"<< /Length {len(content)} /Filter /FlateDecode >>\nstream\n".encode()
        + content
        + b"\nendstream",
        f"<< /Title ({title_literal}) /Producer (Starmark) >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


# ---------------------------------------------------------------------------- cache


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
