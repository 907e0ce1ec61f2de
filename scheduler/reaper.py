"""The reaper: reconciles what a crash or a lost webhook left behind, by asking the provider.

It never dials. It closes attempts whose calls ended without us hearing, releases agents held for
calls that no longer exist, and puts back in line the requests whose call was never placed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agents import staff
from callback import line
from callback.calls import FINAL_CALL_STATUSES, finish_attempt
from callback.models import CallAttempt
from core.clock import Clock
from core.db import Database
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaperPolicy:
    """How long silence must last before the reaper acts."""

    # An attempt with no call SID this long after its claim, and after the dispatcher last vouched for
    # it (placed_at: stamped while it waits for its pacing slot and as it sends), was never placed:
    # calls.create returns in well under this, and the first status callback carries the SID if the
    # dispatcher died. `for_settings` keeps it above the provider's timeout.
    unplaced_after: timedelta = timedelta(seconds=60)
    # An attempt with a SID but no news for this long is checked with the provider.
    silent_after: timedelta = timedelta(seconds=90)
    # How often one attempt may be checked while its call goes on (a long conversation).
    recheck_every: timedelta = timedelta(seconds=60)
    # An agent reserved this long without an open attempt was left behind by a crash.
    stranded_after: timedelta = timedelta(seconds=30)
    # How long a staff sign-in lasts (STAFF_SESSION_HOURS): an agent whose last one ended is signed off.
    sign_in_lasts: timedelta = timedelta(hours=12)

    @classmethod
    def for_settings(cls, twilio_timeout_seconds: float, staff_session_hours: int = 12) -> ReaperPolicy:
        """The defaults, with a send still waiting for the provider's answer (up to TWILIO_TIMEOUT_SECONDS)
        never taken for a call that was not placed: released then, it would be dialled twice."""
        return cls(
            unplaced_after=max(cls.unplaced_after, timedelta(seconds=2 * twilio_timeout_seconds)),
            sign_in_lasts=timedelta(hours=staff_session_hours),
        )


class Reaper:
    """One reconciliation pass at a time; safe to run in several processes."""

    def __init__(
        self,
        db: Database,
        telephony: Telephony,
        clock: Clock,
        policy: ReaperPolicy | None = None,
        caller_id: str = "",
        bounds: line.Bounds = line.DEFAULT_BOUNDS,
    ) -> None:
        self.db = db
        self.bounds = bounds  # what a call closed here may still promise (callback.line.next_call_at)
        self.caller_id = caller_id
        self.telephony = telephony
        self.clock = clock
        self.policy = policy or ReaperPolicy()

    def run_once(self) -> dict[str, int]:
        """Reconcile everything that is due; returns counts of what was done, for logs and tests."""
        done = {"unplaced": 0, "finished": 0, "released": 0, "signed_off": 0}
        done["unplaced"] = self._unplaced()
        done["finished"] = self._silent()
        done["released"] = self._stranded_agents()
        done["signed_off"] = self._lapsed_sign_ins()
        if any(done.values()):
            log.info("reaper pass", extra=done)
        return done

    def _unplaced(self) -> int:
        """Attempts whose call was never created: the request goes back in line, uncounted."""
        now = self.clock.now()
        count = 0
        with self.db.sessions() as session:
            cutoff = now - self.policy.unplaced_after
            ids = session.scalars(
                select(CallAttempt.id).where(
                    CallAttempt.ended_at.is_(None),
                    CallAttempt.call_sid.is_(None),
                    CallAttempt.created_at <= cutoff,
                    or_(CallAttempt.placed_at.is_(None), CallAttempt.placed_at <= cutoff),
                )
            ).all()
        for attempt_id in ids:
            try:
                adopted = self._find_lost_call(attempt_id)
            except TelephonyError as error:
                # Without an answer we cannot know the call was never made: wait for the next pass.
                log.warning("reaper could not list calls", extra={"attempt": attempt_id, "error": str(error)})
                continue
            with self.db.begin() as session:
                attempt = session.get(CallAttempt, attempt_id, with_for_update=_locks(session))
                if attempt is None or attempt.ended_at is not None or attempt.call_sid is not None:
                    continue
                if attempt.placed_at is not None and attempt.placed_at > cutoff:
                    continue  # its dispatcher vouched for it since: alive, and about to send or sending
                if adopted is not None:
                    # The call was made and only its SID was lost: keep it; _silent() follows it up.
                    attempt.call_sid = adopted
                    log.warning("reaper found a call whose SID was lost", extra={"attempt": attempt_id})
                    continue
                # The provider has no such call: it was never placed, so it is not counted.
                line.unplaced(session, attempt, now)
                count += 1
                log.warning("attempt was never placed; request back in line", extra={"attempt": attempt_id})
        return count

    def _find_lost_call(self, attempt_id: int) -> str | None:
        """Ask the provider whether the attempt's call exists after all (a crash after calls.create)."""
        with self.db.sessions() as session:
            attempt = session.get(CallAttempt, attempt_id)
            if attempt is None or attempt.agent is None:
                return None
            req = attempt.request
            if req.hold_call_sid:
                return None  # a holder is redirected, never dialled: nothing can have been placed twice
            to = attempt.agent.endpoint if attempt.agent_first else req.phone
            from_ = req.queue.caller_id or self.caller_id
            # Twilio's dates are whole seconds: look a little before the claim.
            since = attempt.created_at - timedelta(seconds=2)
        found = [c.sid for c in self.telephony.find_calls(to, from_, since) if c.direction in {"", "outbound-api"}]
        if not found:
            return None
        with self.db.sessions() as session:
            # Calls another attempt already owns are not this one's (only the few found are looked up).
            taken = set(session.scalars(select(CallAttempt.call_sid).where(CallAttempt.call_sid.in_(found))))
        return next((sid for sid in found if sid not in taken), None)

    def _silent(self) -> int:
        """Attempts with a call SID and no recent news: fetch the call, and close it if it ended."""
        now = self.clock.now()
        count = 0
        with self.db.sessions() as session:
            candidates = session.scalars(
                select(CallAttempt).where(
                    CallAttempt.ended_at.is_(None),
                    CallAttempt.call_sid.is_not(None),
                    CallAttempt.created_at <= now - self.policy.silent_after,
                )
            ).all()
            due = [
                (a.id, a.call_sid)
                for a in candidates
                if a.checked_at is None or a.checked_at <= now - self.policy.recheck_every
            ]
        for attempt_id, call_sid in due:
            assert call_sid is not None
            try:
                info = self.telephony.fetch_call(call_sid)
            except TelephonyError as error:
                log.warning("reaper could not fetch call", extra={"attempt": attempt_id, "error": str(error)})
                continue
            with self.db.begin() as session:
                attempt = session.get(CallAttempt, attempt_id, with_for_update=_locks(session))
                if attempt is None or attempt.ended_at is not None:
                    continue
                attempt.checked_at = now
                if info.status in FINAL_CALL_STATUSES:
                    if info.answered_by and not attempt.answered_by:
                        attempt.answered_by = info.answered_by
                    finish_attempt(session, self.clock, attempt, info.status, info.duration, bounds=self.bounds)
                    count += 1
                    log.warning("reaper closed an attempt whose webhook was lost", extra={"attempt": attempt_id})
        return count

    def _lapsed_sign_ins(self) -> int:
        """Agents whose sign-in ended (STAFF_SESSION_HOURS after it began) without signing out: nobody is
        at their console, so they leave the line as on signing out (staff.sign_off_lapsed)."""
        with self.db.sessions() as session:
            return staff.sign_off_lapsed(session, self.clock, self.policy.sign_in_lasts)

    def _stranded_agents(self) -> int:
        """Agents held (reserved or on a call) with no open attempt: give them back."""
        now = self.clock.now()
        with self.db.begin() as session:
            return line.release_stranded_agents(session, now, now - self.policy.stranded_after)


def _locks(session: Session) -> bool:
    """Lock the attempt row on PostgreSQL, where webhooks and reapers really run side by side."""
    return session.get_bind().dialect.name == "postgresql"
