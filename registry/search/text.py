"""The folding of text for search: `registry.certificates.search_text`.

Kept under this name because a released migration imports it from here
(migrations are never edited); new code imports the module itself.
"""

from registry.certificates.search_text import (
    FACET_MARKS,
    MAX_KEY_CHARS,
    SHORT_TERM_MAX,
    fold,
    is_ascii_free,
    search_columns,
    split_terms,
)

__all__ = [
    "FACET_MARKS",
    "MAX_KEY_CHARS",
    "SHORT_TERM_MAX",
    "fold",
    "is_ascii_free",
    "search_columns",
    "split_terms",
]
