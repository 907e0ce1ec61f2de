"""What the reports keep in the database of their own: how far a counter counted from the database has got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class MetricMark(Base):
    """How far a counter read from the database has counted, shared by every process: one row per counter.

    reports.instruments counts a customer's cancel only once it can no longer be undone; whichever process
    moves this mark from one moment to the next counts the cancels that settled in between, so a cancel is
    counted once however many web workers are scraped.
    """

    __tablename__ = "metric_marks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Everything of this counter that settled before this moment has been counted.
    at: Mapped[datetime] = mapped_column(UtcDateTime)
