"""Spoken numbers and references as recognisers write them, and numbers for the ear and the eye.

Split from ivr/speech.py, which re-exports the public names; the words and tokens here are its too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------------
# Words and tokens
# ---------------------------------------------------------------------------------------------------------

# Recognisers and phones produce typographic dashes and apostrophes as well as ASCII ones.
_TYPOGRAPHY = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2019": "'"}
)
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b", re.IGNORECASE), "will not"),
    (re.compile(r"\bcan't\b", re.IGNORECASE), "can not"),
    (re.compile(r"\bcannot\b", re.IGNORECASE), "can not"),
    (re.compile(r"\bain'?t\b", re.IGNORECASE), "is not"),
    (re.compile(r"\blet's\b", re.IGNORECASE), "let us"),
    (re.compile(r"n't\b", re.IGNORECASE), " not"),
    # Possessives ("John's") become "John is" too; harmless, because neither reader keys on them.
    (re.compile(r"'s\b", re.IGNORECASE), " is"),
    (re.compile(r"'m\b", re.IGNORECASE), " am"),
    (re.compile(r"'re\b", re.IGNORECASE), " are"),
    (re.compile(r"'ll\b", re.IGNORECASE), " will"),
    (re.compile(r"'ve\b", re.IGNORECASE), " have"),
    (re.compile(r"'d\b", re.IGNORECASE), " would"),
)
# Some recognisers drop the apostrophe ("wheres my package"); "its" and "wont" stay, being words themselves.
_BARE_CONTRACTIONS = {
    "dont": "do not",
    "didnt": "did not",
    "doesnt": "does not",
    "hasnt": "has not",
    "havent": "have not",
    "hadnt": "had not",
    "isnt": "is not",
    "wasnt": "was not",
    "arent": "are not",
    "cant": "can not",
    "wheres": "where is",
    "whats": "what is",
    "thats": "that is",
    "im": "i am",
}
# Letters (any script), ASCII digit runs, or any single other visible character.
_TOKEN = re.compile(r"[^\W\d_]+|[0-9]+|\S")


def _expand(text: str) -> str:
    """Text with typographic marks made ASCII and contractions spelled out, case kept."""
    text = text.translate(_TYPOGRAPHY)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


# Far more than anyone says at one prompt. Every reader starts from _raw_tokens, and some of them grow
# faster than the input (30 KB of "oh oh ..." took 15 s), so a hostile transcript is cut here.
MAX_UTTERANCE = 500


def _raw_tokens(text: str) -> list[str]:
    """Tokens as written: letter runs, digit runs and punctuation, contractions expanded."""
    tokens: list[str] = []
    for token in _TOKEN.findall(_expand(text[:MAX_UTTERANCE])):
        tokens.extend(_BARE_CONTRACTIONS.get(token.lower(), token).split())
    return tokens


def _words(text: str) -> list[str]:
    """Lower-case words of an utterance, without punctuation."""
    return [token.lower() for token in _raw_tokens(text) if token.isalnum()]


def _fold(word: str) -> str:
    """A word without accents: Spanish callers' transcripts come with and without them ("llegó", "llego")."""
    return "".join(char for char in unicodedata.normalize("NFD", word) if not unicodedata.combining(char))


def _is_spanish(language: str) -> bool:
    """True for a Spanish language code ("es", "es-US")."""
    return language.split("-")[0].lower() == "es"


# ---------------------------------------------------------------------------------------------------------
# Spoken numbers
# ---------------------------------------------------------------------------------------------------------

_DIGIT_WORDS = {
    "zero": 0,
    "nought": 0,
    "naught": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "niner": 9,
}
# Words a recogniser writes for a digit it half heard. Each is read as a digit only inside a number (see
# _resolve) and is reported in SpokenNumber.unsure so the caller hears the number back. "sex" for "six" is
# left out on purpose: recognisers' language models avoid writing it, so when it appears the caller most
# likely said something else, and it stays an unreadable word (which also forces a read-back).
_HOMOPHONES = {"to": 2, "too": 2, "for": 4, "fore": 4, "won": 1, "ate": 8, "tree": 3, "free": 3}
# "Oh" is how most people say zero in a number, so it is not a guess; elsewhere it is an interjection.
_ZERO_LETTERS = frozenset({"oh", "o"})
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_MAGNITUDES = {"hundred": 100, "thousand": 1000}
_MULTIPLIERS = {"double": 2, "triple": 3, "treble": 3, "quadruple": 4}
_SEPARATOR_WORDS = frozenset({"dash", "hyphen", "minus", "slash", "dot"})
_HESITATIONS = frozenset(
    {"um", "umm", "uhm", "uh", "uhh", "er", "erm", "ah", "ahh", "hmm", "hm", "mm", "mmm", "eh", "huh"}
)
# Words people put around a number without adding anything: "okay so my order number is ...",
# "let me see, it is ...", "... and ...". They do not make a number incomplete. "Sorry", "wait" and "no"
# are not among them: they mark a correction ("one two three, sorry, one two four"), which must be read back.
_LEAD_INS = frozenset(
    {
        "my", "the", "order", "orders", "number", "numbers", "is", "it", "its", "that", "this", "was", "i",
        "am", "think", "believe", "okay", "ok", "so", "well", "let", "us", "me", "see", "and", "a", "an",
        "yes", "yeah", "sure", "just", "like", "here", "go", "we", "please", "right",
    }
)  # fmt: skip

# Units of time, English and Spanish (accents folded): a number before one is a duration.
_DURATIONS = frozenset(
    {"sec", "secs", "second", "seconds", "moment", "moments", "minute", "minutes", "min", "mins", "mo", "tick",
     "hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years", "momento",
     "momentito", "segundo", "segundos", "segundito", "segunditos", "minuto", "minutos", "minutito",
     "minutitos", "hora", "horas", "dia", "dias", "semana", "semanas", "mes", "meses", "ano", "anos"}
)  # fmt: skip

# Token kinds.
_SEP = "separator"  # punctuation and "dash": invisible to the number
_HES = "hesitation"  # "um": a pause, and the edge of a phrase
_LEAD = "lead-in"  # "my order number is": filler words, not content
_NUM = "number"  # a word or numeral that is certainly (part of) a number
_MAYBE = "maybe"  # a homophone, "oh", "double", "a": a number only in the right company
_WORD = "word"  # anything else: content we could not read as a number
_LETTER = "letter"  # a spelled letter, when reading references

_EDGE = "edge"  # the start or the end of the utterance, as a neighbour


@dataclass
class _Token:
    """One token of an utterance and what it was read as."""

    raw: str
    word: str
    kind: str


@dataclass(frozen=True)
class _Atom:
    """A number token reduced to what the number grammar needs."""

    kind: str  # "digit", "teen", "tens", "numeral", "hundred", "thousand", "multiplier", "a"
    text: str  # its digits ("7", "12", "40", "0042"), or the word for the rest
    word: str  # the word as heard, for SpokenNumber.unsure


@dataclass(frozen=True)
class SpokenNumber:
    """A number heard in an utterance, and how far to trust it."""

    digits: str  # the digits heard, in order, e.g. "11244556671234567"
    complete: bool  # True when the utterance was nothing but a number (no leftover words that look like content)
    unsure: list[str]  # words we guessed at (homophones such as "to", "for", "won", "ate") or could not read


def _classify(raw_tokens: Sequence[str]) -> list[_Token]:
    """Tokens with a first reading; homophones and the like are left _MAYBE for _resolve."""
    tokens = []
    for raw in raw_tokens:
        word = raw.lower()
        if (
            (word.isascii() and word.isdigit())
            or word in _DIGIT_WORDS
            or word in _TEENS
            or word in _TENS
            or word in _MAGNITUDES
        ):
            kind = _NUM
        elif word in _HOMOPHONES or word in _ZERO_LETTERS or word in _MULTIPLIERS or word == "a":
            kind = _MAYBE
        elif word in _SEPARATOR_WORDS or not word.isalnum():
            kind = _SEP
        elif word in _HESITATIONS:
            kind = _HES
        elif word in _LEAD_INS:
            kind = _LEAD
        else:
            kind = _WORD
        tokens.append(_Token(raw, word, kind))
    for index, token in enumerate(tokens):
        # "Oh, one one two": an "oh" set off by a comma, with no number before it, is an exclamation.
        if (
            token.word in _ZERO_LETTERS
            and index + 1 < len(tokens)
            and tokens[index + 1].word in {",", "!", "?"}
            and _neighbour(tokens, index, -1) != _NUM
        ):
            token.kind = _HES
        # A count of time is no part of a number to look up: "one sec", "un momento", "two weeks ago".
        if token.kind == _NUM:
            after = _neighbour_index(tokens, index, +1)
            if after is not None and _fold(tokens[after].word) in _DURATIONS:
                token.kind = _WORD
    return tokens


def _neighbour_index(tokens: Sequence[_Token], index: int, step: int) -> int | None:
    """Index of the nearest token that is not a separator, looking left (-1) or right (+1)."""
    index += step
    while 0 <= index < len(tokens):
        if tokens[index].kind != _SEP:
            return index
        index += step
    return None


def _neighbour(tokens: Sequence[_Token], index: int, step: int) -> str:
    """Kind of the nearest non-separator token on one side, or _EDGE."""
    found = _neighbour_index(tokens, index, step)
    return _EDGE if found is None else tokens[found].kind


def _resolve(tokens: list[_Token]) -> None:
    """Decide, in place, which _MAYBE tokens are part of a number; the rest become words or pauses."""
    # The rule for homophones ("to", "for", "won", "ate", "tree", "free") and for "oh": a digit when it
    # sits in a run of numbers, meaning
    #   - a number (or another candidate) on at least one side, and
    #   - on the other side nothing that carries the sentence on: the start or end of the utterance, a
    #     pause ("um"), or, on the left only, lead-in words ("my order number is for five six").
    # So "one two for five" and "is for five six" read 4, while "calling for one two" (a verb before it)
    # and "one two three for my order" (the sentence continues after it) keep "for" as a word. Lead-ins
    # count only on the left because people introduce a number with them; after a number they are the
    # rest of a sentence. Resolving one candidate can settle its neighbour ("one to for"), so repeat.
    left_ok = {_NUM, _MAYBE, _HES, _LEAD, _LETTER, _EDGE}
    right_ok = {_NUM, _MAYBE, _HES, _LETTER, _EDGE}
    changed = True
    while changed:
        changed = False
        for index, token in enumerate(tokens):
            if token.kind != _MAYBE:
                continue
            left, right = _neighbour(tokens, index, -1), _neighbour(tokens, index, +1)
            if token.word in _MULTIPLIERS:
                settled = right == _NUM
            elif token.word == "a":
                after = _neighbour_index(tokens, index, +1)
                settled = after is not None and tokens[after].word in _MAGNITUDES
            else:
                settled = _NUM in (left, right) and left in left_ok and right in right_ok
            if settled:
                token.kind = _NUM
                changed = True
    for token in tokens:
        if token.kind == _MAYBE:
            if token.word in _ZERO_LETTERS:
                token.kind = _HES
            elif token.word == "a":
                token.kind = _LEAD
            else:
                token.kind = _WORD


def _atom(token: _Token) -> _Atom:
    """The number grammar's view of a number token."""
    word = token.word
    if word.isdigit():
        return _Atom("numeral", word, word)
    if word in _DIGIT_WORDS:
        return _Atom("digit", str(_DIGIT_WORDS[word]), word)
    if word in _HOMOPHONES:
        return _Atom("digit", str(_HOMOPHONES[word]), word)
    if word in _ZERO_LETTERS:
        return _Atom("digit", "0", word)
    if word in _TEENS:
        return _Atom("teen", str(_TEENS[word]), word)
    if word in _TENS:
        return _Atom("tens", str(_TENS[word]), word)
    if word in _MULTIPLIERS:
        return _Atom("multiplier", str(_MULTIPLIERS[word]), word)
    return _Atom(word, word, word)  # "hundred", "thousand", "a"


def _value(atom: _Atom) -> int | None:
    """The atom's value when it can be counted (no leading zero), else None."""
    if atom.kind in {"digit", "teen", "tens", "numeral"} and not (len(atom.text) > 1 and atom.text[0] == "0"):
        return int(atom.text)
    return None


def _below_hundred(atoms: Sequence[_Atom], index: int) -> tuple[int, str, int] | None:
    """A number under a hundred said as one: "7", "12", "forty", "forty five"; (value, digits, next index)."""
    if index >= len(atoms):
        return None
    atom = atoms[index]
    if atom.kind == "tens":
        following = atoms[index + 1] if index + 1 < len(atoms) else None
        if following is not None and following.kind == "digit" and following.text != "0":
            value = int(atom.text) + int(following.text)
            return value, str(value), index + 2
        return int(atom.text), atom.text, index + 1
    if atom.kind in {"digit", "teen", "numeral"}:
        # A numeral with a leading zero ("0042") is digits, not a count: -1 keeps it out of the arithmetic.
        counted = _value(atom)
        return (-1 if counted is None else counted), atom.text, index + 1
    return None


def _below_thousand(atoms: Sequence[_Atom], index: int) -> tuple[int, str, int] | None:
    """A number under a thousand: a _below_hundred, or "(a|one|twelve) hundred (and) (five)"."""
    head: tuple[int, str, int] | None
    if index < len(atoms) and atoms[index].kind == "a":
        head = (1, "1", index + 1)
    else:
        head = _below_hundred(atoms, index)
    after = head[2] if head is not None else index
    if after >= len(atoms) or atoms[after].kind != "hundred":
        return head
    if head is not None and not 1 <= head[0] <= 99:
        return head  # "0042 hundred" or "112 hundred": not a count of hundreds, so keep the groups apart
    total = (head[0] if head is not None else 1) * 100
    after += 1
    if after + 1 < len(atoms) and atoms[after].text == "0" and atoms[after + 1].kind == "digit":
        after += 1  # "one hundred oh five" is 105, as "one oh five" would be
    rest = _below_hundred(atoms, after)
    if rest is not None and 1 <= rest[0] <= 99:
        total += rest[0]
        after = rest[2]
    return total, str(total), after


def _group(atoms: Sequence[_Atom], index: int) -> tuple[str, int]:
    """The digits of one number said as a unit, with the index after it."""
    head = _below_thousand(atoms, index)
    after = head[2] if head is not None else index
    if after >= len(atoms) or atoms[after].kind != "thousand":
        if head is None:  # a multiplier where a number should be ("double double five"): nothing to add
            return "", index + 1
        return head[1], after
    if head is not None and not 1 <= head[0] <= 999:
        return head[1], after
    total = (head[0] if head is not None else 1) * 1000
    rest = _below_thousand(atoms, after + 1)
    if rest is not None and 1 <= rest[0] <= 999:
        return str(total + rest[0]), rest[2]
    return str(total), after + 1


def _digits_of_run(atoms: Sequence[_Atom], unsure: list[str]) -> str:
    """The digits of a run of number atoms said in a row, groups concatenated as people chain them."""
    # Groups join by concatenation: "one twelve" is 1 then 12, "nineteen eighty" is 19 then 80, "twenty
    # twenty four" is 20 then 24. Only tens + unit ("forty five") and hundred/thousand arithmetic combine.
    digits: list[str] = []
    index = 0
    while index < len(atoms):
        atom = atoms[index]
        if atom.kind == "multiplier":
            group, index = _group(atoms, index + 1)
            if len(group) != 1:
                unsure.append(atom.word)  # "double twelve": we repeat the whole group, but it is a guess
            digits.append(group * int(atom.text))
            continue
        group, index = _group(atoms, index)
        digits.append(group)
    return "".join(digits)


def _read(tokens: list[_Token]) -> tuple[list[str], list[str], bool]:
    """Pieces of the reading in order (digit groups and letters), the unsure words, and any content left."""
    numbered = [i for i, token in enumerate(tokens) if token.kind in {_NUM, _LETTER}]
    first, last = (numbered[0], numbered[-1]) if numbered else (0, -1)
    pieces: list[str] = []
    unsure: list[str] = []
    leftover = False
    run: list[_Atom] = []

    def close_run() -> None:
        if run:
            pieces.append(_digits_of_run(run, unsure))
            run.clear()

    for index, token in enumerate(tokens):
        if token.kind == _NUM:
            atom = _atom(token)
            if token.word in _HOMOPHONES:
                unsure.append(token.word)
            run.append(atom)
        elif token.kind == _LETTER:
            close_run()
            pieces.append(token.raw)
        elif token.kind == _WORD:
            # A word that is not a number also stops numbers combining across it ("twenty, blah, four").
            close_run()
            leftover = True
            if first < index < last:
                unsure.append(token.word)
    close_run()
    return pieces, unsure, leftover


# Spanish number words as the English words the number grammar reads, accents folded: the way numbers
# combine (tens and units, hundreds, thousands, "double") is the same, only the words differ.
_SPANISH_NUMBER_WORDS = {
    "cero": "zero", "uno": "one", "una": "one", "un": "one", "dos": "two", "tres": "three",
    "cuatro": "four", "cinco": "five", "seis": "six", "siete": "seven", "ocho": "eight", "nueve": "nine",
    "diez": "ten", "once": "eleven", "doce": "twelve", "trece": "thirteen", "catorce": "fourteen",
    "quince": "fifteen", "dieciseis": "sixteen", "diecisiete": "seventeen", "dieciocho": "eighteen",
    "diecinueve": "nineteen", "veinte": "twenty", "veintiuno": "twenty one", "veintiun": "twenty one",
    "veintidos": "twenty two", "veintitres": "twenty three", "veinticuatro": "twenty four",
    "veinticinco": "twenty five", "veintiseis": "twenty six", "veintisiete": "twenty seven",
    "veintiocho": "twenty eight", "veintinueve": "twenty nine", "treinta": "thirty", "cuarenta": "forty",
    "cincuenta": "fifty", "sesenta": "sixty", "setenta": "seventy", "ochenta": "eighty", "noventa": "ninety",
    "cien": "one hundred", "ciento": "one hundred", "doscientos": "two hundred", "trescientos": "three hundred",
    "cuatrocientos": "four hundred", "quinientos": "five hundred", "seiscientos": "six hundred",
    "setecientos": "seven hundred", "ochocientos": "eight hundred", "novecientos": "nine hundred",
    "mil": "thousand", "doble": "double", "triple": "triple",
    "guion": "dash", "raya": "dash", "punto": "dot", "diagonal": "slash",
    # Words around a number that add nothing, as _LEAD_INS; "o" is "or", never zero, in Spanish.
    "mi": "my", "numero": "number", "de": "the", "orden": "order", "pedido": "order", "es": "is", "el": "the",
    "la": "the", "pues": "well", "bueno": "well", "si": "yes", "ok": "ok", "ver": "see", "a": "the",
    "eh": "um", "em": "um", "este": "um", "mmm": "um", "o": "or",
}  # fmt: skip


# Spanish names of letters that are no Spanish word ("de", "te", "ese" are): a reference spelled in Spanish.
_SPANISH_LETTER_NAMES = {
    "erre": "R", "ere": "R", "eme": "M", "ene": "N", "efe": "F", "ele": "L", "hache": "H", "jota": "J",
    "equis": "X", "zeta": "Z", "uve": "V", "cu": "Q", "ka": "K",
}  # fmt: skip


def _spanish_number_words(raw_tokens: Sequence[str], spelling: bool = False) -> list[str]:
    """Spanish tokens with their number words in English; "y" between tens and a unit is dropped.

    In a spelled reference (`spelling`) a single letter stays a letter: "R M A" is not "R M the".
    """
    words = [_fold(token.lower()) for token in raw_tokens]
    result: list[str] = []
    for index, word in enumerate(words):
        if spelling and len(word) == 1 and word.isalpha():
            result.append(raw_tokens[index])
            continue
        if spelling and word in _SPANISH_LETTER_NAMES:
            result.append(_SPANISH_LETTER_NAMES[word])  # "erre eme a": R M A
            continue
        if word == "y":
            after = _SPANISH_NUMBER_WORDS.get(words[index + 1], "") if index + 1 < len(words) else ""
            if result and result[-1] in _TENS and after in _DIGIT_WORDS:
                continue  # "treinta y cinco" is 35, as "thirty five"
            result.append("and")
            continue
        result.extend(_SPANISH_NUMBER_WORDS.get(word, raw_tokens[index]).split())
    return result


# Words that take back what was just said: "one two three, no sorry, one two four", "... I mean ...",
# "no perdón", "digo". "Wait" alone is left out: "one one two, wait, four four five" is as often a pause.
_CORRECTIONS = frozenset(
    {"no", "sorry", "mean", "actually", "correction", "oops", "scratch", "rather", "perdon", "perdone", "digo",
     "dicho", "decir", "disculpe"}
)  # fmt: skip
# The shop's order numbers have this many digits (see format_order_number).
_ORDER_DIGITS = 17


def _correction(tokens: Sequence[_Token]) -> int | None:
    """Index of the last word that takes back the number said before it, with numbers after it too."""
    numbers = [index for index, token in enumerate(tokens) if token.kind == _NUM]
    if not numbers:
        return None
    for index in range(numbers[-1] - 1, numbers[0], -1):
        if tokens[index].kind != _NUM and _fold(tokens[index].word) in _CORRECTIONS:
            return index
    return None


def _corrected(before: str, after: str) -> str:
    """The number meant when `after` corrects `before`: said again whole, or only its end said again."""
    # A caller who corrects says the whole number again or only the group they got wrong, which is most
    # often the last ("... four five six seven, sorry, four five six eight"). A "sorry" that only
    # apologised for a pause leaves a whole order number when nothing is taken back, so that one wins.
    mended = after if len(after) >= len(before) else before[: len(before) - len(after)] + after
    joined = before + after
    if len(joined) == _ORDER_DIGITS and len(mended) != _ORDER_DIGITS:
        return joined
    return mended


def spoken_digits(text: str, language: str = "en") -> SpokenNumber:
    """Turn what a speech recogniser heard into digits, the way people say numbers."""
    raw_tokens = _raw_tokens(text)
    if _is_spanish(language):
        raw_tokens = _spanish_number_words(raw_tokens)
    tokens = _classify(raw_tokens)
    _resolve(tokens)
    cut = _correction(tokens)
    if cut is None:
        pieces, unsure, leftover = _read(tokens)
        digits = "".join(pieces)
    else:
        # A correction is never trusted as heard: the flow reads the number back, so the word that
        # corrected is reported as unsure.
        before, _, _ = _read(tokens[:cut])
        pieces, unsure, _ = _read(tokens[cut + 1 :])
        digits = _corrected("".join(before), "".join(pieces))
        unsure, leftover = [tokens[cut].word, *unsure], True
    return SpokenNumber(digits=digits, complete=bool(digits) and not leftover, unsure=unsure)


# ---------------------------------------------------------------------------------------------------------
# Spoken references (RMAs)
# ---------------------------------------------------------------------------------------------------------

_NATO = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E", "foxtrot": "F",
    "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J", "kilo": "K", "lima": "L",
    "mike": "M", "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R", "sierra": "S",
    "tango": "T", "uniform": "U", "victor": "V", "whiskey": "W", "whisky": "W", "xray": "X", "yankee": "Y",
    "zulu": "Z",
}  # fmt: skip
# How recognisers write a letter said on its own. Letter names that are also common words ("are", "you",
# "see", "why", "be", "tea") are left out: they turn up in ordinary sentences far more often than in RMAs.
_LETTER_NAMES = {
    "ay": "A", "bee": "B", "cee": "C", "dee": "D", "ee": "E", "ef": "F", "eff": "F", "gee": "G",
    "aitch": "H", "haitch": "H", "jay": "J", "kay": "K", "el": "L", "ell": "L", "em": "M", "en": "N",
    "pee": "P", "cue": "Q", "queue": "Q", "ar": "R", "es": "S", "ess": "S", "tee": "T", "vee": "V",
    "ex": "X", "zed": "Z", "zee": "Z",
}  # fmt: skip
# Single letters that are also words ("a", "I") or zero ("o"): letters only next to other letters or digits.
# So are the letter names that are common words ("are em ay" is R M A; "you are" is no spelling).
_WORDLIKE_NAMES = {"are": "R", "you": "U", "see": "C", "sea": "C", "why": "Y", "be": "B", "tea": "T"}
_WORDLIKE_LETTERS = frozenset({"a", "i", "o", *_WORDLIKE_NAMES})


def _mark_letters(tokens: list[_Token], prefixes: frozenset[str]) -> None:
    """Mark, in place, the tokens that spell letters of a reference."""
    for token in tokens:
        if token.kind != _WORD or token.word in _WORDLIKE_LETTERS:
            continue
        if token.word in _NATO:
            token.kind, token.raw = _LETTER, _NATO[token.word]
        elif token.word in _LETTER_NAMES:
            token.kind, token.raw = _LETTER, _LETTER_NAMES[token.word]
        elif token.word.isalpha() and token.word.isascii() and len(token.word) == 1:
            token.kind, token.raw = _LETTER, token.word.upper()
        elif token.word.upper() in prefixes or (len(token.raw) > 1 and token.raw.isupper() and token.raw.isalpha()):
            # A recogniser writes letters it heard spelled as one upper-case word ("RMA"); words in
            # capitals otherwise are rare in transcripts, so capitals are taken as spelling.
            token.kind, token.raw = _LETTER, token.raw.upper()
    # "R as in Romeo": keep the letter, drop the explanation. "A as in alpha" counts too, though "a" is
    # only settled as a letter later.
    for index, token in enumerate(tokens):
        before = _neighbour_index(tokens, index, -1)
        if (
            token.word == "as"
            and index + 2 < len(tokens)
            and tokens[index + 1].word == "in"
            and before is not None
            and (tokens[before].kind == _LETTER or tokens[before].word in _WORDLIKE_LETTERS)
        ):
            token.kind = tokens[index + 1].kind = tokens[index + 2].kind = _SEP


def _settle_wordlike_letters(tokens: list[_Token]) -> None:
    """Read "a", "i" and "o" as letters when they sit in a spelling, in place."""
    changed = True
    while changed:
        changed = False
        for index, token in enumerate(tokens):
            if token.word not in _WORDLIKE_LETTERS or token.kind in {_NUM, _LETTER}:
                continue
            left, right = _neighbour(tokens, index, -1), _neighbour(tokens, index, +1)
            # "R M A": after a letter or digit it spells. At the very start it spells only when a letter
            # follows ("A B C"), so "a" and "I" opening a sentence ("I think it's ...") stay words.
            # A letter name ("are") before a letter spells wherever it is: "it's are em ay ...".
            named = token.word in _WORDLIKE_NAMES and right == _LETTER
            if left in {_LETTER, _NUM} or (left == _EDGE and right == _LETTER) or named:
                token.kind, token.raw = _LETTER, _WORDLIKE_NAMES.get(token.word, token.word.upper())
                changed = True


# Spanish digit words: no English word is spelled like them, so a reference read in Spanish ("R M A dos
# cero dos cuatro") is known as Spanish by them even where the caller's language is not passed on.
_SPANISH_DIGITS = frozenset({"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"})


def spoken_reference(text: str, prefixes: Sequence[str] = ("RMA",), language: str | None = None) -> str:
    """A spelled reference such as an RMA ("R M A two oh two four ...") as letters and digits: "RMA2024...".

    `language` None reads Spanish when Spanish digit words are heard; Spanish words around the reference
    ("es el ...") are then words, not the letters "S" and "L".
    """
    raw_tokens = _raw_tokens(text)
    spanish = (
        _is_spanish(language)
        if language is not None
        else any(_fold(token.lower()) in _SPANISH_DIGITS for token in raw_tokens)
    )
    if spanish:
        raw_tokens = _spanish_number_words(raw_tokens, spelling=True)
    tokens = _classify(raw_tokens)
    _mark_letters(tokens, frozenset(prefix.upper() for prefix in prefixes))
    _resolve(tokens)
    _settle_wordlike_letters(tokens)
    pieces, _, _ = _read(tokens)
    return "".join(pieces)


def reference_key(value: str) -> str:
    """A reference as letters and digits only, for comparing 'RMA-2024-00123' with what was heard."""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


# ---------------------------------------------------------------------------------------------------------
# Numbers for the ear and the eye
# ---------------------------------------------------------------------------------------------------------

ORDER_DIGITS = 17  # the shop's order numbers, 3-7-7
_ORDER_NUMBER = re.compile(rf"[0-9]{{{ORDER_DIGITS}}}")
# The first group of an order number: fewer digits alone are no start of one ("one" in "una devolución").
_FIRST_GROUP = 3


def begins_order_number(digits: str) -> bool:
    """Whether keys or words are the start of an order number and no more ("112 4455667" and a pause):
    digits only, at least its first group, fewer than a whole number."""
    return digits.isdigit() and _FIRST_GROUP <= len(digits) < ORDER_DIGITS


def format_order_number(digits: str) -> str | None:
    """17 digits -> '112-4455667-1234567' (the shop's order number format 3-7-7); other lengths -> None."""
    if not _ORDER_NUMBER.fullmatch(digits):
        return None
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def ends_on_a_digit(text: str, language: str = "en") -> bool:
    """Whether an utterance stops on a number ("my order is 112 4455667"), not on words after it ("...,
    I think"): a caller who stopped there may have paused for the rest."""
    words = _words(text)
    return bool(words) and bool(spoken_digits(words[-1], language=language).digits)


def group_order_digits(digits: str) -> str:
    """Digits grouped as an order number's are, as far as they go: '1124455667' -> '112-4455667'."""
    groups = (digits[:3], digits[3:10], digits[10:])
    return "-".join(group for group in groups if group)


def say_digits(value: str) -> str:
    """A number read back for confirmation: '112-44' -> '1 1 2, 4 4' (pauses at dashes, digits spaced)."""
    # Spaced characters make text-to-speech read "1 1 2" as digits, not "one hundred and twelve"; the
    # comma between groups gives the pause a person makes at a dash.
    groups = re.findall(r"[A-Za-z0-9]+", value)
    return ", ".join(" ".join(group.upper()) for group in groups)


# ---------------------------------------------------------------------------------------------------------
# A menu key said instead of pressed
# ---------------------------------------------------------------------------------------------------------

# Words that name the key before its number: "press one", "option two", "número tres", "oprima uno".
_KEY_WORDS = frozenset(
    {"press", "pressing", "push", "hit", "dial", "option", "number", "choice", "key", "select", "choose",
     "oprima", "oprimo", "oprimir", "presiono", "presione", "marco", "marque", "marcar", "opcion", "numero",
     "tecla", "el", "la"}
)  # fmt: skip
# Words around a key that add nothing: "um, one please", "uno, por favor", "okay two".
_KEY_FILLERS = frozenset(
    {"please", "okay", "ok", "so", "um", "uh", "er", "i", "will", "ll", "let", "me", "lets", "us", "i'll", "go",
     "with", "for", "por", "favor", "pues", "bueno", "este", "eh", "a", "the", "yo"}
)  # fmt: skip
_SPANISH_KEYS = {"cero": "0", "uno": "1", "una": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5",
                 "seis": "6", "siete": "7", "ocho": "8", "nueve": "9"}  # fmt: skip
# Words of wanting before a key, only with a word that names the key: "I want option 2", "I'll take
# number one"; "I want one" may be a thing, not a key.
_KEY_VERBS = frozenset({"want", "like", "would", "d", "take", "need", "do", "pick", "choose"})
# Recognisers write a lone key as a homophone ("to", "for", "won") only in English, and only among these.
_KEY_HOMOPHONES = {"won": "1", "to": "2", "too": "2", "tree": "3", "for": "4", "ate": "8"}


def spoken_key(text: str, language: str = "en") -> str | None:
    """The menu key a caller said instead of pressing it ("One.", "1", "press three", "option 2",
    "oprima uno", "número tres"), or None when the words are anything more than a key."""
    words = [_fold(word) for word in _words(text)]
    content = [word for word in words if word not in _KEY_FILLERS]
    wanted = [word for word in content if word not in _KEY_VERBS]
    named = bool(wanted) and wanted[0] in _KEY_WORDS
    if named or wanted == content:
        content = wanted[1:] if named else wanted
    if len(content) != 1:
        return None
    word = content[0]
    if len(word) == 1 and word.isdigit():
        return word
    if _is_spanish(language):
        return _SPANISH_KEYS.get(word)
    digit = _DIGIT_WORDS.get(word)
    if digit is not None:
        return str(digit)
    # "Press to" is "press two"; a lone "for" or "to" is not a key.
    return _KEY_HOMOPHONES.get(word) if named else None
