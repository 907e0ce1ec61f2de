"""Recordings of calls and messages, copied home from the provider, and the shop's own prompts."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callback.models import CallbackRequest
from core.db import Base, UtcDateTime

# Where a recording stands. Twilio's copy is deleted only once ours is verified ("stored").
RECORDING_STATES = ("pending", "stored", "failed")
# What was recorded: a bridged conversation (two channels), or a message a caller left (one).
RECORDING_KINDS = ("call", "message")


def new_public_id() -> str:
    """An unguessable id for recording URLs (128 random bits); the URL still needs a staff session."""
    return secrets.token_urlsafe(16)


class Recording(Base):
    """One recording: reported by the provider, fetched, transcoded, verified, stored, then deleted there."""

    __tablename__ = "recordings"
    __table_args__ = (
        # The fetch job's question: which recordings still wait for a (next) try?
        Index(
            "ix_recordings_pending",
            "next_try_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        # And which stored copies still wait for the provider's to be deleted (a delete that failed).
        Index(
            "ix_recordings_undeleted",
            "next_try_at",
            sqlite_where=text("state = 'stored' AND provider_deleted_at IS NULL"),
            postgresql_where=text("state = 'stored' AND provider_deleted_at IS NULL"),
        ),
        Index("ix_recordings_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(8), default="call")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id", ondelete="SET NULL"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id", ondelete="SET NULL"))
    # The agent who took the call: they may listen to it (supervisors and admins hear every recording).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    provider_sid: Mapped[str] = mapped_column(String(40), unique=True)
    provider_call_sid: Mapped[str | None] = mapped_column(String(40))
    provider_url: Mapped[str | None] = mapped_column(String(500))
    provider_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Our copy, once verified: where the storage port keeps it, its format, length, size and checksum.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    format: Mapped[str | None] = mapped_column(String(8))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the provider's copy was deleted (after ours was verified).
    provider_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    request: Mapped[CallbackRequest | None] = relationship()


class Prompt(Base):
    """A named piece of the shop's own audio (a greeting, the hold music), stored as telephony audio."""

    __tablename__ = "prompts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    duration_seconds: Mapped[float] = mapped_column(Float)
    # The level it was normalised to, and the file it came from, for the admin page.
    level_dbfs: Mapped[float] = mapped_column(Float)
    original_name: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
