"""Call recordings: noted when the provider reports them, copied home, verified, then deleted there;
kept RECORDING_RETENTION_DAYS, forgotten with their request, and found for the staff allowed to hear them.

The rule that matters: the provider's copy is deleted only after ours is stored and verified (decoded
back, as long as the original within 1%, checksum written). Every failure before that leaves the
provider's copy alone and tries again after a back-off (30 s, doubling, at most an hour); after
MAX_TRIES the recording is marked `failed` and an ERROR is logged, and still nothing is deleted there.

Several scheduler processes may run `fetch_due` at once: each recording is claimed with a conditional
UPDATE of `next_try_at` (pushed CLAIM_SECONDS ahead) before anyone downloads it, so exactly one
process works on it; a process that dies mid-way leaves a claim that simply expires. The claim counts
the try, so a copy that kills its process every time (too big for the machine) is still given up
after MAX_TRIES, not retried forever.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.models import CallbackRequest
from callback.service import forgotten
from core.db import rows_changed
from core.errors import InvalidInput
from recordings import audio
from recordings.models import RECORDING_KINDS, Recording
from recordings.storage import AudioStore, StorageError, new_key, sha256
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)

# Back-off between tries: FIRST_BACKOFF, doubling, never more than MAX_BACKOFF.
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# After this many failed tries the recording is `failed` (a person looks); the provider keeps its copy.
MAX_TRIES = 12
# How long a claimed recording is hidden from other processes: longer than any download and transcode.
CLAIM_SECONDS = 600
# Recordings worked on in one pass of the job (the rest wait for the next pass, seconds later).
BATCH = 10
# The provider reports durations in whole seconds: its figure may be off by up to one second.
PROVIDER_ROUNDING_SECONDS = 1.0
_PROVIDER_SID = re.compile(r"^RE[0-9A-Za-z]{32}$")
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")

Sessions = Callable[[], Session]


class CopyRejected(Exception):
    """Our copy (or what the provider sent) does not match the recording: it is not kept."""


def backoff(tries: int) -> timedelta:
    """The wait after the `tries`-th failure: 30 s, 60 s, 2 min ... at most an hour."""
    return min(FIRST_BACKOFF * (2 ** max(0, tries - 1)), MAX_BACKOFF)


# --- noting a recording the provider made --------------------------------------------------------------


def note_recording(
    session: Session,
    *,
    provider_sid: str,
    call_sid: str | None,
    url: str | None,
    duration_seconds: int | None,
    channels: int,
    kind: str,
    request_id: int | None,
    attempt_id: int | None,
    agent_id: int | None,
    now: datetime,
) -> Recording:
    """Note a recording the provider reports (its recording status callback), due for fetching now.

    Idempotent on `provider_sid`: Twilio retries webhooks, so a repeated report changes nothing but
    fills fields the first one lacked. The caller commits.
    """
    if not _PROVIDER_SID.fullmatch(provider_sid or ""):
        raise InvalidInput("bad_recording_sid", f"Not a recording SID: {provider_sid!r}.", "provider_sid")
    if kind not in RECORDING_KINDS:
        raise InvalidInput("bad_kind", f"A recording is one of {', '.join(RECORDING_KINDS)}.", "kind")
    if channels not in (1, 2):
        raise InvalidInput("bad_channels", "A recording has one or two channels.", "channels")
    if duration_seconds is not None and duration_seconds < 0:
        raise InvalidInput("bad_duration", "A recording's duration cannot be negative.", "duration_seconds")
    found = session.scalar(select(Recording).where(Recording.provider_sid == provider_sid))
    if found is None:
        recording = Recording(
            provider_sid=provider_sid,
            provider_call_sid=call_sid,
            provider_url=url,
            provider_duration_seconds=duration_seconds,
            channels=channels,
            kind=kind,
            request_id=request_id,
            attempt_id=attempt_id,
            agent_id=agent_id,
            state="pending",
            tries=0,
            next_try_at=now,
            created_at=now,
        )
        try:
            # A savepoint: a racing duplicate report loses the unique index, and we read its row.
            with session.begin_nested():
                session.add(recording)
        except IntegrityError:
            found = session.scalar(select(Recording).where(Recording.provider_sid == provider_sid))
            if found is None:
                raise
        else:
            log.info("recording noted", extra={"recording": recording.public_id, "provider_sid": provider_sid})
            return recording
    fill = {
        "provider_call_sid": call_sid,
        "provider_url": url,
        "provider_duration_seconds": duration_seconds,
        "request_id": request_id,
        "attempt_id": attempt_id,
        "agent_id": agent_id,
    }
    for name, value in fill.items():
        if value is not None and getattr(found, name) is None:
            setattr(found, name, value)
    return found


# --- bringing recordings home --------------------------------------------------------------------------


@dataclass
class FetchPass:
    """What one pass of the fetch job did."""

    stored: int = 0
    retried: int = 0
    failed: int = 0
    deleted_at_provider: int = 0


@dataclass(frozen=True)
class _Copy:
    key: str
    data: bytes
    seconds: float
    channels: int
    digest: str


def fetch_due(
    sessions: Sessions, telephony: Telephony, store: AudioStore, now: datetime, limit: int = BATCH
) -> FetchPass:
    """Bring home every pending recording whose try is due, and delete at the provider every stored
    copy whose deletion there is due (a delete that failed earlier, without fetching again)."""
    done = FetchPass()
    for recording_id in _due(sessions, now, limit):
        if not _claim(sessions, recording_id, now):
            _give_up_if_spent(sessions, recording_id, now, done)  # or another process took it
            continue
        with sessions() as session:
            recording = session.get(Recording, recording_id)
            if recording is None:
                continue
            state, sid = recording.state, recording.provider_sid
            # Its request was forgotten before the recording came (reported late, or its quick delete failed).
            unwanted = recording.request is not None and forgotten(recording.request)
        if state == "pending" and unwanted:
            _drop_unfetched(sessions, telephony, recording_id, now, done, "of a forgotten request")
        elif state == "pending":
            _fetch_one(sessions, telephony, store, recording_id, now, done)
        elif state == "stored":
            _delete_at_provider(sessions, telephony, recording_id, sid, now, done)
    return done


def _due(sessions: Sessions, now: datetime, limit: int) -> list[int]:
    r = Recording
    with sessions() as session:
        pending = session.scalars(
            select(r.id).where(r.state == "pending", r.next_try_at <= now).order_by(r.next_try_at).limit(limit)
        ).all()
        undeleted = session.scalars(
            select(r.id)
            .where(r.state == "stored", r.provider_deleted_at.is_(None), r.next_try_at <= now)
            .order_by(r.next_try_at)
            .limit(limit)
        ).all()
    return [*pending, *undeleted]


def _claim(sessions: Sessions, recording_id: int, now: datetime) -> bool:
    """Take the recording for this process: push its next try ahead, only if it is still due.

    A copy's try is counted here, before any work: a process killed mid-copy (out of memory, a
    restart) never gets to count its failure, and an uncounted try would come back every
    CLAIM_SECONDS for ever. A recording with no try left is not taken (`_give_up_if_spent`)."""
    r = Recording
    with sessions() as session:
        changed = rows_changed(
            session,
            update(r)
            .where(
                r.id == recording_id,
                r.next_try_at <= now,
                or_(r.state == "stored", and_(r.state == "pending", r.tries < MAX_TRIES)),
            )
            .values(
                next_try_at=now + timedelta(seconds=CLAIM_SECONDS),
                tries=case((r.state == "pending", r.tries + 1), else_=r.tries),
            ),
        )
        session.commit()
    return changed == 1


def _give_up_if_spent(sessions: Sessions, recording_id: int, now: datetime, done: FetchPass) -> None:
    """A pending recording whose every try began and none ended (each claim expired): `failed`."""
    r = Recording
    with sessions() as session:
        changed = rows_changed(
            session,
            update(r)
            .where(r.id == recording_id, r.state == "pending", r.next_try_at <= now, r.tries >= MAX_TRIES)
            .values(
                state="failed",
                next_try_at=None,
                last_error=func.coalesce(r.last_error, "no try ended: the process stopped while copying"),
            ),
        )
        session.commit()
    if changed:
        done.failed += 1
        log.error(
            "recording could not be copied home; the provider keeps its copy",
            extra={"recording_id": recording_id, "tries": MAX_TRIES, "error": "no try ended"},
        )


def _drop_unfetched(
    sessions: Sessions, telephony: Telephony, recording_id: int, now: datetime, done: FetchPass, why: str
) -> None:
    """A recording we will not keep: deleted at the provider, never fetched (again), and our note of it
    with it; `why` says which (a request forgotten before it came, a recording of nothing)."""
    with sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            return
        sid = recording.provider_sid
    try:
        telephony.delete_recording(sid)
    except TelephonyError as exc:
        _failed(sessions, recording_id, exc, now, done)
        return
    with sessions() as session:
        session.execute(delete(Recording).where(Recording.id == recording_id))
        session.commit()
    done.deleted_at_provider += 1
    log.info(f"recording {why} deleted at the provider", extra={"recording_id": recording_id, "provider_sid": sid})


def _fetch_one(
    sessions: Sessions, telephony: Telephony, store: AudioStore, recording_id: int, now: datetime, done: FetchPass
) -> None:
    with sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            return
        sid, expected = recording.provider_sid, recording.provider_duration_seconds
    key: str | None = None
    try:
        wav = telephony.fetch_recording(sid)
        copy = _make_copy(wav, expected, now)
        key = copy.key
        store.put(copy.key, copy.data)
        # Read back what the store holds: the checksum we keep is the checksum of what is there.
        if sha256(store.get(copy.key)) != copy.digest:
            raise CopyRejected("the stored file differs from what was written")
    except Exception as exc:  # noqa: BLE001 - whatever failed, the provider's copy stays and we retry
        if key is not None:
            _discard(store, key)
        if isinstance(exc, audio.AudioRejected) and exc.code == audio.EMPTY and not expected:
            # Reported as lasting 0 s and holding no sample: nothing was recorded (Twilio's "absent").
            _drop_unfetched(sessions, telephony, recording_id, now, done, "that held nothing")
        else:
            _failed(sessions, recording_id, exc, now, done)
        return
    with sessions() as session:
        r = Recording
        changed = rows_changed(
            session,
            update(r)
            .where(r.id == recording_id, r.state == "pending")
            .values(
                state="stored",
                storage_key=copy.key,
                format=audio.COMPACT_FORMAT,
                duration_seconds=round(copy.seconds, 3),
                channels=copy.channels,
                bytes=len(copy.data),
                sha256=copy.digest,
                stored_at=now,
                last_error=None,
                next_try_at=now,
                # The claim counted this try before it began; only failed ones stay counted (and, from
                # here on, failed deletes of the provider's copy, for their back-off).
                tries=r.tries - 1,
            ),
        )
        session.commit()
    if not changed:
        # Forgotten or purged while we worked: keep nothing of it.
        _discard(store, copy.key)
        log.info("recording gone while being fetched; copy discarded", extra={"recording_id": recording_id})
        return
    done.stored += 1
    log.info(
        "recording stored",
        extra={"recording_id": recording_id, "provider_sid": sid, "seconds": copy.seconds, "bytes": len(copy.data)},
    )
    _delete_at_provider(sessions, telephony, recording_id, sid, now, done)


def _make_copy(wav: bytes, expected_seconds: int | None, now: datetime) -> _Copy:
    """Transcode the provider's WAV and check the copy: as long as the original within 1%, and the
    original as long as the provider says (to its whole second), so a cut-off download is refused."""
    original = audio.decode(wav)
    original_seconds = audio.seconds(original)
    if expected_seconds is not None:
        allowed = max(expected_seconds * audio.DURATION_TOLERANCE, PROVIDER_ROUNDING_SECONDS)
        if abs(original_seconds - expected_seconds) > allowed:
            raise CopyRejected(
                f"the media lasts {original_seconds:.2f} s but the provider reported {expected_seconds} s"
            )
    data = audio.compact(original)
    try:
        # Decoded whole and counted as it streams: never held in memory (an hour would be gigabytes).
        copy = audio.decoded_length(data)
    except audio.AudioRejected as exc:
        raise CopyRejected(f"the copy cannot be read in full: {exc.message}") from exc
    if not audio.same_length(copy.seconds, original_seconds):
        raise CopyRejected(f"the copy lasts {copy.seconds:.3f} s, the original {original_seconds:.3f} s")
    if copy.channels != original.channels:
        raise CopyRejected(f"the copy has {copy.channels} channel(s), the original {original.channels}")
    key = new_key("recordings", now.year, audio.COMPACT_FORMAT)
    return _Copy(key=key, data=data, seconds=copy.seconds, channels=original.channels, digest=sha256(data))


def _discard(store: AudioStore, key: str) -> None:
    try:
        store.delete(key)
    except StorageError:
        log.warning("could not remove a discarded copy", extra={"key": key}, exc_info=True)


def _failed(sessions: Sessions, recording_id: int, exc: Exception, now: datetime, done: FetchPass) -> None:
    """Schedule the next try (counted by its claim), or give up after MAX_TRIES; never touch the provider."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None or recording.state != "pending":
            return
        recording.last_error = error
        if recording.tries >= MAX_TRIES:
            recording.state = "failed"
            recording.next_try_at = None
            done.failed += 1
            log.error(
                "recording could not be copied home; the provider keeps its copy",
                extra={"recording_id": recording_id, "provider_sid": recording.provider_sid, "error": error},
            )
        else:
            recording.next_try_at = now + backoff(recording.tries)
            done.retried += 1
            log.warning(
                "recording fetch failed; will retry",
                extra={
                    "recording_id": recording_id,
                    "tries": recording.tries,
                    "next_try_at": recording.next_try_at.isoformat(),
                    "error": error,
                },
            )
        session.commit()


def _delete_at_provider(
    sessions: Sessions, telephony: Telephony, recording_id: int, sid: str, now: datetime, done: FetchPass
) -> None:
    """Delete the provider's copy of a recording we hold; a failure is retried later, without refetching."""
    try:
        telephony.delete_recording(sid)
    except TelephonyError as exc:
        with sessions() as session:
            recording = session.get(Recording, recording_id)
            if recording is not None:
                recording.tries += 1
                recording.last_error = f"delete at provider: {exc}"[:2000]
                recording.next_try_at = now + backoff(recording.tries)
                session.commit()
        log.warning("provider's copy not deleted; will retry", extra={"recording_id": recording_id, "code": exc.code})
        return
    with sessions() as session:
        session.execute(
            update(Recording)
            .where(Recording.id == recording_id)
            .values(provider_deleted_at=now, next_try_at=None, last_error=None)
        )
        session.commit()
    done.deleted_at_provider += 1
    log.info("provider's copy deleted", extra={"recording_id": recording_id, "provider_sid": sid})


def retry_failed(session: Session, now: datetime) -> int:
    """Put every `failed` recording back in line with its tries from zero (once a person fixed the
    cause: credentials, disk, ffmpeg); the provider still holds each of them. The caller commits."""
    r = Recording
    return rows_changed(session, update(r).where(r.state == "failed").values(state="pending", tries=0, next_try_at=now))


# --- retention and forgetting ----------------------------------------------------------------------


def purge(
    session: Session, store: AudioStore, before: datetime, telephony: Telephony | None = None, *, now: datetime
) -> int:
    """Delete every recording made before `before`: our file, then (with `telephony`) a provider copy
    never deleted, then the row, each committed on its own; logs each. A recording whose file or
    provider copy could not be deleted keeps its row, so the next run tries again. Returns how many
    were deleted."""
    found = session.scalars(select(Recording.id).where(Recording.created_at < before).order_by(Recording.id)).all()
    return sum(1 for recording_id in found if _remove(session, store, telephony, recording_id, "retention", now))


def forget_request(
    session: Session, store: AudioStore, telephony: Telephony | None, request_id: int, *, now: datetime
) -> int:
    """Delete every recording of a request (a customer asked us to forget them): provider copies,
    files, rows, each recording committed on its own (a file or a provider's copy, once deleted, cannot
    be rolled back). Raises StorageError on the first one that cannot be deleted, saying how many are
    done: running it again deletes the rest. Returns how many were deleted."""
    found = session.scalars(select(Recording.id).where(Recording.request_id == request_id).order_by(Recording.id)).all()
    for done, recording_id in enumerate(found):
        if not _remove(session, store, telephony, recording_id, "forget", now):
            error = session.scalar(select(Recording.last_error).where(Recording.id == recording_id))
            raise StorageError(
                f"recording {recording_id} could not be deleted ({error or 'see the log'}); {done} of {len(found)} "
                "recording(s) deleted before it. Run the command again to delete the rest"
            )
    return len(found)


def discard_if_forgotten(session: Session, telephony: Telephony, recording: Recording) -> bool:
    """A recording reported after its request was forgotten is not kept: the provider's copy is deleted
    at once, and our note of it with it. If the provider cannot delete it now, the note stays and the
    fetch job deletes it there later, never fetching it. True if the recording was of a forgotten
    request. The caller commits."""
    req = session.get(CallbackRequest, recording.request_id) if recording.request_id is not None else None
    if req is None or not forgotten(req):
        return False
    details = {"recording_id": recording.id, "provider_sid": recording.provider_sid, "request_id": req.id}
    try:
        telephony.delete_recording(recording.provider_sid)
    except TelephonyError as exc:
        log.warning(
            "recording of a forgotten request not deleted at the provider yet; the fetch job will",
            extra={**details, "code": exc.code},
        )
        return True
    session.execute(delete(Recording).where(Recording.id == recording.id))
    log.info("recording of a forgotten request deleted at the provider", extra=details)
    return True


def _remove(
    session: Session, store: AudioStore, telephony: Telephony | None, recording_id: int, why: str, now: datetime
) -> bool:
    """Delete one recording everywhere and commit; False (logged, the row kept) if its provider copy or
    file could not be deleted. The row is read afresh and locked (on PostgreSQL), and deleted only as it
    was read: the fetch job may store a copy while we work, and that copy must go too, not be left on
    disk with no row to find it by."""
    for _ in range(3):
        recording = session.scalars(
            select(Recording)
            .where(Recording.id == recording_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if recording is None:
            session.commit()
            return True
        key = recording.storage_key
        details = {
            "recording_id": recording.id,
            "public_id": recording.public_id,
            "request_id": recording.request_id,
            "created_at": recording.created_at.isoformat(),
            "state": recording.state,
            "why": why,
        }
        if telephony is not None and recording.provider_deleted_at is None:
            try:
                telephony.delete_recording(recording.provider_sid)
            except TelephonyError as exc:
                recording.last_error = f"delete at provider: {exc}"[:2000]
                session.commit()
                log.error(
                    "recording kept: the provider's copy could not be deleted", extra={**details, "code": exc.code}
                )
                return False
            # Never fetched again, whatever happens next.
            recording.provider_deleted_at = recording.provider_deleted_at or now
            recording.next_try_at = None
        if key:
            try:
                store.delete(key)
            except StorageError as exc:
                recording.last_error = f"delete our copy: {exc}"[:2000]
                session.commit()
                log.error("recording kept: its file could not be deleted", extra=details, exc_info=True)
                return False
        gone = rows_changed(
            session,
            delete(Recording).where(
                Recording.id == recording_id,
                Recording.storage_key.is_(None) if key is None else Recording.storage_key == key,
            ),
        )
        session.commit()
        if gone:
            log.info("recording deleted", extra=details)
            return True
        # Stored by the fetch job since we read it: once more, with its file.
    log.error("recording kept: it kept changing while being deleted", extra={"recording_id": recording_id, "why": why})
    return False


# --- reading ----------------------------------------------------------------------------------------


def stored_for_request(session: Session, request_id: int) -> Sequence[Recording]:
    """A request's recordings that we hold (stored), oldest first."""
    r = Recording
    return session.scalars(
        select(r).where(r.request_id == request_id, r.state == "stored").order_by(r.created_at, r.id)
    ).all()


def for_request(session: Session, request_id: int) -> Sequence[Recording]:
    """Every recording of a request, whatever its state (stored, being copied, or failed to copy),
    oldest first: what staff are told exists, where `stored_for_request` is what they can play."""
    r = Recording
    return session.scalars(select(r).where(r.request_id == request_id).order_by(r.created_at, r.id)).all()


def stored_for_agent(session: Session, agent_id: int, limit: int = 20) -> Sequence[Recording]:
    """The agent's own most recent stored recordings, newest first."""
    r = Recording
    return session.scalars(
        select(r)
        .where(r.agent_id == agent_id, r.state == "stored")
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(limit)
    ).all()


def by_public_id(session: Session, public_id: str) -> Recording | None:
    """A stored recording by the id its URL names; None for anything else (a forged id, a pending one)."""
    if not _PUBLIC_ID.fullmatch(public_id or ""):
        return None
    return session.scalar(select(Recording).where(Recording.public_id == public_id, Recording.state == "stored"))


def may_hear(role: str, staff_agent_id: int | None, recording: Recording) -> bool:
    """Supervisors and admins hear every recording; an agent the calls they took, and the message a
    caller left on a request that is (or was) theirs to call back."""
    if role in ("supervisor", "admin"):
        return True
    if staff_agent_id is None:
        return False
    if recording.agent_id == staff_agent_id:
        return True
    req = recording.request
    if recording.kind != "message" or req is None:
        return False
    return req.agent_id == staff_agent_id or any(a.agent_id == staff_agent_id for a in req.call_attempts)


def messages_for_request(session: Session, request_id: int) -> Sequence[Recording]:
    """The messages a caller left on this request that we hold, oldest first."""
    return [r for r in stored_for_request(session, request_id) if r.kind == "message"]
