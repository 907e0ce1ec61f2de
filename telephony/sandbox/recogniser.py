"""The sandbox's speech recogniser: turns the words a virtual phone says into what Twilio's <Gather> returns.

Twilio passes speech to a provider's recogniser (Google, Deepgram) and posts its transcript as `SpeechResult`
with a `Confidence`. Those transcripts are formatted, not the words as said: the first letter is a capital,
the sentence ends with a full stop (or a question mark for a question), and numbers said as words are written
as digits ("one one two dash four four" -> "112-44"). This module reproduces that form for English and
Spanish, so the app is tested against what it will really receive, not against the scripted words.

What Twilio's pages do not settle, and what the sandbox therefore chooses:
- The exact formatting is the provider's: a lone digit word in a sentence ("I ordered two") stays a word,
  as recognisers write small numbers in prose; a run of two or more number words, and any number from ten
  up ("twenty" -> "20"), is written in digits. A comma said between groups is a space, "dash" a hyphen.
- `Confidence` "is not guaranteed to be accurate, or even set" (Google's words, whose recognisers stand
  behind <Gather>; 0.0 is Google's "not set"). The sandbox varies it deterministically with the words and
  the call (0.55-0.97), leaves it out of about one result in ten, and sends "0" for the googlev2_* models
  (their 0.0 sentinel passed through). A scripted step can pin it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The speechModel values Twilio's <Gather> page lists; any other value raises warning 13334.
SPEECH_MODELS = frozenset(
    {
        "default",
        "numbers_and_commands",
        "phone_call",
        "experimental_conversations",
        "experimental_utterances",
        "googlev2_long",
        "googlev2_short",
        "googlev2_telephony",
        "googlev2_telephony_short",
        "deepgram_nova-2",
        "deepgram_nova-3",
    }
)

_EN_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_EN_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_ES_UNITS = {
    "cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}  # fmt: skip
_ES_TEENS = {
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16,
    "dieciséis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
    "veintidos": 22, "veintidós": 22, "veintitres": 23, "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintiséis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip
_ES_TENS = {"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90}

_EN_QUESTION = frozenset(
    "where where's what what's when when's why how how's who who's which whose is isn't are aren't can can't "
    "could do does doesn't did didn't will won't would has hasn't have haven't should shall may am was wasn't "
    "were any".split()
)
# Words that open a Spanish question. Without their accent "que", "como" and "cuando" open statements too, so
# only the accented forms count; "donde" and "cual" are questions either way at the start of what is said.
_ES_INTERROGATIVES = {
    "donde": "dónde", "dónde": "dónde", "qué": "qué", "cuándo": "cuándo", "cómo": "cómo", "cual": "cuál",
    "cuál": "cuál", "quién": "quién", "cuánto": "cuánto", "cuánta": "cuánta", "puede": "puede", "puedo": "puedo",
}  # fmt: skip
# Spanish words a recogniser always writes with their accent (never ambiguous without it).
_ES_ACCENTS = {
    "numero": "número", "espanol": "español", "devolucion": "devolución", "informacion": "información",
    "tambien": "también", "aqui": "aquí", "envio": "envío", "dias": "días", "dia": "día", "rapido": "rápido",
    "telefono": "teléfono", "articulo": "artículo", "todavia": "todavía", "despues": "después",
}  # fmt: skip


@dataclass(frozen=True)
class Recognition:
    """What <Gather> posts for one utterance: `SpeechResult` and `Confidence` (None: not sent)."""

    text: str
    confidence: str | None


def recognise(
    words: str,
    language: str = "en-US",
    model: str = "default",
    seed: str = "",
    confidence: float | None | str = "vary",
    verbatim: bool = False,
) -> Recognition:
    """The transcript and confidence Twilio would post for `words` said in `language` with `model`.

    `seed` (the call and the utterance's place in it) makes the confidence vary between calls and
    utterances yet repeat exactly for the same ones; `confidence` pins it (a number, or None for absent);
    `verbatim` returns the words exactly as given.
    """
    text = words if verbatim else transcript(words, language)
    if confidence != "vary":
        return Recognition(text, None if confidence is None else _decimal(float(confidence)))
    return Recognition(text, _varied_confidence(words, model, seed))


def transcript(words: str, language: str = "en-US") -> str:
    """The words as a recogniser writes them: numbers in digits, a capital first letter, closing punctuation."""
    said = " ".join(words.split())
    if not said:
        return ""
    spanish = language.lower().startswith("es")
    english = language.lower().startswith("en")
    if spanish or english:
        said = _numbers_as_digits(said, spanish)
    if spanish:
        said = _spanish_accents(said)
    elif english:
        said = re.sub(r"\bi\b", "I", said)
        said = re.sub(r"\bi'(m|ll|ve|d)\b", lambda m: "I'" + m.group(1), said)
    return _sentence(said, spanish, english)


def _varied_confidence(words: str, model: str, seed: str) -> str | None:
    if model.startswith("googlev2"):
        return "0"
    digest = hashlib.sha256(f"{seed}|{' '.join(words.lower().split())}".encode()).digest()
    if not model.startswith("deepgram") and digest[0] % 10 == 0:
        return None
    spread = int.from_bytes(digest[1:5], "big") / 2**32
    return _decimal(0.55 + 0.42 * spread)


def _decimal(value: float) -> str:
    """Twilio writes Confidence as a plain decimal ("0.8372917")."""
    text = f"{min(max(value, 0.0), 1.0):.7f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


# Numbers -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    units: dict[str, int]
    teens: dict[str, int]  # Every number from ten up that is one word.
    tens: dict[str, int]
    dashes: frozenset[str]
    repeats: dict[str, int]
    hundreds: frozenset[str]
    joiner: str  # "forty y dos" in Spanish; "hundred and two" in English.


_ENGLISH = _Vocabulary(
    _EN_UNITS, _EN_TEENS, _EN_TENS, frozenset({"dash", "hyphen"}), {"double": 2, "triple": 3},
    frozenset({"hundred"}), "and",
)  # fmt: skip
_SPANISH = _Vocabulary(
    _ES_UNITS, _ES_TEENS, _ES_TENS, frozenset({"guion", "guión"}), {"doble": 2, "triple": 3},
    frozenset({"cien", "ciento"}), "y",
)  # fmt: skip
_ZEROS = frozenset({"oh", "o"})


def _bare(token: str) -> tuple[str, str]:
    """A token's lower-case word and the punctuation that followed it (a comma, a full stop...)."""
    match = re.fullmatch(r"(.*?)([,.;:!?]*)", token)
    assert match is not None
    return match.group(1).lower(), match.group(2)


class _Numbers:
    """Reads spoken numbers in a list of words, as a recogniser's formatter does."""

    def __init__(self, vocabulary: _Vocabulary, tokens: list[str]) -> None:
        self.v = vocabulary
        self.pairs = [_bare(token) for token in tokens]

    def word(self, k: int) -> str:
        return self.pairs[k][0] if k < len(self.pairs) else ""

    def pause_after(self, k: int) -> str:
        return self.pairs[k][1] if k < len(self.pairs) else ""

    def unit(self, k: int, zero_words: bool = True) -> int | None:
        word = self.word(k)
        if word in _ZEROS and not zero_words:
            return None
        return self.v.units.get(word)

    def number(self, i: int) -> tuple[str, int] | None:
        """One spoken number at `i` ("four", "double five", "forty two", "three hundred") and its length."""
        v, first = self.v, self.word(i)
        if first.isdigit():
            return first, 1
        if first in v.repeats and self.unit(i + 1) is not None and not self.pause_after(i):
            return str(self.unit(i + 1)) * v.repeats[first], 2
        if first in v.tens or first in v.teens:
            value = v.tens.get(first) or v.teens[first]
            rest, used = self._after_tens(i + 1) if first in v.tens and not self.pause_after(i) else (0, 0)
            return str(value + rest), 1 + used
        unit = self.unit(i)
        if unit is not None and self.word(i + 1) in v.hundreds and not self.pause_after(i):
            rest, used = self._below_hundred(i + 2)
            return str(unit * 100 + rest), 2 + used
        if unit is not None:
            return str(unit), 1
        if first in v.hundreds:
            rest, used = self._below_hundred(i + 1)
            return str(100 + rest), 1 + used
        return None

    def _after_tens(self, i: int) -> tuple[int, int]:
        """The unit after a tens word ("forty two", "cuarenta y dos"), and how many words it took."""
        joiner = 1 if self.v.joiner == "y" and self.word(i) == "y" else 0
        unit = self.unit(i + joiner, zero_words=False)
        return (unit, 1 + joiner) if unit else (0, 0)

    def _below_hundred(self, i: int) -> tuple[int, int]:
        """What follows "hundred" ("and twenty one", "y cinco"), and how many words it took."""
        if self.pause_after(i - 1):
            return 0, 0
        skip = 1 if self.word(i) == self.v.joiner else 0
        following = self.word(i + skip)
        if following in self.v.tens:
            rest, used = self._after_tens(i + skip + 1) if not self.pause_after(i + skip) else (0, 0)
            return self.v.tens[following] + rest, skip + 1 + used
        if following in self.v.teens:
            return self.v.teens[following], skip + 1
        unit = self.unit(i + skip, zero_words=False)
        return (unit, skip + 1) if unit else (0, 0)

    def run(self, start: int) -> tuple[str, int] | None:
        """The digits written for the number words from `start` on (with what closed them), and where they end."""
        pieces: list[str] = []  # Digit groups and the separators said between them.
        spoken = 0
        i, closing = start, ""
        while i < len(self.pairs):
            found = self.number(i)
            if found is None:
                if self.word(i) in self.v.dashes and pieces and pieces[-1] != "-" and self.number(i + 1):
                    pieces.append("-")
                    i += 1
                    continue
                break
            value, used = found
            if self.word(i) in _ZEROS and not self._among_digits(i, used):
                break  # "oh" is a zero only among other digits ("oh I see" is no "0 I see").
            pieces.append(value)
            spoken += used
            i += used
            pause = self.pause_after(i - 1)
            if pause.startswith(","):
                pieces.append(" ")  # A comma said between groups: the recogniser writes a space.
            elif pause:
                closing = pause
                break
        while pieces and pieces[-1] in {" ", "-"}:
            pieces.pop()
            closing = closing or ","
        if not pieces or (spoken == 1 and len(pieces[0]) == 1):
            return None  # A lone "two" in a sentence stays a word, as recognisers write it.
        return "".join(pieces) + ("" if closing == "," else closing), i

    def _among_digits(self, i: int, used: int) -> bool:
        before = i > 0 and self.unit(i - 1, zero_words=False) is not None
        return before or self.number(i + used) is not None


def _numbers_as_digits(said: str, spanish: bool) -> str:
    """Write runs of number words in digits: groups kept apart by a space (a comma said) or a hyphen ("dash")."""
    tokens = said.split(" ")
    numbers = _Numbers(_SPANISH if spanish else _ENGLISH, tokens)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        found = numbers.run(i)
        if found is None:
            out.append(tokens[i])
            i += 1
            continue
        digits, i = found
        if numbers.pause_after(i - 1).startswith(",") and i < len(tokens):
            digits += ","
        out.append(digits)
    return " ".join(out)


# Sentences -----------------------------------------------------------------------------------------------


def _spanish_accents(said: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        accented = _ES_ACCENTS.get(word.lower())
        return accented if accented and word.islower() else word

    return re.sub(r"[a-záéíóúñü]+", fix, said, flags=re.IGNORECASE)


def _sentence(said: str, spanish: bool, english: bool) -> str:
    """Capitalise and close the sentence; a question shape gets "?" (and "¿" in Spanish)."""
    if said[-1] in ".?!":
        return said[0].upper() + said[1:]
    words = said.split(" ")
    first = _bare(words[0])[0]
    if spanish and first in _ES_INTERROGATIVES:
        # An interrogative opens a question and carries its accent; "está" after it is the verb.
        words[0] = _ES_INTERROGATIVES[first]
        if len(words) > 1 and words[1].lower() == "esta":
            words[1] = "está"
        body = " ".join(words)
        return "¿" + body[0].upper() + body[1:] + "?"
    question = english and first in _EN_QUESTION
    return said[0].upper() + said[1:] + ("?" if question else ".")
