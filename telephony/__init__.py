"""Telephony: the provider port, the Twilio adapter and a local Twilio-compatible sandbox."""

from __future__ import annotations

from telephony.port import (
    CallInfo,
    MessageInfo,
    NumberInfo,
    Telephony,
    TelephonyError,
)

__all__ = ["CallInfo", "MessageInfo", "NumberInfo", "Telephony", "TelephonyError"]
