"""Settings come from the environment, typed, with no secret defaults in production."""

from __future__ import annotations

import pytest

from core.config import DEV_SECRET_KEY, ConfigError, Settings


def test_production_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({})


STRONG = {
    "SECRET_KEY": "k" * 20 + "Q7xv2LmP9wZr4TbN",
    "ADMIN_API_TOKEN": "a" * 20 + "Hs8dK2pLq0Vw5RtY",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "9f2c41e07ab35d86c1e4f0a27b93d5e8",
    "PUBLIC_BASE_URL": "https://callme.example.com",
}


def test_production_starts_with_every_secret_given() -> None:
    settings = Settings.from_env(STRONG)
    assert settings.secret_key == STRONG["SECRET_KEY"]
    assert not settings.is_development


def test_development_fills_in_local_defaults() -> None:
    settings = Settings.from_env({"APP_ENV": "development"})
    assert settings.secret_key == DEV_SECRET_KEY
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/callme.sqlite3")


def test_values_are_parsed_to_their_types() -> None:
    env = {
        "APP_ENV": "development",
        "ALLOWED_COUNTRIES": "us, gb ,ca",
        "TRUSTED_PROXIES": "2",
        "SCHEDULER": "on",
        "SANDBOX_SPEED": "10",
    }
    settings = Settings.from_env(env)
    assert settings.allowed_countries == ("US", "GB", "CA")
    assert settings.trusted_proxies == 2
    assert settings.scheduler is True
    assert settings.sandbox_speed == 10.0


def test_a_malformed_value_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Settings.from_env({"APP_ENV": "development", "TRUSTED_PROXIES": "many"})


def test_unknown_overrides_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown settings"):
        Settings.from_env({"APP_ENV": "development"}, {"databse_url": "x"})


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "https URL"),
        ("PUBLIC_BASE_URL", "http://callme.example.com", "https URL"),
        ("PUBLIC_BASE_URL", "https://127.0.0.2", "only this machine"),
        ("PUBLIC_BASE_URL", "https://[::1]:8443", "only this machine"),
        ("DATABASE_URL", "postgresql://db/callme", "postgresql+psycopg://"),
        ("DATABASE_URL", "mysql://db/callme", "sqlite:///... or postgresql+psycopg://"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL"),
        ("TWILIO_CPS", "-1", "TWILIO_CPS"),
        ("RING_TIMEOUT_SECONDS", "2", "RING_TIMEOUT_SECONDS"),
    ],
)
def test_production_refuses_a_setting_it_cannot_run_on_naming_it(setting: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=setting) as refused:
        Settings.from_env({**STRONG, setting: value})
    assert words in str(refused.value)


def test_development_runs_on_this_machine_and_takes_any_log_level_case() -> None:
    settings = Settings.from_env({"APP_ENV": "development", "LOG_LEVEL": "debug"})
    assert settings.public_base_url == "http://127.0.0.1:5000"
