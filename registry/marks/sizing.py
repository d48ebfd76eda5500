"""How large a mark may be printed: its width in millimetres and the press resolution.

Two ranges: what the renderer can draw so that the QR still decodes
(:func:`validate_size`, from 10 mm), and what the routes and ``starmark mark``
offer, where a phone camera still reads it reliably and the words under the QR
are readable (:func:`check_mark_size`, from 20 mm).
"""

from __future__ import annotations

import math
from typing import Final

from registry.errors import FieldError, InvalidInputError
from registry.marks.errors import MarkSizeError

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_SIZE_MM",
    "MAX_DPI",
    "MAX_SIZE_MM",
    "MIN_DPI",
    "MIN_OFFERED_SIZE_MM",
    "MIN_SIZE_MM",
    "check_mark_size",
    "validate_size",
]

#: What the renderer draws. At the smallest, 10 mm at 150 dpi, the mark is 59 px
#: wide and a version-5 QR (45 modules with its quiet zone) needs 1.3 px a module,
#: rounded up to 2 (`layout.pixel_scene`): the test suite checks that zxing-cpp
#: still reads it.
MIN_SIZE_MM: Final = 10.0
MAX_SIZE_MM: Final = 100.0
MIN_DPI: Final = 150
MAX_DPI: Final = 1200
DEFAULT_SIZE_MM: Final = 25.0
DEFAULT_DPI: Final = 600

#: The smallest mark the routes and `starmark mark` offer. A camera simulation
#: (50 random distortions a cell: tilt, blur, JPEG, low contrast, 150-300 dpi;
#: zxing-cpp, zbar, OpenCV and WeChat's decoder; issue 13) decoded a version-4
#: mark at 94-100% at 25 mm, 66-98% at 20 mm and 32-84% at 15 mm (0-32% when the
#: camera resolves only 200 dpi). Below 20 mm a mark is for close scans only, so
#: it is not offered (docs/verification-page.md).
MIN_OFFERED_SIZE_MM: Final = 20.0


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


def check_mark_size(size_mm: float, dpi: int) -> tuple[float, int]:
    """A mark size the routes and `starmark mark` offer: 20-100 mm, 150-1200 dpi.

    Raises:
        InvalidInputError: naming `size_mm` or `dpi` (nothing is rendered); below
            20 mm it says why (a phone reads it from close up only).
    """
    allowed = f"a width in millimetres from {MIN_OFFERED_SIZE_MM:g} to {MAX_SIZE_MM:g}"
    if 0 < size_mm < MIN_OFFERED_SIZE_MM:
        why = (
            f"{allowed}: a mark under {MIN_OFFERED_SIZE_MM:g} mm is for close scans only "
            "(phone cameras often fail to read it from a normal distance)"
        )
        raise InvalidInputError(
            f"size_mm={size_mm!r} is not offered: {why}", errors=[FieldError("size_mm", why)]
        )
    # Written so that NaN fails too (every comparison with NaN is false).
    if not MIN_OFFERED_SIZE_MM <= size_mm <= MAX_SIZE_MM:
        raise InvalidInputError(
            f"size_mm={size_mm!r} is not allowed: {allowed}",
            errors=[FieldError("size_mm", allowed)],
        )
    try:
        return validate_size(size_mm, dpi)
    except MarkSizeError as e:
        raise InvalidInputError(
            str(e), errors=[FieldError("dpi", f"a whole number from {MIN_DPI} to {MAX_DPI}")]
        ) from e
