"""Log lines: plain text for people, one JSON object per line for machines (LOG_FORMAT=json)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime

from core.config import Secret

# Attributes every LogRecord has; anything else came from `extra=` and belongs in the JSON line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


# A customer's reference is the secret that opens their status page; these paths carry one.
_REF_IN_PATH = re.compile(r"(/callback/|/api/callbacks/)[A-Za-z0-9_-]{12,}")


def fingerprint(ref: str) -> str:
    """A short, one-way stand-in for a reference: lines about one request can be matched up in the logs,
    and nobody can get from it back to the status page."""
    return "ref#" + hashlib.sha256(ref.encode()).hexdigest()[:10]


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
        redacted = _REF_IN_PATH.sub(r"\1<ref>", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with its `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                # json.dumps would write a Secret's value (it is a str): keep it hidden as its repr does.
                payload[key] = "***" if isinstance(value, Secret) else value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure(log_format: str, level: str) -> None:
    """Install one stream handler on the root logger with the chosen format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_callme", False):
            root.removeHandler(existing)
    handler.addFilter(RedactReferences())
    handler._callme = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # A line per job run every second drowns everything else; their warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
