"""RFC 6962 §2.1 transcribed literally: the yardstick for `signing.merkle`.

Kept apart from the production code and written from the RFC text alone:
recursive, takes the whole list of inputs, slow (MTH of n leaves is O(n), a
proof O(n log n)). Nothing here shares code with `signing.merkle`, so a
mistake would have to be made twice, in two different shapes, to pass.
"""

from __future__ import annotations

import hashlib


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """RFC 6962 §2.1: "k is the largest power of two smaller than n (i.e., k < n <= 2k)"."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH(D[n]), RFC 6962 §2.1."""
    n = len(d)
    if n == 0:
        # "The hash of an empty list is the hash of an empty string"
        return _h(b"")
    if n == 1:
        # "The hash of a list with one entry (also known as a leaf hash)"
        return _h(b"\x00" + d[0])
    k = _k(n)
    return _h(b"\x01" + mth(d[0:k]) + mth(d[k:n]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 6962 §2.1.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, d[0:k]), mth(d[k:n])]
    return [*path(m - k, d[k:n]), mth(d[0:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]), RFC 6962 §2.1.2."""
    return _subproof(m, d, True)


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        # "SUBPROOF(m, D[m], true) = {}" and "SUBPROOF(m, D[m], false) = {MTH(D[m])}"
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, d[0:k], b), mth(d[k:n])]
    return [*_subproof(m - k, d[k:n], False), mth(d[0:k])]
