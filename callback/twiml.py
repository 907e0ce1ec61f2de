"""TwiML for a callback's call: confirm, voicemail, connect, whisper, goodbye. Built, never templated."""

from __future__ import annotations

import json
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from agents.models import Agent, language_words, primary_language
from callback import recording
from callback.models import PHONE_CALLER, AgentLeg, CallAttempt, CallbackRequest
from core.webhooks import Webhooks

VOICE = "Polly.Joanna"

# What the customer hears is in the language the request was made in (CallbackRequest.language):
# a Twilio voice and <Say>/<Gather> language for each, and the Spanish of every sentence below.
# The staff's side of a call (screen, whisper, agent-first offers) stays in English.
VOICES = {"en": ("Polly.Joanna", None), "es": ("Polly.Lupe", "es-US")}

# The end of a call that did not reach the customer when no call is left (callback.policy.retry_at):
# never "we'll try you again" when we won't.
NO_MORE_CALLS = (
    "We won't call you again about this request. If you still need us, please ask for a callback again "
    "on our website, or call us. Goodbye."
)

# The end of a phone-menu call whose agent was lost, to a caller whose caller ID matched another open
# request (callback.voice): it may be theirs, or not, so it is neither promised nor denied.
NOBODY_FREE_BOOKING_STANDS = (
    "Sorry, nobody could take your call just now. Please call us again later. Any callback booked for your "
    "number still stands. Goodbye."
)

# Asked for a moment on our call ("hold on, let me get somewhere quiet"): they have it, once.
WAIT_FOR_THEM = "Sure, take your time. When you're ready, press 1 or say yes."
# Asked never to be called again: the number is on the do-not-call list from now on.
STOPPED = "Understood. We won't call this number again. Goodbye."

# English sentence (as this module and callback.voice write it) -> Spanish. A sentence missing here
# is said in English, so a new prompt is never silent.
SPANISH = {
    "Sorry, I didn't catch that. Press 1, or say yes, and I'll put you through.": (
        "Perdone, no le he entendido. Oprima 1, o diga sí, y le pondré en contacto."
    ),
    "Sorry, I didn't hear anything. Press 1, or say yes, and I'll put you through.": (
        "Perdone, no he oído nada. Oprima 1, o diga sí, y le pondré en contacto."
    ),
    "We'll try you again a little later. Goodbye.": "Le volveremos a llamar un poco más tarde. Adiós.",
    NO_MORE_CALLS: (
        "No volveremos a llamarle por esta consulta. Si todavía nos necesita, pida otra llamada "
        "en nuestra web o llámenos. Adiós."
    ),
    "Thank you. Connecting you now.": "Gracias. Le ponemos en contacto ahora.",
    "Thanks for holding. Connecting you now.": "Gracias por esperar. Le ponemos en contacto ahora.",
    "Sorry for the wait. One moment, please, while I find someone else.": (
        "Perdone la espera. Un momento, por favor, mientras busco a otra persona."
    ),
    "No problem. We won't connect you now. If you still need us, just ask again. Goodbye.": (
        "De acuerdo. No le pondremos en contacto ahora. Si todavía nos necesita, vuelva a pedirlo. Adiós."
    ),
    "Sorry, I didn't catch that. We'll try you again a little later. Goodbye.": (
        "Perdone, no le he entendido. Le volveremos a llamar un poco más tarde. Adiós."
    ),
    "Sorry, I didn't catch that. " + NO_MORE_CALLS: (
        "Perdone, no le he entendido. No volveremos a llamarle por esta consulta. Si todavía nos necesita, "
        "pida otra llamada en nuestra web o llámenos. Adiós."
    ),
    (
        "Sorry, nobody could take your call just now. You keep your place at the front of the line, "
        "and we'll call you back as soon as someone is free. Goodbye."
    ): (
        "Lo sentimos, nadie ha podido atenderle ahora. Conserva su lugar al principio de la fila "
        "y le llamaremos en cuanto alguien esté libre. Adiós."
    ),
    (
        "Sorry, nobody could take your call just now, and we've already called you as many times as we may "
        "for this request. Please ask for a callback again on our website when it suits you. Goodbye."
    ): (
        "Lo sentimos, nadie ha podido atenderle ahora, y ya le hemos llamado todas las veces que podemos por "
        "esta solicitud. "
        "Pida otra llamada en nuestra web cuando le venga bien. Adiós."
    ),
    (
        "Sorry, nobody could take your call just now, and we can't call you back on the number you're calling "
        "from. Please call us again, or ask for a callback on our website. Goodbye."
    ): (
        "Lo sentimos, nadie ha podido atenderle ahora, y no podemos devolverle la llamada al número desde el "
        "que llama. Vuelva a llamarnos, o pida una llamada en nuestra web. Adiós."
    ),
    NOBODY_FREE_BOOKING_STANDS: (
        "Lo sentimos, nadie ha podido atenderle ahora. Vuelva a llamarnos más tarde. Cualquier llamada "
        "programada para su número sigue en pie. Adiós."
    ),
    "Thank you for talking with us. Goodbye.": "Gracias por hablar con nosotros. Adiós.",
    WAIT_FOR_THEM: "Claro, tómese su tiempo. Cuando esté listo, oprima 1 o diga sí.",
    "No problem. We'll try you again a little later. Goodbye.": (
        "De acuerdo. Le volveremos a llamar un poco más tarde. Adiós."
    ),
    "No problem. " + NO_MORE_CALLS: (
        "De acuerdo. No volveremos a llamarle por esta consulta. Si todavía nos necesita, pida otra llamada "
        "en nuestra web o llámenos. Adiós."
    ),
    STOPPED: "Entendido. No volveremos a llamar a este número. Adiós.",
    recording.NOTICE: "Esta llamada puede ser grabada para fines de calidad y formación.",
}


def _lang(language: str | None) -> str:
    return language if language in VOICES else "en"


def words_in(language: str | None, english: str) -> str:
    """`english` as said to a customer whose request is in `language` (English when untranslated)."""
    return SPANISH.get(english, english) if _lang(language) == "es" else english


def _say_to(parent: VoiceResponse | Gather, words: str, language: str | None) -> None:
    """Say customer-facing `words` (already in `language`) with that language's voice."""
    voice, tag = VOICES[_lang(language)]
    if tag is None:
        parent.say(words, voice=voice)
    else:
        parent.say(words, voice=voice, language=tag)


def _about(req: CallbackRequest) -> str:
    about = _topic(req)
    if req.order_number:
        order = "pedido" if _lang(req.language) == "es" else "order"
        about += f", {order} {' '.join(req.order_number)}"
    return about


# The topics as said in Spanish (the queues' display names are the shop's English words).
SPANISH_TOPICS = {
    "orders": "pedidos, seguimiento y entregas",
    "returns": "devoluciones y reembolsos",
    "payments": "pagos y facturación",
    "account": "su cuenta",
    "devices": "dispositivos y ayuda técnica",
    "other": "otra consulta",
}


def _topic(req: CallbackRequest) -> str:
    if _lang(req.language) == "es" and req.queue.name in SPANISH_TOPICS:
        return SPANISH_TOPICS[req.queue.name]
    return req.queue.display_name.lower()


def _first_name(req: CallbackRequest) -> str:
    # A callback asked for in the phone menu has no name, only our placeholder: never "Hello Phone".
    if req.name.split() and not (req.source == "ivr" and req.name == PHONE_CALLER):
        return req.name.split()[0]
    return "" if _lang(req.language) == "es" else "there"


PUT_THROUGH = "Press 1, or say yes, and I'll put you through."


def _ask(action: str, hints: str, words: str, language: str | None = None, timeout: int = 6) -> Gather:
    """One key or a few words, after `words`: the shape of every yes/no question on a call."""
    tag = VOICES[_lang(language)][1]
    extra = {"language": tag} if tag else {}
    gather = Gather(
        input="dtmf speech", num_digits=1, timeout=timeout, action=action, hints=hints, speech_timeout="auto", **extra
    )
    _say_to(gather, words, language)
    return gather


# The words before "when we call again", said to a customer in their language.
LEAD_INS = {
    "No problem.": "De acuerdo.",
    "Sorry, I didn't catch that.": "Perdone, no le he entendido.",
}


@dataclass(frozen=True)
class NextCall:
    """What a customer a call does not reach is promised: another call (`again`), said as a time
    (`when`, as answers.opening_time says it: "tomorrow at 9 AM") or, when it is soon, "a little later"."""

    again: bool
    when: str | None = None


def call_again_at(lead_in: str, then: NextCall, language: str | None) -> str:
    """The end of a call that did not reach the customer, in their `language`: `lead_in` ("No
    problem.", or nothing), then when we call again, or that no call is left."""
    if not then.again or then.when is None:
        return words_in(language, f"{lead_in} {later(then.again)}".strip())
    if _lang(language) == "es":
        return f"{LEAD_INS.get(lead_in, lead_in)} Le volveremos a llamar {then.when}. Adiós.".strip()
    return f"{lead_in} We'll call you again {then.when}. Goodbye.".strip()


def later(call_again: bool) -> str:
    """The last words of a call that did not reach the customer: another call comes, or none will."""
    return "We'll try you again a little later. Goodbye." if call_again else NO_MORE_CALLS


def wait_for_them(req: CallbackRequest, action: str, then: NextCall = NextCall(True)) -> str:
    """The customer asked for a moment: a longer wait for their yes, then the end of a call not reached."""
    response = VoiceResponse()
    lang = _lang(req.language)
    hints = "sí, no, ya estoy" if lang == "es" else "yes, no, I'm back"
    response.append(_ask(action, hints, words_in(lang, WAIT_FOR_THEM), lang, timeout=20))
    _say_to(response, call_again_at("", then, lang), lang)
    response.hangup()
    return str(response)


def confirm(req: CallbackRequest, shop: str, action: str, again: bool = False, then: NextCall = NextCall(True)) -> str:
    """Ask a person who answered to press 1 or say yes (2 or "no" if they no longer need us).

    Silence to the end is told `then`: another call only if one is left (callback.policy.retry_at)."""
    response = VoiceResponse()
    lang = _lang(req.language)
    yes_no = "sí, no" if lang == "es" else "yes, no"
    if again:
        words = words_in(lang, "Sorry, I didn't catch that. Press 1, or say yes, and I'll put you through.")
        response.append(_ask(action, yes_no, words, lang))
    else:
        if lang == "es":
            hello = f"Hola {_first_name(req)}." if _first_name(req) else "Hola."
            greeting = (
                f"{hello} Le llamamos del servicio de atención al cliente de {shop}, por su consulta sobre "
                f"{_about(req)}. Para hablar ahora con un agente, oprima 1 o diga sí. "
                "Si ya no nos necesita, oprima 2 o diga no."
            )
            hints = "sí, no, espere"
        else:
            greeting = (
                f"Hello {_first_name(req)}. This is {shop} customer service, returning your call about "
                f"{_about(req)}. To talk to an agent now, press 1 or say yes. "
                "If you no longer need us, press 2 or say no."
            )
            hints = "yes, no, hold on"
        response.append(_ask(action, hints, greeting, lang))
        # Silence: one more chance in other words, on the same action (which knows it is the second).
        words = words_in(lang, "Sorry, I didn't hear anything. Press 1, or say yes, and I'll put you through.")
        response.append(_ask(action, yes_no, words, lang))
    _say_to(response, call_again_at("", then, lang), lang)
    response.hangup()
    return str(response)


def voicemail(req: CallbackRequest, shop: str, call_back_number: str, then: NextCall = NextCall(True)) -> str:
    """A short message for an answering machine: who called, and what happens next (another call only
    if one is left, as callback.policy.retry_at decides; its time when it is not soon)."""
    response = VoiceResponse()
    spaced = " ".join(call_back_number.lstrip("+"))
    if _lang(req.language) == "es":
        after = (
            f"Le volveremos a llamar {then.when or 'pronto'}. También puede llamarnos al {spaced}."
            if then.again
            else f"No hemos podido hablar con usted y no volveremos a llamarle por esta consulta. "
            f"Pida otra llamada en nuestra web, o llámenos al {spaced}."
        )
        words = (
            f"Hola, le llamamos del servicio de atención al cliente de {shop} por su consulta sobre {_about(req)}. "
            f"{after} Adiós."
        )
    else:
        after = (
            (f"We'll call you again {then.when}" if then.when else "We'll try you again soon")
            + f". You can also call us at {spaced}."
            if then.again
            else "We could not reach you, and we won't call again about this request. "
            f"Please ask for a callback again on our website, or call us at {spaced}."
        )
        words = f"Hello, this is {shop} customer service returning your call about {_about(req)}. {after} Goodbye."
    _say_to(response, words, req.language)
    response.hangup()
    return str(response)


def connect(
    agent: Agent,
    caller_id: str,
    action: str,
    screen_url: str,
    timeout: int = 20,
    greeting: str = "Thank you. Connecting you now.",
    language: str | None = None,
    notice: str = "",
) -> str:
    """Ring the agent; their leg is screened at `screen_url`, and the Dial action learns how it ended.

    `greeting` is what the customer hears first, said in `language` (the request's), then the
    recording `notice` when the queue records."""
    response = VoiceResponse()
    _say_to(response, words_in(language, greeting), language)
    if notice:
        _say_to(response, words_in(language, notice), language)
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id)
    if agent.phone:
        # A mobile's voicemail must not pass for the agent: detect it before the screen plays.
        dial.number(agent.phone, url=screen_url, machine_detection="Enable")
    else:
        dial.client(agent.client, url=screen_url)
    response.append(dial)
    return str(response)


def connect_leg(
    attempt: CallAttempt,
    leg: AgentLeg,
    hooks: Webhooks,
    caller_id: str,
    timeout: int,
    greeting: str,
) -> str:
    """Ring one agent leg of an attempt, screened: callbacks, holders and phone-menu transfers alike."""
    assert leg.agent is not None
    return connect(
        leg.agent,
        caller_id,
        action=hooks.callback("dial-done", attempt=attempt.id, leg=leg.id),
        screen_url=hooks.callback("screen", attempt=attempt.id, leg=leg.id),
        timeout=timeout,
        greeting=greeting,
        language=attempt.request.language,
        notice=recording.notice(attempt.request),
    )


# What the customer typed, read to an agent: framed as theirs, and short.
QUOTE_LIMIT = 60


def quoted(text: str | None) -> str:
    """Customer-supplied words for an agent's ear, capped (the framing around them says whose they are)."""
    words = " ".join((text or "").split())
    return words if len(words) <= QUOTE_LIMIT else words[: QUOTE_LIMIT - 1].rstrip() + "…"


def context_words(req: CallbackRequest, call_number: int | None = None) -> str:
    """Who is waiting and why, for the agent: our words, with the customer's own marked as theirs.
    `call_number`: which of our calls to the customer this is (by default the calls placed so far, the
    last being the one the agent is screened on; agent-first asks the agent before placing it)."""
    if req.source == "ivr" and req.name == PHONE_CALLER:
        who = "A caller from the phone menu"
        matched = req.unverified_caller_id
        if req.dialable:
            who += f", calling from {' '.join(req.phone.removeprefix('+1'))}"
            if req.caller_id_doubted:
                who += ". The carrier could not verify that caller ID, so it may not be theirs"
        elif matched is not None:
            # Their call to us, never the shop's callback: the request of that number, its name and its
            # order are not theirs to be given on the strength of a caller ID anyone can send.
            who += (
                f", calling from {' '.join(matched.removeprefix('+1'))}. Their caller ID matches an open "
                "callback request, but caller ID is not verified, so this may not be that customer"
            )
    else:
        who = f"A callback. The customer gave the name: {quoted(req.name)}"
    words = f"{who}. Topic: {req.queue.display_name.lower()}."
    if req.order_number:
        words += f" Order number, as they typed it: {' '.join(quoted(req.order_number))}."
    number = req.attempts if call_number is None else call_number
    if number > 1:
        words += f" This is call {number} to them."
    if req.source != "ivr" and primary_language(req.language or "en") != "en":
        # We called them in their language; a phone-menu caller's summary says it already.
        words += f" They asked in {language_words(req.language, req.queue)}."
    summary = _ivr_summary(req)
    if summary:
        words += f" {summary}"
    return words


def screen(req: CallbackRequest, action: str, silent_action: str, again: bool = False) -> str:
    """The agent's screen: the context, then press 1 or say accept. Silence ends the leg, unbridged
    (`silent_action`: the same webhook told nothing came, its own URL: a parameter added to `action`
    would land after its #fragment of connection overrides, where Twilio never sends it)."""
    response = VoiceResponse()
    if again:
        words = "Sorry, I didn't get that. Press 1 or say accept to take the call."
    else:
        words = context_words(req) + " To take the call, press 1 or say accept."
    response.append(_ask(action, "accept, decline", words))
    # Nothing pressed: tell the app (the leg's outcome is "no answer"), which hangs this leg up.
    response.redirect(silent_action)
    return str(response)


def bridge() -> str:
    """The agent accepted: ending the screen document is what lets Twilio bridge the two."""
    response = VoiceResponse()
    response.say("Connecting.", voice=VOICE)
    return str(response)


def agent_hangup(words: str = "") -> str:
    """End the agent's leg without a bridge (declined, silent, voicemail, or nobody left to connect)."""
    response = VoiceResponse()
    if words:
        response.say(words, voice=VOICE)
    response.hangup()
    return str(response)


def _ivr_summary(req: CallbackRequest) -> str:
    if not req.ivr_context:
        return ""
    try:
        context = json.loads(req.ivr_context)
    except ValueError:
        return ""
    return str(context.get("summary", "")) if isinstance(context, dict) else ""


def goodbye(text: str, language: str | None = None) -> str:
    """Say one thing and hang up; to a customer, pass their request's `language` (English otherwise)."""
    response = VoiceResponse()
    _say_to(response, words_in(language, text), language)
    response.hangup()
    return str(response)


def hangup() -> str:
    """End the call at once."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def offer_to_agent(req: CallbackRequest, action: str) -> str:
    """Agent-first: who to call and why; the agent presses 1 to ring the customer."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, timeout=8, action=action)
    # The customer's call is placed once the agent accepts: it will be the next one.
    words = context_words(req, call_number=req.attempts + 1)
    gather.say(words + " Press 1 to call them now, or any other key to pass.", voice=VOICE)
    response.append(gather)
    response.redirect(action)  # no key: the app records the pass and says goodbye
    return str(response)


def dial_customer(phone: str, caller_id: str, action: str, greeting_url: str, timeout: int) -> str:
    """Agent-first: ring the customer from the queue's number; the greeting plays to them first."""
    response = VoiceResponse()
    response.say("Calling the customer now.", voice=VOICE)
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id)
    # Twilio detects a voicemail before fetching the greeting, whose request then carries AnsweredBy, so
    # a machine is left a message and never counts as the customer reached. DetectMessageEnd (unlike an
    # agent's leg, where Enable is enough to pass on) waits for the end of the voicemail's greeting, as
    # customer-first calls do, so the message is recorded whole instead of said over the greeting.
    dial.number(phone, url=greeting_url, machine_detection="DetectMessageEnd")
    response.append(dial)
    return str(response)


def greet_customer(req: CallbackRequest, shop: str, greeted_url: str = "") -> str:
    """Agent-first: what the customer hears on answering, before the agent is put through.

    When the queue records, the notice is said last and the document then goes on at `greeted_url`,
    where the recording starts: only once the customer has heard the notice to the end."""
    response = VoiceResponse()
    if _lang(req.language) == "es":
        hello = f"Hola {_first_name(req)}" if _first_name(req) else "Hola"
        words = (
            f"{hello}, le llamamos del servicio de atención al cliente de {shop} por su consulta sobre "
            f"{_about(req)}. Le ponemos ahora con un agente."
        )
    else:
        words = (
            f"Hello {_first_name(req)}, this is {shop} customer service returning your call about {_about(req)}. "
            "Connecting you to an agent now."
        )
    _say_to(response, words, req.language)
    if recording.records(req):
        _say_to(response, words_in(req.language, recording.NOTICE), req.language)
        if greeted_url:
            response.redirect(greeted_url)
    return str(response)


def put_through() -> str:
    """Agent-first: the greeting is over; the end of the customer's document bridges them to the agent."""
    return str(VoiceResponse())
