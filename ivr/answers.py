"""What the IVR says about an order or a return: sentences a person would say, in English or Spanish.

Every function takes `language` ("en", "es", or a tag such as "es-US"); anything else is spoken in English.
Dates are words relative to today ("yesterday", "el viernes 27 de noviembre"), amounts are read as
people read them ("24 dollars and 99 cents", "24 dólares con 99 centavos"), and product titles are
trimmed of what nobody says aloud ("Echo Dot (5th Gen)" is an "Echo Dot"). Babel names the days,
months, day periods and currencies and groups the digits; it does not spell numbers, so the few
counts we say in words (up to ten) are written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, get_currency_name

from orders.records import minor_digits

LOCALES = {"en": "en_US", "es": "es_US"}

CARRIERS = {
    "en": {"ups": "U P S", "usps": "the postal service", "fedex": "FedEx", "dhl": "D H L"},
    "es": {"ups": "U P S", "usps": "el servicio postal", "fedex": "FedEx", "dhl": "D H L"},
}
# Where a refund went, said after "was issued" / "se emitió".
REFUND_METHODS = {
    "en": {
        "original_payment": "to your original payment method",
        "card": "to your card",
        "credit_card": "to your card",
        "store_credit": "as store credit",
        "gift_card": "on a gift card",
        "paypal": "to your PayPal account",
        "bank_transfer": "to your bank account",
        "check": "by check",
    },
    "es": {
        "original_payment": "a su método de pago original",
        "card": "a su tarjeta",
        "credit_card": "a su tarjeta",
        "store_credit": "como crédito de la tienda",
        "gift_card": "en una tarjeta de regalo",
        "paypal": "a su cuenta de PayPal",
        "bank_transfer": "a su cuenta bancaria",
        "check": "con un cheque",
    },
}
# The same methods as order systems spell them ("Store Credit", "store-credit", "debit card"), once
# their words are joined by underscores.
REFUND_METHOD_NAMES = {
    "original_payment_method": "original_payment",
    "original": "original_payment",
    "debit_card": "card",
    "bank": "bank_transfer",
    "wire": "bank_transfer",
    "wire_transfer": "bank_transfer",
    "bank_account": "bank_transfer",
    "cheque": "check",
    "giftcard": "gift_card",
    "storecredit": "store_credit",
}
DEFAULT_REFUND_METHOD = "original_payment"
# How long a refund takes to show, by method, in business days (what shops tell customers).
REFUND_DAYS = {"store_credit": 0, "gift_card": 0, "paypal": 1}
DEFAULT_REFUND_DAYS = 5
# Methods whose money lands at a bank, so when it shows is up to the bank.
BANK_METHODS = {"original_payment", "card", "credit_card", "bank_transfer"}
# A received return is refunded within this many business days (said in received returns).
REFUND_WITHIN_DAYS = 3

NUMBER_WORDS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    # "uno" becomes "un" before a noun ("un Echo Dot"); products are masculine in the shop's Spanish.
    "es": ("cero", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"),
}
# The minor unit's name, for currencies whose minor unit is a hundredth people name aloud.
MINOR_UNITS = {
    "en": {
        **dict.fromkeys(("USD", "CAD", "AUD", "EUR"), ("cent", "cents")),
        "GBP": ("penny", "pence"),
        "MXN": ("centavo", "centavos"),
    },
    # A US Spanish speaker says "centavos" for every hundredth but the British penny.
    "es": {
        **dict.fromkeys(("USD", "CAD", "AUD", "EUR", "MXN"), ("centavo", "centavos")),
        "GBP": ("penique", "peniques"),
    },
}
# The shop is in the US: its own currency is plain "dollars", not Babel's "US dollars".
HOME_CURRENCY = {"en": ("dollar", "dollars"), "es": ("dólar", "dólares")}


def _lang(language: str | None) -> str:
    """'es', 'es-US', 'es_MX' -> 'es'; anything we don't speak -> 'en'."""
    code = re.split(r"[-_]", (language or "en").lower())[0]
    return code if code in LOCALES else "en"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- dates --------------------------------------------------------------------------------------------


def ordinal(day: int) -> str:
    """1 -> '1st', 22 -> '22nd', 13 -> '13th'."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _day(value: date | datetime, zone: tzinfo | None = None) -> date:
    """The calendar day of a moment, in `zone` when given (a delivery at 2 AM UTC was yesterday evening in
    New York)."""
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone is not None and value.tzinfo is not None else value).date()
    return value


# Babel looks up a day's weekday and month names afresh on every answer; a day's words never change.
@lru_cache(maxsize=1024)
def _calendar_day(day: date, today: date, language: str) -> str:
    """'Friday, November 20th' / 'viernes 20 de noviembre' (the year only when it is not this one)."""
    locale = LOCALES[language]
    weekday, month = format_date(day, "EEEE", locale=locale), format_date(day, "MMMM", locale=locale)
    if language == "es":
        # US Spanish says "el primero de diciembre", not "el uno".
        text = f"{weekday} {'primero' if day.day == 1 else day.day} de {month}"
        return text if day.year == today.year else f"{text} de {day.year}"
    text = f"{weekday}, {month} {ordinal(day.day)}"
    return text if day.year == today.year else f"{text}, {day.year}"


def when(value: date | datetime | None, today: date, language: str = "en", zone: tzinfo | None = None) -> str:
    """'today', 'yesterday', 'tomorrow', 'on Friday, November 20th'; 'hoy', 'el viernes 20 de noviembre'.

    A moment (datetime) falls on its day in `zone` (the caller's or the queue's; `today` is that zone's
    date); without a zone, on its day in its own time zone (UTC for the order data)."""
    lang = _lang(language)
    if value is None:
        return "recientemente" if lang == "es" else "recently"
    day = _day(value, zone)
    near = {0: ("today", "hoy"), -1: ("yesterday", "ayer"), 1: ("tomorrow", "mañana")}.get((day - today).days)
    if near is not None:
        return near[1] if lang == "es" else near[0]
    return f"{'el' if lang == 'es' else 'on'} {_calendar_day(day, today, lang)}"


def opening_time(local: datetime, today: date, language: str = "en") -> str:
    """When we open, in the zone `local` is in: "at 9 AM", "tomorrow at 9:30 AM", "on Monday at 9 AM";
    "a las 9 de la mañana", "mañana a las 9:30 de la mañana", "el lunes a las 9 de la mañana"."""
    lang, locale = _lang(language), LOCALES[_lang(language)]
    # Babel's day periods ("B") are how Spanish says a time on the phone; English says AM and PM.
    pattern = ("h" if local.minute == 0 else "h:mm") + (" B" if lang == "es" else " a")
    clock = format_time(local.time(), pattern, locale=locale)
    if lang == "es":
        at = f"a la {clock}" if local.hour % 12 == 1 else f"a las {clock}"
    else:
        at = f"at {clock}"
    ahead = (local.date() - today).days
    if ahead == 0:
        return at
    if ahead == 1:
        return f"{'mañana' if lang == 'es' else 'tomorrow'} {at}"
    weekday = format_date(local.date(), "EEEE", locale=locale)
    # Past a week the weekday alone is ambiguous: say the date too.
    day = weekday if 1 < ahead < 7 else _calendar_day(local.date(), today, lang)
    return f"el {day} {at}" if lang == "es" else f"on {day} {at}"


def _business_days_after(start: date, days: int) -> date:
    """The day `days` business days (Monday to Friday) after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


# -- numbers and money --------------------------------------------------------------------------------


def count_words(number: int, language: str = "en") -> str:
    """A count as said before a noun: 'two', 'dos', 'un'; digits past ten ('12', '1,500')."""
    lang = _lang(language)
    if 0 <= number <= 10:
        return NUMBER_WORDS[lang][number]
    return format_decimal(number, locale=LOCALES[lang])


def money(amount: Decimal | float | int | str, currency: str | None, language: str = "en") -> str:
    """'24 dollars and 99 cents', '24 dólares con 99 centavos', '1,500 Japanese yen', '99 cents'."""
    lang, locale = _lang(language), LOCALES[_lang(language)]
    code = (currency or "USD").upper()
    value = Decimal(str(amount))
    whole = int(value)
    minor = MINOR_UNITS[lang].get(code)
    if minor is None or minor_digits(code) != 2:
        # No minor unit we can name (yen, dinars, francs): read the number as a price is written.
        digits = minor_digits(code) if value != whole else 0
        number = format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=locale)
        return f"{number} {_currency_name(code, 1 if value == 1 else 2, lang)}"
    cents = int((value - whole) * 100)
    parts = []
    if whole or not cents:
        name = _currency_name(code, whole, lang)
        parts.append(f"{_amount_number(whole, lang, feminine=_feminine_es(name))} {name}")
    if cents:
        parts.append(f"{_amount_number(cents, lang)} {minor[0] if cents == 1 else minor[1]}")
    return f" {'con' if lang == 'es' else 'and'} ".join(parts)


def _amount_number(number: int, language: str, feminine: bool = False) -> str:
    # "1 dólar" reads "uno dólar"; "un dólar" is how it's said, and "una libra esterlina".
    if language == "es" and number == 1:
        return "una" if feminine else "un"
    return format_decimal(number, locale=LOCALES[language])


# Spanish currency names ending in -a are feminine ("una libra", "una corona"), but for these.
_MASCULINE_IN_A = {"lempira", "córdoba"}


def _feminine_es(name: str) -> bool:
    first = name.split()[0].lower() if name.split() else ""
    return first.endswith("a") and first not in _MASCULINE_IN_A


def _currency_name(code: str, count: int, language: str) -> str:
    if code == "USD":
        singular, plural = HOME_CURRENCY[language]
        return singular if count == 1 else plural
    return get_currency_name(code, count=count, locale=LOCALES[language])


# -- what was ordered ---------------------------------------------------------------------------------

_BRACKETS = re.compile(r"\s*[(\[][^)\]]*[)\]]")
# Everything after " - ", " | " or a comma is a variant ("16GB - Black", ", Non-Slip, 6mm").
_VARIANT = re.compile(r"\s+[-–—|]\s+|\s*,\s*")
_PACK = re.compile(r"\s+(?:(?:pack|set) of \d+|\d+[- ]?(?:pack|count|ct|pcs|pieces))$", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
UNITS = {"mm", "cm", "m", "in", "inch", "inches", "ft", "oz", "lb", "lbs", "ml", "l", "gb", "tb", "mb", "w", "v", "mah"}
# Trailing words that name a generation or edition, not the thing ("Echo Dot 5th Gen").
EDITION_WORDS = {"gen", "generation", "edition", "version", "model"}
# Trailing words that qualify a model; the noun that counts stands before them ("AirPods Pro", "Echo Dot Kids").
MODEL_WORDS = {"pro", "max", "mini", "plus", "ultra", "lite", "se", "xl", "oled", "kids"}
# Words that end in s and are singular; any other head noun ending in s is already plural ("Headphones").
SINGULAR_S = {
    *("lens", "canvas", "atlas", "bus", "gas", "bias", "plus", "chaos", "iris", "series", "species", "news"),
    *("thermos", "cosmos", "mattress", "citrus", "cactus", "octopus", "hummus", "walrus", "asparagus"),
}
IRREGULAR = {
    **{"mouse": "mice", "knife": "knives", "shelf": "shelves", "leaf": "leaves", "person": "people"},
    **{"potato": "potatoes", "tomato": "tomatoes", "hero": "heroes", "wolf": "wolves", "half": "halves"},
    **{"man": "men", "woman": "women", "child": "children", "foot": "feet", "tooth": "teeth"},
}


def spoken_title(title: str) -> str:
    """A product title as said aloud: 'Echo Dot (5th Gen)' -> 'Echo Dot', 'Kindle Paperwhite 16GB - Black'
    -> 'Kindle Paperwhite', 'Fire TV Stick 4K' -> 'Fire TV Stick'; a bare number stays ('PlayStation 5')."""
    text = _VARIANT.split(_BRACKETS.sub("", title).strip())[0]
    text = _PACK.sub("", text)
    words = text.split()
    while len(words) > 1:
        last = words[-1].lower()
        if last in EDITION_WORDS or (re.search(r"\d", last) and not _NUMBER.fullmatch(last)):
            words.pop()  # "Gen", "16GB", "4K", "5th", "7-in-1"
        elif last in UNITS and len(words) > 2 and _NUMBER.fullmatch(words[-2]):
            del words[-2:]  # "6 mm"
        else:
            break
    return " ".join(words) or title.strip()


def _head(words: list[str]) -> int:
    """The index of the noun that counts: the last word, or the one before model words and numbers, or
    before "of" ("Box of Chocolates" is one box; "Pair of Shoes", two pairs)."""
    index = len(words) - 1
    if "of" in words[1:]:
        index = words.index("of", 1) - 1
    while index > 0 and (words[index].lower() in MODEL_WORDS or _NUMBER.fullmatch(words[index])):
        index -= 1
    return index


def _already_plural(word: str) -> bool:
    lower = word.lower()
    if lower in SINGULAR_S or word.isupper() or not word.isalpha():
        return False
    return lower.endswith("s") and not lower.endswith(("ss", "us", "is"))


def _plural_word(word: str) -> str | None:
    lower = word.lower()
    if word.isupper() and word.isalpha() and len(word) > 1:
        return word + "s"  # "TVs", "SSDs"
    before, dash, last = word.rpartition("-")
    if dash and before and last.isalpha() and len(last) > 2:
        plural = _plural_word(last)  # "T-Shirt" -> "T-Shirts"; "Wi-Fi" and "Add-On" stay unsure
        return None if plural is None else f"{before}-{plural}"
    if not word.isalpha():
        return None
    if lower in IRREGULAR:
        plural = IRREGULAR[lower]
        return _cap(plural) if word[:1].isupper() else plural
    if lower.endswith("y") and lower[-2:-1] not in set("aeiou"):
        return word[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def plural_title(title: str) -> str | None:
    """'Echo Dot' -> 'Echo Dots', 'Box' -> 'Boxes', 'Headphones' stays; None when unsure ('Switch OLED')."""
    words = title.split()
    if not words:
        return None
    head = _head(words)
    if _already_plural(words[head]):
        return title
    of_phrase = head + 1 < len(words) and words[head + 1] == "of"
    if head != len(words) - 1 and not of_phrase:
        return None  # "Echo Show Pro": where the plural goes is a guess
    plural = _plural_word(words[head])
    return None if plural is None else " ".join([*words[:head], plural, *words[head + 1 :]])


def _plural_head(title: str) -> bool:
    """Whether a title is grammatically plural even for one ('AirPods Pro', 'QuietComfort Headphones')."""
    words = title.split()
    return bool(words) and _already_plural(words[_head(words)])


# Numbers said with a vowel first: eight, eleven, eighteen, eighty, eight hundred ("an 8 Inch Tablet").
_VOWEL_NUMBER = re.compile(r"(?:8|11|18)(?!\d)|8\d{1,2}(?!\d)|8\d{4,5}(?!\d)|1[18]\d{3}(?!\d)")


def _article(title: str) -> str:
    """'a' or 'an' by how the title's first word is said ('an Echo', 'a USB cable', 'an HDMI cable',
    'an 8 Inch Tablet', 'an F-150 Model', 'an Xbox')."""
    first = title.split()[0] if title.split() else title
    if first[:1].isdigit():
        return "an" if _VOWEL_NUMBER.match(first.replace(",", "")) else "a"
    letters = re.sub(r"[^A-Za-z]", "", first)
    initial = re.match(r"[A-Za-z](?![A-Za-z])", first)  # a lone letter, as in "F-150", "X1", "C cable"
    if (len(letters) > 1 and letters.isupper()) or initial:
        return "an" if letters[0].upper() in "AEFHILMNORSX" else "a"  # letters read one by one
    lower = first.lower()
    if lower.startswith(("uni", "use", "usu", "uti", "eu", "one")):
        return "a"
    if lower.startswith(("hour", "honest", "honor")):
        return "an"
    if re.match(r"x[^aeiouy]", lower):  # "Xbox", "Xperia": said "ex"
        return "an"
    return "an" if lower[:1] in set("aeiou") else "a"


def _counted(title: str, quantity: int, language: str) -> str:
    """'an Echo Dot', 'two Echo Dots', 'Bose Headphones'; 'un Echo Dot', 'dos Echo Dot', 'unos AirPods'."""
    if language == "es":
        # Product names keep their English form, unpluralised; only the count is Spanish.
        if quantity == 1:
            return f"{'unos' if _plural_head(title) else 'un'} {title}"
        return f"{count_words(quantity, 'es')} {title}"
    if quantity == 1:
        return title if _plural_head(title) else f"{_article(title)} {title}"
    plural = plural_title(title)
    if plural is None:
        return f"{count_words(quantity)} {title} units"
    return f"{count_words(quantity)} {plural}"


def _others(count: int, language: str) -> str:
    if language == "es":
        return "otro artículo" if count == 1 else f"otros {count_words(count, 'es')} artículos"
    return f"{count_words(count)} other item{'' if count == 1 else 's'}"


def _lines(order: Any) -> list[tuple[str, int]]:
    return [(spoken_title(item.title), max(1, int(item.quantity))) for item in getattr(order, "items", None) or ()]


def items_phrase(order: Any, language: str = "en") -> str:
    """What an order holds, after "an order for": 'an Echo Dot', 'two Echo Dots and one other item';
    'un Echo Dot', 'dos Echo Dot y otro artículo'."""
    lang = _lang(language)
    lines = _lines(order)
    if not lines:
        return "algunos artículos" if lang == "es" else "some items"
    title, quantity = lines[0]
    head = _counted(title, quantity, lang)
    if len(lines) == 1:
        return head
    rest = sum(quantity for _, quantity in lines[1:])
    return f"{head} {'y' if lang == 'es' else 'and'} {_others(rest, lang)}"


@dataclass(frozen=True)
class _Subject:
    """What a sentence is about, and what its verb agrees with."""

    words: str  # "your two USB cables"
    plural: bool
    whole_order: bool  # "your order of ...": "placed", not "ordered"


def _subject(order: Any, language: str) -> _Subject:
    lines = _lines(order)
    es = language == "es"
    if len(lines) != 1:
        if not lines:
            return _Subject("su pedido" if es else "your order", False, True)
        return _Subject(f"{'su pedido de' if es else 'your order of'} {items_phrase(order, language)}", False, True)
    title, quantity = lines[0]
    if quantity == 1:
        plural = _plural_head(title)
        return _Subject(f"{('sus' if plural else 'su') if es else 'your'} {title}", plural, False)
    if es:
        return _Subject(f"sus {count_words(quantity, 'es')} {title}", True, False)
    return _Subject(f"your {_counted(title, quantity, 'en')}", True, False)


def describe_items(order: Any, language: str = "en") -> str:
    """What an order holds, as the subject of a sentence: 'your Kindle Paperwhite', 'your two USB cables',
    'your order of an Echo Dot and two other items'; 'su Kindle Paperwhite', 'sus dos USB Cable'."""
    return _subject(order, _lang(language)).words


# -- orders -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """Today, and how one answer says a day: in its language, in the caller's zone."""

    today: date
    language: str
    zone: tzinfo | None

    def day(self, value: date | datetime) -> date:
        return _day(value, self.zone)

    def said(self, value: date | datetime | None) -> str:
        return when(value, self.today, self.language, zone=self.zone)


def order_sentence(order: Any, today: date, language: str = "en", zone: tzinfo | None = None) -> str:
    """The status of an order, as a person would say it (dates as when() says them in `zone`)."""
    lang = _lang(language)
    subject = _subject(order, lang)
    cal = _Calendar(today, lang, zone)
    words = _order_es(order, subject, cal) if lang == "es" else _order_en(order, subject, cal)
    return _cap(words)


def _carrier(name: str | None, language: str) -> str | None:
    if not name:
        return None
    return CARRIERS[language].get(name.lower(), name)


def _order_en(order: Any, s: _Subject, cal: _Calendar) -> str:
    was, iz, it = ("were", "are", "they") if s.plural else ("was", "is", "it")
    status = order.status
    estimate = order.estimated_delivery
    carrier = _carrier(order.carrier, "en")
    by = f" with {carrier}" if carrier else ""
    running = "they're" if s.plural else "it's"
    late = f"{_cap(it)} {was} expected {cal.said(estimate)}, and {running} running late. I'm sorry about that."
    if status == "processing":
        verb = "placed" if s.whole_order else "ordered"
        # Not yet shipped, so an estimate of today can't be kept either.
        overdue = estimate is not None and cal.day(estimate) <= cal.today
        still = "still " if overdue else ""
        said = f"{s.words} {was} {verb} {cal.said(order.placed_at)} and {iz} {still}being prepared."
        if estimate is None:
            return f"{said} We'll know the delivery date once {it} {'ship' if s.plural else 'ships'}."
        if overdue:
            return f"{said} {late}"
        return f"{said} {_cap(it)} should arrive {cal.said(estimate)}."
    if status == "shipped":
        said = f"{s.words} shipped {cal.said(order.shipped_at)}{by}."
        if estimate is None:
            return said
        if cal.day(estimate) < cal.today:
            return f"{said} {late}"
        return f"{said} {_cap(it)} should arrive {cal.said(estimate)}."
    if status == "out_for_delivery":
        return f"Good news: {s.words} {iz} out for delivery{by} and should arrive today."
    if status == "delivered":
        if order.delivered_at is None:
            return f"{s.words} {'have' if s.plural else 'has'} been delivered."
        return f"{s.words} {was} delivered {cal.said(order.delivered_at)}."
    if status == "delayed":
        if estimate is None:
            return f"I'm sorry: {s.words} {iz} delayed, and we don't have a new date yet."
        if cal.day(estimate) < cal.today:
            return (
                f"{s.words} {was} expected {cal.said(estimate)}, and {running} running late. "
                "I'm sorry; we don't have a new date yet."
            )
        return f"I'm sorry: {s.words} {iz} delayed. {_cap(it)} should now arrive {cal.said(estimate)}."
    if status == "canceled":
        return f"{s.words} {was} canceled. If you were charged, the refund is on its way."
    return f"{s.words} {iz} {status.replace('_', ' ')}."


def _order_es(order: Any, s: _Subject, cal: _Calendar) -> str:
    n = "n" if s.plural else ""  # the verb's plural ending: "debería" / "deberían"
    status = order.status
    estimate = order.estimated_delivery
    carrier = _carrier(order.carrier, "es")
    by = f" con {carrier}" if carrier else ""
    late = f"Se esperaba{n} para {cal.said(estimate)} y va{n} con retraso. Disculpe las molestias."
    if status == "processing":
        placed = "se hizo" if s.whole_order else ("se pidieron" if s.plural else "se pidió")
        overdue = estimate is not None and cal.day(estimate) <= cal.today
        still = "todavía " if overdue else ""
        said = f"{s.words} {placed} {cal.said(order.placed_at)} y {still}se está{n} preparando."
        if estimate is None:
            return f"{said} Tendremos la fecha de entrega cuando se envíe{n}."
        if overdue:
            return f"{said} {late}"
        return f"{said} Debería{n} llegar {cal.said(estimate)}."
    if status == "shipped":
        sent = "se enviaron" if s.plural else "se envió"
        said = f"{s.words} {sent} {cal.said(order.shipped_at)}{by}."
        if estimate is None:
            return said
        if cal.day(estimate) < cal.today:
            return f"{said} {late}"
        return f"{said} Debería{n} llegar {cal.said(estimate)}."
    if status == "out_for_delivery":
        left = "salieron" if s.plural else "salió"
        return f"Buenas noticias: {s.words} ya {left} para entrega{by} y debería{n} llegar hoy."
    if status == "delivered":
        delivered = "se entregaron" if s.plural else "se entregó"
        if order.delivered_at is None:
            return f"{s.words} ya {delivered}."
        return f"{s.words} {delivered} {cal.said(order.delivered_at)}."
    if status == "delayed":
        comes = "vienen" if s.plural else "viene"
        if estimate is None:
            return f"Lo siento: {s.words} {comes} con retraso y todavía no tenemos una nueva fecha."
        if cal.day(estimate) < cal.today:
            return (
                f"{s.words} se esperaba{n} para {cal.said(estimate)} y va{n} con retraso. "
                "Lo siento; todavía no tenemos una nueva fecha."
            )
        return f"Lo siento: {s.words} {comes} con retraso. Ahora debería{n} llegar {cal.said(estimate)}."
    if status == "canceled":
        canceled = "se cancelaron" if s.plural else "se canceló"
        return f"{s.words} {canceled}. Si se le hizo algún cargo, el reembolso ya está en camino."
    return f"El estado de {s.words} es: {status.replace('_', ' ')}."


# -- returns ------------------------------------------------------------------------------------------

RETURN_SENTENCES = {
    "en": {
        "requested": "We have your return request. We'll email you a shipping label shortly.",
        "label_sent": "We've emailed you a prepaid shipping label. Once you drop the parcel off, "
        "we'll take it from there.",
        "in_transit": "Your return is on its way back to us. We'll let you know as soon as it arrives.",
        "rejected": "I'm sorry: this return was not accepted. We've emailed you the reason.",
    },
    "es": {
        "requested": "Tenemos su solicitud de devolución. En breve le enviaremos una etiqueta de envío "
        "por correo electrónico.",
        "label_sent": "Le enviamos por correo electrónico una etiqueta de envío prepagada. Cuando entregue "
        "el paquete, nosotros nos encargamos del resto.",
        "in_transit": "Su devolución está en camino hacia nosotros. Le avisaremos en cuanto llegue.",
        "rejected": "Lo siento: esta devolución no fue aceptada. Le enviamos el motivo por correo electrónico.",
    },
}


def return_sentence(ret: Any, today: date, language: str = "en", zone: tzinfo | None = None) -> str:
    """The status of a return and its refund, as a person would say it (dates as when() says them in `zone`)."""
    lang = _lang(language)
    cal = _Calendar(today, lang, zone)
    status = ret.status
    if status in RETURN_SENTENCES[lang]:
        return RETURN_SENTENCES[lang][status]
    amount = ""
    if ret.refund_amount:  # a zero refund has no amount to say
        amount = f" {'de' if lang == 'es' else 'of'} {money(ret.refund_amount, ret.currency, lang)}"
    if status == "received":
        return _received(ret, cal, amount)
    if status == "refunded":
        return _refunded(ret, cal, amount)
    if lang == "es":
        return f"El estado de su devolución es: {status.replace('_', ' ')}."
    return f"Your return is {status.replace('_', ' ')}."


def _received(ret: Any, cal: _Calendar, amount: str) -> str:
    language = cal.language
    days = count_words(REFUND_WITHIN_DAYS, language)
    received = ret.received_at
    if language == "es":
        got = f"Recibimos su devolución {cal.said(received)}." if received else "Ya recibimos su devolución."
        return (
            f"{got} Su reembolso{amount} se está procesando y normalmente se emite en un plazo de {days} días hábiles."
        )
    got = f"We received your return {cal.said(received)}." if received else "We've received your return."
    return f"{got} Your refund{amount} is being processed and usually follows within {days} business days."


def refund_method(method: str | None) -> str | None:
    """A refund method as REFUND_METHODS names it ("Store Credit" -> "store_credit"); none given is the
    original payment method, and one we cannot name is None (said as nothing, never as another)."""
    if not method or not method.strip():
        return DEFAULT_REFUND_METHOD
    key = re.sub(r"[^a-z]+", "_", method.lower()).strip("_")
    key = REFUND_METHOD_NAMES.get(key, key)
    return key if key in REFUND_METHODS["en"] else None


def _refunded(ret: Any, cal: _Calendar, amount: str) -> str:
    language = cal.language
    es = language == "es"
    if ret.refund_amount is not None and ret.refund_amount == 0:
        # Nothing was paid back (a return that was due no money): no amount, no bank, no date to wait for.
        if es:
            return "Su devolución ya se procesó. No correspondía ningún reembolso."
        return "Your return has been processed. No refund was due on it."
    known = refund_method(ret.refund_method)
    where = f" {REFUND_METHODS[language][known]}" if known else ""
    issued = ret.refund_issued_at
    if issued is None:
        if es:
            return f"Su reembolso{amount} ya se emitió{where}."
        return f"Your refund{amount} has been issued{where}."
    if es:
        sentence = f"Su reembolso{amount} se emitió {cal.said(issued)}{where}."
    else:
        sentence = f"Your refund{amount} was issued {cal.said(issued)}{where}."
    if known is None:
        return sentence  # where it went, and so when it shows, is not ours to guess
    days = REFUND_DAYS.get(known, DEFAULT_REFUND_DAYS)
    shows = _business_days_after(cal.day(issued), days)
    if not days or shows < cal.today:
        return sentence
    if es:
        bank = ", dependiendo de su banco" if known in BANK_METHODS else ""
        return f"{sentence} Debería reflejarse {cal.said(shows)}{bank}."
    bank = ", depending on your bank" if known in BANK_METHODS else ""
    return f"{sentence} It should show {cal.said(shows)}{bank}."
