"""Typed settings, read from the environment once, in create_app."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"
DEV_ADMIN_TOKEN = "dev-admin-token"
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
DEV_TWILIO_AUTH_TOKEN = "sandbox-auth-token"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


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
        return settings.completed()

    def completed(self) -> Settings:
        """Fill development defaults and refuse missing secrets in production."""
        settings = self
        if not settings.database_url:
            path = Path(settings.instance_path).resolve() / "callme.sqlite3"
            settings = replace(settings, database_url=f"sqlite:///{path}")
        if settings.is_development:
            settings = replace(
                settings,
                secret_key=settings.secret_key or DEV_SECRET_KEY,
                admin_api_token=settings.admin_api_token or DEV_ADMIN_TOKEN,
                twilio_account_sid=settings.twilio_account_sid or DEV_TWILIO_ACCOUNT_SID,
                twilio_auth_token=settings.twilio_auth_token or DEV_TWILIO_AUTH_TOKEN,
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
        if settings.log_format not in {"text", "json"}:
            raise ConfigError("LOG_FORMAT must be 'text' or 'json'")
        return settings


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
