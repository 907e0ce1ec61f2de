"""One webhook's view of a phone-menu call: the database, the tree, the caller's language, and the
words and TwiML in that language. Built per webhook by ivr.voice; nothing in it outlives the request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Queue
from callback.policy import Limits
from core import phone as phones
from core.clock import Clock
from core.webhooks import Webhooks
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
        queue = self.session.scalar(select(Queue).where(Queue.name == queue_name)) if queue_name else None
        return queue.business_hours.zone if queue is not None else UTC

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


def load(call: Call, call_sid: str) -> IvrSession | None:
    """The call's session, with the call speaking its language."""
    ivr = call.session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    if ivr is not None:
        call.language = ivr.language
    return ivr


def lost(call: Call) -> str:
    """A webhook for a call we have no session of: apologise and end it."""
    return str(call.reply().say(call.text("something_went_wrong")).hangup())
