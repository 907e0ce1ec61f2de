"""core.webhooks: every URL we give Twilio is absolute, on the public base, and carries our overrides."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from core.webhooks import CONNECTION_OVERRIDES, FRAGMENT, SIGNED_FRAGMENTS, Webhooks, with_overrides

BASE = "https://callme.example/"


def test_webhook_urls_are_absolute_with_their_query_then_our_overrides() -> None:
    hooks = Webhooks(BASE)
    url = hooks.callback("screen-answer", attempt=3, leg=7, again=None)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "callme.example", "/voice/callback/screen-answer")
    assert parse_qs(parts.query) == {"attempt": ["3"], "leg": ["7"]}  # None leaves the parameter out
    assert parts.fragment == FRAGMENT
    assert hooks.ivr("input", node="main") == f"https://callme.example/voice/ivr/input?node=main#{FRAGMENT}"
    assert hooks.incoming() == f"https://callme.example/voice/incoming#{FRAGMENT}"
    assert hooks.inbound_status() == f"https://callme.example/voice/status#{FRAGMENT}"


def test_the_overrides_are_within_twilios_limits_and_retry_only_what_is_safe_to() -> None:
    assert FRAGMENT == "ct=2000&rt=6000&tt=15000&rc=2&rp=ct,rt,5xx"
    ct, rt, tt, rc = (int(CONNECTION_OVERRIDES[k]) for k in ("ct", "rt", "tt", "rc"))
    assert 100 <= ct <= 10000 and 100 <= rt <= 15000 and 100 <= tt <= 15000 and 0 <= rc <= 5
    assert rt > 5000  # our webhooks answer within 5 s: a slower one is stuck, not slow
    assert "4xx" not in CONNECTION_OVERRIDES["rp"].split(",")  # a refusal would be refused again
    assert SIGNED_FRAGMENTS == (FRAGMENT,)


def test_sound_files_keep_plain_urls_so_a_query_can_follow() -> None:
    url = Webhooks(BASE).audio("prompts/welcome.wav")
    assert url == "https://callme.example/audio/prompts/welcome.wav"
    assert "#" not in url


def test_with_overrides_replaces_any_fragment_once() -> None:
    assert with_overrides("https://a.example/x?y=1") == f"https://a.example/x?y=1#{FRAGMENT}"
    assert with_overrides(f"https://a.example/x#{FRAGMENT}") == f"https://a.example/x#{FRAGMENT}"
    assert with_overrides("https://a.example/x#rc=5") == f"https://a.example/x#{FRAGMENT}"
