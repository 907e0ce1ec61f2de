"""A topic's opening hours in words, in the page's language: what a customer reads when a time is closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from callback import words
from callback.service import PhoneRefused
from core.hours import BusinessHours
from core.phone import PhonePolicy, PhoneRejected

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}
SPANISH = {"Accept-Language": "es-US,es;q=0.9"}


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """The app for its translations only: rendering words touches no database."""
    from app import create_app

    yield create_app({"app_env": "testing", "database_url": "sqlite://", "public_base_url": "https://shop.example"})


def said(app: Flask, spec: str, headers: dict[str, str], zone: str = "America/New_York") -> str | None:
    with app.test_request_context("/callback", headers=headers):
        text = words.opening_hours(BusinessHours.parse(spec, zone))
    return text.replace("\u202f", " ").replace("\xa0", " ") if text else text


@pytest.mark.parametrize(
    ("spec", "headers", "expected"),
    [
        ("mon-fri 09:00-17:00", ENGLISH, "Monday to Friday, 9:00 AM to 5:00 PM, New York time"),
        ("mon-fri 09:00-17:00", SPANISH, "de lunes a viernes, de 9:00 a 17:00, hora de Nueva York"),
        (
            "mon-fri 09:00-17:00; sat 10:00-14:00",
            ENGLISH,
            "Monday to Friday, 9:00 AM to 5:00 PM; Saturday, 10:00 AM to 2:00 PM, New York time",
        ),
        (
            "mon-fri 09:00-17:00; sat 10:00-14:00",
            SPANISH,
            "de lunes a viernes, de 9:00 a 17:00; sábado, de 10:00 a 14:00, hora de Nueva York",
        ),
        ("24/7", ENGLISH, "24 hours a day, every day"),
        ("24/7", SPANISH, "las 24 horas, todos los días"),
    ],
    ids=["weekdays-en", "weekdays-es", "saturday-en", "saturday-es", "always-en", "always-es"],
)
def test_hours_are_said_in_words_in_the_pages_language(
    app: Flask, spec: str, headers: dict[str, str], expected: str
) -> None:
    assert said(app, spec, headers) == expected


def test_days_with_the_same_hours_are_said_together(app: Flask) -> None:
    assert said(app, "mon-sun 08:00-20:00", ENGLISH) == "every day, 8:00 AM to 8:00 PM, New York time"
    assert said(app, "mon,tue 09:00-17:00; thu 09:00-17:00; sat-sun 10:00-16:00", ENGLISH) == (
        "Monday, Tuesday and Thursday, 9:00 AM to 5:00 PM; Saturday and Sunday, 10:00 AM to 4:00 PM, New York time"
    )
    assert said(app, "mon-fri 09:00-12:00 13:00-17:00", SPANISH) == (
        "de lunes a viernes, de 9:00 a 12:00 y de 13:00 a 17:00, hora de Nueva York"
    )


def test_midnight_and_whole_days_are_said_as_people_say_them(app: Flask) -> None:
    assert said(app, "mon-fri 18:00-24:00; sat 00:00-24:00", ENGLISH, "Europe/Madrid") == (
        "Monday to Friday, 6:00 PM to midnight; Saturday, 24 hours, Madrid time"
    )
    assert said(app, "mon-fri 18:00-24:00", SPANISH, "UTC") == "de lunes a viernes, de 18:00 a medianoche, UTC"


def test_a_topic_that_never_opens_is_simply_closed(app: Flask) -> None:
    with app.test_request_context("/callback", headers=ENGLISH):
        assert words.opening_hours(BusinessHours.parse("closed", "UTC")) is None
        assert words.outside_hours("Returns", BusinessHours.parse("closed", "UTC")) == "Returns is closed at that time."


@pytest.mark.parametrize(
    ("utc_hour", "spanish", "english"),
    [
        (6, "lunes, 30 de noviembre a la 1:30", "Monday, November 30 at 1:30\u202fAM"),
        (18, "lunes, 30 de noviembre a las 13:30", "Monday, November 30 at 1:30\u202fPM"),
        (7, "lunes, 30 de noviembre a las 2:30", "Monday, November 30 at 2:30\u202fAM"),
        (16, "lunes, 30 de noviembre a las 11:30", "Monday, November 30 at 11:30\u202fAM"),
    ],
)
def test_a_moment_in_the_one_oclock_hour_is_a_la_1_in_spanish(
    app: Flask, utc_hour: int, spanish: str, english: str
) -> None:
    moment = datetime(2026, 11, 30, utc_hour, 30, tzinfo=UTC)
    zone = ZoneInfo("America/New_York")
    with app.test_request_context("/callback", headers=SPANISH):
        assert words.when(moment, zone) == spanish
    with app.test_request_context("/callback"):
        assert words.when(moment, zone) == english


@pytest.mark.parametrize(
    ("number_region", "spanish"),
    [
        ("GB", "Ese número es del Reino Unido."),
        ("DO", "Ese número es de la República Dominicana."),
        ("NL", "Ese número es de los Países Bajos."),
        ("MX", "Ese número es de México."),
        ("SV", "Ese número es de El Salvador."),
    ],
)
def test_spanish_names_a_numbers_country_with_its_article(app: Flask, number_region: str, spanish: str) -> None:
    refused = PhoneRefused(PhoneRejected("country_not_allowed", "not here", region=number_region))
    policy = PhonePolicy(default_region="US", allowed_countries=("US", "CA"))
    with app.test_request_context("/callback", headers=SPANISH):
        assert words.message(refused, policy) == (
            f"{spanish} Solo podemos llamar a números de Estados Unidos y Canadá."
        )


def test_the_closed_message_names_the_hours_not_the_raw_schedule(app: Flask) -> None:
    hours = BusinessHours.parse("mon-fri 09:00-17:00", "America/New_York")
    with app.test_request_context("/callback", headers=SPANISH):
        text = words.outside_hours("Devoluciones y reembolsos", hours)
    assert text == (
        # Said of the team, not agreeing with the topic ("Su cuenta está cerrado" read as "your account is closed").
        "El equipo de «Devoluciones y reembolsos» no atiende a esa hora. "
        "Nuestro horario es de lunes a viernes, de 9:00 a 17:00, hora de Nueva York."
    )
