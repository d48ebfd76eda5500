"""How large a mark may be printed: its width in millimetres and the press resolution.

Two ranges: what the renderer can draw so that the QR still decodes
(:func:`validate_size`, from 10 mm), and what the routes and ``starmark mark``
offer, where the words under the QR must still be readable
(:func:`check_mark_size`, from 15 mm).
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

#: Physical limits offered to users. At the smallest, 10 mm at 150 dpi, the
#: mark is 59 px wide and a version-5 QR (45 modules with its quiet zone) gets
#: 1 px per module: the test suite checks that zxing-cpp still reads it.
MIN_SIZE_MM: Final = 10.0
MAX_SIZE_MM: Final = 100.0
MIN_DPI: Final = 150
MAX_DPI: Final = 1200
DEFAULT_SIZE_MM: Final = 25.0
DEFAULT_DPI: Final = 600

#: The smallest mark the routes and `starmark mark` offer. The renderer goes down
#: to 10 mm, where the QR still decodes, but the words under it are part of the
#: mark (PRODUCT §5) and must be read to spot a copied mark: measured on the
#: rendered mark, the certificate number is 0.5 mm tall at 10 mm (unreadable
#: without a loupe), 0.8 mm at 15 mm (the smallest print on packaging people
#: still read) and 1.3 mm at the default 25 mm (docs/verification-page.md).
MIN_OFFERED_SIZE_MM: Final = 15.0


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
    """A mark size the routes and `starmark mark` offer: 15-100 mm, 150-1200 dpi.

    Raises:
        InvalidInputError: naming `size_mm` or `dpi` (nothing is rendered).
    """
    allowed = f"a width in millimetres from {MIN_OFFERED_SIZE_MM:g} to {MAX_SIZE_MM:g}"
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
