"""The QR mark: it decodes to exactly its URL at the smallest offered size, in every
format, and prints its words in real glyphs (PRODUCT.md §5).

The decoder is zxing-cpp, which shares no code with the `qrcode` package that
encodes. PDF pages are rasterised by PDFium (pypdfium2) and SVG by cairosvg:
independent renderers, not our own code.
"""

from __future__ import annotations

import io
import math
import re
from enum import StrEnum
from itertools import combinations
from pathlib import Path
from typing import Any, cast

import pytest
import qrcode.constants
import zxingcpp
from fontTools import subset
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageFilter, ImageStat

from registry.marks import (
    FONT_FILE,
    LEVELS,
    MIN_DPI,
    MIN_OFFERED_SIZE_MM,
    MIN_SIZE_MM,
    MarkCache,
    MarkFontMissingError,
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
from registry.marks import fonts as fonts_module
from registry.marks.fonts import mark_font
from registry.marks.layout import pixel_scene
from registry.marks.words import HEADLINE_ZH, MARK_TEXT

BASE = "https://verify.starmark.cn"
NUMBER = "SM-2026-GD-00001234-ABCDEFGHIJ"  # 30 characters
URL = f"{BASE}/v/{NUMBER}"
MIN_MM = MIN_SIZE_MM
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "marks"

ALL_LEVELS = list(LEVELS)
RGB = tuple[int, int, int]


def decode(image: Image.Image) -> list[str]:
    """Every QR text zxing-cpp finds, after compositing the image on white."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("RGB")
    return [r.text for r in zxingcpp.read_barcodes(flat)]


def png_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def raster_pdf(data: bytes, dpi: int) -> Image.Image:
    """The page rasterised by PDFium on the device grid of `dpi` (as a printer would)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    page = pdfium.PdfDocument(data)[0]
    # pypdfium2's render() rounds the bitmap size up and stretches the page to fill it;
    # ask PDFium directly for the page at exactly `dpi`.
    width = round(page.get_width() * dpi / 72)
    height = round(page.get_height() * dpi / 72)
    bitmap = pdfium.PdfBitmap.new_native(width, height, pdfium_c.FPDFBitmap_BGR)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
    pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, 0)
    image: Image.Image = bitmap.to_pil()
    return image


def raster_svg(data: bytes, dpi: int) -> Image.Image:
    import cairosvg  # dev dependency; needs Debian libcairo2 (installed by .ci/run)

    return png_image(cairosvg.svg2png(bytestring=data, dpi=dpi))


def svg_qr_bitmap(data: bytes) -> Image.Image:
    """The QR module path read back into a bitmap, 4 px a module (no rasteriser needed)."""
    text = data.decode()
    d = re.search(r'<path shape-rendering="crispEdges" fill="#000" d="([^"]*)"', text)
    assert d is not None, "the SVG has no QR module path"
    runs = [tuple(map(int, m)) for m in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d.group(1))]
    assert runs and "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in runs) == d.group(1)
    view = re.search(r'viewBox="0 0 (\d+) ', text)
    assert view is not None
    n = int(view.group(1))
    bitmap = Image.new("L", (n, n), 255)
    for x, y, w in runs:
        bitmap.paste(0, (x, y, x + w, y + 1))
    return bitmap.resize((n * 4, n * 4), Image.Resampling.NEAREST)


# ----------------------------------------------------------------------- URL and QR


def test_mark_url_is_base_v_upper_case_number() -> None:
    assert mark_url(public_base_url=BASE + "/", number=NUMBER.lower()) == URL
    assert mark_url(public_base_url=BASE, number=f" {NUMBER} ") == URL
    assert (
        mark_url(public_base_url="http://localhost:8000/registry/", number="abc-123")
        == "http://localhost:8000/registry/v/ABC-123"
    )


@pytest.mark.parametrize(
    ("base", "number"),
    [
        ("verify.starmark.cn", NUMBER),  # no scheme
        ("ftp://verify.starmark.cn", NUMBER),
        ("https://verify.starmark.cn/?x=1", NUMBER),
        (BASE, "ABC12"),  # too short
        (BASE, "A" * 41),
        (BASE, "ABC/123"),  # would change the path
        (BASE, "证书123456"),
    ],
)
def test_mark_url_refuses_what_a_phone_could_not_open(base: str, number: str) -> None:
    with pytest.raises(MarkInputError):
        mark_url(public_base_url=base, number=number)


@pytest.mark.parametrize(
    "base", [BASE, "https://starmark.example.org", "https://registry.example.com.cn/starmark"]
)
def test_qr_for_a_30_character_number_is_version_5_or_lower_at_m(base: str) -> None:
    url = mark_url(public_base_url=base, number=NUMBER)
    qr = build_qr(url=url)
    assert qr.version <= 5
    assert qr.error_correction in (
        qrcode.constants.ERROR_CORRECT_M,
        qrcode.constants.ERROR_CORRECT_Q,
    )
    assert qr.border == 4
    assert len(qr.get_matrix()) == 4 * qr.version + 17 + 2 * 4
    # nothing but the URL: the decoded text is exactly it
    assert decode(png_image(render_png(url=url, number=NUMBER, level="five_star"))) == [url]


def _ec_level(url: str) -> str:
    """The error correction level zxing-cpp reads from the mark's format information."""
    number = url.rsplit("/", 1)[1]
    mark = render_png(url=url, number=number, level="compliant", size_mm=25, dpi=300)
    results = zxingcpp.read_barcodes(png_image(mark))
    assert [r.text for r in results] == [url]
    return str(results[0].ec_level)


@pytest.mark.parametrize(
    ("number", "level"),
    [
        ("SMT-Q-2026-001", "Q"),  # 43 bytes: version 4 holds 62 at M, 46 at Q
        ("ABCDEF", "M"),  # 35 bytes: version 3 holds 42 at M, 32 at Q
        ("SM-2026-GD-00001234-ABCDEFGHIJ", "M"),
    ],
)
def test_error_correction_is_raised_to_q_when_the_version_stays_never_to_h(
    number: str, level: str
) -> None:
    url = mark_url(public_base_url="https://verify.starmark.cn", number=number)
    at_m = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    at_m.add_data(url)
    at_m.make(fit=True)
    qr = build_qr(url=url)
    assert qr.version == at_m.version  # the same module size at the same printed size
    assert _ec_level(url) == level


# ------------------------------------------------ decoding at the smallest offered size


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_png_decodes_at_smallest_size(level: str) -> None:
    data = render_png(url=URL, number=NUMBER, level=level, size_mm=MIN_MM, dpi=MIN_DPI)
    image = png_image(data)
    assert image.width >= round(MIN_MM / 25.4 * MIN_DPI)
    assert decode(image) == [URL]


def _offered_smallest(fmt: str, dpi: int) -> Image.Image:
    """The mark at the smallest offered size as a printer at ``dpi`` would put it on paper."""
    kwargs: dict[str, Any] = {"url": URL, "number": NUMBER, "level": "five_star"}
    if fmt == "svg":
        return raster_svg(render_svg(**kwargs, size_mm=MIN_OFFERED_SIZE_MM), dpi)
    if fmt == "pdf":
        return raster_pdf(render_pdf(**kwargs, size_mm=MIN_OFFERED_SIZE_MM, dpi=dpi), dpi)
    return png_image(render_png(**kwargs, size_mm=MIN_OFFERED_SIZE_MM, dpi=dpi))


@pytest.mark.parametrize("dpi", [MIN_DPI, 300])
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_smallest_offered_mark_decodes_after_blur_and_a_15_degree_tilt(fmt: str, dpi: int) -> None:
    image = _offered_smallest(fmt, dpi).convert("RGB")
    assert decode(image) == [URL]
    # A camera's defocus: a Gaussian blur of about a third of a module (1 px at 150 dpi,
    # where a module of this version-5 symbol is 3 px), then the phone held 15° askew.
    blurred = image.filter(ImageFilter.GaussianBlur(dpi / 150))
    tilted = blurred.rotate(
        15, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255)
    )
    assert decode(tilted) == [URL]


@pytest.mark.parametrize(
    ("size_mm", "dpi"), [(20, 150), (20, 600), (25, 600), (25, 300), (37.5, 1200)]
)
def test_png_modules_print_no_smaller_than_the_svg_s(size_mm: float, dpi: int) -> None:
    data = render_png(url=URL, number=NUMBER, level="four_star", size_mm=size_mm, dpi=dpi)
    image = png_image(data)
    scene = pixel_scene(url=URL, number=NUMBER, level="four_star", size_mm=size_mm, dpi=dpi)
    n = len(scene.matrix)
    svg = render_svg(url=URL, number=NUMBER, level="four_star", size_mm=size_mm).decode()
    assert f'width="{size_mm:g}mm"' in svg and f'viewBox="0 0 {n} ' in svg  # n modules across
    svg_module_mm = size_mm / n
    png_module_mm = scene.module / dpi * 25.4
    assert svg_module_mm <= png_module_mm < svg_module_mm + 25.4 / dpi
    # the QR with its quiet zone spans the PNG, as it spans the SVG
    assert image.width == n * scene.module
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.02)  # pHYs is per metre
    assert (
        f"printed at {dpi} dpi it is {image.width / dpi * 25.4:.2f} mm wide"
        in image.info["Description"]
    )


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_pdf_decodes_at_smallest_size(level: str) -> None:
    data = render_pdf(url=URL, number=NUMBER, level=level, size_mm=MIN_MM, dpi=MIN_DPI)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert decode(raster_pdf(data, MIN_DPI)) == [URL]


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_svg_decodes_at_smallest_size_when_rasterised(level: str) -> None:
    data = render_svg(url=URL, number=NUMBER, level=level, size_mm=MIN_MM)
    assert decode(raster_svg(data, MIN_DPI)) == [URL]


@pytest.mark.parametrize("level", ALL_LEVELS)
def test_svg_qr_path_is_the_symbol(level: str) -> None:
    data = render_svg(url=URL, number=NUMBER, level=level, size_mm=MIN_MM)
    assert decode(svg_qr_bitmap(data)) == [URL]


@pytest.mark.parametrize("number", ["ABC123", "A" * 40, "Z9-" * 13 + "Z"])
@pytest.mark.parametrize(("size_mm", "dpi"), [(MIN_MM, MIN_DPI), (11.3, 151), (25, 600)])
def test_every_format_decodes_for_short_and_long_numbers(
    number: str, size_mm: float, dpi: int
) -> None:
    url = mark_url(public_base_url=BASE, number=number)
    kwargs: dict[str, Any] = {
        "url": url,
        "number": number,
        "level": "four_star",
        "size_mm": size_mm,
    }
    assert decode(png_image(render_png(**kwargs, dpi=dpi))) == [url]
    assert decode(raster_pdf(render_pdf(**kwargs, dpi=dpi), dpi)) == [url]
    assert decode(raster_svg(render_svg(**kwargs), dpi)) == [url]


def test_pdf_decodes_when_not_rasterised_on_its_pixel_grid() -> None:
    # A press at another resolution than the one the page was snapped to.
    import pypdfium2 as pdfium

    data = render_pdf(url=URL, number=NUMBER, level="three_star", size_mm=MIN_MM, dpi=300)
    image = pdfium.PdfDocument(data)[0].render(scale=400 / 72).to_pil()
    assert decode(image) == [URL]


# ------------------------------------------------------------------- what a mark is


def test_png_is_opaque_at_its_physical_size_with_its_dpi() -> None:
    image = png_image(render_png(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600))
    assert 25 <= image.width / 600 * 25.4 <= 25 * 1.06  # modules rounded up to whole pixels
    assert image.height > image.width  # the QR on top, the text below
    assert image.info["dpi"] == pytest.approx((600, 600), abs=0.01)
    assert "transparency" not in image.info
    assert image.convert("RGBA").getchannel("A").getextrema() == (255, 255)
    assert image.convert("RGB").getpixel((0, 0)) == (255, 255, 255)


def test_png_qr_modules_are_whole_pixels_never_resampled() -> None:
    scene = pixel_scene(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600)
    image = png_image(render_png(url=URL, number=NUMBER, level="five_star")).convert("L")
    n, s = len(scene.matrix), int(scene.module)
    assert s >= 2
    qr = image.crop(
        (int(scene.qr_x), int(scene.qr_y), int(scene.qr_x) + n * s, int(scene.qr_y) + n * s)
    )
    colours = {value for _, value in qr.getcolors() or []}
    assert colours == {0, 255}  # pure black and white: no blended edge pixels
    expected = Image.frombytes(
        "L", (n, n), bytes(0 if dark else 255 for row in scene.matrix for dark in row)
    ).resize((n * s, n * s), Image.Resampling.NEAREST)
    assert ImageChops.difference(qr, expected).getbbox() is None


def _gold_runs(image: Image.Image) -> int:
    """How many separate gold shapes there are, counted along the columns."""
    rgb = image.convert("RGB")
    gold = [
        any(_is_gold(cast(RGB, rgb.getpixel((x, y)))) for y in range(rgb.height))
        for x in range(rgb.width)
    ]
    return sum(1 for x in range(len(gold)) if gold[x] and (x == 0 or not gold[x - 1]))


def _is_gold(pixel: RGB) -> bool:
    r, _, b = pixel
    return r > 120 and b < 60 and r - b > 90


@pytest.mark.parametrize(("level", "stars"), [(k, w.stars) for k, w in LEVELS.items()])
def test_mark_shows_the_stars_of_its_level(level: str, stars: int) -> None:
    image = png_image(render_png(url=URL, number=NUMBER, level=level, size_mm=25, dpi=300))
    assert _gold_runs(image) == stars
    svg = render_svg(url=URL, number=NUMBER, level=level).decode()
    star_paths = re.findall(r'<path fill="#a67c00" d="([^"]*)"', svg)
    assert sum(d.count("M") for d in star_paths) == stars  # one closed polygon a star


def test_a_starlevel_enum_member_is_accepted() -> None:
    class StarLevel(StrEnum):  # the shape of signing.scheme.StarLevel
        FIVE_STAR = "five_star"

    assert render_png(url=URL, number=NUMBER, level=StarLevel.FIVE_STAR) == render_png(
        url=URL, number=NUMBER, level="five_star"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": "six_star"}, "level"),
        ({"level": "FIVE_STAR"}, "level"),
        ({"number": "SM-2026-OTHER-NUMBER"}, "/v/SM-2026-OTHER-NUMBER"),
        ({"url": "javascript:alert(1)/v/" + NUMBER}, "http"),
        ({"url": BASE + "/v/" + NUMBER + "?x=/v/" + NUMBER}, "without query"),
    ],
)
def test_inputs_that_would_print_a_wrong_mark_are_refused(
    kwargs: dict[str, str], message: str
) -> None:
    args: dict[str, Any] = {"url": URL, "number": NUMBER, "level": "five_star", **kwargs}
    for render in (render_png, render_svg, render_pdf):
        with pytest.raises(MarkInputError, match=re.escape(message)):
            render(**args)


# ------------------------------------------------------------------- no tofu boxes


def test_font_subset_has_a_real_glyph_for_every_character_a_mark_prints() -> None:
    font = TTFont(str(font_path()))
    cmap = font.getBestCmap()
    glyphs = font.getGlyphSet()
    needed = set("".join(MARK_TEXT)) - {" "}
    assert set("售后服务认证达标级三星四五证书编号") <= needed
    for char in sorted(needed):
        assert ord(char) in cmap, f"no glyph for {char!r}"
        pen = BoundsPen(glyphs)
        glyphs[cmap[ord(char)]].draw(pen)
        assert pen.bounds is not None, f"the glyph of {char!r} is empty"
    # small enough to ship in the repository
    assert font_path().stat().st_size < 64 * 1024
    assert (font_path().parent / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE") >= 1


def _headline_cells(level: str, fmt: str) -> list[Image.Image]:
    """The six character cells of 售后服务认证 as rendered in the PNG, or the PDF page
    rasterised by PDFium on the same 600 dpi grid."""
    scene = pixel_scene(url=URL, number=NUMBER, level=level, size_mm=25, dpi=600)
    line = next(line for line in scene.lines if line.text == HEADLINE_ZH)
    font = mark_font()
    if fmt == "pdf":
        image = raster_pdf(render_pdf(url=URL, number=NUMBER, level=level, dpi=600), 600)
    else:
        image = png_image(render_png(url=URL, number=NUMBER, level=level, dpi=600))
    image = image.convert("L")
    cells, x = [], line.x
    for char in line.text:
        advance = font.glyph(char).advance / font.units_per_em * line.size
        box = (round(x), round(line.baseline - line.size), round(x + advance), round(line.baseline))
        cells.append(image.crop(box).resize((48, 48)))
        x += advance
    return cells


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_chinese_headline_renders_six_different_glyphs_not_boxes(fmt: str) -> None:
    cells = _headline_cells("three_star", fmt)
    assert len(cells) == 6
    for cell in cells:
        ink = sum(cell.histogram()[:128]) / (48 * 48)
        assert 0.15 < ink < 0.75, "a character cell is blank or solid"
    # tofu (or any fallback glyph) would make the cells look alike; real hanzi differ
    for a, b in combinations(cells, 2):
        assert ImageStat.Stat(ImageChops.difference(a, b)).mean[0] > 25


def test_level_words_differ_between_levels() -> None:
    def level_line(level: str) -> Image.Image:
        scene = pixel_scene(url=URL, number=NUMBER, level=level, size_mm=25, dpi=600)
        words = LEVELS[level]
        line = next(line for line in scene.lines if line.text.startswith(words.zh))
        image = png_image(render_png(url=URL, number=NUMBER, level=level)).convert("L")
        top = round(line.baseline - line.size)
        return image.crop((0, top, image.width, round(line.baseline))).resize((300, 40))

    lines = [level_line(level) for level in ALL_LEVELS]
    for a, b in combinations(lines, 2):
        assert ImageChops.difference(a, b).getbbox() is not None


def test_svg_needs_no_font_and_has_physical_size() -> None:
    svg = render_svg(url=URL, number=NUMBER, level="five_star", size_mm=25).decode()
    assert "<text" not in svg and "font" not in svg.lower()
    assert re.search(r'width="25mm" height="[\d.]+mm" viewBox="0 0 \d+ [\d.]+"', svg)
    assert len(svg) < 40_000
    # the text is outlines: one path a line, each with a flipped font-unit transform
    lines = pixel_scene(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600).lines
    assert svg.count('transform="matrix(') == len(lines) == 8  # host, 4 lines, number in 3


def test_pdf_page_is_the_mark_at_its_physical_size() -> None:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    data = render_pdf(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600)
    document = pdfium.PdfDocument(data)
    assert len(document) == 1
    page = document[0]
    width_mm = page.get_width() / 72 * 25.4
    png = png_image(render_png(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600))
    # the PNG's device grid: modules rounded up to whole pixels at 600 dpi
    assert width_mm == pytest.approx(png.width / 600 * 25.4, abs=25.4 / 600)
    assert 25 <= width_mm <= 25 * 1.06
    assert page.get_height() > page.get_width()  # the QR on top, the text below
    # glyph outlines, nothing to embed or substitute: no text objects, no font
    assert page.get_textpage().count_chars() == 0
    kinds = {obj.type for obj in page.get_objects()}
    assert pdfium_c.FPDF_PAGEOBJ_TEXT not in kinds
    assert pdfium_c.FPDF_PAGEOBJ_PATH in kinds
    # the same mark is the same file: no time of rendering in it
    metadata = document.get_metadata_dict()
    assert metadata["Title"] == URL
    assert metadata["CreationDate"] == ""
    assert render_pdf(url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600) == data


@pytest.mark.parametrize("dpi", [150, 600])
def test_pdf_rasterised_at_its_dpi_has_the_png_qr_grid(dpi: int) -> None:
    scene = pixel_scene(url=URL, number=NUMBER, level="four_star", size_mm=25, dpi=dpi)
    pdf = raster_pdf(
        render_pdf(url=URL, number=NUMBER, level="four_star", size_mm=25, dpi=dpi), dpi
    ).convert("L")
    png = png_image(
        render_png(url=URL, number=NUMBER, level="four_star", size_mm=25, dpi=dpi)
    ).convert("L")
    assert pdf.size == png.size
    n, s = len(scene.matrix), int(scene.module)
    box = (int(scene.qr_x), int(scene.qr_y), int(scene.qr_x) + n * s, int(scene.qr_y) + n * s)
    # module edges fall on device pixels: no pixel of the QR is half grey
    _, high = ImageChops.difference(pdf.crop(box), png.crop(box)).getextrema()
    assert high < 32


def test_missing_font_is_an_error_never_a_mark_without_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts_module, "_font_dirs", lambda: [tmp_path])
    with pytest.raises(MarkFontMissingError, match=re.escape(FONT_FILE)):
        font_path()
    for render in (render_png, render_svg, render_pdf):
        with pytest.raises(MarkFontMissingError):
            render(url=URL, number=NUMBER, level="five_star")
    with pytest.raises(MarkFontMissingError):
        MarkCache().render("png", url=URL, number=NUMBER, level="five_star")


def test_a_font_without_the_chinese_glyphs_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    font = TTFont(str(font_path()))
    options = subset.Options()
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(chr(c) for c in range(0x20, 0x7F)))
    subsetter.subset(font)
    font.save(str(tmp_path / FONT_FILE))
    monkeypatch.setattr(fonts_module, "_font_dirs", lambda: [tmp_path])
    with pytest.raises(MarkFontMissingError, match=r"lacks glyphs for '.*售"):
        render_png(url=URL, number=NUMBER, level="five_star")


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("size_mm", "dpi"),
    [
        (5, 600),
        (9.99, 600),
        (101, 600),
        (25, 100),
        (25, 149),
        (25, 1300),
        (math.nan, 600),
        (25, math.nan),
        (math.inf, 600),
        (-math.inf, 600),
        ("25", 600),
        (25, "600"),
        (None, 600),
        (True, 600),
        (25, 300.5),
    ],
)
def test_bad_sizes_are_refused_naming_the_ranges(size_mm: object, dpi: object) -> None:
    with pytest.raises(MarkSizeError, match=r"10 to 100.*150 to 1200"):
        validate_size(size_mm, dpi)
    with pytest.raises(MarkSizeError):
        render_png(url=URL, number=NUMBER, level="five_star", size_mm=size_mm, dpi=dpi)  # type: ignore[arg-type]
    with pytest.raises(MarkSizeError):
        render_mark("png", url=URL, number=NUMBER, level="five_star", size_mm=size_mm, dpi=dpi)  # type: ignore[arg-type]


def test_size_limits_are_inclusive() -> None:
    assert validate_size(10, 150) == (10.0, 150)
    assert validate_size(100, 1200) == (100.0, 1200)
    assert validate_size(25.5, 600.0) == (25.5, 600)
    image = png_image(render_png(url=URL, number=NUMBER, level="five_star", size_mm=100, dpi=1200))
    assert 100 <= image.width / 1200 * 25.4 <= 100 * 1.01


def test_a_url_too_long_for_the_smallest_mark_says_what_size_works() -> None:
    long_base = "https://" + "a" * 200 + ".example.cn"
    url = mark_url(public_base_url=long_base, number=NUMBER)
    with pytest.raises(MarkSizeError, match=r"use at least [\d.]+ mm at 150 dpi"):
        render_png(url=url, number=NUMBER, level="five_star", size_mm=10, dpi=150)
    assert decode(png_image(render_png(url=url, number=NUMBER, level="five_star"))) == [url]


# --------------------------------------------------------------------------- cache


def test_cache_serves_repeated_renders_from_memory() -> None:
    cache = MarkCache(maxsize=8)
    first = cache.render("png", url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600)
    again = cache.render(
        "png", url=URL, number=NUMBER.lower(), level="five_star", size_mm=25.0, dpi=600
    )
    assert again is first
    assert cache.cache_info().hits == 1
    other = cache.render("png", url=URL, number=NUMBER, level="five_star", size_mm=30, dpi=600)
    assert other != first
    svg_a = cache.render("svg", url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=300)
    svg_b = cache.render("svg", url=URL, number=NUMBER, level="five_star", size_mm=25, dpi=600)
    assert svg_a is svg_b  # an SVG has no resolution
    assert first == render_png(url=URL, number=NUMBER, level="five_star")
    with pytest.raises(MarkInputError):
        cache.render("gif", url=URL, number=NUMBER, level="five_star")  # type: ignore[arg-type]


def test_render_mark_returns_each_format() -> None:
    kwargs: dict[str, Any] = {
        "url": URL,
        "number": NUMBER,
        "level": "compliant",
        "size_mm": 20,
        "dpi": 300,
    }
    assert render_mark("png", **kwargs).startswith(b"\x89PNG\r\n\x1a\n")
    assert render_mark("svg", **kwargs).startswith(b"<svg ")
    assert render_mark("pdf", **kwargs).startswith(b"%PDF-")


# ------------------------------------------------------------------------ artifacts


def test_save_marks_for_a_person_to_look_at() -> None:
    """Writes test-artifacts/marks/{level}.{png,svg,pdf} at the default size."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for level in ALL_LEVELS:
        png = render_png(url=URL, number=NUMBER, level=level)
        (ARTIFACTS / f"{level}.png").write_bytes(png)
        (ARTIFACTS / f"{level}.svg").write_bytes(render_svg(url=URL, number=NUMBER, level=level))
        (ARTIFACTS / f"{level}.pdf").write_bytes(render_pdf(url=URL, number=NUMBER, level=level))
        assert decode(png_image(png)) == [URL]


def test_concurrent_renders_give_the_same_bytes() -> None:
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(level, size) for level in ALL_LEVELS for size in (12, 25)] * 3
    expected = {
        job: render_png(url=URL, number=NUMBER, level=job[0], size_mm=job[1], dpi=300)
        for job in set(jobs)
    }
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda job: render_png(
                    url=URL, number=NUMBER, level=job[0], size_mm=job[1], dpi=300
                ),
                jobs,
            )
        )
    assert results == [expected[job] for job in jobs]


# ------------------------------------------------------------ what a person reads


def _ink_rows(image: Image.Image, top: float, bottom: float) -> tuple[int, int] | None:
    """The first and last row with dark ink between ``top`` and ``bottom``."""
    band = image.convert("L").crop((0, math.floor(top), image.width, math.ceil(bottom)))
    box = band.point(lambda v: 255 if v < 128 else 0).getbbox()
    return None if box is None else (math.floor(top) + box[1], math.floor(top) + box[3])


@pytest.mark.parametrize("number", [NUMBER, "SMT-MARK-2026-0001", "ABC123", "Z9" * 20])
def test_the_number_is_at_least_1_5_mm_tall_at_the_smallest_size_offered(number: str) -> None:
    url = mark_url(public_base_url=BASE, number=number)
    size_mm, dpi = MIN_OFFERED_SIZE_MM, 600
    scene = pixel_scene(url=url, number=number, level="five_star", size_mm=size_mm, dpi=dpi)
    image = png_image(
        render_png(url=url, number=number, level="five_star", size_mm=size_mm, dpi=dpi)
    )
    label = next(i for i, line in enumerate(scene.lines) if line.text.startswith("证书编号"))
    number_lines = scene.lines[label + 1 :]
    # The whole number, broken after its hyphens where it is too long for one line.
    assert "".join(line.text for line in number_lines) == number
    for line in number_lines:
        assert line.x >= 0 and line.x + mark_font().advance_em(line.text) * line.size <= image.width
        rows = _ink_rows(image, line.baseline - line.size, line.baseline + 0.1 * line.size)
        assert rows is not None
        height_mm = (rows[1] - rows[0]) / dpi * 25.4
        assert height_mm >= 1.5, f"{line.text!r} is {height_mm:.2f} mm tall"


@pytest.mark.parametrize(
    ("base", "host"),
    [
        (BASE, "verify.starmark.cn"),
        ("http://localhost:8000", "localhost:8000"),
        ("https://Registry.Example.com.cn/starmark", "registry.example.com.cn"),
    ],
)
def test_the_registry_s_host_is_printed_under_the_qr(base: str, host: str) -> None:
    url = mark_url(public_base_url=base, number=NUMBER)
    scene = pixel_scene(url=url, number=NUMBER, level="three_star", size_mm=20, dpi=600)
    first = scene.lines[0]
    assert first.text == host
    qr_bottom = scene.qr_y + scene.module * len(scene.matrix)
    image = png_image(render_png(url=url, number=NUMBER, level="three_star", size_mm=20, dpi=600))
    star_top = min(cy - r for _, cy, r in scene.stars)
    rows = _ink_rows(image, qr_bottom, star_top)
    assert rows is not None, "no host printed between the QR and the stars"
    assert qr_bottom < rows[0] and (rows[1] - rows[0]) / 600 * 25.4 >= 0.8  # mm, readable
    # the same words in the vector formats: one outline path a text line
    svg = render_svg(url=url, number=NUMBER, level="three_star", size_mm=20).decode()
    assert svg.count('transform="matrix(') == len(scene.lines)
    assert decode(image) == [url]
