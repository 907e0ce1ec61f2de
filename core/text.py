"""Checks on free text typed by people, shared by every input boundary."""

from __future__ import annotations

import unicodedata

# Format characters that real names are spelled with: the zero-width non-joiner (Persian, Kurdish) and
# the zero-width joiner (Devanagari, Bengali, Malayalam and other Indic scripts, emoji sequences).
_JOINERS = frozenset({"\u200c", "\u200d"})
# Invisible leftovers of copying and pasting, which change nothing a person reads: a soft hyphen
# (U+00AD) and a byte-order mark (U+FEFF).
_PASTED = str.maketrans("", "", "\u00ad\ufeff")


def without_invisible(text: str) -> str:
    """Text with its soft hyphens and byte-order marks dropped (what the customer meant to type)."""
    return text.translate(_PASTED)


def has_control_characters(text: str) -> bool:
    """True when text holds control or format characters (NUL, escapes, bidi overrides), the joiners
    names are written with excepted."""
    # PostgreSQL refuses NUL in text outright, and the rest only ever come from scripts or attacks:
    # bidi overrides and isolates reorder what an agent reads on screen.
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} and ch not in _JOINERS for ch in text)
