"""Checks on free text typed by people, shared by every input boundary."""

from __future__ import annotations

import unicodedata


def has_control_characters(text: str) -> bool:
    """True when text holds control or format characters (NUL, escapes, bidi overrides)."""
    # PostgreSQL refuses NUL in text outright, and the rest only ever come from scripts or attacks.
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in text)
