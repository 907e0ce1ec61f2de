"""The phone policy: what a customer may type, what we will call, and how numbers are shown."""

from __future__ import annotations

import phonenumbers
import pytest

from core.phone import PhonePolicy, PhoneRejected, country_choices, mask, normalize

NORTH_AMERICA = PhonePolicy()
ANYWHERE = PhonePolicy(allowed_countries=())
WORLD = PhonePolicy(default_region="GB", allowed_countries=("GB", "US", "CA", "AU", "FR", "DE"))
NOT_NORTH_AMERICA = "We can only call numbers in the United States and Canada."


def rejection(raw: str, policy: PhonePolicy = NORTH_AMERICA, region: str | None = None) -> PhoneRejected:
    """The PhoneRejected that normalize raises for this input."""
    with pytest.raises(PhoneRejected) as caught:
        normalize(raw, policy, region)
    return caught.value


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+12015550123", "+12015550123"),
        ("(201) 555-0123", "+12015550123"),
        ("201.555.0123", "+12015550123"),
        ("201-555-0123", "+12015550123"),
        ("2015550123", "+12015550123"),
        ("  201 555 0123  ", "+12015550123"),
        ("\t+1 415 555 2671\n", "+14155552671"),
        ("1 201 555 0123", "+12015550123"),
        ("+1 (201) 555-0123", "+12015550123"),
        ("+1-201-555-0123", "+12015550123"),
        ("+1.201.555.0123", "+12015550123"),
        ("613 555 0123", "+16135550123"),
        ("+16135550123", "+16135550123"),
        ("1-800-555-0123", "+18005550123"),
        ("1-800-FLOWERS", "+18003569377"),
    ],
)
def test_numbers_typed_in_common_formats_become_e164(raw: str, expected: str) -> None:
    assert normalize(raw, NORTH_AMERICA) == expected


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("020 7183 8750", "GB", "+442071838750"),
        ("020 7183 8750", "gb", "+442071838750"),
        ("07400 123456", "GB", "+447400123456"),
        ("02 1234 5678", "AU", "+61212345678"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("030 123456", "DE", "+4930123456"),
        ("6135550123", "CA", "+16135550123"),
        ("+12015550123", "GB", "+12015550123"),
    ],
)
def test_national_numbers_are_read_in_the_region_the_customer_chose(raw: str, region: str, expected: str) -> None:
    assert normalize(raw, WORLD, region) == expected


def test_national_numbers_are_read_in_the_policy_region_when_no_region_is_given() -> None:
    assert normalize("020 7183 8750", WORLD) == "+442071838750"


@pytest.mark.parametrize(
    "raw, region",
    [
        ("0044 20 7183 8750", "US"),
        ("00 44 20 7183 8750", "US"),
        ("0044 20 7183 8750", "GB"),
        ("0044 20 7183 8750", "AU"),
        ("0011 44 20 7183 8750", "AU"),
        ("011 44 20 7183 8750", "US"),
        ("+44 20 7183 8750", "US"),
    ],
)
def test_double_zero_and_the_local_exit_code_both_mean_international(raw: str, region: str) -> None:
    assert normalize(raw, WORLD, region) == "+442071838750"


def test_double_zero_works_for_north_american_numbers_too() -> None:
    assert normalize("00 1 201 555 0123", NORTH_AMERICA) == "+12015550123"


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "---", "( ) . -"])
def test_blank_input_is_refused_as_empty(raw: str) -> None:
    error = rejection(raw)
    assert error.code == "empty"
    assert error.message == "Please enter a phone number."


@pytest.mark.parametrize("raw", ["abc", "call me", "+", "#"])
def test_text_that_is_not_a_phone_number_is_refused_as_unparseable(raw: str) -> None:
    assert rejection(raw).code == "unparseable"


def test_an_unknown_country_code_is_refused_asking_for_the_country_code() -> None:
    error = rejection("+999 123 4567")
    assert error.code == "unparseable"
    assert "country code" in error.message


@pytest.mark.parametrize(
    "raw, region",
    [
        ("611", "US"),
        ("911", "US"),
        ("411", "US"),
        ("988", "US"),
        ("55555", "US"),
        ("*611", "US"),
        ("911", "CA"),
        ("999", "GB"),
        ("112", "GB"),
        ("112", "DE"),
        ("110", "DE"),
        ("000", "AU"),
    ],
)
def test_short_codes_are_refused_as_short_code(raw: str, region: str) -> None:
    error = rejection(raw, WORLD, region)
    assert error.code == "short_code"
    assert "short service number" in error.message


@pytest.mark.parametrize("raw, region", [("611", "US"), ("000", "AU")])
def test_short_codes_are_caught_although_they_are_not_even_possible_full_numbers(raw: str, region: str) -> None:
    assert not phonenumbers.is_possible_number(phonenumbers.parse(raw, region))
    assert rejection(raw, WORLD, region).code == "short_code"


@pytest.mark.parametrize("raw", ["+1 611", "+1 201 55"])
def test_truncated_international_numbers_are_invalid_rather_than_short_codes(raw: str) -> None:
    assert rejection(raw).code == "invalid"


@pytest.mark.parametrize(
    "raw, policy, says",
    [
        ("+15551234567", NORTH_AMERICA, "isn't a valid phone number"),
        ("+1 700 555 0123", NORTH_AMERICA, "isn't a valid phone number"),
        ("+447700900123", WORLD, "isn't a valid phone number"),
        ("201 555 012", NORTH_AMERICA, "too short"),
        ("555 0123", NORTH_AMERICA, "too short"),
        ("123", NORTH_AMERICA, "too short"),
        ("+1 201 555 01234", NORTH_AMERICA, "too many digits"),
    ],
)
def test_numbers_that_cannot_exist_are_refused_as_invalid(raw: str, policy: PhonePolicy, says: str) -> None:
    error = rejection(raw, policy)
    assert error.code == "invalid"
    assert says in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "201-555-0123 x12",
        "+1 201 555 0123 ext. 12",
        "(201) 555-0123 extension 12",
        "201-555-0123;ext=12",
        "+12015550123,12",
    ],
)
def test_extensions_are_refused_because_we_cannot_dial_them(raw: str) -> None:
    error = rejection(raw)
    assert error.code == "invalid"
    assert "extension" in error.message


@pytest.mark.parametrize(
    "raw, where",
    [
        ("+442071838750", "the United Kingdom"),
        ("+33123456789", "France"),
        ("+31201234567", "the Netherlands"),
        ("+18765550123", "Jamaica"),
        ("+12423571234", "the Bahamas"),
        ("+17875550123", "Puerto Rico"),
    ],
)
def test_numbers_outside_the_allowed_countries_are_refused_naming_both(raw: str, where: str) -> None:
    error = rejection(raw)
    assert error.code == "country_not_allowed"
    assert error.message == f"That number is in {where}. {NOT_NORTH_AMERICA}"


def test_numbers_that_belong_to_no_country_are_refused_without_naming_one() -> None:
    error = rejection("+80012345678")
    assert error.code == "country_not_allowed"
    assert error.message == NOT_NORTH_AMERICA


@pytest.mark.parametrize(
    "policy, places",
    [
        (PhonePolicy(default_region="CA", allowed_countries=("CA",)), "Canada"),
        (
            PhonePolicy(allowed_countries=("US", "CA", "GB")),
            "the United States, Canada and the United Kingdom",
        ),
        (
            PhonePolicy(default_region="GB", allowed_countries=("NL", "GB")),
            "the United Kingdom and the Netherlands",
        ),
    ],
)
def test_the_refusal_lists_the_allowed_countries_in_words_default_first(policy: PhonePolicy, places: str) -> None:
    assert rejection("+33123456789", policy).message.endswith(f"We can only call numbers in {places}.")


@pytest.mark.parametrize(
    "raw, region, expected",
    [
        ("+442071838750", None, "+442071838750"),
        ("+18765550123", None, "+18765550123"),
        ("020 7183 8750", "GB", "+442071838750"),
        ("(201) 555-0123", None, "+12015550123"),
    ],
)
def test_an_empty_allowlist_means_any_country(raw: str, region: str | None, expected: str) -> None:
    assert normalize(raw, ANYWHERE, region) == expected


@pytest.mark.parametrize(
    "raw, code",
    [
        ("+19005550123", "premium_rate"),
        ("+447640123456", "not_callable"),
        ("611", "short_code"),
        ("", "empty"),
    ],
)
def test_an_empty_allowlist_still_applies_every_other_rule(raw: str, code: str) -> None:
    assert rejection(raw, ANYWHERE).code == code


def test_territories_sharing_a_calling_code_are_allowed_only_when_listed() -> None:
    assert normalize("+17875550123", PhonePolicy(allowed_countries=("US", "PR"))) == "+17875550123"


def test_the_country_is_checked_before_the_kind_of_number() -> None:
    assert rejection("+449098790123").code == "country_not_allowed"


@pytest.mark.parametrize(
    "raw, region",
    [
        ("+19005550123", None),
        ("1-900-555-0123", "US"),
        ("+449098790123", None),
        ("09098790123", "GB"),
        ("0845 123 4567", "GB"),
        ("+611900123456", None),
        ("+33891234567", None),
    ],
)
def test_premium_rate_numbers_are_refused(raw: str, region: str | None) -> None:
    error = rejection(raw, WORLD, region)
    assert error.code == "premium_rate"
    assert "premium-rate" in error.message


@pytest.mark.parametrize("raw", ["+611300123456", "1300 123 456", "+33884012345", "+4918012345"])
def test_shared_cost_numbers_are_refused(raw: str) -> None:
    error = rejection(raw, WORLD, "AU")
    assert error.code == "shared_cost"
    assert "shared-cost" in error.message


@pytest.mark.parametrize(
    "raw, says",
    [
        ("+447640123456", "pager"),
        ("+49177991234567", "voicemail"),
    ],
)
def test_pagers_and_voicemail_only_numbers_are_refused_as_not_callable(raw: str, says: str) -> None:
    error = rejection(raw, WORLD)
    assert error.code == "not_callable"
    assert says in error.message


@pytest.mark.parametrize(
    "raw, kind",
    [
        ("+442071838750", phonenumbers.PhoneNumberType.FIXED_LINE),
        ("+447400123456", phonenumbers.PhoneNumberType.MOBILE),
        ("+12015550123", phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE),
        ("+18005550123", phonenumbers.PhoneNumberType.TOLL_FREE),
        ("+445512345678", phonenumbers.PhoneNumberType.UAN),
        ("+447012345678", phonenumbers.PhoneNumberType.PERSONAL_NUMBER),
        ("+15002345678", phonenumbers.PhoneNumberType.PERSONAL_NUMBER),
    ],
)
def test_numbers_that_reach_a_person_are_called(raw: str, kind: int) -> None:
    assert phonenumbers.number_type(phonenumbers.parse(raw)) == kind
    assert normalize(raw, WORLD) == raw


@pytest.mark.parametrize("e164", ["+12015550123", "+16135550123", "+442071838750", "+61212345678"])
def test_a_normalized_number_normalizes_to_itself(e164: str) -> None:
    assert normalize(normalize(e164, WORLD), WORLD) == e164


@pytest.mark.parametrize(
    "raw, policy, region",
    [
        ("", NORTH_AMERICA, None),
        ("abc", NORTH_AMERICA, None),
        ("+999 123 4567", NORTH_AMERICA, None),
        ("611", NORTH_AMERICA, None),
        ("+15551234567", NORTH_AMERICA, None),
        ("201 555 012", NORTH_AMERICA, None),
        ("+1 201 555 01234", NORTH_AMERICA, None),
        ("201-555-0123 x12", NORTH_AMERICA, None),
        ("+442071838750", NORTH_AMERICA, None),
        ("+80012345678", NORTH_AMERICA, None),
        ("+19005550123", NORTH_AMERICA, None),
        ("1300 123 456", WORLD, "AU"),
        ("+447640123456", WORLD, None),
        ("+49177991234567", WORLD, None),
    ],
)
def test_every_refusal_is_a_plain_sentence_for_a_customer(raw: str, policy: PhonePolicy, region: str | None) -> None:
    error = rejection(raw, policy, region)
    assert str(error) == error.message
    assert error.message[0].isupper()
    assert error.message.endswith(".")
    for jargon in ("_", "E.164", "E164", "region", "parse", "libphonenumber", "NSN", "None", error.code):
        assert jargon not in error.message


def test_a_refusal_is_a_value_error_with_a_code_and_a_message() -> None:
    error = PhoneRejected("premium_rate", "We can't call premium-rate numbers.")
    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == (
        "premium_rate",
        "We can't call premium-rate numbers.",
        "We can't call premium-rate numbers.",
    )


@pytest.mark.parametrize(
    "e164, masked",
    [
        ("+15551234567", "+1******4567"),
        ("+12015550123", "+1******0123"),
        ("+442071838750", "+44******8750"),
        ("+61212345678", "+61*****5678"),
        ("+4930123456", "+49****3456"),
        ("+390612345678", "+39******5678"),
    ],
)
def test_masking_keeps_only_the_country_code_and_the_last_four_digits(e164: str, masked: str) -> None:
    assert mask(e164) == masked
    assert len(mask(e164)) == len(e164)


@pytest.mark.parametrize(
    "policy, choices",
    [
        (NORTH_AMERICA, [("US", "United States (+1)"), ("CA", "Canada (+1)")]),
        (PhonePolicy(default_region="CA"), [("CA", "Canada (+1)"), ("US", "United States (+1)")]),
        (
            PhonePolicy(default_region="GB", allowed_countries=("US", "GB", "FR")),
            [("GB", "United Kingdom (+44)"), ("US", "United States (+1)"), ("FR", "France (+33)")],
        ),
        (
            PhonePolicy(default_region="US", allowed_countries=("GB", "FR")),
            [("GB", "United Kingdom (+44)"), ("FR", "France (+33)")],
        ),
    ],
)
def test_country_choices_list_the_allowed_countries_default_first(
    policy: PhonePolicy, choices: list[tuple[str, str]]
) -> None:
    assert country_choices(policy) == choices


def test_country_choices_for_an_empty_allowlist_offer_every_country_default_first() -> None:
    choices = country_choices(PhonePolicy(default_region="CA", allowed_countries=()))
    assert choices[0] == ("CA", "Canada (+1)")
    assert ("GB", "United Kingdom (+44)") in choices
    assert ("JM", "Jamaica (+1)") in choices
    assert len(choices) == len(phonenumbers.SUPPORTED_REGIONS)


@pytest.mark.parametrize(
    "default_region, allowed_countries",
    [("US", ("US", "UK")), ("XX", ("US",)), ("US", ("us",))],
)
def test_a_policy_with_an_unknown_region_code_fails_at_start_up(
    default_region: str, allowed_countries: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="unknown ISO 3166 region code"):
        PhonePolicy(default_region=default_region, allowed_countries=allowed_countries)


def test_input_far_longer_than_any_number_is_refused_before_it_is_read() -> None:
    padded = "(201) 555-0123" + " " * 60_000
    error = rejection(padded)
    assert (error.code, error.message) == ("too_long", "That number is too long. Please enter just your phone number.")
    assert normalize("  +1 (201) 555-0123  ", NORTH_AMERICA) == "+12015550123"  # spaces people type are fine


def test_the_verdicts_kept_are_keyed_on_the_number_not_on_how_it_was_typed() -> None:
    from core import phone

    normalize("+12015550177", NORTH_AMERICA)
    before = phone._normalize.cache_info().currsize
    for typed in ("(201) 555-0177", "201-555-0177", "201 555 0177 ", " +1 201.555.0177"):
        assert normalize(typed, NORTH_AMERICA) in ("+12015550177",)
    assert phone._normalize.cache_info().currsize <= before + 2  # "2015550177" and "+12015550177" at most
    # A country nobody has is no key either: it reads national numbers as no country at all.
    assert normalize("+12015550177", NORTH_AMERICA, "X" * 10_000) == "+12015550177"
    assert rejection("2015550177", NORTH_AMERICA, "X" * 10_000).code == "unparseable"
    assert phone._normalize.cache_info().currsize <= before + 3
