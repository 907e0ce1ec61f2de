"""TwiML of the phone menu: prompts with keypad-and-speech gathers, built, never templated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from twilio.twiml.voice_response import Gather, VoiceResponse


@dataclass(frozen=True)
class Clip:
    """A sentence the shop may have recorded: played from `url` when there is one, else said."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class Voiced:
    """A sentence said in another language than the reply's, with that language's voice ("para español...")."""

    text: str
    voice: str
    language: str | None = None


# What a caller hears in one breath: sentences to say and clips to play, in order.
Part: TypeAlias = str | Clip | Voiced


class Reply:
    """A TwiML document under construction, said in one voice and language (the caller's)."""

    def __init__(self, voice: str, language: str | None = None) -> None:
        self.voice = voice
        # The language tag for <Say> and for recognising speech in <Gather>, e.g. es-US; None: Twilio's default.
        self.language = language
        self.response = VoiceResponse()

    def say(self, *parts: Part) -> Reply:
        """Say the non-empty sentences and play the recorded clips, in order."""
        self._speak(self.response, parts)
        return self

    def _speak(self, target: VoiceResponse | Gather, parts: Sequence[Part]) -> None:
        """Consecutive sentences become one <Say>; a clip with a recording becomes a <Play> between them,
        and a sentence in another language a <Say> in its own voice."""
        words: list[str] = []

        def flush() -> None:
            if words:
                self._say(target, " ".join(words), self.voice, self.language)
                words.clear()

        for part in parts:
            if isinstance(part, Clip) and part.url:
                flush()
                target.play(part.url)
            elif isinstance(part, Voiced):
                flush()
                self._say(target, part.text, part.voice, part.language)
            else:
                text = part.text if isinstance(part, Clip) else part
                if text and text.strip():
                    words.append(text.strip())
        flush()

    @staticmethod
    def _say(target: VoiceResponse | Gather, text: str, voice: str, language: str | None) -> None:
        if language:
            target.say(text, voice=voice, language=language)
        else:
            target.say(text, voice=voice)

    def gather(
        self,
        action: str,
        *parts: Part,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        hints: Sequence[str] | None = None,
        timeout: int = 5,
        speech: bool = True,
        speech_timeout: int | str = "auto",
    ) -> Reply:
        """Ask and listen: keypad and speech; an empty result still posts, so silence is counted.

        `speech_timeout`: the silence that ends speech, in seconds, or "auto" (the first natural pause)."""
        gather = Gather(
            input="dtmf speech" if speech else "dtmf",
            action=action,
            method="POST",
            timeout=timeout,
            action_on_empty_result=True,
            **({"speech_timeout": str(speech_timeout)} if speech else {}),
            **({"num_digits": num_digits} if num_digits else {}),
            **({"finish_on_key": finish_on_key} if finish_on_key else {}),
            **({"hints": ", ".join(hints)} if hints and speech else {}),
            # Speech is recognised in the caller's language (Twilio's default is en-US).
            **({"language": self.language} if self.language and speech else {}),
        )
        # <Play> inside <Gather> is interrupted by the first key pressed, as <Say> is.
        self._speak(gather, parts)
        self.response.append(gather)
        # Reached only if the gather could not post (it always does with actionOnEmptyResult).
        self.response.redirect(action, method="POST")
        return self

    def enqueue(self, queue: str, wait_url: str, action: str) -> Reply:
        """Put the caller in the line; Twilio polls `wait_url` for what to play while they hold."""
        self.response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action, method="POST")
        return self

    def record(self, action: str, max_length: int, status_callback: str) -> Reply:
        """Record a message after a beep, until # or silence, at most `max_length` seconds; the action
        gets RecordingSid, RecordingUrl and RecordingDuration, the status callback the finished file."""
        self.response.record(
            action=action,
            method="POST",
            max_length=max_length,
            finish_on_key="#",
            timeout=5,
            play_beep=True,
            recording_status_callback=status_callback,
            recording_status_callback_method="POST",
            recording_status_callback_event="completed absent",
        )
        return self

    def play(self, url: str, loop: int = 1) -> Reply:
        """Play an audio file, `loop` times over."""
        if loop > 1:
            self.response.play(url, loop=loop)
        else:
            self.response.play(url)
        return self

    def leave(self) -> Reply:
        """Take the caller out of the <Enqueue> line (in a wait document): its action URL is posted
        with QueueResult=leave, and its answer is what the caller hears next."""
        self.response.leave()
        return self

    def hangup(self) -> Reply:
        """End the call."""
        self.response.hangup()
        return self

    def __str__(self) -> str:
        return str(self.response)
