"""Phone policy: which numbers a customer may ask us to call, normalised to E.164."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import (
    CountryCodeSource,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
    geocoder,
    shortnumberinfo,
)

_SEPARATORS = re.compile(r"[\s\-.()]")
# Far longer than any number as people write it ("+1 (201) 555-0123 " is 18): anything longer is refused
# before it is parsed or becomes a cache key, so an unauthenticated post cannot fill memory with it.
MAX_INPUT_LENGTH = 64

_TOO_LONG = ("too_long", "That number is too long. Please enter just your phone number.")

_SHORT_CODE = (
    "short_code",
    "That is a short service number, not a full phone number. Please enter your whole number, including the area code.",
)

_REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: (
        "premium_rate",
        "We can't call premium-rate numbers. Please enter a regular landline or mobile number.",
    ),
    PhoneNumberType.SHARED_COST: (
        "shared_cost",
        "We can't call shared-cost numbers. Please enter a regular landline or mobile number.",
    ),
    # Nobody can talk to us on a pager or a voicemail-only number, so a callback there is wasted.
    PhoneNumberType.PAGER: (
        "not_callable",
        "That is a pager number, which can't take a phone call. Please enter a landline or mobile number.",
    ),
    PhoneNumberType.VOICEMAIL: (
        "not_callable",
        "That number goes straight to voicemail. Please enter a number where we can reach you.",
    ),
}

# Numbers nobody should ask us to call back: they ring a business's line or a service, not a person
# who is waiting for us, and some cost the shop or the customer.
_NOT_FOR_CALLBACKS = {
    PhoneNumberType.TOLL_FREE: (
        "toll_free",
        "That is a toll-free number, which rings a business rather than a person. "
        "Please enter your own landline or mobile number.",
    ),
    PhoneNumberType.PERSONAL_NUMBER: (
        "personal_number",
        "That is a personal (follow-me) service number. Please enter the landline or mobile number "
        "we should ring directly.",
    ),
    PhoneNumberType.UAN: (
        "non_geographic",
        "That is a non-geographic service number. Please enter a regular landline or mobile number.",
    ),
    PhoneNumberType.VOIP: (
        "non_geographic",
        "That is a non-geographic number. Please enter a regular landline or mobile number.",
    ),
}

OWN_NUMBER = (
    "own_number",
    "That is our own number, so we can't call it back. Please enter the number where we can reach you.",
)

_INCOMPLETE = (
    "incomplete",
    "That number is missing digits: it only works dialled locally. "
    "Please enter your whole number, including the area code.",
)

# English puts "the" before these names ("the United States", "the Netherlands"); most take none.
_NAMES_WITH_THE = (
    "United ",
    "Republic",
    "Islands",
    "Netherlands",
    "Philippines",
    "Bahamas",
    "Gambia",
    "Maldives",
)


class PhoneRejected(ValueError):
    """A number the policy won't call; .code is machine-readable, .message is plain words for a customer.

    .region is the number's country (ISO 3166) when that is the reason, so a page can say it in its language.
    """

    def __init__(self, code: str, message: str, region: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.region = region


@dataclass(frozen=True)
class PhonePolicy:
    """Where we are willing to call, and how to read numbers typed without a country code."""

    default_region: str = "US"
    # Empty means anywhere: agents and the do-not-call list may be any real number.
    allowed_countries: tuple[str, ...] = ("US", "CA")
    # A number a customer asks us to ring is held to more: no toll-free, personal or non-geographic
    # numbers. Agents, order data and the do-not-call list take any real number.
    callback_rules: bool = False
    # The shop's own numbers (E.164): calling them back would ring ourselves, in a loop.
    own_numbers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A typo such as "UK" for "GB" would otherwise refuse every customer, so fail at start-up.
        regions = (self.default_region, *self.allowed_countries)
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown ISO 3166 region code(s): {', '.join(unknown)}")


def any_number(region: str = "US") -> PhonePolicy:
    """Any real number, read in `region` when typed without a country code: the policy for agents,
    order data and the do-not-call list, which are not numbers a customer asks us to ring."""
    return PhonePolicy(default_region=region, allowed_countries=())


def is_region(code: str) -> bool:
    """Whether `code` is a country libphonenumber knows (ISO 3166 alpha-2, upper case: "US", "GB")."""
    return code in phonenumbers.SUPPORTED_REGIONS


def normalize(raw: str, policy: PhonePolicy, region: str | None = None) -> str:
    """Parse a number typed by a customer, apply the policy, return E.164; raise PhoneRejected otherwise."""
    if len(raw or "") > MAX_INPUT_LENGTH:
        raise PhoneRejected(*_TOO_LONG)
    text = _SEPARATORS.sub("", raw or "")
    if not text:
        raise PhoneRejected("empty", "Please enter a phone number.")
    region = (region or policy.default_region).upper()
    # A region we do not know reads national numbers as libphonenumber's unknown region ("ZZ"), which
    # refuses them, as it did the name itself; it keeps the cache's keys short and few too.
    return _normalize(text, policy, region if region in phonenumbers.SUPPORTED_REGIONS else "ZZ")


# Every webhook of a call reads the caller's number again: libphonenumber's checks cost about what a
# database round trip. A number's verdict under a policy never changes (refusals are not kept). Keyed
# on the number without its separators, at most MAX_INPUT_LENGTH characters.
@lru_cache(maxsize=4096)
def _normalize(text: str, policy: PhonePolicy, region: str) -> str:
    number = _parse(text, region)

    # We refuse extensions rather than drop them: the call would reach a switchboard or auto-attendant
    # instead of the customer, and our IVR would be talking to a machine.
    if number.extension:
        raise PhoneRejected("invalid", "We can't dial extensions. Please enter a direct number without an extension.")
    if not phonenumbers.is_valid_number(number):
        if _is_short_code(number, region):
            raise PhoneRejected(*_SHORT_CODE)
        raise PhoneRejected("invalid", _invalid_message(number))
    # libphonenumber calls "+1 310 1234" valid (Canada's 310 numbers), but it is seven digits that only
    # work dialled locally; Twilio cannot ring it and it is never a customer's whole number.
    if phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise PhoneRejected(*_INCOMPLETE)

    country = phonenumbers.region_code_for_number(number)
    if policy.allowed_countries and country not in policy.allowed_countries:
        where = country if country in phonenumbers.SUPPORTED_REGIONS else None
        raise PhoneRejected("country_not_allowed", _country_message(number, policy), where)
    kind = phonenumbers.number_type(number)
    if refusal := _REFUSED_TYPES.get(kind):
        raise PhoneRejected(*refusal)
    if policy.callback_rules and (refusal := _NOT_FOR_CALLBACKS.get(kind)):
        raise PhoneRejected(*refusal)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164 in policy.own_numbers:
        raise PhoneRejected(*OWN_NUMBER)
    return e164


def mask(e164: str) -> str:
    """Hide all but the country calling code and last four digits: '+15551234567' -> '+1******4567'."""
    number = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(number)
    return f"+{number.country_code}{'*' * (len(national) - 4)}{national[-4:]}"


def display(e164: str) -> str:
    """A number as a person reads and dials it: '+12015550123' -> '+1 201-555-0123' (else unchanged)."""
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def country_choices(policy: PhonePolicy) -> list[tuple[str, str]]:
    """(region code, label like 'United States (+1)') for the allowed countries, default region first."""
    return [(r, f"{name} (+{phonenumbers.country_code_for_region(r)})") for r, name in _names(policy)]


def _parse(text: str, region: str) -> PhoneNumber:
    """Read what the customer typed as a full phone number, or refuse it in customer words."""
    try:
        return phonenumbers.parse(_plus_for_double_zero(text, region), region, keep_raw_input=True)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            message = "We couldn't tell which country that number is in. Please start it with + and the country code."
        else:
            message = "That doesn't look like a phone number. Please check it and try again."
        raise PhoneRejected("unparseable", message) from error


def _plus_for_double_zero(text: str, region: str) -> str:
    """Read a leading "00" as "+", the way most of the world dials abroad."""
    # libphonenumber only honours the region's own exit code (011 in North America), but customers
    # type 00; where the exit code itself starts with 00 (0011 in Australia) the library already copes.
    # No country calling code starts with 0, so "000" (Australia's 911) stays a short code.
    metadata = PhoneMetadata.metadata_for_region(region)
    exit_code = metadata.international_prefix if metadata else None
    if re.match(r"00[1-9]", text) and not (exit_code and re.match(exit_code, text)):
        return "+" + text[2:]
    return text


def _is_short_code(number: PhoneNumber, region: str) -> bool:
    """Whether the customer typed a number such as 611 or 911, which only works dialled within the region."""
    # Only when typed without a country code: "+1 611" is a full number with digits missing.
    typed_nationally = number.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
    return typed_nationally and shortnumberinfo.is_valid_short_number_for_region(number, region)


def _invalid_message(number: PhoneNumber) -> str:
    """Say what is wrong with a number that cannot exist, as specifically as we can."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return "That number is too short. Please enter your whole number, including the area code."
    if reason == ValidationResult.TOO_LONG:
        return "That number has too many digits. Please check it and try again."
    return "That isn't a valid phone number. Please check it and try again."


def _country_message(number: PhoneNumber, policy: PhonePolicy) -> str:
    """Name where the number is and where we do call, e.g. '... in the United States and Canada.'"""
    names = [with_the(name) for _, name in _names(policy)]
    places = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    message = f"We can only call numbers in {places}."
    if where := geocoder.country_name_for_number(number, "en"):
        message = f"That number is in {with_the(where)}. {message}"
    return message


def _names(policy: PhonePolicy) -> list[tuple[str, str]]:
    """(region code, country name) for the allowed countries, default region first."""
    names = [(r, _country_name(r)) for r in policy.allowed_countries]
    if not names:
        names = sorted(((r, _country_name(r)) for r in phonenumbers.SUPPORTED_REGIONS), key=lambda n: n[1])
    return sorted(names, key=lambda n: n[0] != policy.default_region)


@cache
def _country_name(region: str) -> str:
    """The English name of a region, e.g. 'Canada' for 'CA', or the code itself if unnamed."""
    # phonenumbers names countries only through numbers, so ask about the region's example number.
    example = phonenumbers.example_number(region)
    name = geocoder.country_name_for_number(example, "en") if example else ""
    return name or region


def with_the(name: str) -> str:
    """A country's English name as it follows 'in': 'United States' -> 'the United States'; 'Canada' stays."""
    if name.startswith("The "):
        return "the " + name[4:]
    return f"the {name}" if any(word in name for word in _NAMES_WITH_THE) else name
