"""The dispatcher: each free agent, longest idle first, takes the best waiting callback and it is dialled.

Claiming is atomic: the request moves queued -> dialing and the agent available -> reserved in one
transaction, each by a conditional UPDATE that only one process can win (on PostgreSQL the candidate
rows are also read FOR UPDATE SKIP LOCKED, so competing dispatchers pass each other instead of
queueing). The CallAttempt row is written in the same transaction, before Twilio is called, so a crash
at any point leaves a trace the reaper can reconcile, and a request is never dialled by two processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from agents.models import Agent, Queue, agent_queues
from callback import dnc, line, notify
from callback.line import Claim
from callback.models import CallAttempt, CallbackRequest
from core.clock import Clock
from core.config import Settings
from core.db import Database
from core.fallback import fallback_url
from core.webhooks import Webhooks
from reports import instruments
from scheduler import pacing
from telephony.port import NETWORK_ERROR, Telephony, TelephonyError

log = logging.getLogger(__name__)
# Round trips of calls.create kept per dispatcher, and how many before their floor (what every send pays)
# is trusted: until then a send counts whole, so a first slow send cannot hide the next one's lateness.
ROUND_TRIPS_KEPT = 50
ROUND_TRIPS_NEEDED = 3
# A claim waiting for its pacing slot vouches for itself this often (well inside the reaper's
# ReaperPolicy.unplaced_after), so only a dead dispatcher's claim is taken for never placed.
VOUCH_EVERY = 15.0

# Twilio codes that mean the customer's number itself cannot be called: retrying will not help.
BAD_NUMBER_CODES = frozenset({21211, 21214, 21217, 13223, 13224})
# Refusals of the account, not of the number (authentication, caller ID not ours, geographic
# permissions, regulatory profile, rate): every call would be refused alike, so dialling pauses.
ACCOUNT_CODES = frozenset({20003, 20005, 21210, 21215, 21216, 20429})
# ...though geographic permissions and the regulatory profile are per destination: the request that
# met one waits long, so the line behind it moves on after the pause while an operator fixes the account.
DESTINATION_CODES = frozenset({21215, 21216})
DESTINATION_PAUSE = timedelta(hours=1)
# A provider refusal that is not the customer's fault: try the request again after this pause.
REFUSED_PAUSE = timedelta(seconds=30)
# A refusal of no known kind, met this many times by one request, is that request's: it fails.
REFUSALS_BEFORE_GIVING_UP = 3
REFUSED = "refused"  # the attempt's outcome: refused by the provider, no call made
PROVIDER_REFUSED = "provider_refused"  # the request's, once it gives up
# Redirecting a holder's call answers these when the caller has already hung up.
HOLDER_GONE_CODES = frozenset({21220, 20404})
WAITING_SQL = text("callback_requests.status IN ('queued', 'retry_wait')")
HOLDING_SQL = text("callback_requests.hold_call_sid IS NOT NULL")


class Dispatcher:
    """Pairs, claims and dials; one instance per process, safe to run in many processes at once."""

    def __init__(
        self,
        db: Database,
        telephony: Telephony,
        clock: Clock,
        settings: Settings,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.telephony = telephony
        self.clock = clock
        self.settings = settings
        self.sleep = sleep
        self._lock = threading.Lock()
        self._woken = threading.Event()
        self._housekeeping_due = threading.Event()
        self._stopping = threading.Event()
        self.hooks = Webhooks(settings.public_base_url)
        self.bounds = line.Bounds(settings.min_seconds_between_calls, settings.max_calls_per_number_per_day)
        # Per claim not yet dialled: since when its agent and its request were both ready (for
        # callme_dispatch_seconds, which runs from then to calls.create returning).
        self._ready_since: dict[int, datetime] = {}
        # The last sends' round trips (issue to answer), for the floor every send pays (see _settle).
        self._round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)

    # -- the loop ---------------------------------------------------------------------------------

    def wake(self) -> None:
        """Ask for a pass now (an agent became free or a request arrived)."""
        self._woken.set()

    @property
    def busy(self) -> bool:
        """Whether a pass is running (it will notice a wake before it ends)."""
        return self._lock.locked()

    def stop(self) -> None:
        """Stop taking claims: a pass in flight dials the claim in hand, then ends (for SIGTERM)."""
        self._stopping.set()

    def run_pending(self, housekeeping: bool = True) -> int:
        """One pass, repeated while someone woke us during it; returns the calls placed.

        A wake-up (a request arrived, an agent is free, a holder joined) needs no housekeeping,
        whose work comes with time (wrap-ups ending, requests expiring): the tick and the pass booked
        for a wrap-up's end ask for it, and the pass running when they come does it on its next turn.
        """
        if housekeeping:
            self._housekeeping_due.set()
        placed = 0
        while not self._stopping.is_set():
            if not self._lock.acquire(blocking=False):
                self._woken.set()  # a pass is running: it will loop once more
                return placed
            try:
                while not self._stopping.is_set():
                    self._woken.clear()
                    due = self._housekeeping_due.is_set()
                    self._housekeeping_due.clear()
                    placed += self.run_once(housekeeping=due)
                    if not self._woken.is_set():
                        break
            finally:
                self._lock.release()
            # A wake that came after the last look but before the release saw us busy and left the
            # pass to us: look once more now that the lock is free.
            if not self._woken.is_set():
                break
        return placed

    def run_once(self, housekeeping: bool = True) -> int:
        """Housekeeping, then claim and dial until no free agent has an eligible request."""
        if housekeeping:
            self.housekeeping()
        placed = 0
        while not self._stopping.is_set():
            with self.db.sessions() as session:
                paused = line.pauses(session, self.clock.now())
                # A pause of dialling (the provider refused a call) stops calls.create only: a caller
                # holding on the line is taken out of it by redirecting their own call, an update that
                # Twilio's calls-per-second limit does not count, so holders are still put through, in
                # their order. A refused redirect pauses redirects (and, refused by the account, dialling).
                dialling, redirecting = line.PAUSE_NAME not in paused, line.REDIRECT_PAUSE_NAME not in paused
                if not (dialling or redirecting):
                    return placed  # the pauses say when to try again
                claim = self.claim(session, dialling=dialling, redirecting=redirecting)
            if claim is None:
                return placed
            self.dial(claim)
            placed += 1
        return placed

    def _wait_for_slot(self, attempt_id: int) -> float | None:
        """Take this call's pacing slot (scheduler.pacing) and wait for it, vouching for the claim
        meanwhile (`_vouch`); returns the slot's start, or None if the claim was closed while it
        waited (then nobody may be rung for it)."""
        cps = self.settings.twilio_cps
        horizon = pacing.HORIZON
        while True:
            asked = self.clock.now()
            with self.db.autocommit() as session:
                slot = pacing.take_slot(session, cps, asked, horizon=horizon)
                wait = pacing.wait_before_asking(session, asked) if slot is None else 0.0
            if slot is not None:
                break
            if not self._sleep_vouching(wait, attempt_id):
                return None
            if self.clock.now() <= asked:
                horizon = float("inf")  # a clock standing still (tests) would never let the slot near
        if not self._sleep_vouching(slot - self.clock.now().timestamp(), attempt_id):
            return None
        return slot

    def _sleep_vouching(self, seconds: float, attempt_id: int) -> bool:
        """Sleep `seconds`, vouching for the claim at least every VOUCH_EVERY seconds and once at the
        end, right before the send; False as soon as the claim turns out closed. No sleep, no vouching:
        a claim sent within milliseconds of being made is far inside the reaper's wait (and the usual
        pass reaches calls.create a round trip sooner)."""
        if seconds <= 0:
            return True
        while seconds > VOUCH_EVERY:
            self.sleep(VOUCH_EVERY)
            seconds -= VOUCH_EVERY
            if not self._vouch(attempt_id):
                return False
        self.sleep(seconds)
        return self._vouch(attempt_id)

    def _vouch(self, attempt_id: int) -> bool:
        """Stamp the claim's attempt as being sent now, if it is still open and has no call: the reaper
        counts a claim as never placed only `unplaced_after` past this stamp, so a claim whose pacing
        wait is long (a low TWILIO_CPS, many dispatchers) is not released under us. False when it was
        closed meanwhile (the reaper released it, so its request may already be in another's hands):
        dialling it then would ring the customer for a closed attempt, again and again, uncounted."""
        with self.db.autocommit() as session:
            stamped = session.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.ended_at.is_(None), CallAttempt.call_sid.is_(None))
                .values(placed_at=self.clock.now())
            )
        if stamped.rowcount == 1:  # type: ignore[attr-defined]
            return True
        log.warning("claim closed while it waited to be sent; not dialled", extra={"attempt": attempt_id})
        return False

    def _settle(self, slot: float, sent: float) -> None:
        """A send issued or answered late may have reached the provider late: later slots make room.

        The provider counted the call somewhere between the issue and the answer. What every send pays
        after that point (the answer's way back, the provider's own work) is at least the shortest round
        trip seen lately, so only time beyond that floor is taken as lateness: against Twilio's 100 ms and
        more the floor keeps the rate near the margin's 98%, and on a loaded machine, where the floor is a
        few milliseconds, a request counted late still moves the schedule (a median instead of the floor
        let a loaded sandbox count 11 calls in one second; no discount at all halved the rate at 10 CPS
        against a 150 ms round trip)."""
        answered = self.clock.now()
        floor = min(self._round_trips) if len(self._round_trips) >= ROUND_TRIPS_NEEDED else 0.0
        self._round_trips.append(max(0.0, answered.timestamp() - sent))
        with self.db.autocommit() as session:
            moved = pacing.settle(session, slot, answered, usual=floor)
        if moved:
            log.debug("pacing: a slow send moved the schedule", extra={"seconds": round(moved, 3)})

    def next_wrap_up_end(self) -> datetime | None:
        """When the first agent now wrapping up becomes available by the clock, if anyone is."""
        with self.db.sessions() as session:
            end: datetime | None = session.scalar(select(func.min(Agent.busy_until)).where(Agent.status == "wrap_up"))
            return end

    # -- housekeeping -----------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Agents whose wrap-up is over become available; waiting requests past expiry expire."""
        with self.db.begin() as session:
            line.end_wrap_ups_and_expire(session, self.clock.now())

    # -- pairing and claiming ---------------------------------------------------------------------

    def _queue_ids(self, session: Session, now: datetime) -> tuple[list[int], set[int]]:
        """Every queue, and those of them closed now (where only callers holding on the line are served:
        a caller who was holding at closing time is not left on hold while agents are still there)."""
        queues = list(session.scalars(select(Queue)))
        return [q.id for q in queues], {q.id for q in queues if not q.business_hours.is_open(now)}

    def _free_agents(self, session: Session, after: Agent | None = None, limit: int = 50) -> list[Agent]:
        """A page of the available agents, longest idle first; the next page starts after `after`."""
        query = select(Agent).where(Agent.status == "available")
        if after is not None:
            query = query.where(
                or_(
                    Agent.status_since > after.status_since,
                    (Agent.status_since == after.status_since) & (Agent.id > after.id),
                )
            )
        return list(session.scalars(query.order_by(Agent.status_since, Agent.id).limit(limit)))

    def _queues_of(self, session: Session, agents: list[Agent], open_ids: list[int]) -> dict[int, list[int]]:
        """Each agent's queues among `open_ids`, in one query for them all."""
        rows = session.execute(
            select(agent_queues.c.agent_id, agent_queues.c.queue_id).where(
                agent_queues.c.agent_id.in_([a.id for a in agents])
            )
        )
        queues: dict[int, list[int]] = {a.id: [] for a in agents}
        for agent_id, queue_id in rows:
            if queue_id in open_ids:
                queues[agent_id].append(queue_id)
        return queues

    def next_request(
        self,
        session: Session,
        queue_ids: list[int],
        now: datetime,
        lock: bool = False,
        empty: set[int] | None = None,
        closed: set[int] | frozenset[int] = frozenset(),
        dialling: bool = True,
        redirecting: bool = True,
    ) -> int | None:
        """The best eligible request over some queues: one indexed probe per queue, best head wins
        (queues found with none are added to `empty`); in `closed` queues, or not `dialling` (paused),
        only callers holding; not `redirecting` (paused), no caller holding."""
        best: tuple[int, datetime, int] | None = None
        for queue_id in queue_ids:
            r = CallbackRequest
            holders_only = queue_id in closed or not dialling
            if holders_only and not redirecting:
                if empty is not None:
                    empty.add(queue_id)
                continue
            query = (
                select(r.id, r.priority, r.created_at)
                .where(
                    r.queue_id == queue_id,
                    # Spelled out, not bound: SQLite uses a partial index only when the query's own
                    # text implies the index's WHERE clause.
                    WAITING_SQL,
                    # Due (a holder always), and not expired (a holder never): the request's own rules.
                    r.due_by(now),
                    ~r.past_expiry(now),
                )
                .order_by(r.priority.desc(), r.created_at, r.id)
                .limit(1)
            )
            if holders_only:
                query = query.where(HOLDING_SQL)  # spelled out like WAITING_SQL, for its partial index
            else:
                # A caller we cannot call back (withheld, abroad: a "call:" placeholder) is served only
                # while holding on the line; their message waits for a person, never for a dial.
                query = query.where(r.in_line)
            if not redirecting:
                query = query.where(r.hold_call_sid.is_(None))
            if lock:
                query = query.with_for_update(skip_locked=True)
            row = session.execute(query).first()
            if row is None:
                if empty is not None:
                    empty.add(queue_id)
                continue
            key = (-row.priority, row.created_at, row.id)
            if best is None or key < best:
                best = key
        return best[2] if best else None

    def claim(self, session: Session, dialling: bool = True, redirecting: bool = True) -> Claim | None:
        """Reserve the longest-idle free agent and their best request together, or nothing (not
        `dialling`: only a caller holding on the line; not `redirecting`: no caller holding)."""
        now = self.clock.now()
        open_ids, closed = self._queue_ids(session, now)
        # A queue with nothing to take for one agent has nothing for the next in this pass either:
        # idle agents and requests not yet due cost one probe per queue, not one per queue per agent.
        empty: set[int] = set()
        # Page through every free agent: fifty idle agents of a quiet queue must not hide the one
        # agent further down whose queue has customers waiting.
        agents = self._free_agents(session)
        while agents:
            queues_of = self._queues_of(session, agents, open_ids)
            for agent in agents:
                queue_ids = [q for q in queues_of[agent.id] if q not in empty]
                if not queue_ids:
                    continue
                request_id = self.next_request(
                    session,
                    queue_ids,
                    now,
                    lock=self._locks_rows(session),
                    empty=empty,
                    closed=closed,
                    dialling=dialling,
                    redirecting=redirecting,
                )
                if request_id is None:
                    continue
                available_since = agent.status_since  # read before the claim makes it "reserved since now"
                claim = line.claim(session, agent.id, request_id, now, self.bounds)
                if claim is not None:
                    self._ready_since[claim.attempt_id] = max(available_since, claim.due_at)
                    return claim
                # Lost a race, or the request's number may not be called now: try the next pairing.
            if len(empty) >= len(open_ids):
                break  # every open queue is empty: no agent further down has anything to take
            agents = self._free_agents(session, after=agents[-1])
        session.rollback()
        return None

    @staticmethod
    def _locks_rows(session: Session) -> bool:
        return session.get_bind().dialect.name == "postgresql"

    # -- dialling ---------------------------------------------------------------------------------

    def dial(self, claim: Claim) -> None:
        """Place the call for a claim (the customer's, or the agent's in agent-first) and record its SID."""
        ready_since = self._ready_since.pop(claim.attempt_id, None)
        # The last look before ringing anyone (canceled or listed since the claim?): one read of the
        # request (with its queue), the attempt, its agent and the do-not-call list, outside any transaction.
        with self.db.autocommit() as session:
            req, agent_first, agent, listed = session.execute(
                select(CallbackRequest, CallAttempt.agent_first, Agent, dnc.listed(CallbackRequest.phone))
                .join(CallAttempt, CallAttempt.request_id == CallbackRequest.id)
                .join(Agent, Agent.id == CallAttempt.agent_id)
                .where(CallAttempt.id == claim.attempt_id)
            ).one()
            caller_id = req.queue.caller_id or self.settings.twilio_caller_id
            customer = req.phone
            agent_endpoint = agent.endpoint
            agent_has_phone = agent.phone is not None
            holder = req.hold_call_sid
            language = req.language
            still_wanted = req.status == "dialing" and not listed
        if not still_wanted:
            self._abandon_claim(claim)  # canceled (or listed do-not-call) since the claim: ring nobody
            return
        if holder:
            self._connect_holder(claim, holder)
            return
        if self.settings.sms_notifications and not agent_first:
            notify.calling_now(self.telephony, customer, caller_id, language)
        # Paced here, after every read: only the request itself lies between the slot and the provider.
        slot = self._wait_for_slot(claim.attempt_id)
        if slot is None:
            return  # closed by the reaper while it waited: its request is back in line, its agent free
        sent = self.clock.now().timestamp()
        try:
            if agent_first:
                # The agent's phone rings first; detection tells their voicemail from them.
                info = self.telephony.place_call(
                    agent_endpoint,
                    caller_id,
                    self.hooks.callback("agent-answer", attempt=claim.attempt_id),
                    status_callback=self.hooks.callback("status", attempt=claim.attempt_id),
                    # Where Twilio turns if a webhook of the call fails: the apology, without the database.
                    fallback_url=fallback_url(self.settings.public_base_url),
                    timeout=self.settings.ring_timeout_seconds,
                    machine_detection="Enable" if agent_has_phone else None,
                )
            else:
                info = self.telephony.place_call(
                    customer,
                    caller_id,
                    self.hooks.callback("answer", attempt=claim.attempt_id),
                    status_callback=self.hooks.callback("status", attempt=claim.attempt_id),
                    fallback_url=fallback_url(self.settings.public_base_url),
                    timeout=self.settings.ring_timeout_seconds,
                    # DetectMessageEnd waits for the beep, so the voicemail message is recorded whole.
                    machine_detection="DetectMessageEnd",
                )
        except TelephonyError as error:
            self._settle(slot, sent)  # a refusal, a timeout: the request may have been counted all the same
            instruments.provider_error(error.code)
            self._dial_failed(claim, error)
            return
        self._settle(slot, sent)
        if ready_since is not None:
            instruments.dispatched(ready_since, self.clock.now())
        status = self._record_call(claim, info.sid)
        log.info("dialled", extra={"attempt": claim.attempt_id, "call_sid": info.sid})
        if status == "canceled":
            self._hang_up_canceled(claim, info.sid)

    def _record_call(self, claim: Claim, call_sid: str, redirected: bool = False) -> str | None:
        """Save the call's SID on the attempt (its status callback may have got here first); returns
        the request's status as it stands then. A holder's call `redirected` says nothing of whether
        the provider would place a call: only their own back-off starts again."""
        with self.db.begin() as session:
            session.execute(
                update(CallAttempt)
                .where(CallAttempt.id == claim.attempt_id)
                .values(placed_at=self.clock.now(), call_sid=call_sid)
                .where(or_(CallAttempt.call_sid.is_(None), CallAttempt.call_sid == call_sid))
            )
            line.resume_dialling(session, line.REDIRECT_PAUSE_NAME if redirected else line.PAUSE_NAME)
            # Under the request's row lock: a cancel writing now is either seen here (and we hang up)
            # or reads our SID once we commit (and hangs up itself); see callback.service._live_calls.
            status: str | None = session.scalar(
                select(CallbackRequest.status)
                .join(CallAttempt, CallAttempt.request_id == CallbackRequest.id)
                .where(CallAttempt.id == claim.attempt_id)
                .with_for_update(of=CallbackRequest)
            )
            return status

    def _hang_up_canceled(self, claim: Claim, call_sid: str) -> None:
        """The customer canceled while the call was being placed: the cancel could not hang up a call
        that had no SID yet, so it is hung up now, before it rings long (its status callback then
        closes the attempt and frees the agent, as after any cancel)."""
        try:
            self.telephony.hangup(call_sid)
        except TelephonyError as error:
            instruments.provider_error(error.code)
            log.warning(
                "could not hang up a call canceled while it was placed",
                extra={"attempt": claim.attempt_id, "call_sid": call_sid, "error": str(error)},
            )
            return
        log.info("call canceled while placed: hung up", extra={"attempt": claim.attempt_id, "call_sid": call_sid})

    def _abandon_claim(self, claim: Claim) -> None:
        """Close a claim whose call was never placed (canceled, or do-not-call), and free the agent."""
        now = self.clock.now()
        with self.db.begin() as session:
            attempt = session.get(CallAttempt, claim.attempt_id)
            assert attempt is not None
            attempt.ended_at = now
            attempt.outcome = "canceled"
            attempt.dialled_at = None
            for leg in attempt.agent_legs:
                leg.ended_at, leg.outcome = leg.ended_at or now, leg.outcome or "canceled"
            req = attempt.request
            if req.status == "dialing":
                # Only do-not-call leaves a claim still dialing here: the number's owner said never.
                req.cancel(now)
                req.outcome = "do_not_call"
            req.attempts = line.calls_placed(session, req.id)
            line.release_agent(session, attempt.agent, attempt, now)
        log.info("claim abandoned before dialling", extra={"attempt": claim.attempt_id})

    def _connect_holder(self, claim: Claim, call_sid: str) -> None:
        """A caller holding on the line: take them out of <Enqueue> to their agent, no new call.

        A redirect is an update of the caller's own call, not a call created: it takes no pacing slot
        (Twilio's calls-per-second limit counts calls created; inbound calls are not limited by it)."""
        try:
            self.telephony.update_call(call_sid, url=self.hooks.callback("connect-holder", attempt=claim.attempt_id))
        except TelephonyError as error:
            instruments.provider_error(error.code)
            if error.code in HOLDER_GONE_CODES:
                self._holder_gone(claim, error)
                return
            # Not taken (or not known to be): holders wait out a pause of redirects, so this one, still
            # in the line, is not claimed again at once, pass after pass.
            with self.db.begin() as session:
                pause = line.pause_redirects(session, error.code, error.message, self.clock.now())
            log.warning(
                f"redirecting holders paused: the provider did not take a redirect (code {error.code}); "
                f"next try at {pause.paused_until.isoformat()}",
                extra={"attempt": claim.attempt_id, "code": error.code, "error": error.message},
            )
            if error.code == NETWORK_ERROR:
                log.warning("redirect outcome unknown", extra={"attempt": claim.attempt_id, "error": str(error)})
                return  # the status callback or the reaper will tell
            self._dial_failed(claim, error)  # refused for another reason: put the claim back
            return
        self._record_call(claim, call_sid, redirected=True)
        log.info("holder redirected to agent", extra={"attempt": claim.attempt_id, "call_sid": call_sid})

    def _holder_gone(self, claim: Claim, error: TelephonyError) -> None:
        """The holding caller had already hung up (21220 / 20404): their place is given up."""
        now = self.clock.now()
        with self.db.begin() as session:
            attempt = session.get(CallAttempt, claim.attempt_id)
            assert attempt is not None
            req = attempt.request
            attempt.ended_at = now
            attempt.outcome = "hung_up_on_hold"
            if req.status == "dialing":
                # Their place from the call is given up; a request of theirs from before it stays in line.
                line.caller_hung_up(session, req, req.hold_call_sid, "hung_up_on_hold", now, call_over=True)
            line.release_agent(session, attempt.agent, attempt, now)
        log.info("holder was gone", extra={"attempt": claim.attempt_id, "code": error.code})

    def _dial_failed(self, claim: Claim, error: TelephonyError) -> None:
        """calls.create (or a holder's redirect) did not succeed: by the error's class, fail the request,
        pause dialling, or leave an uncertain outcome to the reaper."""
        now = self.clock.now()
        unknown = error.code == NETWORK_ERROR or (error.status or 0) >= 500
        account = error.code in ACCOUNT_CODES or error.status in {401, 403, 429}
        if unknown or account:
            with self.db.begin() as session:
                pause = line.pause_dialling(session, error.code, error.message, now)
            words = "is unreachable or failing" if unknown else "refuses this account's calls"
            (log.error if pause.failures == 1 else log.warning)(
                f"dialling paused: the telephony provider {words} (code {error.code}); "
                f"next try at {pause.paused_until.isoformat()}",
                extra={"attempt": claim.attempt_id, "code": error.code, "status": error.status, "error": error.message},
            )
        if unknown:
            # A 5xx or a timeout may hide a call that was created: dialling again could ring the
            # customer twice. The attempt stays open (and counted); its webhooks or the reaper, which
            # lists the provider's calls, will say whether the call exists.
            return
        with self.db.begin() as session:
            attempt = session.get(CallAttempt, claim.attempt_id)
            assert attempt is not None
            req = attempt.request
            if req.status != "dialing":
                line.unplaced(session, attempt, now, outcome="canceled")
            elif req.hold_call_sid:
                # A holder's redirect, refused (and said so, _connect_holder): they are still in the
                # line. Back in their place, uncounted and never failed for it, nor their request's own
                # time changed; the pause of redirects spaces the next try.
                line.unplaced(session, attempt, now, outcome=REFUSED)
                return
            elif error.code in BAD_NUMBER_CODES and attempt.agent_first:
                # Agent-first dials the agent: it is the agent's number that is wrong, not the customer's.
                agent = attempt.agent
                line.unplaced(session, attempt, now, outcome="agent_unreachable")
                line.agent_unreachable(session, agent, error.message, now)
            elif error.code in BAD_NUMBER_CODES:
                line.unplaced(session, attempt, now, outcome="invalid_number")
                req.fail("invalid_number", now)
            elif account or error.code in DESTINATION_CODES:
                # The account's or the destination's settings: an operator's to fix, not the request's
                # fault, so it waits the pause (uncounted) and goes on when they are fixed.
                line.unplaced(session, attempt, now)
                req.next_attempt_at = now + (DESTINATION_PAUSE if error.code in DESTINATION_CODES else REFUSED_PAUSE)
            else:
                # Refused before any call existed, for a reason we do not know to be passing: not the
                # customer's attempt, so it is not counted, and the request waits a little. The same
                # refusal of the same request again and again is this request's (a number the account
                # may not call, say): after REFUSALS_BEFORE_GIVING_UP it fails with the provider's reason,
                # instead of reserving an agent every half minute until it expires.
                line.unplaced(session, attempt, now, outcome=REFUSED)
                refusals = session.scalar(
                    select(func.count())
                    .select_from(CallAttempt)
                    .where(CallAttempt.request_id == req.id, CallAttempt.outcome == REFUSED)
                )
                if (refusals or 0) >= REFUSALS_BEFORE_GIVING_UP:
                    req.fail(PROVIDER_REFUSED, now)
                    log.warning(
                        "request failed: the provider refused its calls",
                        extra={"request": req.id, "code": error.code, "error": error.message},
                    )
                else:
                    req.next_attempt_at = now + REFUSED_PAUSE
        log.warning(
            "calls.create refused", extra={"attempt": claim.attempt_id, "code": error.code, "error": error.message}
        )
