"""Name folding shared by the store, its queries and the SQL function `fold_name`."""

from __future__ import annotations

import unicodedata


def ascii_fold(text: str) -> str:
    """'Schrödinger' -> 'Schrodinger': accents dropped, other non-ASCII letters removed."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


# Letters that NFKD does not decompose into a base letter and an accent.
_FOLD_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
     "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D"}
)  # fmt: skip


def fold_name(text: str) -> str:
    """'Wübben' -> 'Wubben', 'Søren' -> 'Soren': how a name is typed on an ASCII keyboard."""
    if text.isascii():
        return text
    return ascii_fold(text.translate(_FOLD_LETTERS))
