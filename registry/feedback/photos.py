"""A reporter's photo, decoded and drawn again so that nothing but pixels survives.

Pillow decodes the upload; the pixels are written into a new JPEG (photos) or
PNG (images with transparency or a palette), with no EXIF, GPS, ICC, XMP or
comment, and nothing appended after the image's end. The EXIF orientation is
applied to the pixels first, so a phone's portrait photo stays upright.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "Photo", "PhotoError", "reencode_photo"]

#: PRODUCT §4: a photo of at most 5 MB.
MAX_PHOTO_BYTES: Final = 5 * 1024 * 1024
#: A decompression bomb guard: a 5 MB file may not unpack into more than this
#: (about 40 megapixels, a large phone camera's photo).
MAX_PHOTO_PIXELS: Final = 40_000_000
#: The formats a phone or a browser sends; anything else is refused before decoding.
ACCEPTED_FORMATS: Final = ("BMP", "GIF", "JPEG", "PNG", "WEBP")
#: The long side of the stored picture: enough to read a label or a receipt.
MAX_SIDE: Final = 2560


class PhotoError(ValueError):
    """The upload is not a photo the registry keeps; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        #: `too_large`, `not_an_image` or `too_many_pixels`.
        self.code = code


@dataclass(frozen=True)
class Photo:
    data: bytes
    #: `image/jpeg` or `image/png`.
    media_type: str


def reencode_photo(data: bytes) -> Photo:
    """Decode `data` with Pillow and encode its pixels again, without any metadata.

    Raises:
        PhotoError: over 5 MB, not an image Pillow decodes, or too many pixels.
    """
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError("too_large", "the photo is larger than 5 MB")
    Image.init()  # every format plugin registered, so that `formats=` can name them
    try:
        with warnings.catch_warnings():
            # Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises
            # above; the registry refuses at its own, lower cap.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
                width, height = image.size
                if width * height > MAX_PHOTO_PIXELS:
                    raise PhotoError("too_many_pixels", "the photo has too many pixels")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise PhotoError("too_many_pixels", "the photo has too many pixels") from e
    except UnidentifiedImageError as e:
        raise PhotoError("not_an_image", "the file is not an image") from e
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        # A truncated or damaged image: Pillow raises these while decoding.
        raise PhotoError("not_an_image", "the file is not an image that can be read") from e
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    transparent = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    # A fresh image holds the pixels only: `info` (EXIF, ICC, XMP, comments) stays behind.
    out = io.BytesIO()
    if transparent:
        pixels = upright.convert("RGBA")
        clean = Image.new("RGBA", pixels.size)
        clean.paste(pixels)
        clean.save(out, format="PNG", optimize=True)
        return Photo(out.getvalue(), "image/png")
    pixels = upright.convert("RGB")
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    clean.save(out, format="JPEG", quality=85)
    return Photo(out.getvalue(), "image/jpeg")
