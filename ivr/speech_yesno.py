"""Yes or no, by key or by speech, in English and Spanish; and a caller asking for a moment.

Split from ivr/speech.py, which re-exports is_yes and yes_no.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ivr.speech_numbers import _fold, _is_spanish, _words, spoken_digits, spoken_key

# ---------------------------------------------------------------------------------------------------------
# Yes or no
# ---------------------------------------------------------------------------------------------------------

_YES_PHRASES = (
    ("yes",), ("yeah",), ("yep",), ("yup",), ("ya",), ("yah",), ("yea",), ("correct",), ("right",),
    ("alright",), ("sure",), ("affirmative",), ("exactly",), ("absolutely",), ("definitely",), ("indeed",),
    ("uh", "huh"), ("mhm",), ("mm", "hmm"), ("that", "is", "it"), ("that", "is", "the", "one"),
    ("this", "is", "it"), ("yes", "please"), ("go", "ahead"), ("of", "course"), ("please", "do"),
    ("no", "problem"), ("no", "worries"), ("put", "me", "through"), ("connect", "me"), ("accept",),
    ("sounds", "good"), ("take", "it"), ("i", "will", "take", "it"),
    # Assent said as an idiom: "you got it", "you bet", "that works", "works for me", "perfect".
    ("you", "got", "it"), ("you", "bet"), ("that", "works"), ("works", "for", "me"), ("perfect",),
    ("fine", "by", "me"), ("that", "would", "be", "great"), ("that", "is", "fine"),
    # Agreement that hedges ("I think so", "I believe so") or judges what it heard ("sounds right").
    ("think", "so"), ("believe", "so"), ("suppose", "so"), ("i", "guess", "so"), ("sounds", "right"),
    ("looks", "right"), ("spot", "on"), ("aye",), ("bang", "on"),
)  # fmt: skip
# "Okay" agrees when it is the answer ("okay", "okay, thanks"); with more to it ("okay, wait", "okay but
# it came broken") it only acknowledges, and a no beside it ("okay, no, that's wrong") is a no.
_WEAK_YES = frozenset({"okay", "ok", "okey", "okie", "vale"})
_WEAK_YES_COMPANY = frozenset(
    {"um", "uh", "oh", "well", "so", "then", "that", "is", "it", "sounds", "good", "fine", "please", "thanks",
     "thank", "you", "cool", "great", "alright", "pues", "bueno", "bien", "esta", "gracias", "eh", "este",
     "entonces"}
)  # fmt: skip
# Yes only as the last words ("yes it is"): "it is the other one" is a no.
_TAIL_YES_PHRASES = (("it", "is"),)
_NO_PHRASES = (
    ("no",), ("nope",), ("nah",), ("not",), ("wrong",), ("incorrect",), ("negative",),
    ("other", "one"), ("different", "one"), ("another", "one"), ("cancel",), ("stop",), ("decline",),
    ("reject",), ("do", "not", "call"), ("not", "interested"), ("no", "longer"),
)  # fmt: skip
# A short time, as callers name it: "a sec", "one minute", "just a moment".
_MOMENTS = ("sec", "secs", "second", "seconds", "moment", "minute", "min", "mo", "tick")
# A caller asking for a moment ("hold on"): neither a yes nor a no, nor a wrong answer.
_WAIT_PHRASES = (
    ("hold", "on"), ("hang", "on"), ("hang", "about"), ("wait", "a"), ("gimme", "a"),
    *(("one", moment) for moment in _MOMENTS),
    *((opening, "a", moment) for opening in ("just", "half") for moment in _MOMENTS),
)  # fmt: skip
# ... and more ways of asking, which at a yes-or-no question may come with the answer ("let me check, yes").
_MORE_WAIT_PHRASES = (
    ("wait", "wait"), ("please", "wait"), ("wait", "please"), ("give", "me", "a"), ("bear", "with", "me"),
    ("let", "me", "find"), ("let", "me", "get"), ("let", "me", "look"), ("let", "me", "check"),
    ("hang", "tight"), ("a", "moment", "please"), ("let", "me", "grab"), ("let", "me", "pull"),
    ("looking", "for", "it"), ("i", "am", "looking"), ("can", "you", "wait"), ("could", "you", "wait"),
    ("wait", "while"),
    # "I need a minute to find it", "I need a sec".
    *(("need", "a", moment) for moment in _MOMENTS),
)  # fmt: skip
# Answers that are neither, even though they contain "not" or "sure".
_UNCLEAR_PHRASES = (
    ("not", "sure"), ("do", "not", "know"), ("no", "idea"), ("maybe",), ("not", "certain"), ("i", "guess"),
    *_WAIT_PHRASES, ("what",), ("who", "is", "this"), ("sorry",), ("pardon",), ("say", "again"),
    ("not", "remember"), ("can", "not", "remember"), ("do", "not", "remember"), ("can", "not", "recall"),
)  # fmt: skip


# Spanish, accents folded ("sí" is "si"). "No" is both the answer and the negation ("no es correcto").
_SPANISH_YES_PHRASES = (
    ("si",), ("claro",), ("correcto",), ("eso", "es"), ("ese", "es"), ("esa", "es"), ("asi", "es"),
    ("exacto",), ("exactamente",), ("afirmativo",), ("por", "supuesto"), ("de", "acuerdo"), ("aja",),
    ("efectivamente",), ("si", "por", "favor"), ("adelante",), ("perfecto",), ("sale",), ("dale",),
    # "Está bien" agrees ("no está bien" is a no: a yes-word after "no" is negated below); "ándale", "órale".
    ("esta", "bien"), ("andale",), ("orale",), ("me", "parece", "bien"), ("ese", "mero"), ("simon",),
)  # fmt: skip
_SPANISH_NO_PHRASES = (
    ("no",), ("nop",), ("negativo",), ("incorrecto",), ("equivocado",), ("otro",), ("otra",),
    ("cancelar",), ("claro", "que", "no"), ("para", "nada"), ("esta", "mal"), ("estan", "mal"), ("nel",),
)  # fmt: skip
_SPANISH_WAIT_PHRASES = (("espere",), ("espera",), ("un", "momento"))
_SPANISH_MORE_WAIT_PHRASES = (
    ("espereme",), ("esperame",), ("un", "momentito"), ("un", "segundo"), ("un", "segundito"), ("dejeme",),
    ("dejame",), ("permitame",), ("permiteme",), ("momento", "por", "favor"), ("momentito",),
    ("aguanteme",), ("aguantame",), ("tantito",), ("deme", "chance"), ("dame", "chance"), ("deme", "un", "chance"),
    ("dame", "un", "chance"),
    # Telling us they are looking for it: "ahorita lo busco", "lo estoy buscando".
    ("lo", "busco"), ("la", "busco"), ("lo", "estoy", "buscando"), ("la", "estoy", "buscando"),
    ("estoy", "buscando"),
)  # fmt: skip
# Words before "espere" / "espera" that make it a wait told of: "ya esperé", "la espera", "mucha espera".
_WAIT_TOLD = frozenset({"ya", "la", "una", "mucha", "tanta", "esta", "cuanta", "he", "hemos"})
_SPANISH_UNCLEAR_PHRASES = (
    ("no", "se"), ("no", "estoy", "seguro"), ("no", "estoy", "segura"), ("tal", "vez"), ("quizas",),
    ("quiza",), ("a", "lo", "mejor"), *_SPANISH_WAIT_PHRASES,
    ("perdon",), ("mande",), ("repita",), ("no", "entiendo"), ("no", "le", "entiendo"),
)  # fmt: skip


def _said(text: str, spanish: bool) -> list[str]:
    """The words of an utterance as the phrase lists spell them: Spanish with its accents folded."""
    return [_fold(word) for word in _words(text)] if spanish else _words(text)


def _spans(words: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Where the phrases occur in words, as (start, end) pairs."""
    found = []
    for phrase in phrases:
        width = len(phrase)
        for start in range(len(words) - width + 1):
            if tuple(words[start : start + width]) == phrase:
                found.append((start, start + width))
    return found


def asks_for_time(text: str, language: str = "en") -> bool:
    """Whether the caller asks us to wait ("hold on", "give me a minute", "un momento"). Only worth
    asking of words that meant nothing else: "hold on, I want to track my order" is a choice."""
    if _is_spanish(language):
        words = [_fold(word) for word in _words(text)]
        spans = _spans(words, _SPANISH_WAIT_PHRASES + _SPANISH_MORE_WAIT_PHRASES)
        # "Ya esperé dos semanas", "la espera es eterna": a wait told of (esperé is espere, folded), not asked.
        return any(not (a > 0 and words[a - 1] in _WAIT_TOLD and words[a] in {"espere", "espera"}) for a, _ in spans)
    return bool(_spans(_words(text), _WAIT_PHRASES + _MORE_WAIT_PHRASES))


# A no that opens an answer ("No, I need to talk to someone", "no gracias, quiero un reembolso").
_LEADING_NO = frozenset({"no", "nope", "nah", "nop", "thanks", "thank", "you", "gracias", "uh", "um"})
_NO_WORDS = frozenset({"no", "nope", "nah", "nop"})
# Asking to hear it again: "what?", "say that again", "can you repeat that", "¿cómo?", "repítalo".
_REPEAT_PHRASES = (
    ("repeat",), ("again",), ("come", "again"), ("what",), ("pardon",), ("sorry",), ("huh",),
    ("one", "more", "time"), ("did", "not", "catch"), ("did", "not", "hear"), ("missed", "that"),
)  # fmt: skip
_SPANISH_REPEAT_PHRASES = (
    ("repita",), ("repitalo",), ("repitame",), ("repetir",), ("repite",), ("otra", "vez"), ("de", "nuevo"),
    ("que",), ("como",), ("mande",), ("perdon",), ("no", "escuche"), ("no", "oi"), ("que", "dijo"),
)  # fmt: skip
# Words around a request to repeat that add nothing: "can you repeat that please", "¿me lo repite?".
_REPEAT_FILLERS = frozenset(
    {"can", "could", "would", "you", "please", "say", "that", "it", "the", "question", "i", "me", "lo", "la",
     "puede", "podria", "por", "favor", "eso", "oh", "um", "uh", "sorry", "was", "said", "disculpe", "le"}
)  # fmt: skip
# Not knowing the number asked for: "I don't know my order number", "no sé mi número de pedido".
_NO_NUMBER_PHRASES = (
    ("do", "not", "know"), ("do", "not", "have"), ("can", "not", "find"), ("could", "not", "find"),
    ("do", "not", "remember"), ("can", "not", "remember"), ("forgot",), ("lost", "it"), ("no", "idea"),
    ("not", "sure", "what"), ("have", "no"), ("without", "the", "number"), ("lost",), ("deleted",),
)  # fmt: skip
_SPANISH_NO_NUMBER_PHRASES = (
    ("no", "se"), ("no", "lo", "tengo"), ("no", "tengo"), ("no", "lo", "encuentro"), ("no", "encuentro"),
    ("no", "me", "acuerdo"), ("no", "recuerdo"), ("se", "me", "olvido"), ("olvide",), ("lo", "perdi"),
    ("ni", "idea"), ("perdi",), ("borre",),
)  # fmt: skip


def after_no(text: str, language: str = "en") -> str:
    """The words after a leading "no" ("No, I need to talk to someone" -> "i need to talk to someone"),
    or "" when the answer does not open with one or says nothing more."""
    return _after_opening(text, language, _NO_WORDS, _LEADING_NO)


# A yes that opens an answer ("Yes, but it arrived damaged", "sí, pero llegó roto").
_YES_WORDS = frozenset({"yes", "yeah", "yep", "yup", "yea", "yah", "si", "correct", "correcto", "claro"})
_LEADING_YES = _YES_WORDS | {"uh", "um", "oh", "well", "okay", "ok"}


def after_yes(text: str, language: str = "en") -> str:
    """The words after a leading yes ("Yes, but it arrived damaged" -> "but it arrived damaged"), or ""
    when the answer does not open with one or says nothing more."""
    return _after_opening(text, language, _YES_WORDS, _LEADING_YES)


def _after_opening(text: str, language: str, opening: frozenset[str], leading: frozenset[str]) -> str:
    """The words after an answer's opening (a first word in `opening`, then any in `leading`), or ""."""
    words = [_fold(word) for word in _words(text)] if _is_spanish(language) else _words(text)
    if not words or words[0] not in opening:
        return ""
    start = 0
    while start < len(words) and words[start] in leading:
        start += 1
    return " ".join(words[start:])


def is_plain_no(text: str, language: str = "en") -> bool:
    """Whether the words are a no and nothing more ("No.", "Nope", "no thanks"); "that's not right" or
    "no, it never arrived" say more than no."""
    words = [_fold(word) for word in _words(text)] if _is_spanish(language) else _words(text)
    return bool(words) and words[0] in _NO_WORDS and all(word in _LEADING_NO for word in words)


# Everyday closings after an answer ("great, thanks", "that's all I needed", "hasta luego", "gracias, eso es
# todo"): words that only thank or take leave, one of them a thanks or a goodbye.
_CLOSERS = frozenset({"thanks", "thank", "thx", "bye", "goodbye", "cheers", "appreciate", "appreciated"})
_CLOSING_PHRASES = (
    ("that", "is", "all"), ("that", "is", "it"), ("that", "is", "everything"), ("all", "set"), ("i", "am", "done"),
    ("i", "am", "good"), ("have", "a", "good"), ("have", "a", "nice"), ("have", "a", "great"), ("take", "care"),
    ("that", "will", "be", "all"), ("that", "would", "be", "all"), ("nothing", "else"),
)  # fmt: skip
_CLOSING_WORDS = _CLOSERS | {
    "you", "so", "much", "very", "great", "perfect", "awesome", "excellent", "wonderful", "cool", "good", "fine",
    "nice", "lovely", "brilliant", "super", "sweet", "ok", "okay", "alright", "all", "right", "that", "is", "it",
    "i", "needed", "need", "wanted", "have", "a", "day", "night", "evening", "weekend", "for", "your", "the",
    "help", "oh", "ah", "um", "uh", "yeah", "yes", "yep", "got", "am", "set", "done", "everything", "just", "then",
    "and", "well", "sounds", "really", "no", "nope", "take", "care", "will", "would", "be", "else", "nothing",
    "again", "gotcha", "one", "anyway", "anyways",
}  # fmt: skip
_SPANISH_CLOSERS = frozenset({"gracias", "adios", "chao", "chau", "bye", "agradezco"})
_SPANISH_CLOSING_PHRASES = (
    ("hasta", "luego"), ("hasta", "pronto"), ("hasta", "la", "vista"), ("hasta", "manana"), ("eso", "es", "todo"),
    ("es", "todo"), ("seria", "todo"), ("nada", "mas"), ("que", "tenga"), ("ya", "termine"), ("ya", "quedo"),
)  # fmt: skip
_SPANISH_CLOSING_WORDS = _SPANISH_CLOSERS | {
    "muchas", "mil", "muy", "amable", "perfecto", "perfecta", "excelente", "genial", "bueno", "buena", "buen",
    "buenas", "bien", "esta", "vale", "ok", "okey", "okay", "listo", "ya", "es", "eso", "todo", "seria", "hasta",
    "luego", "pronto", "manana", "la", "vista", "dia", "tarde", "tardes", "noche", "noches", "que", "tenga",
    "le", "lo", "se", "igualmente", "si", "no", "nada", "mas", "pues", "entonces", "termine", "quedo", "de", "su",
    "por", "ayuda", "senorita", "senor", "joven", "feliz",
}  # fmt: skip


def is_closing(text: str, language: str = "en") -> bool:
    """Whether the words only close the call, with thanks or a goodbye ("great, thanks", "perfect thank
    you", "that's all", "hasta luego", "gracias, eso es todo"); "thanks, but I have another question",
    "I'm not done, thanks" or "gracias, quiero un reembolso" say more than that."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    closers, phrases, allowed = (
        (_SPANISH_CLOSERS, _SPANISH_CLOSING_PHRASES, _SPANISH_CLOSING_WORDS)
        if spanish
        else (_CLOSERS, _CLOSING_PHRASES, _CLOSING_WORDS)
    )
    if not words or any(word not in allowed for word in words):
        return False
    return not closers.isdisjoint(words) or bool(_spans(words, phrases))


# The caller will ring us, not the other way round: "I'll call back later", "yo llamo después".
_CALLER_WILL_CALL = (
    ("i", "will", "call"), ("i", "will", "just", "call"), ("i", "will", "ring"), ("i", "will", "try"),
    ("i", "am", "going", "to", "call"), ("i", "can", "call"), ("i", "will", "phone"),
)  # fmt: skip
_SPANISH_CALLER_WILL_CALL = (
    ("yo", "llamo"), ("llamo", "despues"), ("llamo", "luego"), ("llamo", "mas", "tarde"), ("llamare",),
    ("vuelvo", "a", "llamar"), ("volvere", "a", "llamar"), ("les", "llamo"), ("le", "llamo", "despues"),
)  # fmt: skip


def caller_will_call(text: str, language: str = "en") -> bool:
    """Whether the caller says they will ring us themselves ("No thanks, I'll call back later"): a
    goodbye, however much it sounds like "call me back"."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return bool(_spans(words, _SPANISH_CALLER_WILL_CALL if spanish else _CALLER_WILL_CALL))


# A caller who takes in what they heard and says no more: "okay", "alright", "perfect", "got it", "vale".
_ACKNOWLEDGERS = frozenset(
    {"okay", "ok", "okey", "alright", "perfect", "great", "cool", "awesome", "gotcha", "got", "see", "good",
     "fine", "nice", "excellent", "wonderful", "understood", "noted", "sweet", "right"}
)  # fmt: skip
_ACKNOWLEDGING = _ACKNOWLEDGERS | {"all", "it", "i", "sounds", "um", "uh", "oh", "ah", "hmm", "mm", "so", "yeah"}
_SPANISH_ACKNOWLEDGERS = frozenset(
    {"ok", "okey", "vale", "bueno", "perfecto", "listo", "entendido", "veo", "bien", "excelente", "genial", "claro"}
)  # fmt: skip
_SPANISH_ACKNOWLEDGING = _SPANISH_ACKNOWLEDGERS | {"ya", "esta", "muy", "ah", "eh", "pues", "ok", "este"}


def only_acknowledges(text: str, language: str = "en") -> bool:
    """Whether the words only take in what was said ("okay", "alright", "perfect", "got it", "vale"): no
    choice, no question, no goodbye; after an answer, as good as silence."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    allowed, needed = (_SPANISH_ACKNOWLEDGING, _SPANISH_ACKNOWLEDGERS) if spanish else (_ACKNOWLEDGING, _ACKNOWLEDGERS)
    return bool(words) and all(word in allowed for word in words) and not needed.isdisjoint(words)


# Sounds that fill a pause and answer nothing: "um", "uh", "hmm", "eh", "este".
_FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "ah", "eh", "well", "so"})
_SPANISH_FILLERS = frozenset({"eh", "em", "este", "pues", "mmm", "mm", "ah", "bueno", "a", "ver"})


def only_fillers(text: str, language: str = "en") -> bool:
    """Whether the words only fill a pause ("um", "uh...", "este, eh"): no answer yet, not a no."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return bool(words) and all(word in (_SPANISH_FILLERS if spanish else _FILLERS) for word in words)


# A number given whole, said where the rest of it was asked for: "that's it", "that's the whole number",
# "that's all of it", "eso es todo", "ese es el número", "ya está".
_NUMBER_ENDS = (
    ("that", "is", "it"), ("that", "is", "all"), ("that", "is", "the", "whole"), ("that", "is", "the", "number"),
    ("that", "is", "the", "full"), ("that", "is", "everything"), ("there", "is", "no", "more"), ("no", "more"),
    ("nothing", "else"), ("i", "am", "done"), ("that", "was", "it"), ("that", "was", "all"), ("the", "whole", "thing"),
    ("all", "of", "it"), ("the", "whole", "number"), ("the", "full", "number"), ("finished",), ("done",),
)  # fmt: skip
_SPANISH_NUMBER_ENDS = (
    ("eso", "es", "todo"), ("es", "todo"), ("ese", "es", "el", "numero"), ("ese", "es", "todo"), ("ya", "esta"),
    ("no", "hay", "mas"), ("nada", "mas"), ("ya", "termine"), ("el", "numero", "completo"), ("termine",),
    ("completo",), ("eso", "era", "todo"),
)  # fmt: skip

# "I'm not done yet", "wait, there's more", "todavía falta": more is coming.
_MORE_TO_COME = frozenset({"not", "yet", "wait", "rest", "missing", "still"})
_SPANISH_MORE_TO_COME = frozenset({"todavia", "aun", "falta", "faltan", "espere", "resto", "sigue"})


def ends_the_number(text: str, language: str = "en") -> bool:
    """Whether the words say the number given so far is the whole of it ("that's it", "that's the whole
    number", "eso es todo"), or only fill the pause or agree ("um", "okay", "yes"): no more digits to come."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    if not words or not (_SPANISH_MORE_TO_COME if spanish else _MORE_TO_COME).isdisjoint(words):
        return False
    if spoken_digits(text, language).digits:
        return False  # "yes, 1234567", "that's it, 1234567": the rest, said after agreeing
    if only_fillers(text, language) or only_acknowledges(text, language) or yes_no("", text, language=language) is True:
        return True
    return bool(_spans(words, _SPANISH_NUMBER_ENDS if spanish else _NUMBER_ENDS))


# A caller who drops what they were offered or asked: "never mind", "forget it", "olvídelo".
_NEVER_MIND = (
    ("never", "mind"), ("nevermind",), ("forget", "it"), ("forget", "about", "it"), ("do", "not", "bother"),
    ("no", "need"), ("not", "necessary"),
)  # fmt: skip
_SPANISH_NEVER_MIND = (
    ("olvidelo",), ("olvidalo",), ("olvide", "eso"), ("no", "importa"), ("dejelo",), ("dejalo",),
    ("no", "hace", "falta"), ("no", "es", "necesario"), ("no", "se", "moleste"),
)  # fmt: skip


def never_mind(text: str, language: str = "en") -> bool:
    """Whether the caller drops the matter ("never mind", "forget it", "olvídelo"): at an offer, a no."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return bool(_spans(words, _SPANISH_NEVER_MIND if spanish else _NEVER_MIND))


# Words that turn a sentence from what came before to something more: "that's all fine, but where is the
# other package", "that's it for the tracking, now I need a refund", "eso es todo, ¿y el otro paquete?".
_TURNS = (
    ("but",), ("now",), ("also",), ("what", "about"), ("how", "about"), ("another",), ("other",), ("though",),
    ("although",), ("however",), ("except",), ("still",),
)  # fmt: skip
_SPANISH_TURNS = (
    ("pero",), ("ahora",), ("tambien",), ("otro",), ("otra",), ("y", "el"), ("y", "la"), ("y", "los"), ("y", "las"),
    ("y", "mi"), ("y", "mis"), ("sin", "embargo"), ("aunque",), ("todavia",),
)  # fmt: skip
# A question, by its first word: "is that all?", "what else can you tell me", "why is it late".
_QUESTION_WORDS = frozenset(
    {"is", "was", "are", "what", "where", "why", "how", "can", "could", "do", "does", "did", "when", "will",
     "who", "which", "should"}
)  # fmt: skip
_SPANISH_QUESTION_WORDS = frozenset({"donde", "cuando", "como", "cual", "quien", "porque"})
# Fed up or still asking, not finished: "I'm done waiting", "I'm done with this company", "that's all you
# can tell me", "estoy harto", "eso es todo lo que me puede decir".
_NOT_FINISHED = (
    ("sick", "of"), ("tired", "of"), ("fed", "up"), ("done", "with"), ("you", "can", "tell"), ("you", "can", "do"),
    ("can", "you"), ("could", "you"),
)  # fmt: skip
_SPANISH_NOT_FINISHED = (
    ("harto",), ("harta",), ("cansado",), ("cansada",), ("puede", "decir"), ("pueden", "decir"), ("puede", "hacer"),
    ("pueden", "hacer"), ("puede", "ayudar"),
)  # fmt: skip
_OPENING_NOISE = frozenset({"um", "uh", "oh", "so", "well", "and", "eh", "este", "pues", "bueno", "y"})


def after_turn(text: str, language: str = "en") -> str:
    """The words after a turn to something more ("that's all fine, but where is the other package" ->
    "where is the other package"), or "" when the words take none ("that's all for now, but thanks").
    A turn counts when a word follows it that is more than thanks or a goodbye."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    allowed = _SPANISH_CLOSING_WORDS if spanish else _CLOSING_WORDS
    for start, end in sorted(_spans(words, _SPANISH_TURNS if spanish else _TURNS)):
        rest = words[end:]
        if words[start] == "now" and start > 0 and words[start - 1] == "for":
            continue  # "that's all for now"
        if any(word not in allowed for word in rest):
            keep = start if words[start] in {"another", "other", "otro", "otra"} else end
            return " ".join(words[keep:])
    return ""


# A caller correcting themselves: "track my order, no wait, returns", "tracking, I mean refund".
_CORRECTIONS = (
    ("no", "wait"), ("wait", "no"), ("no", "sorry"), ("sorry", "no"), ("i", "mean"), ("i", "meant"),
    ("no", "actually"), ("actually", "no"), ("scratch", "that"), ("or", "rather"), ("oh", "wait"),
)  # fmt: skip
_SPANISH_CORRECTIONS = (
    ("no", "perdon"), ("perdon", "no"), ("no", "espere"), ("espere", "no"), ("no", "digo"), ("quiero", "decir"),
    ("mejor", "dicho"), ("no", "mejor"), ("o", "sea"),
)  # fmt: skip


def after_correction(text: str, language: str = "en") -> str:
    """The words after the caller's last correction of themselves ("track my order no wait returns" ->
    "returns"), or "" when they make none or say nothing after it."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    spans = _spans(words, _SPANISH_CORRECTIONS if spanish else _CORRECTIONS)
    if not spans:
        return ""
    end = max(end for _start, end in spans)
    return " ".join(words[end:])


def says_more_than_goodbye(text: str, language: str = "en") -> bool:
    """Whether words that sound like a goodbye say more: a question ("that's all?", "is that all you can
    tell me"), a turn to something else ("that's all fine, but ..."), or a caller fed up ("I'm done
    waiting"). Hanging up on them would end the call of someone who is not finished."""
    if "?" in text or "\u00bf" in text:
        return True
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    opening = next((word for word in words if word not in _OPENING_NOISE), "")
    if opening in (_SPANISH_QUESTION_WORDS if spanish else _QUESTION_WORDS):
        return True
    if _spans(words, _SPANISH_NOT_FINISHED if spanish else _NOT_FINISHED):
        return True
    if not spanish and any(
        word == "done" and index + 1 < len(words) and words[index + 1].endswith("ing")
        for index, word in enumerate(words)
    ):
        return True  # "I'm done waiting", "done calling you people"
    return bool(after_turn(text, language))


def denies(text: str, language: str = "en") -> bool:
    """Whether the words deny something past a leading no ("I'm not done", "no, no he terminado"): then
    they cannot mean the phrase they deny ("I'm done")."""
    words = [_fold(word) for word in _words(text)] if _is_spanish(language) else _words(text)
    if _is_spanish(language):
        rest = words[1:] if words[:1] == ["no"] else words
        return "no" in rest or "nunca" in rest or "todavia" in rest
    return "not" in words or "never" in words


def asks_to_repeat(text: str, language: str = "en") -> bool:
    """Whether the caller asks to hear the question again, and nothing more ("what?", "say that again",
    "can you repeat that?", "¿cómo?", "repítalo")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    if _spans(words, (("uh", "huh"), ("mm", "hmm"))):
        return False  # "uh-huh" is a yes, not a "huh?"
    spans = _spans(words, _SPANISH_REPEAT_PHRASES if spanish else _REPEAT_PHRASES)
    covered = {index for start, end in spans for index in range(start, end)}
    rest = [word for index, word in enumerate(words) if index not in covered and word not in _REPEAT_FILLERS]
    return bool(spans) and not rest


def lacks_number(text: str, language: str = "en") -> bool:
    """Whether a caller asked for a number says they do not have it ("I don't know my order number")."""
    if _is_spanish(language):
        return bool(_spans([_fold(word) for word in _words(text)], _SPANISH_NO_NUMBER_PHRASES))
    return bool(_spans(_words(text), _NO_NUMBER_PHRASES))


def _weak_yes(words: Sequence[str]) -> bool:
    """Whether the answer is "okay" and nothing more than a courtesy ("okay", "OK, thanks", "vale pues")."""
    return not _WEAK_YES.isdisjoint(words) and all(word in _WEAK_YES | _WEAK_YES_COMPANY for word in words)


def is_yes(text: str, language: str = "en") -> bool | None:
    """True for yes, False for no, None when the answer is unclear ("maybe", "okay, wait", "yes no")."""
    if _is_spanish(language):
        return _is_yes_spanish([_fold(word) for word in _words(text)])
    words = _words(text)
    # Doubt inside a yes is part of it: "I guess so" agrees, "I guess" alone does not.
    agreed = _spans(words, _YES_PHRASES)
    doubt = [
        (a, b)
        for a, b in _spans(words, _UNCLEAR_PHRASES)
        if not any(y0 <= a and b <= y1 for y0, y1 in agreed)
        # "No, sorry" is a polite no, not a "sorry?".
        and not (words[a:b] == ["sorry"] and a > 0 and words[a - 1] in _NO_WORDS)
    ]
    if not words or doubt:
        return None
    # A yes-word next to "not" is negated: "not right", "that is not it", "absolutely not", "it is not".
    tail = [(start, end) for start, end in _spans(words, _TAIL_YES_PHRASES) if end == len(words)]
    yes = [
        (start, end)
        for start, end in _spans(words, _YES_PHRASES) + tail
        if not (start > 0 and words[start - 1] == "not")
        and not (end < len(words) and words[end] == "not")
        # "I'm driving right now": the time, not an agreement ("right away" still agrees).
        and not (words[start:end] == ["right"] and end < len(words) and words[end] == "now")
    ]
    # The "no" inside a yes phrase ("no problem", "no worries") is not a refusal.
    no = [(a, b) for a, b in _spans(words, _NO_PHRASES) if not any(y0 <= a and b <= y1 for y0, y1 in yes)]
    if (yes or _weak_yes(words)) and not no:
        return True
    if no and not yes:
        return False
    return None  # nothing recognisable, or both ("yeah no", "no, that's right"): ask again


def _is_yes_spanish(words: Sequence[str]) -> bool | None:
    """is_yes for Spanish words, accents folded."""
    # "¿Qué?" and "¿Cómo?" alone ask to hear it again; inside a sentence they are ordinary words.
    if not words or _spans(words, _SPANISH_UNCLEAR_PHRASES) or list(words) in (["que"], ["como"]):
        return None
    # "No es correcto", "no, eso no es": a yes-word right after "no" (or "no es", "no está") is negated.
    yes = [
        (start, end)
        for start, end in _spans(words, _SPANISH_YES_PHRASES)
        if not (start > 0 and words[start - 1] == "no")
        and not (start > 1 and words[start - 2] == "no" and words[start - 1] in {"es", "esta"})
    ]
    no_spans = _spans(words, _SPANISH_NO_PHRASES)
    # The yes-word inside "claro que no" is part of the refusal.
    yes = [(a, b) for a, b in yes if not any(n0 <= a and b <= n1 and n1 - n0 > 1 for n0, n1 in no_spans)]
    no = [(a, b) for a, b in no_spans if not any(y0 <= a and b <= y1 for y0, y1 in yes)]
    if (yes or _weak_yes(words)) and not no:
        return True
    if no and not yes:
        return False
    return None


# -- answering our call: who, not now, stop, settled, ready -----------------------------------------------

# "Who is this?", "what's this about?", "¿quién habla?": the caller missed who is calling and why.
_WHO = (
    ("who", "is", "this"), ("who", "is", "calling"), ("who", "are", "you"), ("who", "is", "it"), ("what", "is", "this"),
    ("what", "is", "it", "about"), ("what", "company"), ("where", "are", "you", "calling", "from"),
    ("can", "not", "hear"), ("could", "not", "hear"), ("who", "am", "i", "speaking"), ("who", "am", "i", "talking"),
)  # fmt: skip
_SPANISH_WHO = (
    ("quien", "habla"), ("quien", "es"), ("quien", "llama"), ("de", "parte", "de", "quien"),
    ("de", "que", "se", "trata"), ("que", "es", "esto"), ("no", "le", "escucho"), ("no", "escucho"),
    ("no", "le", "oigo"), ("de", "donde", "llaman"),
)  # fmt: skip
# A phone's "hello?" alone: they did not hear us.
_HELLOS = frozenset({"hello", "hi", "hey", "yes", "alo", "bueno", "hola", "diga", "si"})


def asks_who(text: str, language: str = "en") -> bool:
    """Whether someone we called asks who is calling or why, or did not hear us ("hello? hello?")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    if words and all(word in _HELLOS for word in words) and words[0] in {"hello", "alo", "bueno", "hola", "diga"}:
        return True
    return bool(_spans(words, _SPANISH_WHO if spanish else _WHO))


# "Not now, call me later", "I'm driving", "ahorita no": they want the call, at another time.
_LATER = (
    ("later",), ("tomorrow",), ("not", "now"), ("not", "right", "now"), ("not", "a", "good", "time"), ("bad", "time"),
    ("another", "time"), ("busy",), ("driving",), ("at", "work"), ("in", "a", "meeting"), ("can", "not", "talk"),
    ("in", "an", "hour"), ("in", "a", "few", "minutes"), ("call", "me", "back"), ("call", "back"),
    ("try", "me", "again"), ("try", "again", "later"),
)  # fmt: skip
_SPANISH_LATER = (
    ("mas", "tarde"), ("luego",), ("despues",), ("ahorita", "no"), ("ahora", "no"), ("manana",), ("ocupado",),
    ("ocupada",), ("manejando",), ("conduciendo",), ("no", "puedo", "hablar"), ("en", "una", "hora"),
    ("otro", "momento"), ("vuelva", "a", "llamar"), ("vuelvan", "a", "llamar"), ("en", "el", "trabajo"),
)  # fmt: skip


def asks_for_later(text: str, language: str = "en") -> bool:
    """Whether someone we called wants the call at another time ("not now, call me back in an hour",
    "I'm driving", "sí, pero más tarde"): neither a yes to talk now nor a no to the request."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    # A time named is a time asked for: "try me again in twenty minutes", "en un par de horas".
    return bool(_spans(words, _SPANISH_LATER if spanish else _LATER)) or later_in(text, language) is not None


# How long from now "call me back in ..." asks for: a count and its unit, after "in", "en" or "dentro de".
_UNITS = {"minute": 1, "minutes": 1, "min": 1, "mins": 1, "hour": 60, "hours": 60, "hr": 60, "hrs": 60,
          "minuto": 1, "minutos": 1, "hora": 60, "horas": 60}  # fmt: skip
_ONE = {"a", "an", "one", "un", "una", "uno"}
_FEW = {"couple", "few", "par"}
_HALF_HOUR = (("half", "an", "hour"), ("half", "hour"), ("media", "hora"))
_TOMORROW = {"tomorrow", "manana"}
_IN = {"in", "en", "within", "dentro", "after"}


def later_in(text: str, language: str = "en") -> int | str | None:
    """How long someone we called asks us to wait before calling back: minutes from now ("in an hour" 60,
    "en media hora" 30, "in twenty minutes" 20, "in a couple of hours" 120), "tomorrow" ("call me
    tomorrow", "mañana"), or None when they named no time ("later", "I'm driving")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    for start in range(len(words)):
        if words[start] not in _IN:
            continue
        rest = [
            word
            for word in words[start + 1 : start + 6]
            if word not in {"de", "about", "around", "like", "unos", "unas", "of"}
        ]
        if any(tuple(rest[: len(half)]) == half for half in _HALF_HOUR):
            return 30
        for end in range(1, min(len(rest), 4)):
            unit = _UNITS.get(rest[end])
            if unit is None:
                continue
            count_words = rest[:end]
            if count_words and all(word in _ONE for word in count_words):
                count = 1
            elif count_words and count_words[-1] in _FEW:
                count = 2 if count_words[-1] in {"couple", "par"} else 3
            else:
                said = spoken_digits(" ".join(count_words), language=language).digits
                count = int(said) if said.isdigit() and 0 < len(said) <= 3 else 0
            if count:
                return count * unit
    return "tomorrow" if _TOMORROW.intersection(words) else None


# "Stop calling me", "take me off your list": never to be called again (the do-not-call list).
_STOP = (
    ("stop", "calling"), ("quit", "calling"), ("do", "not", "call", "me"), ("never", "call"), ("take", "me", "off"),
    ("remove", "my", "number"), ("remove", "me"), ("leave", "me", "alone"), ("unsubscribe",),
    ("do", "not", "call", "list"), ("stop", "ringing"),
)  # fmt: skip
_SPANISH_STOP = (
    ("dejen", "de", "llamar"), ("dejen", "de", "llamarme"), ("no", "me", "llamen"), ("no", "me", "vuelvan"),
    ("dejenme", "en", "paz"), ("borrenme",), ("saquenme", "de"), ("no", "vuelvan", "a", "llamar"),
)  # fmt: skip


def asks_to_stop(text: str, language: str = "en") -> bool:
    """Whether someone we called asks never to be called again ("stop calling me", "take me off your
    list", "no me llamen más")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return bool(_spans(words, _SPANISH_STOP if spanish else _STOP))


# "I already sorted it out", "the package arrived", "ya lo resolví": no longer needed.
_SETTLED = (
    ("already", "sorted"), ("sorted", "it"), ("been", "sorted"), ("been", "resolved"), ("already", "resolved"),
    ("is", "resolved"), ("all", "good", "now"), ("i", "am", "good", "now"), ("it", "arrived"), ("package", "arrived"),
    ("order", "arrived"), ("no", "longer", "need"), ("do", "not", "need"), ("figured", "it", "out"),
)  # fmt: skip
_SPANISH_SETTLED = (
    ("ya", "lo", "resolvi"), ("ya", "esta", "resuelto"), ("ya", "se", "resolvio"), ("ya", "quedo"), ("ya", "llego"),
    ("todo", "bien"), ("ya", "no", "lo", "necesito"), ("ya", "no", "hace", "falta"),
)  # fmt: skip


def says_settled(text: str, language: str = "en") -> bool:
    """Whether someone we called says they no longer need us ("I already sorted it out, thanks", "never
    mind", "ya lo resolví"): a no to the request, said without the word."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return never_mind(text, language) or bool(_spans(words, _SPANISH_SETTLED if spanish else _SETTLED))


# "I want to talk to an agent", "a person please", "comuníqueme con un asesor": asked, on our call, whether
# to be put through to an agent, someone asking for one has said yes, whatever "no" came first ("no, I
# want to talk to someone": no to the machine, not to the agent).
_PEOPLE = ("agent", "agents", "someone", "somebody", "person", "human", "representative", "rep", "operator",
           "advisor", "associate", "real", "live")  # fmt: skip
_TO_A_PERSON = ("talk", "speak", "connect", "transfer")
_PERSON_ASKS = (
    *((verb, "to", person) for verb in _TO_A_PERSON for person in _PEOPLE),
    *((verb, "to", article, person) for verb in _TO_A_PERSON for article in ("a", "an", "the") for person in _PEOPLE),
    ("connect", "me"), ("put", "me", "through"), ("transfer", "me"), ("need", "help"), ("need", "some", "help"),
)  # fmt: skip
# A person named, and nothing more ("agent", "an agent please", "yes, a person"): in a longer sentence
# the word may be news, not a wish ("I already talked to an agent", "the agent fixed it").
_PERSON_NAMED = (("agent",), ("representative",), ("person",), ("agente",), ("asesor",), ("persona",))
_NAMED_AT_MOST = 4
_SPANISH_PERSON_ASKS = (
    *(("hablar", "con", who) for who in ("alguien", "agente", "asesor", "asesora", "persona", "operador",
                                         "operadora", "representante", "usted")),
    *(("hablar", "con", article, who) for article in ("un", "una", "el", "la")
      for who in ("agente", "asesor", "asesora", "persona", "operador", "operadora", "representante")),
    ("comuniqueme",), ("comunicame",), ("paseme",), ("pasame",), ("necesito", "ayuda"),
)  # fmt: skip
_IMPERATIVES = frozenset({"comuniqueme", "comunicame", "paseme", "pasame"})
# Words just before the ask that refuse it: "I don't want to talk to anyone", "no quiero hablar con nadie".
_PERSON_REFUSALS = frozenset({"not", "never", "nadie", "no"})


def asks_for_a_person(text: str, language: str = "en") -> bool:
    """Whether someone we called asks to be put through to a person ("I want to talk to an agent",
    "no, a person please", "quiero hablar con un asesor"), and does not refuse it ("I don't want to talk
    to anyone", "no quiero hablar con nadie")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    spans = _spans(words, _SPANISH_PERSON_ASKS if spanish else _PERSON_ASKS)
    if len(words) <= _NAMED_AT_MOST:
        spans += _spans(words, _PERSON_NAMED)
    for start, _end in spans:
        # A refusal in the few words before any part of the ask: "I do not want to speak to an agent",
        # "no quiero hablar con un agente". A leading "no" in English is the answer to the question, not
        # to the ask ("no, I want to talk to someone"); nor is a Spanish one before an imperative
        # ("no, páseme con alguien": "don't" would be "no me pase").
        before = set(words[max(0, start - 3) : start])
        refusals = _PERSON_REFUSALS if spanish and words[start] not in _IMPERATIVES else _PERSON_REFUSALS - {"no"}
        if refusals & before:
            return False
    return bool(spans)


# Words that only say "what you have is wrong": "no, that's wrong", "sorry, wrong number", "no es correcto".
_DENIAL_WORDS = frozenset(
    {"no", "nope", "nah", "not", "that", "is", "it", "this", "wrong", "right", "correct", "incorrect", "sorry",
     "the", "number", "oops", "um", "uh", "mistake", "a", "es", "eso", "esta", "mal", "correcto", "incorrecto",
     "equivocado", "perdon", "numero", "ese", "el", "un", "error"}
)  # fmt: skip
_DENIALS = frozenset({"no", "nope", "nah", "not", "wrong", "incorrect", "mal", "incorrecto", "equivocado", "error"})


def only_denies(text: str, language: str = "en") -> bool:
    """Whether the words say only that something is wrong ("no, that's wrong", "that's not right",
    "sorry, wrong number", "no, está mal"), and ask for nothing else ("no, a refund", "todavía no lo he
    devuelto", "two")."""
    words = _said(text, _is_spanish(language))
    return bool(words) and all(word in _DENIAL_WORDS for word in words) and not _DENIALS.isdisjoint(words)


# Words that join two requests in one breath: "where's my order, and I want a refund", "y también".
_JOINS = ("and also", "and then", "and", "also", "plus", "y tambien", "y ademas", "y", "tambien", "ademas")
_JOIN = re.compile(r"\b(?:" + "|".join(_JOINS) + r")\b")


def requests_joined(text: str, language: str = "en") -> list[str]:
    """The parts of an utterance joined by "and" ("where's my order", "I want a refund"), as said; one
    part when there is no join. Parts of a word or two ("and", "yes and") are not parts."""
    words = " ".join(_said(text, _is_spanish(language)))
    parts = [part.strip() for part in _JOIN.split(words)]
    return [part for part in parts if len(part.split()) >= 2] or [text]


# "Okay, I'm back", "I'm ready", "ya estoy": after a moment, ready to talk.
_READY = (("i", "am", "back"), ("i", "am", "here"), ("i", "am", "ready"), ("ready",), ("go", "ahead"))
_SPANISH_READY = (("ya", "estoy"), ("listo",), ("lista",), ("digame",), ("ya", "puedo"))


def says_ready(text: str, language: str = "en") -> bool:
    """Whether someone who asked for a moment says they are back and ready ("okay, I'm back")."""
    spanish = _is_spanish(language)
    words = _said(text, spanish)
    return bool(_spans(words, _SPANISH_READY if spanish else _READY))


def yes_no(
    digits: str | None, said: str | None, yes_key: str = "1", no_key: str = "2", *, language: str = "en"
) -> bool | None:
    """The product's one yes/no reader, for keys and speech: True, False, or None when unclear.

    A key other than the two offered is unclear, not a refusal (a stray press must not cancel
    anything); "I'm not sure", "I don't know" or "hold on" are unclear too. Only a clear "no",
    "cancel" or the no key refuses. A key said ("one", "press two") is the key pressed.
    """
    key = (digits or "").strip()[:1] or (spoken_key(said, language) if said else None) or ""
    if key:
        return True if key == yes_key else False if key == no_key else None
    return is_yes(said, language=language) if said and said.strip() else None
