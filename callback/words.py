"""The customer pages' words: their language, their time zone, and one way to write times, waits and counts.

Every date, time, wait and count a customer reads goes through here, so the form, the status page
and the texts agree ("Monday, November 30 at 3:30 PM" in English, "lunes, 30 de noviembre a las
15:30" in Spanish), always in the customer's own time zone and with that zone named.

The language is the one the customer chose with the pages' language link (`?lang=es`, kept in the
session cookie), else the browser's (Accept-Language), English or Spanish; a request keeps the language
it was made in (CallbackRequest.language), which is the language of its call and its texts.
The time zone is the browser's (static/zone.js keeps it in the `tz` cookie), else the topic's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_time, get_timezone_location
from babel.lists import format_list
from flask import has_request_context, request
from flask import session as browser
from flask_babel import force_locale, get_locale, gettext, ngettext, pgettext
from flask_babel import lazy_gettext as _l

from core.errors import DomainError
from core.hours import BusinessHours
from core.phone import PhonePolicy, with_the

# The languages the customer pages and the calls speak; the first is the fallback.
LANGUAGES = ("en", "es")
ZONE_COOKIE = "tz"


# The session key of the language a customer chose on the pages (`?lang=`), over the browser's.
CHOSEN_LANGUAGE = "lang"


def page_language() -> str:
    """The customer's language among ours (Flask-Babel's locale selector, and the API's default): the
    one they chose on the pages (someone on an English-language phone may still want Spanish), else
    the browser's preferred one."""
    if not has_request_context():
        return LANGUAGES[0]
    chosen = request.args.get(CHOSEN_LANGUAGE) or browser.get(CHOSEN_LANGUAGE)
    if chosen in LANGUAGES:
        return str(chosen)
    return preferred_language(request.accept_languages)


def keep_chosen_language() -> None:
    """Remember `?lang=` in the session cookie, so every page after it is in that language too (a
    before-request hook of the customer pages)."""
    chosen = request.args.get(CHOSEN_LANGUAGE)
    if chosen in LANGUAGES and browser.get(CHOSEN_LANGUAGE) != chosen:
        browser[CHOSEN_LANGUAGE] = chosen


def languages_named(codes: Iterable[str]) -> str:
    """Languages by their names in the page's language, as one "or" list ("inglés o francés")."""
    locale = Locale(language())
    names = [locale.languages.get(code, code) for code in dict.fromkeys(codes)]
    return format_list(names, style="or", locale=locale)


def preferred_language(accepted: Iterable[tuple[str, float]]) -> str:
    """The first of our languages in the browser's own order of preference (tag, weight), else the fallback.

    Matched on the primary language subtag: a browser set to 'es-US,en;q=0.5' or 'es-419,en;q=0.9' is
    Spanish first. (Werkzeug's best_match prefers an exact 'en' at any weight over a regional 'es-XX'.)
    """
    ranked = sorted(accepted, key=lambda pair: -pair[1])  # stable: equal weights keep the browser's order
    for tag, weight in ranked:
        primary = tag.replace("_", "-").split("-", 1)[0].strip().lower()
        if weight <= 0:
            continue
        if primary in LANGUAGES:
            return primary
        if primary == "*":
            break
    return LANGUAGES[0]


def language() -> str:
    """The language of the page being rendered."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else LANGUAGES[0]


def in_language(code: str | None) -> force_locale:
    """Render in a request's language (a text to its phone, say), whatever the browser asked for."""
    return force_locale(code if code in LANGUAGES else LANGUAGES[0])


def zone_from(name: str | None) -> ZoneInfo | None:
    """An IANA zone name as the browser gave it, or None if it names no zone we know."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_told() -> bool:
    """Whether the browser told us its time zone (without JavaScript it cannot): only then are the
    page's times "in your time zone"; else they are in the topic's."""
    return has_request_context() and zone_from(request.cookies.get(ZONE_COOKIE)) is not None


def customer_zone(fallback: ZoneInfo) -> ZoneInfo:
    """The browser's time zone when it told us (the `tz` cookie), else `fallback` (the topic's)."""
    if has_request_context():
        zone = zone_from(request.cookies.get(ZONE_COOKIE))
        if zone is not None:
            return zone
    return fallback


def _locale() -> Locale:
    return get_locale() or Locale.parse(LANGUAGES[0])


def zone_name(zone: ZoneInfo, language: str | None = None) -> str:
    """The zone as people say it: 'United States (New York) Time', 'hora de España (Madrid)'; UTC as 'UTC'
    (Babel would say 'Unknown Region (UTC) Time': it has no place to name). In the page's language, or
    in `language` (the staff pages are in English whatever the browser asks)."""
    if zone.key in {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}:
        return "UTC"
    return get_timezone_location(zone, locale=language or _locale())


# A day, weekday spelled out and no year (bookings are at most a week ahead), per language.
DAY_PATTERNS = {"en": "EEEE, MMMM d", "es": "EEEE, d 'de' MMMM"}


def day(moment: datetime, zone: ZoneInfo) -> str:
    """'Monday, November 30' / 'lunes, 30 de noviembre'."""
    locale = _locale()
    pattern = DAY_PATTERNS.get(locale.language)
    if pattern is None:
        return format_skeleton("MMMMEEEEd", moment, tzinfo=zone, locale=locale)
    return format_datetime(moment, pattern, tzinfo=zone, locale=locale)


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """'3:30 PM' / '15:30'."""
    return format_time(moment, "short", tzinfo=zone, locale=_locale())


def clock_and_zone(moment: datetime, zone: ZoneInfo) -> str:
    """'1:30 AM EDT': a time of day that the zone's clocks show twice when they go back, told apart."""
    return f"{clock(moment, zone)} {moment.astimezone(zone).tzname()}"


def when(moment: datetime, zone: ZoneInfo) -> str:
    """The one way a customer page writes a moment: 'Monday, November 30 at 3:30 PM'."""
    if at_one(moment, zone):
        # A message of its own only so that a language can say this hour its way ("a la 1:30").
        return pgettext("one o'clock", "%(day)s at %(time)s", day=day(moment, zone), time=clock(moment, zone))
    return gettext("%(day)s at %(time)s", day=day(moment, zone), time=clock(moment, zone))


def at_one(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether the page's clock shows the one o'clock hour ("1:30 PM", "1:30"): Spanish says "a la
    1:30" there and "a las" at every other hour."""
    return clock(moment, zone).split(":", 1)[0].strip() in {"1", "01"}


def wait(seconds: int) -> str:
    """An estimated wait in whole minutes (hours past two hours), with the right plural."""
    minutes = max(1, -(-seconds // 60))
    if minutes < 120:
        return ngettext("about %(num)d minute", "about %(num)d minutes", minutes)
    return ngettext("about %(num)d hour", "about %(num)d hours", round(minutes / 60))


def place(position: int | None) -> str:
    """Where a request stands among the waiting ones of its topic."""
    if position is None:
        return "–"
    if position == 0:
        return gettext("You're next")
    return ngettext("%(num)d person ahead of you", "%(num)d people ahead of you", position)


# -- the topics, in the page's language ------------------------------------------------------------

TOPICS = {
    "orders": _l("Orders, tracking and delivery"),
    "returns": _l("Returns and refunds"),
    "payments": _l("Payments and billing"),
    "account": _l("Your account"),
    "devices": _l("Devices and technical help"),
    "other": _l("Something else"),
}


def topic(name: str, display_name: str) -> str:
    """A topic's name for the customer: ours translated, or the shop's own words for a topic it added."""
    if name in TOPICS and language() != "en":
        return str(TOPICS[name])
    return display_name


def topic_lower(name: str, display_name: str) -> str:
    """A topic inside a sentence ("about orders, tracking and delivery")."""
    words = topic(name, display_name)
    return words[:1].lower() + words[1:] if not words[:2].isupper() else words


# -- phone hints from the countries we call ---------------------------------------------------------


def country(region: str) -> str:
    """A country's name in the page's language."""
    return _locale().territories.get(region, region)


# Spanish country names said with their article ("del Reino Unido", "de la República Dominicana"),
# by how the name begins; every other name, Estados Unidos among them, is said bare.
SPANISH_ARTICLES = (
    ("Reino ", "el"),
    ("República ", "la"),
    ("Países ", "los"),
    ("Emiratos ", "los"),
    ("Islas ", "las"),
    ("Bahamas", "las"),
    ("Maldivas", "las"),
    ("Seychelles", "las"),
    ("Comoras", "las"),
)


def _in(region: str) -> str:
    """A country's name as it follows 'in' ('the United States', 'Canada'; 'el Reino Unido')."""
    name = country(region)
    if language() == "en":
        return with_the(name)
    if language() == "es":
        article = next((the for start, the in SPANISH_ARTICLES if name.startswith(start)), None)
        return f"{article} {name}" if article else name
    return name


def _contracted(sentence: str) -> str:
    """Spanish 'de el' and 'a el' as Spanish writes them ('del', 'al'); 'de El Salvador' stays."""
    if language() != "es":
        return sentence
    return sentence.replace(" de el ", " del ").replace(" a el ", " al ")


def phone_examples(policy: PhonePolicy) -> list[str]:
    """One example number per allowed country: the default country's as people write it at home,
    the others with + and their country code (so the hint only shows numbers the policy accepts)."""
    regions = [policy.default_region] + [r for r in policy.allowed_countries if r != policy.default_region]
    examples = []
    for region in regions:
        if policy.allowed_countries and region not in policy.allowed_countries:
            continue
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        if number is None:
            number = phonenumbers.example_number(region)
        if number is None:
            continue
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if region == policy.default_region
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        examples.append(phonenumbers.format_number(number, style))
    return examples


def list_of(items: Iterable[str]) -> str:
    """'A', 'A and B', 'A, B and C' in the page's language."""
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return gettext("%(first)s and %(last)s", first=", ".join(words[:-1]), last=words[-1])


# -- the service's refusals, in the page's language ---------------------------------------------------

# The service and the phone policy speak English (the API's language); a page shows their words in
# the customer's. Messages that carry facts (hours, countries) are rebuilt here from those facts.
_N = _l  # marks a message for extraction; gettext() looks it up by its English words
_MESSAGES = (
    _N("Please agree to be called so we can ring you."),
    _N("Please tell us your name."),
    _N("Your name has characters we can't read. Please type it again."),
    _N("Please keep your name under 80 characters."),
    _N("Please choose what your call is about."),
    _N("An order number has only letters, digits and dashes (for example 112-4455667-1234567)."),
    _N("Please choose a time for us to call."),
    _N("That time has already passed. Please pick a later one."),
    _N("We can only book callbacks up to 7 days ahead."),
    _N(
        "This number is on our do-not-call list, so we can't call it. Please use another number or contact us by email."
    ),
    _N("Please enter a phone number."),
    _N("That number is too long. Please enter just your phone number."),
    _N("We can't dial extensions. Please enter a direct number without an extension."),
    _N("That number is too short. Please enter your whole number, including the area code."),
    _N("That number has too many digits. Please check it and try again."),
    _N("That isn't a valid phone number. Please check it and try again."),
    _N("We couldn't tell which country that number is in. Please start it with + and the country code."),
    _N("That doesn't look like a phone number. Please check it and try again."),
    _N(
        "That number is missing digits: it only works dialled locally. "
        "Please enter your whole number, including the area code."
    ),
    _N("That is our own number, so we can't call it back. Please enter the number where we can reach you."),
    _N(
        "That is a short service number, not a full phone number. "
        "Please enter your whole number, including the area code."
    ),
    _N("We can't call premium-rate numbers. Please enter a regular landline or mobile number."),
    _N("We can't call shared-cost numbers. Please enter a regular landline or mobile number."),
    _N("That is a pager number, which can't take a phone call. Please enter a landline or mobile number."),
    _N("That number goes straight to voicemail. Please enter a number where we can reach you."),
    _N(
        "That is a toll-free number, which rings a business rather than a person. "
        "Please enter your own landline or mobile number."
    ),
    _N(
        "That is a personal (follow-me) service number. Please enter the landline or mobile number "
        "we should ring directly."
    ),
    _N("That is a non-geographic service number. Please enter a regular landline or mobile number."),
    _N("That is a non-geographic number. Please enter a regular landline or mobile number."),
)


def message(error: DomainError, policy: PhonePolicy | None = None) -> str:
    """A refusal in the page's language (the English words when there is no translation yet)."""
    if error.code == "phone_country_not_allowed" and policy is not None:
        places = list_of(_in(r) for r in policy.allowed_countries)
        where = getattr(error, "region", None)  # the number's country (callback.service.PhoneRefused)
        if where:
            return _contracted(
                gettext(
                    "That number is in %(where)s. We can only call numbers in %(places)s.",
                    where=_in(where),
                    places=places,
                )
            )
        return _contracted(gettext("We can only call numbers in %(places)s.", places=places))
    if language() == "en":
        return error.message
    return gettext(error.message)


def outside_hours(topic_words: str, hours: BusinessHours, chosen: str | None = None) -> str:
    """A chosen time the topic is closed at (`chosen` as when() writes it), its hours in words, and what to do."""
    said = opening_hours(hours)
    if said is None:
        return gettext("%(topic)s is closed at that time.", topic=topic_words)
    if chosen is None:
        return gettext("%(topic)s is closed at that time. Our hours are %(hours)s.", topic=topic_words, hours=said)
    return gettext(
        "%(topic)s is closed on %(when)s. Our hours are %(hours)s. Please choose another time.",
        topic=topic_words,
        when=chosen,
        hours=said,
    )


def opening_hours(hours: BusinessHours) -> str | None:
    """A topic's hours as people say them, in its own time zone, or None when it never opens.

    'Monday to Friday, 9:00 AM to 5:00 PM; Saturday, 10:00 AM to 2:00 PM, New York time' /
    'de lunes a viernes, de 9:00 a 17:00; sábado, de 10:00 a 14:00, hora de Nueva York'. Days with the
    same hours are said together, consecutive ones as a range; day names and clocks are Babel's.
    """
    if not any(hours.windows):
        return None
    if all(_all_day(windows) for windows in hours.windows):
        return gettext("24 hours a day, every day")
    locale = _locale()
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for index, windows in enumerate(hours.windows):
        if windows:
            groups.setdefault(windows, []).append(index)
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(hours.windows):
        [windows] = groups
        clauses = [gettext("every day, %(times)s", times=_times(windows, locale))]
    else:
        clauses = [f"{_days(days, locale)}, {_times(windows, locale)}" for windows, days in groups.items()]
    return gettext("%(hours)s, %(zone)s", hours="; ".join(clauses), zone=_zone_time(hours.zone, locale))


# core.hours keeps a window open till midnight ("24:00", "24/7") as closing at 23:59 or 23:59:59.
_TILL_MIDNIGHT = time(23, 59)


def _all_day(windows: tuple[tuple[time, time], ...]) -> bool:
    return len(windows) == 1 and windows[0][0] == time(0) and windows[0][1] >= _TILL_MIDNIGHT


def _days(days: list[int], locale: Locale) -> str:
    """[0, 1, 2, 3, 4, 6] -> 'Monday to Friday and Sunday' (0 is Monday, as in Babel and core.hours)."""
    runs: list[list[int]] = []
    for index in days:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    names = locale.days["format"]["wide"]
    said: list[str] = []
    for run in runs:
        if len(run) >= 3:
            said.append(gettext("%(first)s to %(last)s", first=names[run[0]], last=names[run[-1]]))
        else:
            said.extend(names[i] for i in run)
    return list_of(said)


def _times(windows: tuple[tuple[time, time], ...], locale: Locale) -> str:
    """'9:00 AM to 5:00 PM' / 'de 9:00 a 17:00'; a day open throughout is '24 hours'."""
    if _all_day(windows):
        return gettext("24 hours")
    said = []
    for opening, closing in windows:
        close = gettext("midnight") if closing >= _TILL_MIDNIGHT else format_time(closing, "short", locale=locale)
        said.append(gettext("%(open)s to %(close)s", open=format_time(opening, "short", locale=locale), close=close))
    return list_of(said)


def _zone_time(zone: ZoneInfo, locale: Locale) -> str:
    """'New York time' / 'hora de Nueva York'; UTC as 'UTC'."""
    if zone_name(zone) == "UTC":
        return "UTC"
    return gettext("%(city)s time", city=get_timezone_location(zone, locale=locale, return_city=True))


def until(seconds: int, zone: ZoneInfo, now: datetime) -> str:
    """When a wait of `seconds` from `now` ends, as when() writes it."""
    return when(now + timedelta(seconds=seconds), zone)
