"""Typed settings, read from the environment once, in create_app."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from sqlalchemy.engine import make_url

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"
DEV_ADMIN_TOKEN = "dev-admin-token"
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
DEV_TWILIO_AUTH_TOKEN = "sandbox-auth-token"

# The settings that are secrets: hidden from repr, and held to MIN_SECRET_LENGTH in production.
SECRET_FIELDS = (
    "secret_key",
    "admin_api_token",
    "twilio_auth_token",
    "order_api_token",
    "twilio_api_key_secret",
    "metrics_token",
)
# Guarding this app itself; ORDER_API_TOKEN is the order service's to choose.
REQUIRED_SECRETS = ("secret_key", "admin_api_token", "twilio_auth_token")
MIN_SECRET_LENGTH = 32
# Values anyone can read: our development defaults, and the placeholders of Twilio's and our documentation.
KNOWN_SECRETS = frozenset(
    {
        DEV_SECRET_KEY,
        DEV_ADMIN_TOKEN,
        DEV_TWILIO_AUTH_TOKEN,
        "12345",
        "your_auth_token",
        "your-auth-token",
        "change-me",
        "changeme",
        "secret",
        "0" * 32,
        "f" * 32,
        "0123456789abcdef0123456789abcdef",
    }
)
# Twilio's auth tokens are 32 lower-case hexadecimal characters.
_TWILIO_AUTH_TOKEN = re.compile(r"[0-9a-f]{32}")


class Secret(str):
    """A secret string: used as its value everywhere, but its repr is '***', so settings, locals in a
    traceback or a debug line never print it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


class DatabaseUrl(str):
    """A database URL whose repr hides the password."""

    __slots__ = ()

    def __repr__(self) -> str:
        try:
            return repr(make_url(str(self)).render_as_string(hide_password=True))
        except Exception:  # noqa: BLE001 - a URL we cannot parse is not printed at all
            return "'***'"


class ConfigError(click.ClickException, RuntimeError):
    """A setting is missing or malformed; the message names the variable.

    A ClickException so that a `flask --app app ...` command that cannot build the app says
    "Error: <the message>" and exits 1, instead of a traceback whose last line an operator must find;
    a RuntimeError so that gunicorn's master (ops/gunicorn_conf.py checks the settings as it starts)
    prints it the same way and exits 1, instead of booting workers that fail one after another."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _csv_upper(value: str) -> tuple[str, ...]:
    return tuple(part.strip().upper() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Every knob of the service; field names are the environment variables, lower-cased."""

    app_env: str = "production"
    secret_key: str = ""
    database_url: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    admin_api_token: str = ""
    default_region: str = "US"
    allowed_countries: tuple[str, ...] = ("US", "CA")
    log_format: str = "text"
    log_level: str = "INFO"
    trusted_proxies: int = 0
    callback_limit_active_per_number: int = 2
    callback_limit_per_number_per_day: int = 5
    callback_limit_per_ip_per_hour: int = 10
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_caller_id: str = "+15005550006"
    twilio_api_base: str = ""
    # A Twilio API key (SK...) and its secret sign the agents' browser-phone tokens (GET /agent/token);
    # optional: without them agents take calls on their phones only. Development falls back to the account.
    twilio_api_key_sid: str = ""
    twilio_api_key_secret: str = ""
    twilio_timeout_seconds: float = 10.0
    sandbox_speed: float = 1.0
    sandbox_cps: float = 1.0
    sandbox_numbers: tuple[str, ...] = ()
    scheduler: bool = False
    twilio_cps: float = 1.0
    sms_notifications: bool = False
    ring_timeout_seconds: int = 25
    # Bounds a customer can trust, enforced where every call is placed (callback/line.py).
    min_seconds_between_calls: int = 120
    max_calls_per_number_per_day: int = 6
    shop_name: str = "Callme Shop"
    ivr_tree: str = ""
    order_api_url: str = ""
    order_api_token: str = ""
    order_api_timeout_seconds: float = 3.0
    # APP_ENV=testing is for the test suite: elsewhere it starts only with this explicit opt-in.
    allow_testing: bool = False
    # Largest request body accepted, in bytes: the form and JSON API need a few KiB; 413 above it.
    max_content_length: int = 64 * 1024
    # A staffed line a caller is put through to when a voice webhook fails (a bug, or the database
    # down); optional. Set as FALLBACK_NUMBER, or by its first name VOICE_FALLBACK_NUMBER: one setting.
    voice_fallback_number: str = ""
    # How long a webhook, the callback form, the callback API or /healthz waits on the database in
    # all before it gives up and answers the fallback (TwiML, a friendly page, a 503): Twilio hangs up
    # on a webhook after 15 s, and a caller should not hear silence for even 5.
    database_timeout_seconds: float = 2.0
    # Keep the polling routes (consoles, board, status page, softphone) in the access log.
    log_polling_requests: bool = False
    # How long a staff sign-in lasts, in hours, however often the cookie is replayed.
    staff_session_hours: int = 12
    # Bearer token Prometheus sends to GET /metrics; without one, /metrics answers loopback clients only.
    metrics_token: str = ""
    # Where call recordings and prompts are kept (relative paths are under the instance folder), and
    # how long a recording is kept before the daily job deletes it.
    recordings_dir: str = "recordings"
    recording_retention_days: int = 90
    # The longest message a caller may leave after hours, and the longest prompt the shop may upload.
    message_max_seconds: int = 120
    prompt_max_seconds: int = 300
    instance_path: str = field(default="instance", repr=False)

    @property
    def is_development(self) -> bool:
        """True when running on a developer's machine or in tests."""
        return self.app_env in {"development", "testing"}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Build settings from environment variables, then apply explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        alias = _fallback_number_alias(environ)
        if alias is not None:
            values["voice_fallback_number"] = alias
        for f in fields(cls):
            raw = environ.get(f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.name, f.type, raw)
        settings = replace(cls(), **values)
        if overrides:
            known = {f.name for f in fields(cls)}
            unknown = set(overrides) - known
            if unknown:
                raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
            settings = replace(settings, **overrides)
        if settings.app_env == "testing" and not (overrides and "app_env" in overrides):
            _check_testing_allowed(settings)
        return settings.completed()

    def completed(self) -> Settings:
        """Fill development defaults and refuse missing secrets in production."""
        settings = self
        if not settings.database_url:
            path = Path(settings.instance_path).resolve() / "callme.sqlite3"
            settings = replace(settings, database_url=f"sqlite:///{path}")
        if settings.app_env not in {"production", "development", "testing"}:
            raise ConfigError("APP_ENV must be 'production', 'development' or 'testing'")
        if settings.is_development:
            settings = replace(
                settings,
                secret_key=settings.secret_key or DEV_SECRET_KEY,
                admin_api_token=settings.admin_api_token or DEV_ADMIN_TOKEN,
                twilio_account_sid=settings.twilio_account_sid or DEV_TWILIO_ACCOUNT_SID,
                twilio_auth_token=settings.twilio_auth_token or DEV_TWILIO_AUTH_TOKEN,
            )
            # The sandbox checks no token signature: the account's own SID and token stand in for a key.
            settings = replace(
                settings,
                twilio_api_key_sid=settings.twilio_api_key_sid or settings.twilio_account_sid,
                twilio_api_key_secret=settings.twilio_api_key_secret or settings.twilio_auth_token,
            )
        else:
            missing = [
                name
                for name in ("secret_key", "admin_api_token", "twilio_account_sid", "twilio_auth_token")
                if not getattr(settings, name)
            ]
            if missing:
                names = ", ".join(n.upper() for n in missing)
                raise ConfigError(
                    f"{names} must be set in production (or set APP_ENV=development to use development defaults)"
                )
            weak = _weak_secrets(settings)
            if weak:
                raise ConfigError("refusing to start in production:\n  " + "\n  ".join(weak))
        if not settings.is_development:
            _check_public_base_url(settings.public_base_url)
        if settings.log_format not in {"text", "json"}:
            raise ConfigError("LOG_FORMAT must be 'text' or 'json'")
        if settings.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {settings.log_level!r}")
        _check_database_url(settings.database_url)
        for name, value, low, high in (
            # Calls per second: dialling is paced by it, so 0 would be a pace nobody can keep.
            ("TWILIO_CPS", settings.twilio_cps, 0.01, 1000),
            ("SANDBOX_CPS", settings.sandbox_cps, 0.01, 1000),
            ("SANDBOX_SPEED", settings.sandbox_speed, 0.01, 10000),
            ("TWILIO_TIMEOUT_SECONDS", settings.twilio_timeout_seconds, 0.1, 120),
            # Twilio's <Dial timeout> and calls.create Timeout take 5 to 600 seconds.
            ("RING_TIMEOUT_SECONDS", settings.ring_timeout_seconds, 5, 600),
        ):
            if not low <= value <= high:
                raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {value:g}")
        if settings.max_content_length < 1024:
            raise ConfigError("MAX_CONTENT_LENGTH must be at least 1024 (bytes)")
        if settings.recording_retention_days < 1:
            raise ConfigError("RECORDING_RETENTION_DAYS must be at least 1")
        if not 5 <= settings.message_max_seconds <= 3600:
            raise ConfigError("MESSAGE_MAX_SECONDS must be between 5 and 3600")
        if not 1 <= settings.prompt_max_seconds <= 3600:
            raise ConfigError("PROMPT_MAX_SECONDS must be between 1 and 3600")
        if not 1 <= settings.staff_session_hours <= 24 * 30:
            raise ConfigError("STAFF_SESSION_HOURS must be between 1 and 720")
        if settings.voice_fallback_number and not re.fullmatch(r"\+[1-9][0-9]{6,14}", settings.voice_fallback_number):
            raise ConfigError(
                "FALLBACK_NUMBER (or VOICE_FALLBACK_NUMBER) must be a phone number in E.164, such as +12015550123"
            )
        if not 0.1 <= settings.database_timeout_seconds <= 10:
            # Above 10 s a webhook that waits it out is past the point where the caller gives up.
            raise ConfigError("DATABASE_TIMEOUT_SECONDS must be between 0.1 and 10")
        hidden: dict[str, Any] = {name: Secret(getattr(settings, name)) for name in SECRET_FIELDS}
        return replace(settings, database_url=DatabaseUrl(settings.database_url), **hidden)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Hosts Twilio cannot call: the machine itself, or no address at all.
_LOCAL_HOSTS = {"localhost", "0.0.0.0", "::", "::1"}


def _check_public_base_url(url: str) -> None:
    """In production, PUBLIC_BASE_URL is what Twilio calls and what every webhook signature is checked
    against: it must be the public https address, not the development default on this machine."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_BASE_URL must be the https URL Twilio reaches this app at, such as https://callme.example.com, "
            f"not {url!r}"
        )
    if host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost"):
        raise ConfigError(
            f"PUBLIC_BASE_URL is {url!r}, which only this machine can reach: Twilio could not call the webhooks "
            "(set it to the app's public https URL)"
        )


def _check_database_url(url: str) -> None:
    """A DATABASE_URL SQLAlchemy can use, or a message that names it (not a library's traceback)."""
    try:
        parsed = make_url(url)
    except Exception as error:  # noqa: BLE001 - any parse failure is the same mistake
        raise ConfigError(f"DATABASE_URL is not a database URL ({error.__class__.__name__})") from error
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg2"}:
        raise ConfigError(
            f"DATABASE_URL must name the psycopg driver: postgresql+psycopg://..., not {parsed.drivername}://..."
        )
    if parsed.drivername not in {"sqlite", "postgresql+psycopg"}:
        raise ConfigError(f"DATABASE_URL must be sqlite:///... or postgresql+psycopg://..., not {parsed.drivername}")


def _fallback_number_alias(environ: Mapping[str, str]) -> str | None:
    """FALLBACK_NUMBER, the public name of VOICE_FALLBACK_NUMBER: either may be set, or both alike."""
    public = environ.get("FALLBACK_NUMBER")
    if public is None:
        return None
    first = environ.get("VOICE_FALLBACK_NUMBER")
    if first is not None and first.strip() != public.strip():
        raise ConfigError(
            "FALLBACK_NUMBER and VOICE_FALLBACK_NUMBER are one setting under two names, and they differ: "
            "keep FALLBACK_NUMBER"
        )
    return public.strip()


def _weak_secrets(settings: Settings) -> list[str]:
    """What is wrong with the production secrets, one line per setting, saying why."""
    problems = []
    for name in REQUIRED_SECRETS:
        value = str(getattr(settings, name))
        if value in KNOWN_SECRETS or value.lower() in KNOWN_SECRETS:
            problems.append(f"{name.upper()} is a published example or development value; anyone can use it")
        elif name == "twilio_auth_token" and not _TWILIO_AUTH_TOKEN.fullmatch(value):
            # Webhook signatures are only as strong as this token: a guessable one lets anyone forge them.
            problems.append(
                "TWILIO_AUTH_TOKEN is not a Twilio auth token (32 hexadecimal characters, from the Twilio console)"
            )
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(
                f"{name.upper()} is {len(value)} characters long; a secret needs at least {MIN_SECRET_LENGTH} "
                "random characters (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    if settings.secret_key == settings.admin_api_token:
        problems.append("SECRET_KEY and ADMIN_API_TOKEN are the same; one leaked would give away the other")
    return problems


def _check_testing_allowed(settings: Settings) -> None:
    """APP_ENV=testing fills in public secrets: refuse it outside the test suite unless asked for."""
    # pytest sets PYTEST_CURRENT_TEST in its process, and the processes a test starts inherit it.
    if settings.allow_testing or "PYTEST_CURRENT_TEST" in os.environ:
        return
    raise ConfigError(
        "APP_ENV=testing is for the test suite: it runs with public development secrets. "
        "Use APP_ENV=development on your machine and APP_ENV=production anywhere else "
        "(ALLOW_TESTING=1 forces it, for benchmarks)"
    )


def _parse(name: str, annotation: Any, raw: str) -> Any:
    """Convert one environment string to the field's type, naming the variable on failure."""
    kind = str(annotation)
    try:
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("tuple"):
            return _csv_upper(raw)
        return raw.strip()
    except ValueError as exc:
        raise ConfigError(f"{name.upper()}: {exc}") from exc
