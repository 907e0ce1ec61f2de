"""Callme's application factory: wires settings, database, blueprints and commands. No logic here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from core.clock import Clock, SystemClock
from core.config import ConfigError, Settings


def create_app(config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Build the Flask app; `config` overrides settings read from the environment (for tests)."""
    import reports
    from agents import account as agents_account
    from agents import admin as agents_admin
    from agents import api as agents_api
    from agents import auth as agents_auth
    from agents import cli as agents_cli
    from agents import console as agents_console
    from agents.zones import QueueZones
    from callback import api as callback_api
    from callback import cli as callback_cli
    from callback import line as callback_line
    from callback import views as callback_views
    from callback import voice as callback_voice
    from callback import words as callback_words
    from core import cli as core_cli
    from core import db, logs, web
    from core.fallback import install_voice_fallback
    from core.payload import BoundedJSONProvider
    from ivr import cli as ivr_cli
    from ivr import voice as ivr_voice
    from ivr.tree import tree_from_settings
    from orders import cli as orders_cli
    from orders.http import HttpOrderLookup
    from orders.port import GuardedLookup
    from orders.store import SqlOrderStore
    from recordings import access as recordings_access
    from recordings import cli as recordings_cli
    from recordings import prompt_admin, prompt_cli
    from recordings import views as recordings_views
    from recordings.storage import store_from_settings
    from scheduler import cli as scheduler_cli
    from scheduler import heartbeat as scheduler_heartbeat
    from scheduler import runtime as scheduler_runtime
    from telephony import cli as telephony_cli
    from telephony.twilio_adapter import telephony_from_settings

    settings = Settings.from_env(overrides=config)
    logs.configure(settings.log_format, settings.log_level)

    app = Flask(__name__, instance_path=None)
    if app.debug and not settings.is_development:
        # Werkzeug's debugger runs code for whoever reaches /console, and tracebacks show our insides.
        raise ConfigError("debug mode (FLASK_DEBUG, flask run --debug) is refused with APP_ENV=production")
    app.json = BoundedJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        TESTING=settings.app_env == "testing",
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
    )
    if settings.trusted_proxies > 0:
        # Believe exactly that many proxies: X-Forwarded-For from anyone else is a forgery.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    app.extensions["clock"] = clock or SystemClock()
    db.init_app(app, settings.database_url)
    app.extensions["telephony"] = telephony_from_settings(settings)
    app.extensions["audio_store"] = store_from_settings(settings.recordings_dir, settings.instance_path)
    # A broken phone tree stops the app here, not a caller in the middle of a call.
    app.extensions["ivr_tree"] = tree_from_settings(settings.ivr_tree)
    # Guarded: whatever goes wrong in an adapter, a caller hears "I can't look that up" and is transferred.
    app.extensions["order_lookup"] = GuardedLookup(
        HttpOrderLookup(
            settings.order_api_url, token=settings.order_api_token, timeout=settings.order_api_timeout_seconds
        )
        if settings.order_api_url
        else SqlOrderStore(db.get_db(app).reading)
    )
    # The phone menu reads a queue's time zone on most answers: kept for seconds, not queried each time.
    app.extensions["queue_zones"] = QueueZones(db.get_db(app).reading)
    csrf = CSRFProtect(app)
    # The customer's pages in the browser's language (translations/, compiled .mo files committed).
    Babel(app, locale_selector=callback_words.page_language)

    web.init_app(app)
    # Staff sign-in (Flask-Login); its pages carry CSRF tokens like every form.
    agents_auth.init_app(app)
    app.register_blueprint(agents_account.bp)
    install_voice_fallback(app, transfer_to=settings.voice_fallback_number)
    app.register_blueprint(callback_views.bp)
    app.register_blueprint(callback_api.bp)
    app.register_blueprint(agents_api.bp)
    app.register_blueprint(callback_voice.bp)
    app.register_blueprint(ivr_voice.bp)
    app.register_blueprint(recordings_views.bp)
    recordings_access.init_app(app)
    app.register_blueprint(agents_admin.bp)
    app.register_blueprint(agents_console.bp)
    app.register_blueprint(prompt_admin.bp)
    # The board, the figures and /metrics (a GET-only scrape; no form to forge).
    reports.init_app(app)
    # The JSON API authenticates by bearer token or by an unguessable reference, never by cookie,
    # so cross-site request forgery has nothing to ride on there.
    csrf.exempt(callback_api.bp)
    # The customer's pages judge their own CSRF tokens (each POST is a FlaskForm validated in its view), so
    # an expired one keeps what was typed (the form again, with a fresh token) or the status page it came
    # from, instead of the generic "this page has expired" that throws both away.
    csrf.exempt(callback_views.bp)
    csrf.exempt(agents_api.bp)
    # Twilio's webhooks prove themselves with X-Twilio-Signature instead.
    csrf.exempt(callback_voice.bp)
    csrf.exempt(ivr_voice.bp)
    # The prompt upload checks its own token, once it has raised the body limit for itself alone.
    csrf.exempt(prompt_admin.upload)

    core_cli.init_app(app)
    agents_cli.init_app(app)
    callback_cli.init_app(app)
    telephony_cli.init_app(app)
    scheduler_cli.init_app(app)
    ivr_cli.init_app(app)
    orders_cli.init_app(app)
    recordings_cli.init_app(app)
    prompt_cli.init_app(app)
    # /healthz turns to "warning" while the provider keeps dialling paused, or when no dispatcher
    # (here or in `flask scheduler`) has finished a pass for a few seconds. In production one must
    # run somewhere, so a dispatcher that never started is a warning too, whichever process it was meant for.
    dispatcher_expected = settings.scheduler or settings.app_env == "production"
    app.extensions["health_checks"] = [callback_line.health, scheduler_heartbeat.health_check(dispatcher_expected)]
    app.extensions["health_reports"] = {
        "scheduler": scheduler_heartbeat.report,
        "dialling": callback_line.dialling_report,
    }
    scheduler_runtime.init_app(app)
    return app
