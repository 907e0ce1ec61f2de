"""What callers say to the phone menu, in English or Spanish: menu intents and yes or no.

Spoken numbers and references are read in ivr/speech_numbers.py; their public names are re-exported here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ivr import speech_clues
from ivr.speech_numbers import (
    MAX_UTTERANCE,
    ORDER_DIGITS,
    SpokenNumber,
    _fold,
    _words,
    begins_order_number,
    ends_on_a_digit,
    format_order_number,
    group_order_digits,
    reference_key,
    say_digits,
    spoken_digits,
    spoken_key,
    spoken_reference,
)
from ivr.speech_yesno import (
    after_correction,
    after_no,
    after_turn,
    after_yes,
    asks_for_a_person,
    asks_for_later,
    asks_for_time,
    asks_to_repeat,
    asks_to_stop,
    asks_who,
    caller_will_call,
    denies,
    ends_the_number,
    is_closing,
    is_plain_no,
    is_yes,
    lacks_number,
    later_in,
    never_mind,
    only_acknowledges,
    only_denies,
    only_fillers,
    requests_joined,
    says_more_than_goodbye,
    says_ready,
    says_settled,
    yes_no,
)

__all__ = [
    "MAX_UTTERANCE",
    "ORDER_DIGITS",
    "OFF_MENU",
    "Intent",
    "SpokenNumber",
    "after_correction",
    "after_no",
    "after_turn",
    "after_yes",
    "asks_for_a_person",
    "asks_for_later",
    "asks_for_time",
    "asks_to_repeat",
    "asks_to_stop",
    "asks_who",
    "begins_order_number",
    "ends_the_number",
    "lacks_number",
    "later_in",
    "never_mind",
    "only_acknowledges",
    "only_denies",
    "only_fillers",
    "requests_joined",
    "says_more_than_goodbye",
    "says_ready",
    "says_settled",
    "ends_on_a_digit",
    "format_order_number",
    "group_order_digits",
    "is_yes",
    "could_mean",
    "match_intent",
    "reference_key",
    "say_digits",
    "spoken_digits",
    "spoken_key",
    "spoken_reference",
    "yes_no",
    "is_plain_no",
    "is_closing",
    "denies",
    "caller_will_call",
]


# ---------------------------------------------------------------------------------------------------------
# Intents
# ---------------------------------------------------------------------------------------------------------

# Fewer digits than this are a count or a name ("5 minutes"), not an order or return number.
MIN_REFERENCE_DIGITS = 6
MATCH_THRESHOLD = 0.5
AMBIGUITY_MARGIN = 0.1
# How surely a sentence's form (ivr/speech_clues.py) names a choice, and a request for something else.
CLUE_SCORE = 1.0
OFF_MENU_CLUE_SCORE = 0.85
# The Intent name for a clear request the menu does not offer ("I need to change my address"): the
# caller has said what they want, so they go to a person rather than hear the menu again.
OFF_MENU = "@other"

# Words that carry no meaning for telling menu choices apart. "not", "where" and "back" stay: "it has
# not arrived", "where is my order" and "money back" need them ("when" means something only in a
# question, which the lexicon reads before these go).
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "i", "me", "my", "mine", "we", "our", "you", "your", "it", "its", "this", "that",
        "is", "are", "am", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did",
        "will", "would", "can", "could", "should", "to", "of", "on", "in", "at", "for", "with", "about",
        "and", "or", "so", "just", "please", "um", "uh", "er", "erm", "hmm", "okay", "ok", "hi", "hello",
        "hey", "yes", "yeah", "well", "like", "want", "need", "wanna", "id", "some", "any", "yet",
        # Preambles and fillers: "I was wondering if you could tell me ...", "you guys", "gonna".
        "but", "still", "tell", "know", "wonder", "wondering", "see", "find", "out", "if", "there",
        "here", "now", "guys", "gonna", "going", "he", "she", "they", "them", "their", "what", "by", "from",
        "up", "off", "as", "than", "then", "really", "also", "something", "anything", "little", "bit",
        "try", "trying", "make", "placed", "place", "last", "ago", "week", "weeks", "day", "days", "way",
        "exactly", "right", "currently", "kindly", "moment",
    }
)  # fmt: skip
# Irregular forms the suffix rules can't reach.
_LEMMAS = {
    "came": "come",
    "went": "go",
    "gone": "go",
    "sent": "send",
    "got": "get",
    "gotten": "get",
    "gave": "give",
    "spoke": "speak",
    "bought": "buy",
    "paid": "pay",
    "brought": "bring",
    "took": "take",
    "made": "make",
    "left": "leave",
    "going": "go",
    "taken": "take",
    "stole": "steal",
    "stolen": "steal",
    "broke": "break",
    "broken": "break",
    "lost": "lose",
    "delivery": "deliver",
    "deliveries": "deliver",
    "people": "person",
    # A recogniser's homophones of "where's" ("wares my package").
    "wares": "where",
    "wears": "where",
    "whereabouts": "where",
}


def _stem(word: str) -> str:
    """A light stem, so that package/packages and refund/refunds/refunded compare equal."""
    word = _LEMMAS.get(word, word)
    if len(word) <= 3:
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 5:
        word = word[:-2]
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # "shipped" -> "shipp" -> "ship"
    return word


# Spanish endings, longest first: plurals, participles, infinitives and the commonest verb endings.
_SPANISH_ENDINGS = (
    "aron", "ieron", "ando", "iendo", "ados", "adas", "idos", "idas", "ado", "ada", "ido", "ida", "aba",
    "ar", "er", "ir", "an", "en", "as", "es", "os", "o", "a", "e", "i", "s",
)  # fmt: skip


_ENCLITIC = re.compile(r"(.{2,}[aei]r)(?:lo|la|le|los|las|les|me|te|se|nos)")


def _stem_es(word: str) -> str:
    """A light Spanish stem: "llegó", "llego", "llegar" and "llegado" all become "lleg"."""
    word = _fold(word)
    # A pronoun joined to an infinitive: "devolverlo", "quejarme", "cambiarla" are "devolver", "quejar"...
    enclitic = _ENCLITIC.fullmatch(word)
    if enclitic:
        word = enclitic.group(1)
    # Until nothing more comes off, so that a stem stems to itself ("ordené" -> "orden" -> "ord").
    while True:
        before = word
        for ending in _SPANISH_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        if len(word) > 4 and word[-1] in "aeiou":
            word = word[:-1]
        if word == before:
            return word


@dataclass(frozen=True)
class _Lexicon:
    """What the matcher knows of one language, beyond the menu's phrases.

    Every table names ideas ("concepts") by one word; phrases and utterances are both read through it,
    so "Where's my parcel?" meets the menu's "where is my package", and the menu's phrases keep deciding.
    """

    stem: Callable[[str], str]
    stopwords: frozenset[str]  # stems
    rewrites: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]  # stems ("*": up to 3 words) -> concepts
    concepts: Mapping[str, str]  # stem -> concept
    negations: frozenset[str]
    negated: Mapping[str, str]  # concept -> what it means after a negation ("not" + "arrive")
    requests: tuple[tuple[str, ...], ...]  # stems that open a request or a question
    off_menu: Mapping[str, float]  # concept -> how surely it asks for something else than the menu's
    clues: speech_clues.Clues  # sentence patterns that name an idea, by priority
    near: Mapping[str, str]  # stems a recogniser's slip of the tongue is read as, by their concept


# In a rewrite, any one to three words ("send * back": "send it back", "send the shoes back").
_GAP = "*"
_GAP_WIDTH = 3
_NUMBER = "NUMBER"
# Question words: they ask about something, which has to be said too.
_QUESTIONS = frozenset({"WHERE", "WHEN"})
# Ideas that say something went wrong.
_PROBLEMS = frozenset({"DAMAGE", "WRONG", "LOST", "LATE", "NOTARRIVE", "STRANGER"})
# First words of a question, in English and Spanish.
_QUESTION_OPENINGS = frozenset(
    {"is", "are", "will", "has", "have", "did", "does", "do", "can", "could", "what", "where", "how", "cuando",
     "donde", "ya", "va", "llega", "llegara"}
)  # fmt: skip
# Greetings and fillers before a question's first word.
_OPENING_FILLERS = frozenset(
    {"um", "uh", "er", "so", "yeah", "hi", "hello", "hey", "well", "okay", "ok", "oh", "and", "oiga", "oye", "hola",
     "bueno", "pues", "este", "eh", "disculpe", "perdon", "y"}
)  # fmt: skip
# People of the household a caller talks to while on the line.
_HOUSEHOLD = (
    "husband", "wife", "mom", "mum", "mother", "dad", "father", "son", "daughter", "kid", "kids", "child",
    "children", "boyfriend", "girlfriend", "partner", "brother", "sister", "friend", "neighbor", "neighbour",
    "grandma", "grandpa", "baby",
)  # fmt: skip
# Ideas that name what the caller talks about, not what they want or what went wrong: "my delivery"
# alone says nothing of tracking it.
_SUBJECTS = frozenset({"PACKAGE", "ITEM", "ORDER", "DELIVER", "ARRIVE", "NUMBER"}) | _QUESTIONS
# The things themselves: a phrase naming only one ("mi pedido") is a choice only when said alone.
_THINGS = frozenset({"PACKAGE", "ITEM", "ORDER", "order"})


def _lexicon(
    stem: Callable[[str], str],
    stopwords: frozenset[str],
    rewrites: Mapping[str, Sequence[str]],
    concepts: Mapping[str, Sequence[str]],
    negations: Sequence[str],
    negated: Mapping[str, str],
    requests: Sequence[str],
    off_menu: Mapping[float, Sequence[str]],
    clues: speech_clues.Clues,
    near: Sequence[str],
) -> _Lexicon:
    """A lexicon from tables written as plain words: every word is stemmed as the matcher will stem it."""

    def stems(phrase: str) -> tuple[str, ...]:
        return tuple(word if word == _GAP else stem(word) for word in phrase.split())

    runs = [(stems(phrase), tuple(concept.split())) for concept, phrases in rewrites.items() for phrase in phrases]
    # Longest runs first, so "credit card" is read before "credit"; of two as long, the one without a gap
    # ("on your way", a person travelling, before "on * way", a parcel).
    runs.sort(key=lambda run: (-len(run[0]), run[0].count(_GAP)))
    return _Lexicon(
        stem=stem,
        stopwords=frozenset(stem(word) for word in stopwords) | stopwords,
        rewrites=tuple(runs),
        concepts={stem(word): concept for concept, words in concepts.items() for word in words},
        negations=frozenset(stem(word) for word in negations),
        negated={stem(word): meaning for word, meaning in negated.items()},
        requests=tuple(stems(phrase) for phrase in requests),
        off_menu={concept: weight for weight, names in off_menu.items() for concept in names},
        clues=clues,
        near={
            stem(word): concept
            for concept, words in concepts.items()
            if concept in near
            for word in words
            if len(stem(word)) >= 5
        },
    )


# English. Concepts are named in capitals so they never collide with a word a caller says.
# fmt: off
_ENGLISH = _lexicon(
    stem=_stem,
    stopwords=_STOPWORDS,
    rewrites={
        # Problems, said in many words. "Someone" asked for is a person (below), but "someone took it"
        # is a loss and "someone else's order" a wrong one.
        "LOST": [
            "tracking say * deliver", "tracking show * deliver", "say * deliver", "show * deliver",
            "mark * deliver", "list * deliver", "wrong address", "someone take", "somebody take", "someone steal",
            "somebody steal", "never show up", "no one has", "no one have", "nobody has", "nobody have",
        ],
        "WRONG": ["not what", "not the right", "not match", "instead", "not my order", "not mine"],
        "WRONG ITEM": [
            "not order", "order * and get", "order * but get", "order * and receive", "order * but receive",
            # Part of the order is not in the box that came: an incomplete order, not a lost parcel.
            "missing from * box", "missing from * package", "missing from * parcel", "missing from * order",
            "half of it", "only half",
        ],
        "STRANGER": ["someone else", "somebody else"],
        # Not the order spoken of but another one ("I'm calling about a different order"); received
        # instead of one's own, the clues read it as a wrong one.
        "ANOTHER": ["different order", "another order", "other order"],
        "DAMAGE": ["in piece", "not turn on", "in two"],
        "LATE": [
            "been * day", "been * week", "been * month", "take forever", "take * long", "long time",
            "suppose * arrive", "suppose * come", "suppose * here", "suppose * deliver", "should have",
            "still wait", "been wait", "keep wait", "past * date", "date * pass", "come and go",
            "behind schedule", "run behind", "run * behind", "been * fortnight", "miss * deliver window",
            "miss * window", "later than * promis", "later than * said", "later than * say", "ought to have",
            "here by now", "there by now",
        ],
        # Where an order is.
        "SHIP": [
            "send out", "go out", "ship out", "on * way", "out for deliver", "in transit", "leave * warehouse",
            "on * truck", "been send",
            # "It says out for delivery": news of where it is, not a delivery the caller never had.
            "say out for deliver", "show out for deliver",
        ],
        "ARRIVE": ["get here", "show up", "turn up", "get to me", "make it"],
        "STATUS": [
            "update on", "check on", "check in on", "look up", "go on with", "happen with", "how far along",
            "come along", "follow up on", "follow up about", "follow up with", "follow up", "ask about",
            "ask * about", "inquire about",
        ],
        # No tracking to be seen is a question for tracking, not a parcel gone missing.
        "TRACK": ["not see * track", "not get * track", "not have * track", "no track", "not find * track"],
        "SHIP TRACK": ["ship email", "ship confirmation", "ship notification", "track email"],
        # Back to the start of the phone menu (the tree's main_menu intent): never a return ("go back to
        # the menu", "take me back to the beginning") nor a callback.
        "START": [
            "main menu", "go back to * menu", "back to * menu", "return to * menu", "take * back to * menu",
            "back to * begin", "take * back to * begin", "back to * start", "take * back to * start",
            "start over", "start again", "start from * begin", "go back",
        ],
        # Returns and refunds.
        "RETURN": [
            "for a different", "money back", "send * back", "mail * back", "ship * back", "give * back",
            "take * back", "bring * back", "store credit", "credit back",
            # A recogniser's splits of "return" and "refund".
            "ree turn", "re turn", "re fund", "ree fund",
        ],
        "CARD": ["credit card", "debit card", "gift card", "store credit card", "store card"],
        # Whether the shop ships somewhere at all, not where an order is.
        "TOPIC": [
            "do you ship", "do you deliver", "do you * ship", "do you * deliver", "bank account",
            # A shop to visit is no person to talk to ("is there a store I can visit in person").
            "in person",
        ],
        "PHONENUMBER": ["phone number"],
        "PERSON": [
            "customer service", "customer support", "customer care", "real person", "live person",
            # A recogniser's split of "agent".
            "a gent",
        ],
        "TALK": ["put me through", "connect me", "transfer me"],
        # The caller's own call, which asks for none back: "I'm calling about my order", "I called yesterday".
        "CALLING": [
            "i am calling", "i am just calling", "i was calling", "i called", "we are calling", "we called",
            "calling about", "calling regarding", "calling because",
        ],
        "OFF": [
            "log in", "sign in", "promo code", "discount code", "payment * go through", "money left",
            "money * take out",
        ],

        # Wanting no machine is wanting a person.
        "PERSON TALK": ["talk to * machine", "talk to * robot", "talk to * computer", "speak to * machine",
                        "speak to * robot", "speak to * computer"],
        "WHEN": ["what day", "what time", "how soon", "expect deliver", "estimat deliver", ],
        "WHEN ARRIVE": ["when * expect", "when * due"],
        # The day it comes is when it comes: "tell me the delivery date", "what's the arrival date".
        "WHEN DELIVER": ["deliver dat", "arrival dat", "ship dat"],
        # A parcel left somewhere was delivered there ("they left it at the door"); "it left" is shipping.
        "DELIVER": ["leave it", "leave them", "drop * off"],
        # "When" asks, except in "cracked when I opened it", which tells; and a person coming home is
        # not a parcel coming.
        # Nor is the television's news, a change of mind before a return, returning a call, a wrong
        # number, a person leaving or late, someone at the door.
        "": [
            "when i", "when we", "you come", "you go", "he come", "she come", "you get here", "break news",
            "change * mind", "come with", "return * call", "wrong number", "i leave", "we leave", "you leave",
            "i am late", "we are late", "you are late", "be late for", "late for school", "late for work",
            # Telling someone in the room who the caller is talking to: not asking for a person.
            "i am talk to", "i am speak to",
            # A message that told the caller something is news of the order, not a question about email:
            # "I got an email saying it shipped, so where is it".
            "email say", "email that say", "text say", "message say", "notification say", "email tell",
            "someone is at", "somebody is at", "someone is here", "somebody is here",
            # When to call back, not a person asked for: "call me back when someone's free".
            "when someone * free", "when somebody * free", "when * agent * free", "when someone * available",
            "when somebody * available", "when * agent * available", "when * free", "when * available",
            # Talking to someone of the household is no asking for a person.
            *(f"{verb} to * {member}" for verb in ("talk", "speak") for member in _HOUSEHOLD),
            # Telling a child or a guest what they can't have or do is no parcel gone missing.
            "you can not have", "you may not have", "you can not go", "you do not have to",
            # Shop words in the household's talk: things one gives back that no shop sold (a library's
            # books, a rental, a favour), a song's or a race's track, food ordered in, an order as a rule.
            "return * * library", "return * rental", "return * key", "return * dish", "return * favor",
            "return * favour", "return * cart", "return * tray", "return * movie", "return home", "return to work",
            "return to school", "track one", "track two", "track three", "track four", "track five", "track six",
            "track seven", "track eight", "track nine", "track ten", "track eleven", "track twelve", "on * album",
            "on * record", "on * playlist", "keep track", "lose track", "lost track", "on track", "race track",
            "track meet", "track practice", "track team", "in order to", "out of order", "order * pizza",
            "order pizza", "order * takeout", "order takeout", "order * food", "order food", "order dinner",
            "order lunch", "package deal", "care package", "run * track", "running track", "train track",
            # A person on their way is no parcel on its way.
            "on your way", "on my way", "on our way", "on his way", "on her way", "on their way",
            # Someone else's parcel, a thing one rented, coming back from a trip, one's
            # own steps or spending tracked, a household member asked where they put something.
            "your package", "your parcel", "his package", "her package", "their package", "his parcel",
            "her parcel", "his order", "her order", "return * * rental", "return * car", "am return from",
            "are return from", "is return from", "will return from", "return from vacation", "return from * trip",
            "return to bed", "return to sleep", "return to class",
            "return to * office", "return to * house", "return to normal", "track * step", "track * calorie",
            "track * sleep", "track * workout", "track * spend", "track * weight", "track * expense", "track * hour",
            "where * you put", "where * you leave", "return * plate", "return * bowl", "return * pan",
            "give * plate back", "give * bowl back", "give * dish back", "bring * plate back", "bring * bowl back",
            "bring * dish back", "take * plate back", "take * dish back",
            # Taxes, loans paid back, an order as a sequence, a sport.
            "tax return", "tax refund", "refund from * irs", "irs refund", "irs", "pay you back",
            "give it back to you", "lent me", "order of", "in order", "alphabetical order", "track and field",
            "track * field",
        ],
    },
    concepts={
        "PACKAGE": ["package", "parcel", "shipment", "box", "packet", "consignment"],
        "ITEM": [
            "stuff", "item", "thing", "product", "purchase", "merchandise", "goods",
        ],
        "ARRIVE": ["arrive", "come", "reach"],
        "DELIVER": ["deliver", "delivered"],
        "DAMAGE": [
            "damage", "damaged", "break", "crack", "cracked", "smashed", "smash", "shattered", "crushed", "crush",
            "dent", "dented", "busted", "ruined", "scratched", "defective", "torn", "ripped", "bent", "dinged",
        ],
        "WRONG": ["wrong", "incorrect", "mistaken", "different"],
        "NUMBER": ["number", "NUMBER"],
        "LOST": ["lose", "steal", "missing", "disappeared", "vanished"],
        "LATE": ["late", "delayed", "delay", "overdue", "due", "tardy"],
        "SHIP": ["ship", "shipped", "dispatched", "dispatch", "warehouse", "leave"],
        "STATUS": ["status", "check", "progress", "lookup", "processing"],
        "WHEN": ["when", "eta"],
        "WHERE": ["where"],
        "TRACK": ["track", "tracking", "trace"],
        "RETURN": [
            "return", "returned", "refund", "refunded", "reimburse", "reimbursed", "reimbursement", "credit",
            "credited", "exchange", "swap", "money",
        ],
        "PERSON": [
            "person", "human", "agent", "representative", "rep", "operator", "supervisor", "manager", "associate",
            "advisor", "someone", "somebody", "live",
        ],
        "TALK": ["talk", "speak", "connect", "transfer", "chat"],
        "OFF": [
            "cancel", "change", "update", "modify", "edit", "add", "remove", "delete", "reset", "close",
            "complain", "complaint", "charge", "unsubscribe", "reschedule", "postpone",
        ],
        "TOPIC": [
            "address", "password", "account", "payment", "bill", "billing", "invoice", "receipt", "coupon",
            "discount", "warranty", "price", "stock", "email", "paypal", "subscription", "membership", "question",
            "compatible", "login", "CARD", "PHONENUMBER", "declined", "wholesale", "bulk",
        ],
    },
    negations=["not", "never", "nothing", "no"],
    # "It never came", "I didn't get it", "I don't have it": the parcel is missing.
    negated={
        "ARRIVE": "NOTARRIVE",
        "DELIVER": "NOTARRIVE",
        "get": "NOTARRIVE",
        "receive": "NOTARRIVE",
        "have": "NOTARRIVE",
        "here": "NOTARRIVE",
        "find": "NOTARRIVE",
        "see": "NOTARRIVE",
        "work": "DAMAGE",
    },  # fmt: skip
    requests=[
        "can i", "could i", "may i", "how do i", "how can i", "how to", "how long", "how much", "do you",
        "does it", "can you", "could you", "is it possible", "want to", "need to", "like to", "have a question",
        "is there a way", "wonder if", "ask about",
        # Asked for bluntly: "get me a person", "let me talk to someone" ("let me think" asks for nothing).
        "get me", "let me talk", "let me speak",
    ],
    off_menu={0.9: ["OFF"], 0.8: ["TOPIC"]},
    clues=speech_clues.ENGLISH,
    near=["TRACK", "RETURN", "PERSON", "PACKAGE", "LATE", "LOST"],
)
# fmt: on

# Words whose light stem would collide with another's ("estado", a status, and "está", is).
# "Envío" is a shipment (a subject), "enviaron" they sent it (news of where it is).
# "Quién" and "quiero" share a light stem, so "quién habla" (who is calling) would swallow "quiero hablar".
# "Llamo" and "llamaba" (I call, about my order) share "llam" with "llamen" and "llamar" (call me), so the
# rule that drops "llamo por" would swallow "que me llamen por favor"; the caller's own call has its own
# lemma. "Llámeme", "llámenme", "llámame" (call me) are the verb with its pronoun: "llamar".
_SPANISH_LEMMAS = {
    "estado": "estatus",
    "envio": "entrega",
    "quien": "quienx",
    "llamo": "llamox",
    "llamaba": "llamox",
    "llameme": "llamar",
    "llamenme": "llamar",
    "llamame": "llamar",
    # "Márquenme" (dial me) is asking to be called too.
    "marquenme": "marcar",
    "marqueme": "marcar",
    "marcame": "marcar",
    "marquen": "marcar",
}

# fmt: off
_SPANISH = _lexicon(
    stem=lambda word: _stem_es(_SPANISH_LEMMAS.get(_fold(word), word)),
    stopwords=frozenset(
        {
            "de", "del", "la", "las", "el", "los", "un", "una", "unos", "unas", "mi", "mis", "me", "te", "se",
            "su", "sus", "que", "y", "o", "a", "al", "en", "con", "por", "para", "lo", "le", "les", "es", "son",
            "fue", "era", "esta", "estan", "este", "esto", "eso", "ese", "esa", "ya", "pues", "bueno", "eh", "em",
            "mmm", "mm", "ay", "aja", "quiero", "queria", "quisiera", "necesito", "puede", "puedo", "podria",
            "favor", "hola", "alo", "si", "saber", "decir", "ver", "hacer", "hay", "muy", "mucho", "tantito",
            "todavia", "aun", "pero", "solo", "nomas", "algo", "ahora", "ahorita", "aqui", "usted", "ustedes",
            "como", "yo", "ella", "ellos", "nos", "va", "voy", "haber", "han", "ha", "he", "desde", "hasta",
            "semana", "dia", "dias", "mande", "oiga", "oye", "perdon", "espere", "espera", "sobre", "hice", "hizo",
        }
    ),  # fmt: skip
    rewrites={
        "LOST": ["dice * entreg", "aparece * entreg", "marca * entreg", "sale * entreg"],
        "WRONG": ["no es lo que", "no es el", "no es la", "no es mi", "en vez de", "en lugar de", "talla que no"],
        "WRONG ITEM": [
            "que no ped", "que no orden", "otra cosa", "otro producto", "otro articulo", "ped * y * lleg",
            "orden * y * lleg",
            # Part of the order did not come in the box: "pedí dos y solo venía uno".
            "solo * uno", "solo vino", "solo venia", "solo llego", "faltaba * caja", "falta * caja",
        ],
        "STRANGER": ["otra persona", "otra senora", "otro senor", "otro cliente", "otra clienta"],
        "LATE": [
            "deb * lleg", "suponia * llegar", "deber * lleg", "tenia que lleg", "pas * fecha", "fecha * pas",
            "se esta tard", "lleva * retras", "lleva * dias", "lleva * semana", "parado en transito",
            "detenido en transito",
        ],
        "STATUS": [
            "como va", "como viene", "como vamos", "en que va", "como anda", "preguntar por", "pregunto por",
        ],
        "SHIP": ["en camino", "viene en camino", "va en camino"],
        # "¿Ya viene mi paquete?" asks whether it is coming; "viene roto", "viene tarde" tell how it came.
        "ARRIVE": ["ya viene", "ya vienen"],
        # Greetings: "buenas tardes" is no "tarde" (late).
        "": [
            "buenas tardes", "buenos dias", "buenas noches", "es tarde", "se hace tarde", "se nos hace tarde",
            "numero equivocado", "habl * telefon", "quienx habl", "estoy hablando",
            # "Le hablo porque ...": the caller is calling about something, not asking to talk to someone.
            "le hablo porque", "les hablo porque", "te hablo porque", "hablo porque", "le hablo para", "le llamo",
            "les llamo", "hablo para",
            # "Llamo por mi pedido": what the call is about, not a request to be called ("llamo" and
            # "llamaba" only: see _SPANISH_LEMMAS).
            "llamo por", "llamaba por", "hablo por", "hablaba por",
            "devuelvo * llamada", "devolver * llamada", "regreso * llamada", "te devuelvo * llamada",
            "te regreso * llamada",
            # Palabras de la tienda en la charla de la casa: la biblioteca, una canción, la comida pedida.
            "devuelve * * biblioteca", "devolver * * biblioteca", "regresa * * biblioteca",
            "regresar * * biblioteca",
            "devuelve * llave", "regresa * llave", "pista", "cancion", "pedir * pizza", "pediste * pizza",
            "pide * pizza", "pedir comida", "pide comida",
            # Volver de un viaje, un carro rentado, a alguien de la casa: dónde pusiste la caja.
            "regreso * vacaciones", "regresar * vacaciones", "regresamos * vacaciones", "regreso * viaje",
            "regresar * viaje", "regreso * trabajo",
            "devolver * carro", "devolver * * renta", "regresar * carro", "donde * pusiste", "donde * dejaste",
            "tu paquete", "tu pedido", "devolver * plato", "regresar * plato", "devolver * traste",
            "regresar * traste", "devolver * tupper", "regresar * tupper",
            # Impuestos, un préstamo devuelto a alguien de confianza ("te regreso"), un orden, no un pedido.
            "declaracion de impuestos", "reembolso de impuestos", "de * impuestos", "te regreso * dinero",
            "te devuelvo * dinero", "dinero que me prestaste", "te regreso", "te devuelvo",
            "me prestaste", "en orden", "por orden", "orden de los", "orden de las",
        ],
        # A call asked for later is a call, not a late parcel ("llámeme más tarde"), and so is one asked to be
        # returned ("que me devuelvan la llamada"), unlike the caller's own ("le devuelvo la llamada").
        "llam": ["llam * mas tarde", "me * devolver * llamada", "me * devuelvo * llamada", "me * regresar * llamada"],
        "marc": ["marcar * mas tarde"],
        # Volver al principio del menú (la intención main_menu del árbol): ni una devolución ni "de nuevo".
        "START": [
            "menu principal", "volver * menu", "regresar * menu", "volver al inicio", "regresar al inicio",
            "volver al principio", "regresar al principio", "empezar de nuevo", "comenzar de nuevo",
            "volver a empezar", "empezar otra vez",
        ],
        "RETURN": ["de vuelta", "de regreso"],
        "PHONENUMBER": ["numero de telefono"],
        "PERSON": ["servicio al cliente", "atencion al cliente"],
        "TALK": ["comuniqueme con", "paseme con", "ponerme con", "pasame con", "comunicame con", "ponme con"],
        # No querer una máquina es querer a una persona.
        "PERSON TALK": [
            "hablar con * maquina", "hablar con * robot", "hablar con * computadora", "hablar con * grabacion",
        ],
    },
    concepts={
        # English shop words inside Spanish ("el tracking de mi package") are read as their Spanish ones.
        "PACKAGE": ["paquete", "caja", "package", "paquet", "box", "encomienda"],
        "ITEM": ["producto", "articulo", "cosa", "compra", "mercancia", "item", "items"],
        "ORDER": ["pedido", "pedidos", "orden", "ordenes", "pedi", "ordene"],
        "ARRIVE": ["llegar", "llego", "llega", "llegado", "aparecer", "aparece"],
        "DELIVER": ["entregar", "entregado", "entrega", "delivery", "delivered"],
        "DAMAGE": [
            "roto", "rota", "rompio", "romper", "danado", "danada", "dano", "quebrado", "quebrada", "aplastado",
            "aplastada", "estrellado", "estrellada", "maltratado", "maltratada", "rayado", "golpeado",
            "defectuoso", "abollado", "broken", "damaged", "cracked", "defective", "estropeado", "estropeada",
            "derramo", "derramado", "pedazos", "trizas",
        ],
        "WRONG": ["equivocado", "equivocada", "incorrecto", "incorrecta", "erroneo", "wrong"],
        "LOST": [
            "perdio", "perdido", "perdida", "robaron", "robado", "robo", "extraviado", "desaparecio", "missing",
            "lost", "stolen",
        ],
        "LATE": [
            "retrasado", "retrasada", "retraso", "atrasado", "atrasada", "tarde", "tardando", "demora", "late",
            "delayed",
        ],
        "SHIP": ["enviaron", "enviado", "envio", "mandaron", "salio", "despacharon"],
        "STATUS": ["estatus", "status", "checar", "chequear", "revisar", "consultar", "informacion"],
        "WHERE": ["donde"],
        "WHEN": ["cuando"],
        "TRACK": ["rastrear", "rastreo", "seguimiento", "tracking", "track", "trackear", "trackeo"],
        "NUMBER": ["numero", "NUMBER"],
        "RETURN": [
            "devolucion", "devoluciones", "devolver", "devolvi", "devuelvo", "reembolso", "reembolsado",
            "reembolsar", "regresar", "regrese", "dinero", "return", "refund", "returns", "refunds", "devuelto",
            "regresado", "reintegro",
        ],
        "PERSON": [
            "persona", "humano", "agente", "representante", "operador", "operadora", "asesor", "alguien",
            "supervisor", "gerente", "representative", "agent", "person", "human", "operator",
        ],
        "TALK": ["hablar", "comunicar", "transferir"],
        "CHANGE": ["cambiar", "cambio", "cambiarlo"],
        "OFF": [
            "cancelar", "cancele", "actualizar", "modificar", "agregar", "anadir", "quitar", "borrar", "eliminar",
            "queja", "quejarme", "quejar", "cobraron", "cobro",
        ],
        "TOPIC": [
            "direccion", "contrasena", "cuenta", "pago", "tarjeta", "factura", "facturacion",
            "cupon", "descuento", "garantia",
            "precio", "correo", "pregunta", "PHONENUMBER",
        ],
    },
    negations=["no", "nunca", "nada", "ni"],
    negated={
        "ARRIVE": "NOTARRIVE",
        "DELIVER": "NOTARRIVE",
        "recibir": "NOTARRIVE",
        "recibi": "NOTARRIVE",
        "recibido": "NOTARRIVE",
        "tengo": "NOTARRIVE",
        "sirve": "DAMAGE",
        "funciona": "DAMAGE",
    },  # fmt: skip
    requests=["quiero", "necesito", "como", "puedo", "me puede", "quisiera", "tengo una pregunta", "se puede"],
    off_menu={0.9: ["OFF", "CHANGE"], 0.8: ["TOPIC"]},
    clues=speech_clues.SPANISH,
    near=["TRACK", "RETURN", "PERSON", "PACKAGE", "LATE", "LOST"],
)
# fmt: on
_LEXICONS = {"en": _ENGLISH, "es": _SPANISH}


def _lexicon_for(language: str) -> _Lexicon:
    """The lexicon of a language code ("es", "es-US"); English for a language it does not know."""
    return _LEXICONS.get(language.split("-")[0].lower(), _ENGLISH)


def _at(tokens: Sequence[str], index: int, run: Sequence[str]) -> int | None:
    """Where `run` ends when it matches tokens from `index` on (a gap takes up to three words), else None."""
    if not run:
        return index
    head, rest = run[0], run[1:]
    if head == _GAP:
        for skip in range(_GAP_WIDTH + 1):
            end = _at(tokens, index + skip, rest) if index + skip <= len(tokens) else None
            if end is not None:
                return end
        return None
    if index < len(tokens) and tokens[index] == head:
        return _at(tokens, index + 1, rest)
    return None


def _rewrite(stems: Sequence[str], lexicon: _Lexicon) -> list[str]:
    """Stems with every run of words that names an idea replaced by that idea's concepts."""
    tokens: list[str] = []
    index = 0
    while index < len(stems):
        for run, concepts in lexicon.rewrites:
            end = _at(stems, index, run)
            if end is not None:
                tokens.extend(lexicon.concepts.get(concept, concept) for concept in concepts)
                index = end
                break
        else:
            tokens.append(lexicon.concepts.get(stems[index], stems[index]))
            index += 1
    return tokens


# Verbs that, denied, say a parcel is missing only when the sentence is about the parcel: "I can't find
# it" is, "I can't find my keys" is the household's.
_WEAK_DENIALS = frozenset({"find", "see", "have", "tengo"})


def _negate(tokens: Sequence[str], lexicon: _Lexicon, words: Sequence[str] = ()) -> list[str]:
    """Tokens with "not" and the word it denies (within three words) read as one idea: "never came"."""
    about_parcel = not _ARRIVING.isdisjoint(tokens) or not _ARRIVING_WORDS.isdisjoint(words)
    weak = {lexicon.stem(word) for word in _WEAK_DENIALS}
    result = list(tokens)
    for index, token in enumerate(tokens):
        if token not in lexicon.negations:
            continue
        for later in range(index + 1, min(index + 4, len(tokens))):
            meaning = lexicon.negated.get(result[later])
            if meaning == "NOTARRIVE" and not about_parcel and result[later] in weak:
                continue
            if meaning is not None:
                result[later], result[index] = meaning, ""
                break
    return [token for token in result if token]


# Words after "when" that make it a question ("when will it come") rather than a time ("when it came").
_AUXILIARIES = frozenset(
    {"will", "is", "are", "can", "do", "does", "did", "should", "would", "could", "might", "shall", "am", ""}
)


# What an arrival question may ask about: the shop's parcel, said or meant ("is it coming?"). "Did the
# mail come yet?" or "did your dad get here?" asks about the household, not an order.
_ARRIVING = frozenset({"PACKAGE", "ITEM", "ORDER", "DELIVER", "NUMBER", "SHIP", "TRACK", "order", "orders"})
_ARRIVING_WORDS = frozenset({"it", "they", "them", "mine", "order", "orders", "stuff", "lo"})


# A question asked after a preamble: "I ordered a laptop and I was wondering, like, is it coming this week?"
_ASKING_VERBS = frozenset({"is", "are", "will", "has", "have", "did", "does"})
_ASKED_ABOUT = frozenset({"it", "they", "my", "our"})
_NOT_ASKING = frozenset({"it", "that", "this", "which", "there", "what", "who", "i", "we", "they", "he", "she"})


def _embedded_question(words: Sequence[str]) -> bool:
    """True when a verb comes before its subject mid-sentence ("..., is it coming"), as a question does."""
    return any(
        word in _ASKING_VERBS and following in _ASKED_ABOUT and (index == 0 or words[index - 1] not in _NOT_ASKING)
        for index, (word, following) in enumerate(zip(words, words[1:], strict=False))
    )


def _questions_and_problems(
    words: Sequence[str], tokens: list[str], *, product: bool = False, english: bool = True
) -> list[str]:
    """Ideas read with the sentence's form: a question about arrival asks when, a date passed is late."""
    if not _PROBLEMS.isdisjoint(tokens):
        # Asking about an order and telling what went wrong: the problem says where to go ("I want to ask
        # about my order, it's more than a week late").
        tokens = [token for token in tokens if token != "STATUS"]
    if "LATE" in tokens:
        # A parcel past its date that has not come is late, not lost: "it was due Friday and never came".
        return [token for token in tokens if token != "NOTARRIVE"]
    # The question opens after any greeting or filler: "oiga, ¿ya viene mi paquete?", "so is it coming?".
    opening = next((word for word in words if word not in _OPENING_FILLERS), "")
    asked = bool(words) and (opening in _QUESTION_OPENINGS or "if" in words or _embedded_question(words))
    telling = all(
        after not in _AUXILIARIES for before, after in zip(words, [*words[1:], ""], strict=False) if before == "when"
    )
    if not asked and telling and not _PROBLEMS.isdisjoint(tokens):
        # "It was broken when it got here": a problem told with its time, not a question of when.
        tokens = [token for token in tokens if token != "WHEN"]
    # "Is my parcel coming today?", "do you know if it has arrived": asking when it arrives. Not when
    # something went wrong ("did it arrive broken?"), nor for a refund, which returns has words for.
    # Nor a question about the goods themselves ("does it come in blue?"), which is for a person.
    about_parcel = not _ARRIVING.isdisjoint(tokens) or not _ARRIVING_WORDS.isdisjoint(words) or not english
    if (
        asked
        and about_parcel
        and not product
        and _PROBLEMS.isdisjoint(tokens)
        and "RETURN" not in tokens
        and "WHEN" not in tokens
    ):
        return [part for token in tokens for part in (("WHEN", token) if token == "ARRIVE" else (token,))]
    if "WHEN" in tokens and "OFF" not in tokens and _PROBLEMS.isdisjoint(tokens):
        # Asked when it will be delivered is asked when it will arrive: "I need to know when it's getting
        # delivered", "can you tell me the delivery date". Not when it is to be changed ("change the delivery date").
        return ["ARRIVE" if token == "DELIVER" else token for token in tokens]
    return tokens


def _slip_distance(heard: str, known: str) -> float:
    """Edits between two stems, a vowel heard for another costing half: "trek" is 1.5 from "track"."""
    previous = [float(index) for index in range(len(known) + 1)]
    for row, char in enumerate(heard, 1):
        current = [float(row)]
        for column, other in enumerate(known, 1):
            swap = 0.0 if char == other else 0.5 if char in "aeiou" and other in "aeiou" else 1.0
            current.append(min(previous[column] + 1, current[column - 1] + 1, previous[column - 1] + swap))
        previous = current
    return previous[-1]


@functools.lru_cache(maxsize=8192)
def _near_miss(stem: str, near: tuple[tuple[str, str], ...]) -> str | None:
    """The word a recogniser most likely mangled into `stem` ("trek", "representive"), if one is close."""
    if len(stem) < 4 or not stem.isalpha():
        return None
    # Short words are near many others, so a short one may differ by a vowel and one letter only when it
    # begins and ends as the known word does ("trek", "track"); a long one by two letters.
    allowed = 2.0 if len(stem) >= 8 else 1.0
    best: tuple[float, str] | None = None
    for known, _concept in near:
        if known[0] != stem[0] or abs(len(known) - len(stem)) > 2:
            continue
        distance = _slip_distance(stem, known)
        if len(stem) <= 4 and known[:2] == stem[:2] and known[-1] == stem[-1]:
            distance = min(distance, 1.0) if distance <= 1.5 else distance
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, known)
    return best[1] if best else None


def _mend_slips(words: list[str], lexicon: _Lexicon) -> list[str]:
    """Words with a recogniser's slips mended: a word cut in two ("re funds") and one misheard ("trek")."""
    near = tuple(sorted(lexicon.near.items()))
    known = lexicon.concepts.keys() | lexicon.stopwords
    mended: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if (
            index + 1 < len(words)
            and lexicon.stem(word + words[index + 1]) in lexicon.near
            and not {word, lexicon.stem(word), words[index + 1], lexicon.stem(words[index + 1])} & known
        ):
            mended.append(word + words[index + 1])
            index += 2
            continue
        stem = lexicon.stem(word)
        if stem not in known and word not in known and not word.isdigit():
            guess = _near_miss(stem, near)
            if guess is not None:
                word = guess
        mended.append(word)
        index += 1
    return mended


def _clue(words: Sequence[str], lexicon: _Lexicon) -> list[str]:
    """The ideas the sentence's patterns name, by priority ("I ordered blue and got red" is a wrong item)."""
    sentence = " ".join(words)
    return [concept for pattern, concept in lexicon.clues if pattern.search(sentence)]


# Words that name a return or a refund itself, not money in general ("I paid good money and it is late").
_RETURN_WORDS = ("return", "refund", "reimburs", "back", "devol", "reembols", "vuelta")

# Ideas that, asked for, name a choice whatever problem comes with them.
_ASKED_FOR = frozenset({"RETURN", "PERSON", "TALK"})
# A return to start rather than one to look up (ivr/speech_clues.py): a tree may give it a choice of its own.
_NEW_RETURN = "NEWRETURN"


@dataclass(frozen=True)
class _Said:
    """A phrase or utterance as the matcher compares it."""

    content: tuple[str, ...]  # concepts and stemmed words that carry meaning, in order
    every: tuple[str, ...]  # every stemmed word, in order, for phrases made only of common words
    request: bool  # worded as a request or a question ("can I ...", "I need to ...")
    clue: str = ""  # the idea the sentence's form names first, if any (see ivr/speech_clues.py)

    @classmethod
    def of(cls, text: str, lexicon: _Lexicon = _ENGLISH) -> _Said:
        """Read a phrase or an utterance."""
        words = _words(text)
        if lexicon is not _ENGLISH:
            words = [_fold(word) for word in words]
        clues = _clue(words, lexicon)
        words = _mend_slips(words, lexicon)
        stems = [lexicon.stem(word) for word in words]
        # Digits are a reference when there are enough of them to be one ("my order number is 112-4455667-...",
        # "1 1 2 4 4 5"); "in 5 minutes", "track 5", "3 weeks ago" are counts and names, not an order number.
        reference = sum(len(word) for word in words if word.isdigit()) >= MIN_REFERENCE_DIGITS
        ideas = [_NUMBER if word.isdigit() and reference else stem for word, stem in zip(words, stems, strict=True)]
        read = _negate(_rewrite(ideas, lexicon), lexicon, words)
        if _NEW_RETURN in clues and "RETURN" not in read:
            # "I need to return the library books", "quiero regresar al menú": no return of the shop's.
            clues = [clue for clue in clues if clue != _NEW_RETURN]
        if _ARRIVING.isdisjoint(read) and _ARRIVING_WORDS.isdisjoint(words):
            # "I lost my keys", "they stole my wallet", "the dog is missing": the household's loss, not a parcel's.
            read = [token for token in read if token != "LOST"]
        if "RETURN" in read and any(word.startswith(_RETURN_WORDS) for word in words):
            # A refund or a return that is taking long is the returns choice's ("where's my refund, I
            # mailed it back ages ago"): the late choice is for a delivery that has not come.
            clues = [clue for clue in clues if clue != "LATE"]
            read = [token for token in read if token != "LATE"]
        ideas_read = read + [clue for clue in clues if clue not in ("OFF", "PERSON")]
        tokens = _questions_and_problems(words, ideas_read, product="OFF" in clues, english=lexicon is _ENGLISH)
        content = [token for token in tokens if token not in lexicon.stopwords]
        request = any(_at(stems, start, run) is not None for run in lexicon.requests for start in range(len(stems)))
        if request and not _ASKED_FOR.isdisjoint(content):
            # "I need to start a return for a broken toaster": the request says where to go, the problem why
            # (a return to start, when the tree has a choice for that, says it most precisely).
            clues = [clue for clue in clues if clue == _NEW_RETURN]
        return cls(
            content=tuple(token for index, token in enumerate(content) if index == 0 or content[index - 1] != token),
            every=tuple(stems),
            request=request,
            clue=clues[0] if clues else "",
        )


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    """True when needle occurs in haystack as a contiguous run."""
    width = len(needle)
    return any(tuple(haystack[start : start + width]) == tuple(needle) for start in range(len(haystack) - width + 1))


def _containment_score(heard: Sequence[str], phrase: Sequence[str]) -> float:
    """1 when the caller said exactly the phrase, a little less when they said it amid other words, else 0."""
    if not phrase or not heard:
        return 0.0
    if tuple(heard) == tuple(phrase):
        return 1.0
    if _contains(heard, phrase):
        # Longer phrases are stronger evidence, so "talk to a person" inside a sentence outranks "refund"
        # inside the same sentence.
        return 0.8 + 0.2 * min(len(phrase), 3) / 3
    return 0.0


def _weight(words: set[str], weights: Mapping[str, float]) -> float:
    """The evidence a set of words carries: a word several choices share counts for less."""
    return sum(weights.get(word, 1.0) for word in words)


def _phrase_score(heard: _Said, phrase: _Said, weights: Mapping[str, float]) -> float:
    """How well one synonym phrase explains what was heard, 0..1."""
    if not phrase.content:
        # A phrase made only of common words ("yes", "that's it") in a menu file still means something,
        # but only said as it is written: scattered "that", "is" and "it" mean nothing.
        return _containment_score(heard.every, phrase.every)
    contained = _containment_score(heard.content, phrase.content)
    if contained == 1.0 and heard.clue and set(phrase.content) <= _THINGS:
        contained = 0.0  # "quiero hacer un pedido": the sentence's form says what about the order
    elif contained and contained < 1.0 and set(phrase.content) <= _THINGS:
        # A phrase that names only the thing ("mi pedido") is a choice said alone; amid other words
        # ("mi pedido vino dañado") it is only their subject, and those words say what about it.
        contained = 0.0
    if contained:
        return contained
    shared = set(heard.content) & set(phrase.content)
    if shared <= _QUESTIONS:
        return 0.0  # "where are you going?" shares only the question with "where is my package"
    recall = len(shared) / len(set(phrase.content))
    precision = _weight(shared, weights) / _weight(set(heard.content), weights)
    # Scattered overlap tops out below containment; recall counts more because callers add words.
    return 0.85 * (0.7 * recall + 0.3 * precision)


def _intent_score(heard: _Said, phrases: Sequence[_Said], weights: Mapping[str, float]) -> float:
    """How well an intent explains what was heard: its best phrase, or its vocabulary as a whole."""
    best = max((_phrase_score(heard, phrase, weights) for phrase in phrases), default=0.0)
    # Callers mix the words of several synonyms ("track my package" from "track my order" and "where is
    # my package"). When every word they said belongs to this intent, and at least two do, that is
    # evidence too, if weaker than a phrase.
    vocabulary = {word for phrase in phrases for word in phrase.content}
    known = set(heard.content) & vocabulary
    if len(known) >= 2:
        best = max(best, 0.75 * len(known) / len(set(heard.content)))
    # An idea only this choice's phrases name ("cracked" for a damaged item, "someone else's" for a wrong
    # one) decides on its own, amid any other words, if less surely than a phrase.
    if any(word.isupper() and word not in _SUBJECTS and weights.get(word) == 1.0 for word in known):
        best = max(best, 0.6 + 0.25 * _weight(known, weights) / _weight(set(heard.content), weights))
    # The sentence's form names an idea only this choice's phrases name: "I ordered blue and you sent red".
    if heard.clue in vocabulary and weights.get(heard.clue) == 1.0:
        best = max(best, CLUE_SCORE)
    return best


@dataclass(frozen=True)
class Intent:
    """A menu choice understood from speech, with how sure we are of it."""

    name: str
    confidence: float  # 0..1, our own score combined with the recogniser's Confidence


@functools.lru_cache(maxsize=4096)
def _phrase(text: str, language: str) -> _Said:
    """A menu phrase as the matcher reads it; a tree's phrases are read again at every answer, so kept."""
    return _Said.of(text, _lexicon_for(language))


@functools.lru_cache(maxsize=64)
def _utterance(text: str, language: str) -> _Said:
    """What a caller said, as the matcher reads it. Kept apart from the tree's phrases, and only for a
    few answers: one answer is matched against several sets of choices in a webhook (the main-menu check,
    then the node's own), and reading it is most of what a match costs."""
    return _Said.of(text, _lexicon_for(language))


def _off_menu_score(heard: _Said, weights: Mapping[str, float], lexicon: _Lexicon) -> float:
    """How surely the caller asked for something none of the choices offers ("cancel my order")."""
    # A word the menu's own phrases use is something the menu offers: a shop with a "cancel an order"
    # choice takes "cancel" there, and one with a "store hours" choice takes "what are your hours?".
    offered = "OFF" in weights or any(weights.get(word) == 1.0 for word in heard.content if not word.isupper())
    clue = OFF_MENU_CLUE_SCORE if heard.clue == "OFF" and not offered else 0.0
    return max(
        clue,
        max(
            (lexicon.off_menu[word] for word in heard.content if word in lexicon.off_menu and word not in weights),
            default=0.0,
        ),
    )


def could_mean(text: str, phrases: Sequence[str], *, language: str = "en") -> bool:
    """A cheap necessary condition for `match_intent` to choose the intent of these phrases, whatever the
    other choices: what was heard shares a word or an idea with them, says one of their common-word
    phrases whole, or its sentence's form names one of their ideas (every score in `_intent_score` needs
    one of these). False: no match can pick them, and the full match against every choice may be skipped."""
    heard = _utterance(text, language)
    if not heard.every:
        return False
    said = [_phrase(phrase, language) for phrase in phrases]
    vocabulary = {word for phrase in said for word in phrase.content}
    if not vocabulary.isdisjoint(heard.content) or heard.clue in vocabulary:
        return True
    return any(not phrase.content and _containment_score(heard.every, phrase.every) for phrase in said)


def match_intent(
    text: str,
    intents: Mapping[str, Sequence[str]],
    recogniser_confidence: float | None = None,
    *,
    threshold: float = MATCH_THRESHOLD,
    margin: float = AMBIGUITY_MARGIN,
    language: str = "en",
) -> Intent | None:
    """Best intent for an utterance given intent -> synonym phrases (from the menu file), or None below a threshold.

    A clear request for something none of the choices offers ("I need to change my address") is the
    intent OFF_MENU. `language` is the language of the phrases and of what was said ("en", "es").
    """
    lexicon = _lexicon_for(language)
    heard = _utterance(text, language)
    if not heard.every or not intents:
        return None
    choices = {name: [_phrase(phrase, language) for phrase in phrases] for name, phrases in intents.items()}
    vocabularies = {name: {word for phrase in said for word in phrase.content} for name, said in choices.items()}
    vocabulary = set().union(*vocabularies.values())
    # A word several choices use tells them apart less than one only a single choice uses.
    weights = {word: 1 / sum(word in words for words in vocabularies.values()) for word in vocabulary}
    scores = sorted(((_intent_score(heard, said, weights), name) for name, said in choices.items()), reverse=True)
    off_menu = _off_menu_score(heard, weights, lexicon)
    best, name = scores[0]
    if off_menu >= best:
        best, name = off_menu, OFF_MENU
    elif len(scores) > 1 and best - scores[1][0] < margin and not scores[1][0] < CLUE_SCORE <= best:
        # (A problem the sentence's form names outranks a choice that only shares its subject, "my order".)
        return None  # two choices explain the words about equally well; asking again beats guessing
    if best < threshold and heard.request and set(heard.content) & vocabulary:
        # Asked about the shop's business ("do you ship to Canada?") in words no choice answers.
        best, name = threshold, OFF_MENU
    confidence = best
    # Google's recognisers (behind Twilio's <Gather>) use 0.0 to mean "no confidence reported", so only a
    # positive figure counts. Its square root discounts a doubtful transcript without letting the
    # recogniser's poorly calibrated figure outweigh how well the words matched.
    if recogniser_confidence is not None and recogniser_confidence > 0:
        confidence *= math.sqrt(min(recogniser_confidence, 1.0))
    if confidence < threshold:
        return None
    return Intent(name=name, confidence=round(confidence, 3))
