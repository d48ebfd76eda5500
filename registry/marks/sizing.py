"""How large a mark may be printed: its width in millimetres and the press resolution."""

from __future__ import annotations

import math
from typing import Final

from registry.marks.errors import MarkSizeError

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_SIZE_MM",
    "MAX_DPI",
    "MAX_SIZE_MM",
    "MIN_DPI",
    "MIN_SIZE_MM",
    "validate_size",
]

#: Physical limits offered to users. At the smallest, 10 mm at 150 dpi, the
#: mark is 59 px wide and a version-5 QR (45 modules with its quiet zone) gets
#: 1 px per module: the test suite checks that zxing-cpp still reads it.
MIN_SIZE_MM: Final = 10.0
MAX_SIZE_MM: Final = 100.0
MIN_DPI: Final = 150
MAX_DPI: Final = 1200
DEFAULT_SIZE_MM: Final = 25.0
DEFAULT_DPI: Final = 600


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
