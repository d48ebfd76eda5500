"""The QR symbol of a mark and the one URL it may encode (PRODUCT §5).

The QR encodes ``{public_base_url}/v/{NUMBER}`` and nothing else: the smallest
version that holds it at error correction M (version 5 or lower for a
30-character number), then Q when Q fits in that same version (segno calls this
``boost_error``). Never H: a mark's damage is blur and tilt, which Q already
covers, and H would need a larger symbol at the same printed size.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import urlsplit

import qrcode
import qrcode.constants
import qrcode.exceptions

from registry.marks.errors import MarkInputError

__all__ = ["build_qr", "check_url", "host_of", "mark_url", "normalise_number"]

#: PRODUCT.md §1: 6-40 characters of A-Z 0-9 and '-', upper case.
_NUMBER_RE: Final = re.compile(r"[A-Z0-9-]{6,40}")
#: What a QR payload any phone opens may contain: printable ASCII, no spaces.
_PRINTABLE_ASCII_RE: Final = re.compile(r"[!-~]+")
#: A bound on the work one request can ask for; a mark URL is far shorter.
_MAX_URL_LENGTH: Final = 300
_QUIET_ZONE_MODULES: Final = 4  # ISO/IEC 18004 §6.3.8: 4 modules on every side


def normalise_number(number: str) -> str:
    """A certificate number as a mark prints it: trimmed, upper case.

    Raises:
        MarkInputError: not a string of 6-40 characters of A-Z, 0-9 and '-'.
    """
    if not isinstance(number, str):
        raise MarkInputError(f"certificate number must be a string, not {type(number).__name__}")
    upper = number.strip().upper()
    if not _NUMBER_RE.fullmatch(upper):
        raise MarkInputError(
            f"certificate number {number!r} is not 6-40 characters of A-Z, 0-9 and '-'"
        )
    return upper


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
    return f"{base}/v/{normalise_number(number)}"


def check_url(url: str, number: str) -> None:
    """Check that ``url`` is the mark URL of the canonical ``number``.

    Raises:
        MarkInputError: ``url`` is too long, not http(s) printable ASCII, has a
            query or fragment, or does not end in ``/v/{number}``.
    """
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


def host_of(url: str) -> str:
    """The host a person types to reach the registry: ``verify.example.cn`` (with a port
    when the URL names one), in lower case as a browser shows it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address is written in brackets (RFC 3986 §3.2.2)
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port is not None else host


def _symbol(url: str, *, version: int | None, error_correction: int) -> qrcode.QRCode[Any]:
    qr: qrcode.QRCode[Any] = qrcode.QRCode(
        version=version, error_correction=error_correction, box_size=1, border=_QUIET_ZONE_MODULES
    )
    qr.add_data(url)
    qr.make(fit=version is None)
    return qr


def build_qr(*, url: str) -> qrcode.QRCode[Any]:
    """The QR symbol of a mark, 4-module quiet zone: the smallest version at error
    correction M, raised to Q when Q fits in that version (never to H).

    One module is one unit (``box_size=1``); renderers scale it.
    """
    at_m = _symbol(url, version=None, error_correction=qrcode.constants.ERROR_CORRECT_M)
    try:
        # The same number of modules, so the same printed module size, and more of
        # the symbol may be blurred or scratched away (ISO/IEC 18004 §7.5.1: Q ~25%).
        return _symbol(url, version=at_m.version, error_correction=qrcode.constants.ERROR_CORRECT_Q)
    except qrcode.exceptions.DataOverflowError:
        return at_m
