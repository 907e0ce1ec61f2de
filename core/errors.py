"""Domain errors shared by every feature; the web layer maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base: a machine-readable code, a plain-words message, and the field at fault if any."""

    status = 400

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The request cannot be accepted as given."""

    status = 422


class NotFound(DomainError):
    """No such request (or agent, or queue)."""

    status = 404


class Conflict(DomainError):
    """The thing exists but is in a state that does not allow this."""

    status = 409


class LimitExceeded(DomainError):
    """An abuse limit was hit; `retry_after` says when trying again can work."""

    status = 429

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, int(retry_after))
