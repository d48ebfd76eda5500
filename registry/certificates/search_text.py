"""How text is normalised for search (docs/search.md).

Pure functions, used on both sides of the index: `certificate_columns()` stores
`search_columns(...)` for every revision written (issue, revise, import), and
the search service folds the query with the same `fold`. Whatever is stored
and whatever is asked are therefore compared in one form.

The rules (issue 5, "Chinese as people type it"):

- NFKC, so the full-width ＡＢＣ１２３ and （） of Chinese input methods equal
  ABC123 and (), and the ideographic space U+3000 is a space;
- Unicode case folding (NFKC_Casefold), so USCCs, numbers and English names
  match in any case;
- control and format characters (zero-width spaces pasted from web pages, NUL)
  are dropped, any run of white space becomes one space.

Chinese is searched as substrings, never as words: a Chinese company name has
no spaces, and 海尔 must be found inside 青岛海尔智家股份有限公司. Terms of three
characters or more are found through trigram indexes (SQLite FTS5 `trigram`,
PostgreSQL `pg_trgm`); shorter terms ("short terms") cannot be, and each
engine has its own way for them (registry/search/services.py). A short term is
looked for in the names, and in the scope only when it has no ASCII character:
one or two Latin letters or digits say nothing about a scope ("re", "in"),
while 空调 or 维修 do.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "FACET_MARKS",
    "MAX_KEY_CHARS",
    "SHORT_TERM_MAX",
    "fold",
    "is_ascii_free",
    "search_columns",
    "split_terms",
]

#: Folded names are kept to this many characters (see `search_columns`).
MAX_KEY_CHARS: Final = 200
#: Terms up to this many characters are short: a trigram index cannot see them.
SHORT_TERM_MAX: Final = 2

#: Facet marks: the first character of the filter tokens (level, province,
#: body, stored status) that SQLite keeps in its full-text index, so that a
#: query and its filters are intersected inside one index (docs/search.md).
#: The migration's triggers build them in SQL; the search service, in Python.
FACET_MARKS: Final = {"level": "\ue001", "province": "\ue002", "status": "\ue003", "body": "\ue004"}

_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs"})
_SPACES: Final = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """The searchable form of `text`: NFKC, case-folded, controls dropped, spaces collapsed."""
    if not text:
        return ""
    # NFKC_Casefold: case folding can leave a string that is not NFKC (e.g.
    # U+01F0), so normalise on both sides of it.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    if folded.isprintable():
        # No control, format or surrogate character, and no white space but
        # U+0020 (`str.isprintable`): nothing to drop character by character.
        return _SPACES.sub(" ", folded).strip()
    kept = "".join(
        " " if ch.isspace() else "" if unicodedata.category(ch) in _CONTROL_CATEGORIES else ch
        for ch in folded
    )
    return _SPACES.sub(" ", kept).strip()


def split_terms(folded_query: str) -> tuple[str, ...]:
    """The terms of a folded query: split at spaces, each kept once, in order.

    Every term must be found (AND); a term is a literal substring, whatever
    characters it holds (no operators: `OR`, `*`, `"`, `NEAR(` are text).
    """
    return tuple(dict.fromkeys(t for t in folded_query.split(" ") if t))


def is_ascii_free(term: str) -> bool:
    """Whether a short term is looked for in the scope too (module docstring)."""
    return all(ord(ch) >= 128 for ch in term)


def search_columns(
    *,
    holder_name: str,
    holder_name_en: str | None,
    scope_zh: str,
    scope_en: str | None,
) -> dict[str, str]:
    """The search columns of a certificate (see `Certificate`), from its payload's text."""
    # At most 200 characters (a name's own limit): a few characters grow under
    # NFKC (㌀ is アパート), and a B-tree entry has a size limit on PostgreSQL.
    scope_fields = [fold(scope_zh), fold(scope_en)]
    return {
        "name_key": fold(holder_name)[:MAX_KEY_CHARS],
        "name_en_key": fold(holder_name_en)[:MAX_KEY_CHARS],
        # One newline between the two scopes: a folded query has no newline, so
        # no term is found across them.
        "scope_key": "\n".join(f for f in scope_fields if f),
    }
