"""Text folding for matching what people typed against what we expect (headers, keywords, names).

Spreadsheet headers and WhatsApp replies come with any casing, accents or spacing ("Vencimento ", "VALOR
ORIGINAL", "não", "nao"), so comparisons are made on a folded form: case-folded, accents stripped, runs of
whitespace collapsed to one space.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """'  São   PAULO ' → 'sao paulo'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())
