"""Free text typed by people: which invisible characters are part of a name, which are dropped, which refused."""

from __future__ import annotations

import pytest

from core.text import has_control_characters, without_invisible


@pytest.mark.parametrize(
    "name",
    [
        "Ann Lee",
        "مهر\u200cناز",  # Persian, with a zero-width non-joiner
        "क्\u200dष",  # Devanagari, with a zero-width joiner
        "José Müller-Lüdenscheidt",
    ],
)
def test_names_written_with_joiners_are_names(name: str) -> None:
    assert not has_control_characters(name)


@pytest.mark.parametrize(
    "text",
    [
        "Ann\x00Lee",
        "Ann\x1b[31mLee",
        "Ann\u202eeeL",  # right-to-left override
        "Ann\u2066Lee\u2069",  # left-to-right isolate
        "Ann\u200fLee",  # right-to-left mark
    ],
)
def test_control_characters_and_bidi_overrides_are_still_refused(text: str) -> None:
    assert has_control_characters(text)


def test_soft_hyphens_and_byte_order_marks_are_dropped() -> None:
    assert without_invisible("\ufeffMüller-Lü\u00adden\u00adscheidt") == "Müller-Lüdenscheidt"
    assert not has_control_characters(without_invisible("\ufeffAnn\u00adLee"))
