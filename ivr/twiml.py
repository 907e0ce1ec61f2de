"""TwiML of the phone menu: prompts with keypad-and-speech gathers, built, never templated."""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import Gather, VoiceResponse


class Reply:
    """A TwiML document under construction, said in one voice."""

    def __init__(self, voice: str) -> None:
        self.voice = voice
        self.response = VoiceResponse()

    def say(self, *sentences: str) -> Reply:
        """Say the non-empty sentences, in order."""
        text = " ".join(s.strip() for s in sentences if s and s.strip())
        if text:
            self.response.say(text, voice=self.voice)
        return self

    def gather(
        self,
        action: str,
        *sentences: str,
        num_digits: int | None = None,
        finish_on_key: str | None = None,
        hints: Sequence[str] | None = None,
        timeout: int = 5,
        speech: bool = True,
    ) -> Reply:
        """Ask and listen: keypad and speech; an empty result still posts, so silence is counted."""
        gather = Gather(
            input="dtmf speech" if speech else "dtmf",
            action=action,
            method="POST",
            timeout=timeout,
            action_on_empty_result=True,
            **({"speech_timeout": "auto"} if speech else {}),
            **({"num_digits": num_digits} if num_digits else {}),
            **({"finish_on_key": finish_on_key} if finish_on_key else {}),
            **({"hints": ", ".join(hints)} if hints and speech else {}),
        )
        text = " ".join(s.strip() for s in sentences if s and s.strip())
        if text:
            gather.say(text, voice=self.voice)
        self.response.append(gather)
        # Reached only if the gather could not post (it always does with actionOnEmptyResult).
        self.response.redirect(action, method="POST")
        return self

    def enqueue(self, queue: str, wait_url: str, action: str) -> Reply:
        """Put the caller in the line; Twilio polls `wait_url` for what to play while they hold."""
        self.response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action, method="POST")
        return self

    def play(self, url: str) -> Reply:
        """Play an audio file."""
        self.response.play(url)
        return self

    def hangup(self) -> Reply:
        """End the call."""
        self.response.hangup()
        return self

    def __str__(self) -> str:
        return str(self.response)
