"""An IVR session: one inbound call's path through the menu, kept for the agent and for metrics."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from agents.models import language_name
from core.db import Base, UtcDateTime
from ivr.speech import OFF_MENU, format_order_number, reference_key

# How a session ended: answered without an agent (contained), or handed on.
OUTCOMES = ("contained", "transferred", "callback", "hold", "abandoned")

# The problems a caller may report in their own words (intents of the tree), as the agent hears them.
PROBLEM_REPORTS = {
    "missing": "a missing order",
    "damaged": "a damaged item",
    "wrong_item": "a wrong item",
    "late": "a late delivery",
}
# What a caller asked for at a menu, as the agent is told it ("they asked for a person").
ASKED_FOR = {
    "track": "to track an order",
    "returns": "about a return or a refund",
    "start_return": "to start a return",
    "agent": "for a person",
    "another": "to check another order",
    "repeat": "to hear the answer again",
    "call_back": "to be called back",
}
# The caller's own words, read to an agent: enough to know the problem, short enough to listen to.
QUOTE_LIMIT = 120
# The step a call's path ends with when the caller hung up waiting for a person: on hold, or while an
# agent's phone rang for them (reports.figures counts such a holder's call as abandoned).
HUNG_UP = "hung_up"


class IvrSession(Base):
    """The caller, each step (node, input, intent, confidence, result) and how the call ended."""

    __tablename__ = "ivr_sessions"
    __table_args__ = (
        # "Is this number in our phone menu right now?" (callback.line: never dial a customer who is on the
        # line with us): only the calls not yet ended, a handful whatever the history.
        Index(
            "ix_ivr_sessions_live_caller",
            "caller",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(40), unique=True)
    caller: Mapped[str] = mapped_column(String(32))
    called: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    node: Mapped[str] = mapped_column(String(64))
    # Counters and what the menu is holding (a number to confirm, the last answer to repeat).
    state: Mapped[str] = mapped_column(Text, default="{}")
    steps: Mapped[str] = mapped_column(Text, default="[]")
    topic: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(16), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id"))
    # The language the caller hears, a code of the tree's languages: the tree's default until they
    # choose another ("para español, oprima 9").
    language: Mapped[str] = mapped_column(String(8), default="en", server_default=text("'en'"))

    def get_state(self) -> dict[str, Any]:
        """The session's working state as a dict."""
        value: dict[str, Any] = json.loads(self.state or "{}")
        return value

    def set_state(self, state: dict[str, Any]) -> None:
        """Replace the working state."""
        self.state = json.dumps(state, default=str)

    def get_steps(self) -> list[dict[str, Any]]:
        """Every step so far, oldest first."""
        value: list[dict[str, Any]] = json.loads(self.steps or "[]")
        return value

    def add_step(self, now: datetime, **step: Any) -> None:
        """Record one step of the caller's path."""
        steps = self.get_steps()
        steps.append({"at": now.isoformat(timespec="seconds"), **step})
        self.steps = json.dumps(steps, default=str)
        self.updated_at = now

    def note_hung_up_waiting(self, now: datetime) -> None:
        """The caller hung up while waiting for a person, before one came: their path says so, whatever
        became of their request (one from before the call waits on, untouched)."""
        self.add_step(now, node=self.node, kind=HUNG_UP, result="before an agent came")

    @property
    def hung_up_waiting(self) -> bool:
        """Whether the caller hung up while waiting for a person (see note_hung_up_waiting)."""
        return hung_up_waiting(self.steps)

    def end(self, now: datetime) -> None:
        """The call is over (its status callback said so, or the provider, refusing to redirect it): close
        the session, once, with its outcome settled."""
        if self.ended_at is None:
            self.ended_at = now
            self.settle_outcome()

    def settle_outcome(self) -> None:
        """A call ending without a hand-over was contained if the caller had their answer and did not go
        on to ask for a person (one who did, heard that everyone was busy and hung up, was not helped)."""
        if self.outcome is None:
            asked_for_a_person = any(step.get("kind") == "transfer" for step in self.get_steps())
            helped = self.get_state().get("answered") and not asked_for_a_person
            self.outcome = "contained" if helped else "abandoned"

    def summary(self) -> str:
        """A sentence or two for the agent's whisper and screen: what the caller did, what we found,
        and the language they chose when it is not English."""
        steps = self.get_steps()
        said = ""
        reports = [s for s in steps if s.get("intent") in PROBLEM_REPORTS]
        # The answer as the agent hears it: in English (the staff's language) when the caller heard another.
        found = [
            s.get("for_agent") or s["result"]
            for s in steps
            if s.get("kind") == "lookup" and s.get("result") not in {None, "unavailable"}
        ]
        asked = [s for s in steps if s.get("intent")]
        looked_up = self.order_number()
        if reports:
            # Their own words, marked as theirs: the agent starts from the problem, not from a menu choice.
            report = reports[-1]
            # The order they said was theirs before reporting it ("yes, but it arrived damaged"), else the
            # one the menu looked up for them.
            reference = report.get("reference") or looked_up
            order = f" with order {reference}" if reference else ""
            said = f"The caller reports {PROBLEM_REPORTS[report['intent']]}{order}: “{_quoted(report.get('speech'))}”."
            if found:
                # "It says delivered but it's not here": what the menu had told them is part of the problem.
                said = f"{said} The phone menu had told them: {found[-1]}"
        elif found:
            about = f" asked about order {looked_up} and" if looked_up else ""
            said = f"In the phone menu they{about} heard: {found[-1]}"
        elif asked and asked[-1]["intent"] == OFF_MENU:
            said = (
                f"In the phone menu they asked for something it does not offer: “{_quoted(asked[-1].get('speech'))}”."
            )
        elif asked:
            intent = asked[-1]["intent"]
            wanted = ASKED_FOR.get(intent, f"about: {str(intent).replace('_', ' ')}")
            said = f"In the phone menu they asked {wanted}."
        if self.language and self.language != "en":
            said = f"{said} The caller chose {language_name(self.language)}.".strip()
        return said

    def order_number(self) -> str | None:
        """The order this call is about, as the shop writes it ("112-4455667-1234567"): the last one the
        menu found, or that the caller gave with a problem; None when no order number was given."""
        for step in reversed(self.get_steps()):
            found = step.get("kind") == "lookup" and step.get("result") not in {None, "unavailable"}
            if found or step.get("intent") in PROBLEM_REPORTS:
                number = format_order_number(reference_key(str(step.get("reference") or "")))
                if number:
                    return number
        return None


def hung_up_waiting(steps: str | None) -> bool:
    """Whether a call's path, as stored (IvrSession.steps), says the caller hung up waiting for a person."""
    return any(step.get("kind") == HUNG_UP for step in json.loads(steps or "[]"))


def _quoted(words: object) -> str:
    """A caller's words, on one line and capped, without the recogniser's closing full stop (ours follows)."""
    text = " ".join(str(words or "").split()).rstrip(".")
    return text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1].rstrip() + "…"
