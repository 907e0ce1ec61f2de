"""One webhook's view of a phone-menu call: the database, the tree, the caller's language, and the
words and TwiML in that language. Built per webhook by ivr.voice; nothing in it outlives the request."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Insert

from agents.zones import QueueZones
from callback.policy import Limits
from core import phone as phones
from core.clock import Clock
from core.db import holds_connection
from core.webhooks import Webhooks
from ivr import speech
from ivr.models import IvrSession
from ivr.tree import Text, Tree
from ivr.twiml import Clip, Part, Reply
from orders.port import OrderLookup
from recordings import prompts

log = logging.getLogger(__name__)

DEFAULT_VOICE = "Polly.Joanna"


@dataclass
class Call:
    """Everything one webhook needs: the database, the tree, the order data, and where we live."""

    session: Session
    clock: Clock
    tree: Tree
    lookup: OrderLookup
    hooks: Webhooks
    policy: phones.PhonePolicy
    caller_id: str
    zones: QueueZones
    # Connections outside the request's transaction (Database.reading): a new call's session is one
    # INSERT that commits by itself.
    reading: Callable[[], AbstractContextManager[Connection]]
    ring_timeout: int = 20
    limits: Limits = Limits()
    # The longest message a caller may leave when the queue is closed (MESSAGE_MAX_SECONDS).
    message_max_seconds: int = 120
    # Tells the dispatcher a caller joined the line (a hold or a callback), after the commit.
    wake: Callable[[], None] = lambda: None
    # The caller's language (a code of the tree's); set from their session once it is read.
    language: str = ""

    @property
    def lang(self) -> str:
        """The language this webhook speaks: the caller's, else the tree's default."""
        return self.language if self.language in self.tree.languages else self.tree.default_language

    def zone(self, queue_name: str | None) -> tzinfo:
        """Where the shop's team for this topic works: the queue's time zone (UTC for an unknown queue).

        Order times are stored in UTC; "delivered yesterday" must mean the day where the shop answers."""
        return self.zones.zone(queue_name)

    def today(self, zone: tzinfo) -> date:
        """Today's date in `zone`."""
        return self.clock.now().astimezone(zone).date()

    def url(self, node: str, **params: str) -> str:
        """The absolute URL of the input webhook for a node (Twilio must be given absolute URLs)."""
        return self.hooks.ivr("input", node=node, **params)

    def reply(self) -> Reply:
        """A new TwiML reply in the caller's language and its voice."""
        locale = self.tree.locale(self.lang)
        return Reply(locale.voice or DEFAULT_VOICE, locale.speech)

    def words(self, text: Text) -> str:
        """A tree sentence in the caller's language."""
        return text.in_language(self.lang)

    def text(self, key: str, **values: object) -> str:
        """One of the tree's `texts:` in the caller's language, its placeholders filled in."""
        return self.tree.text(key, self.lang, **values)

    def intents(self, *names: str) -> dict[str, tuple[str, ...]]:
        """The phrases of these intents in the caller's language."""
        known = self.tree.intents_in(self.lang)
        return {name: known.get(name, ()) for name in names}

    def sound(self, text: Text, play: str | None) -> Part:
        """A tree sentence, as the shop's recording of it when the tree names one and it exists."""
        sentence = self.words(text)
        # A recording is of the words in the tree's default language: other languages are said.
        if not play or self.lang != self.tree.default_language:
            return sentence
        url = prompts.play_url(self.session, self.hooks, play)
        if url is None:
            # Not fatal: the sentence is said instead (`ivr check` lists prompts that are missing).
            log.info("prompt missing, saying its sentence", extra={"prompt": play})
        return Clip(sentence, url)


def open_session(call: Call, call_sid: str, caller: str, called: str, state: dict[str, Any]) -> IvrSession:
    """A new call's session at the tree's start, in the tree's default language, with the caller
    speaking it. A retried /voice/incoming gets the session its first try wrote.

    One INSERT in a transaction of its own, not an ORM flush: it is the one write a new call needs
    (three round trips fewer, and none of the unit of work's bookkeeping, on every call). The row
    then joins the request's session as though read from the database, so later changes are saved
    as usual."""
    now = call.clock.now()
    values: dict[str, Any] = {
        "call_sid": call_sid,
        "caller": caller,
        "called": called,
        "started_at": now,
        "updated_at": now,
        "ended_at": None,
        "node": call.tree.start,
        "language": call.tree.default_language,
        "state": json.dumps(state),
        "steps": "[]",
        "topic": None,
        "outcome": None,
        "request_id": None,
    }
    with call.reading() as connection:
        new_id = connection.scalar(_insert_unless_retried(connection.dialect.name), values)
    if new_id is None:
        # Twilio retried /voice/incoming: carry on with the first try's session.
        found = load(call, call_sid)
        assert found is not None, "a call SID that conflicts must have its row"
        return found
    # Every column is set above, so nothing is left to load (a round trip) on first use.
    ivr = _attached(call.session, IvrSession(id=new_id, **values))
    call.language = ivr.language
    return ivr


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_BUILT: dict[str, Insert] = {}


def _insert_unless_retried(dialect: str) -> Insert:
    """INSERT ... ON CONFLICT (call_sid) DO NOTHING RETURNING id, built once per dialect."""
    statement = _BUILT.get(dialect)
    if statement is None:
        insert = _INSERTS.get(dialect)
        if insert is None:
            raise NotImplementedError(f"the phone menu supports SQLite and PostgreSQL, not {dialect}")
        new: Any = insert(IvrSession)  # either dialect's Insert, both with on_conflict_do_nothing
        statement = new.on_conflict_do_nothing(index_elements=["call_sid"]).returning(IvrSession.id)
        _BUILT[dialect] = statement
    return statement


def load(call: Call, call_sid: str) -> IvrSession | None:
    """The call's session, with the call speaking its language.

    Read outside the request's transaction (one round trip, no BEGIN) and joined to the request's
    session as though the ORM had read it, unless the request already holds it."""
    with call.reading() as connection:
        row = connection.execute(_BY_CALL_SID, {"call_sid": call_sid}).first()
    if row is None:
        return None
    ivr = _attached(call.session, IvrSession(**row._mapping))
    call.language = ivr.language
    return ivr


def save(call: Call, ivr: IvrSession) -> None:
    """Commit the webhook's work. When the call's session is all it changed and the request's
    transaction never reached the database, that is one UPDATE of its own (no BEGIN, no COMMIT to
    wait for, no unit of work): what a step through the menu costs."""
    session = call.session
    alone = not session.new and not session.deleted and all(obj is ivr for obj in session.dirty)
    if not alone or holds_connection(session):
        session.commit()
        return
    changes = {attr.key: attr.value for attr in inspect(ivr).attrs if attr.history.has_changes()}
    if not changes:
        return
    with call.reading() as connection:
        connection.execute(_UPDATE_BY_ID, {"ivr_id": ivr.id, **changes})
    for key, value in changes.items():
        set_committed_value(ivr, key, value)  # the row holds it now: a later flush has nothing to write


_UPDATE_BY_ID = update(IvrSession).where(IvrSession.id == bindparam("ivr_id"))
_BY_CALL_SID = select(*IvrSession.__table__.columns).where(IvrSession.call_sid == bindparam("call_sid"))


def _attached(session: Session, ivr: IvrSession) -> IvrSession:
    """`ivr`, read with every column, made the session's own; or the session's copy if it has one."""
    held = session.identity_map.get(identity_key(IvrSession, ivr.id))
    if held is not None:
        assert isinstance(held, IvrSession)
        return held
    make_transient_to_detached(ivr)
    session.add(ivr)
    return ivr


# "Hold on" is answered with time this many times at one question; after that it is an answer we
# could not use, like any other, so a call cannot go round for ever.
TIME_GIVEN = 3


def given_time(call: Call, ivr: IvrSession, said: str) -> bool:
    """Whether words that answered nothing asked for a moment ("hold on, let me find it"), and may have
    it: TIME_GIVEN times at one question (counted in the session's state until its counters reset)."""
    state = ivr.get_state()
    if state.get("time_given", 0) >= TIME_GIVEN or not speech.asks_for_time(said, language=call.lang):
        return False
    state["time_given"] = state.get("time_given", 0) + 1
    ivr.set_state(state)
    return True


def lost(call: Call) -> str:
    """A webhook for a call we have no session of: apologise and end it."""
    return str(call.reply().say(call.text("something_went_wrong")).hangup())
