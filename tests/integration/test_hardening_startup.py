"""What a careless deployment cannot do: start with weak secrets, in debug mode, or in test mode.

Each refusal is tested as an operator meets it: a real `flask` process started with the environment,
which must exit saying which setting is wrong and why.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import pytest

from core.config import DEV_ADMIN_TOKEN, DEV_SECRET_KEY, DEV_TWILIO_AUTH_TOKEN, Settings

FLASK = str(Path(sys.executable).with_name("flask"))
ROOT = Path(__file__).resolve().parents[2]

STRONG = {
    "APP_ENV": "production",
    "SECRET_KEY": "q0Hk2vS9eWm4TzR7bN1xP6cLa8Ud3Jf5",
    "ADMIN_API_TOKEN": "Z7mQ2rW9tY4uI1oP6aS3dF8gH5jK0lXc",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "9f2c41e07ab35d86c1e4f0a27b93d5e8",
    "PUBLIC_BASE_URL": "https://callme.example.com",
}


def start(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `flask --app app <args>` with only these settings (and outside pytest's eyes)."""
    clean = {k: v for k, v in os.environ.items() if k.lower() not in {f.name for f in fields(Settings)}}
    clean.pop("PYTEST_CURRENT_TEST", None)
    clean.pop("FLASK_DEBUG", None)
    clean.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}", "LOG_LEVEL": "WARNING", **env})
    return subprocess.run(
        [FLASK, "--app", "app", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


WEAK = [
    ("SECRET_KEY", "x", "at least 32"),
    ("ADMIN_API_TOKEN", "a", "at least 32"),
    ("ADMIN_API_TOKEN", DEV_ADMIN_TOKEN, "development value"),
    ("SECRET_KEY", DEV_SECRET_KEY, "development value"),
    ("TWILIO_AUTH_TOKEN", "t", "32 hexadecimal"),
    ("TWILIO_AUTH_TOKEN", DEV_TWILIO_AUTH_TOKEN, "development value"),
    ("TWILIO_AUTH_TOKEN", "12345", "published example"),
    ("TWILIO_AUTH_TOKEN", "this-is-not-a-twilio-auth-token-at-all", "32 hexadecimal"),
    ("ADMIN_API_TOKEN", STRONG["SECRET_KEY"], "are the same"),
    # The development default, and addresses Twilio cannot call or would call in clear text.
    ("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "https URL Twilio reaches"),
    ("PUBLIC_BASE_URL", "https://localhost:8443", "only this machine can reach"),
    ("PUBLIC_BASE_URL", "callme.example.com", "https URL Twilio reaches"),
    ("DATABASE_URL", "postgres://u:p@db/callme", "postgresql+psycopg://"),
    ("DATABASE_URL", "not a url", "not a database URL"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
    ("TWILIO_CPS", "0", "TWILIO_CPS must be between"),
]

# Every start the tests look at: the flask arguments and the settings of each.
STARTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "strong": (("routes",), STRONG),
    **{f"weak-{setting}-{value}": (("routes",), {**STRONG, setting: value}) for setting, value, _why in WEAK},
    "production-debug": (("run", "--debug", "--port", "0"), STRONG),
    "development-debug": (("routes",), {"APP_ENV": "development", "FLASK_DEBUG": "1"}),
    "testing": (("routes",), {"APP_ENV": "testing"}),
    "testing-opted-in": (("routes",), {"APP_ENV": "testing", "ALLOW_TESTING": "1"}),
}


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every start of STARTS, each a process of its own in a folder of its own, made side by side.

    Each process spends a couple of seconds importing the app: run one after the other, they took half a
    minute of a 2-core machine that could run two at once.
    """
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        running = {
            name: pool.submit(start, tmp_path_factory.mktemp(re.sub(r"[^\w.-]", "_", name)[:40]), *args, **env)
            for name, (args, env) in STARTS.items()
        }
        return {name: future.result() for name, future in running.items()}


def test_production_starts_with_strong_secrets(started: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = started["strong"]
    assert result.returncode == 0, result.stderr
    assert "/api/callbacks" in result.stdout


@pytest.mark.parametrize(("setting", "value", "why"), WEAK)
def test_production_refuses_a_weak_secret_naming_it(
    started: dict[str, subprocess.CompletedProcess[str]], setting: str, value: str, why: str
) -> None:
    result = started[f"weak-{setting}-{value}"]
    assert result.returncode == 1
    assert setting in result.stderr and why in result.stderr
    assert "/api/callbacks" not in result.stdout
    # Said in a line an operator reads, not at the bottom of a traceback.
    assert "Traceback" not in result.stderr and "Error: " in result.stderr


def test_gunicorn_refuses_a_weak_setting_in_one_line_before_any_worker(tmp_path: Path) -> None:
    """The master checks the settings as it starts: one "Error:" line and exit 1, no worker booted."""
    clean = {k: v for k, v in os.environ.items() if k.lower() not in {f.name for f in fields(Settings)}}
    clean.pop("PYTEST_CURRENT_TEST", None)
    clean.update({**STRONG, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}"})
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "ops/gunicorn_conf.py", "--bind", "127.0.0.1:0"]
        + ["--workers", "2", "app:create_app()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Error: refusing to start in production" in result.stderr
    assert "SECRET_KEY" in result.stderr and "at least 32" in result.stderr
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr


def test_production_refuses_debug_mode(started: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = started["production-debug"]
    assert result.returncode != 0
    assert "debug mode" in result.stderr and "Traceback" not in result.stderr


def test_debug_mode_still_serves_a_developer(started: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = started["development-debug"]
    assert result.returncode == 0, result.stderr


def test_test_mode_is_refused_outside_the_test_suite(started: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = started["testing"]
    assert result.returncode != 0
    assert "APP_ENV=testing is for the test suite" in result.stderr


def test_test_mode_starts_with_the_explicit_opt_in(started: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = started["testing-opted-in"]
    assert result.returncode == 0, result.stderr


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = Settings.from_env(
        {**STRONG, "ORDER_API_TOKEN": "order-token-0123456789", "DATABASE_URL": "postgresql+psycopg://u:pw-s3cret@db/x"}
    )
    shown = repr(settings)
    for secret in (*(STRONG[k] for k in ("SECRET_KEY", "ADMIN_API_TOKEN", "TWILIO_AUTH_TOKEN")), "pw-s3cret"):
        assert secret not in shown
    assert "order-token-0123456789" not in shown
    assert "secret_key='***'" in shown and "postgresql+psycopg://u:***@db/x" in shown
    # ...while the values themselves are what the code uses.
    assert settings.twilio_auth_token == STRONG["TWILIO_AUTH_TOKEN"]
    assert f"Bearer {settings.admin_api_token}" == f"Bearer {STRONG['ADMIN_API_TOKEN']}"
