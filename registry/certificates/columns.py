"""The columns that copy a signed revision, so that lists and filters find candidates.

One truth (PRODUCT §3): these copies are indexes, never answers. The writer
fills them from the payload it signs (`certificate_columns`); the read side
(`registry.verification`) recomputes them from the verified payload on every
read and answers `signature_invalid` when a stored copy differs.
"""

from __future__ import annotations

from typing import Any, Final

from registry.certificates.search_text import search_columns
from signing.documents import CertificatePayload

__all__ = ["COPIED_COLUMNS", "certificate_columns"]

#: The `Certificate` columns `certificate_columns` fills: written by every writer,
#: compared with the verified payload by the read side.
COPIED_COLUMNS: Final = (
    "holder_name",
    "holder_name_en",
    "uscc",
    "province",
    "level",
    "score",
    "scope_zh",
    "scope_en",
    "issued_on",
    "valid_from",
    "valid_until",
    "current_revision",
    "name_key",
    "name_en_key",
    "scope_key",
)


def certificate_columns(payload: CertificatePayload) -> dict[str, Any]:
    """The `Certificate` columns that copy a revision's fields, by column name.

    The one place that maps a signed payload to queryable columns: issuing,
    revising, bulk import and the read side's check of the copies all use it.
    """
    return {
        "holder_name": payload.holder.name,
        "holder_name_en": payload.holder.name_en,
        "uscc": payload.holder.uscc,
        "province": payload.holder.uscc[2:4],
        "level": payload.level.value,
        "score": payload.score,
        "scope_zh": payload.scope.zh,
        "scope_en": payload.scope.en,
        "issued_on": payload.issued_on,
        "valid_from": payload.valid_from,
        "valid_until": payload.valid_until,
        "current_revision": payload.revision,
        # The text as search reads it (issue 5): folded names and scope.
        **search_columns(
            holder_name=payload.holder.name,
            holder_name_en=payload.holder.name_en,
            scope_zh=payload.scope.zh,
            scope_en=payload.scope.en,
        ),
    }
