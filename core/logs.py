"""Log lines: plain text for people, one JSON object per line for machines (LOG_FORMAT=json).

Every line about a callback request carries it as fields, in both formats: `request_id` (the
request's number in our database), `attempt_id` and `call_sid`. Never its reference: the reference
is the secret that opens the customer's status page (and cancels it), and anyone who reads the logs
would hold it; the number names the request as well for whoever has the database. Inside a webhook
the fields come from its context (bound by core.web); elsewhere from the line's `extra`, where
`request` and `attempt` are accepted as the older names of `request_id` and `attempt_id`.

Quiet by default: the twilio SDK's request dumps are DEBUG lines, an interval job's skipped tick (the
previous pass still running) is DEBUG, and the polling routes are left out of the access lines unless
LOG_POLLING_REQUESTS is set.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from core.config import Secret

# Attributes every LogRecord has; anything else came from `extra=` and belongs in the JSON line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# A customer's reference is the secret that opens their status page; these paths carry one, and so do
# these query parameters (staff look a request up by it: /admin/requests?q=, /api/recordings?request=).
_REF_IN_PATH = re.compile(r"(/callback/|/api/callbacks/)[A-Za-z0-9_-]{12,}")
_REF_IN_QUERY = re.compile(r"([?&](?:q|request|ref)=)[A-Za-z0-9_-]{12,}")


def fingerprint(ref: str) -> str:
    """A short, one-way stand-in for a reference: lines about one request can be matched up in the logs,
    and nobody can get from it back to the status page."""
    return "ref#" + hashlib.sha256(ref.encode()).hexdigest()[:10]


def redact(text: str) -> str:
    """`text` with every reference in a URL (its path, or a query parameter that carries one) replaced
    by `<ref>`."""
    return _REF_IN_QUERY.sub(r"\1<ref>", _REF_IN_PATH.sub(r"\1<ref>", text))


class RedactReferences(logging.Filter):
    """Keep customers' references out of every line: a `ref` extra is fingerprinted, and references
    in URL paths (the development server's access lines, say) are replaced by `<ref>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        ref = getattr(record, "ref", None)
        if isinstance(ref, str):
            record.ref = fingerprint(ref)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the formatter's to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# The fields that name a callback request on a line, in the order text lines print them.
REQUEST_FIELDS = ("request_id", "attempt_id", "call_sid")
# Older names some lines still pass in `extra`, printed under the field's name.
_ALIASES = {"request": "request_id", "attempt": "attempt_id"}

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("callme_log_context", default=None)


@contextmanager
def bound(**fields: Any) -> Iterator[dict[str, Any]]:
    """Within the block, every line carries these fields (None values are left out); `bind` adds more."""
    token = _context.set({k: v for k, v in fields.items() if v not in (None, "")})
    try:
        context = _context.get()
        assert context is not None
        yield context
    finally:
        _context.reset(token)


def open_context(**fields: Any) -> contextvars.Token[dict[str, Any] | None]:
    """Start a context for a request (as `bound`, for hooks that cannot wrap a block); close it with
    `close_context`."""
    return _context.set({k: v for k, v in fields.items() if v not in (None, "")})


def close_context(token: contextvars.Token[dict[str, Any] | None]) -> None:
    """End a context opened by `open_context`."""
    _context.reset(token)


def context() -> Mapping[str, Any]:
    """The fields bound to the current context (empty outside one)."""
    return _context.get() or {}


def bind(**fields: Any) -> None:
    """Add fields to the current context, if there is one (a webhook learns its request as it goes)."""
    current = _context.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v not in (None, "")})


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """A record's own fields: its `extra`, with the request's fields under their names, first."""
    extra: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_"):
            continue
        # json.dumps would write a Secret's value (it is a str): keep it hidden as its repr does.
        extra[_ALIASES.get(key, key)] = "***" if isinstance(value, Secret) else value
    ordered = {k: extra.pop(k) for k in REQUEST_FIELDS if extra.get(k) not in (None, "")}
    return {**ordered, **extra}


class RequestContext(logging.Filter):
    """Give a line the request fields of its context (a webhook's call SID, attempt and request),
    unless the line names them itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields in place; never drops a line."""
        current = _context.get()
        if current:
            for key, value in current.items():
                old = next((a for a, k in _ALIASES.items() if k == key), None)
                if getattr(record, key, None) is None and (old is None or getattr(record, old, None) is None):
                    setattr(record, key, value)
        return True


# Routes polled every second or few by open pages: a line per poll would bury everything else.
_POLLED = re.compile(
    r"/agent/state|/board/state|/sandbox/(?:phones/[^/]+|phones|calls|calls/[^/]+|messages|recordings)"
)
# The customer's status page reads itself again every 10 s (static/status.js): the same URL as the page.
_STATUS_PAGE = re.compile(r"/callback/[A-Za-z0-9_-]{12,}")
# werkzeug's request line, which it colours (ANSI escapes) for errors on a terminal.
_REQUEST_LINE = re.compile(r'"(?:\x1b\[[0-9;]*m)*([A-Z]+) ([^ ?"]+)\S* HTTP/[0-9.]+')


def is_polling(method: str, path: str, fetch_mode: str = "") -> bool:
    """Whether a request is a page's poll: the consoles', the board's, the softphone's, or the
    status page's own refresh (a script's fetch, told from opening the page by Sec-Fetch-Mode)."""
    if method != "GET":
        return False
    if _POLLED.fullmatch(path):
        return True
    return fetch_mode not in ("", "navigate") and _STATUS_PAGE.fullmatch(path) is not None


class QuietPolling(logging.Filter):
    """Drop the development server's (werkzeug's) access lines of polling routes, unless kept."""

    keep = False

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a werkzeug access line of a poll."""
        if self.keep or record.name != "werkzeug":
            return True
        try:
            match = _REQUEST_LINE.search(record.getMessage())
        except Exception:  # noqa: BLE001 - a malformed record is the formatter's to report
            return True
        return match is None or not is_polling(match.group(1), match.group(2))


# Expected lines at INFO or WARNING that are only worth reading while debugging.
_DEMOTED_LOGGERS = frozenset({"twilio.http_client"})
_SKIPPED_TICK = "skipped: maximum number of running instances reached"


class Demote(logging.Filter):
    """Turn expected noise into DEBUG lines, shown only at LOG_LEVEL=DEBUG: the twilio SDK's dump of
    every API request and response (INFO), and an interval job's skipped run while its previous run
    goes on (apscheduler's WARNING; the dispatcher's tick does this whenever a pass outlasts a second)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote in place, then keep the line only if its new level is shown."""
        if record.levelno > logging.DEBUG and (
            record.name in _DEMOTED_LOGGERS
            or (record.name.startswith("apscheduler") and _SKIPPED_TICK in str(record.msg))
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with its `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(_fields(record))
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """A line for people: time, level, logger, message, then the fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = super().formatMessage(record)
        fields = _fields(record)
        if not fields:
            return line
        return line + " " + " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())


def _text_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


_polling = QuietPolling()


def keep_polling(keep: bool) -> None:
    """Whether the polling routes' access lines are kept (LOG_POLLING_REQUESTS)."""
    QuietPolling.keep = keep


def configure(log_format: str, level: str) -> None:
    """Install one stream handler on the root logger with the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_callme", False):
            root.removeHandler(existing)
    root.setLevel(level.upper())
    handler.addFilter(Demote(root.level))
    handler.addFilter(_polling)
    handler.addFilter(RequestContext())
    handler.addFilter(RedactReferences())
    handler._callme = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # A line per job run every second drowns everything else; their warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
