"""calls.list with StartTime filters as the twilio SDK sends them; start_time is set when a call is dialled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, wait_until

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import build_client

NUMBER = "+14155550800"


def test_a_call_has_a_start_time_from_the_moment_it_is_dialled(
    sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    control.phone(NUMBER, answer="no-answer")
    created = client.calls.create(to=NUMBER, from_=OUR_NUMBER, url=hooks.url("/a"), timeout=5)
    # Twilio: start_time is empty until the call is dialled; create answers before that.
    assert created.start_time is None
    control.wait_status(created.sid, "ringing")
    ringing = client.calls(created.sid).fetch()
    assert ringing.start_time is not None and ringing.start_time >= created.date_created
    control.wait_final(created.sid)
    unanswered = client.calls(created.sid).fetch()
    assert unanswered.status == "no-answer" and unanswered.start_time == ringing.start_time


def _three_days(sandbox: SandboxServer, hooks: WebhookApp, control: Control) -> dict[str, str]:
    """Calls to NUMBER that started today, two days ago, and one never dialled; returns their SIDs."""
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    control.phone(NUMBER, answer="busy")
    sids = {name: client.calls.create(to=NUMBER, from_=OUR_NUMBER, url=hooks.url("/a")).sid for name in "abcd"}
    for sid in sids.values():
        control.wait_final(sid)
    world = sandbox.world
    with world.cond:
        # Move two calls back in time and make one look never dialled (Twilio leaves its start_time empty).
        for name in "bc":
            call = world.calls[sids[name]]
            assert call.start_time is not None
            call.start_time -= timedelta(days=2)
        world.calls[sids["d"]].start_time = None
    client.calls.create(to="+14155550801", from_=OUR_NUMBER, url=hooks.url("/a"))
    return sids


def test_the_sdks_start_time_filters_select_calls_by_the_day_they_started(
    sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    sids = _three_days(sandbox, hooks, control)
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    today = datetime.now(UTC).date()
    two_days_ago = today - timedelta(days=2)

    def listed(**filters: object) -> set[str]:
        return {call.sid for call in client.calls.list(to=NUMBER, page_size=1, **filters)}

    assert listed() == set(sids.values())
    assert listed(start_time_after=today) == {sids["a"]}
    assert listed(start_time_before=two_days_ago) == {sids["b"], sids["c"]}
    assert listed(start_time=two_days_ago) == {sids["b"], sids["c"]}
    assert listed(start_time_after=two_days_ago, start_time_before=today) == {sids["a"], sids["b"], sids["c"]}
    assert listed(start_time_after=today + timedelta(days=1)) == set()
    # A datetime names its (UTC) day, as Twilio documents these filters as dates.
    noon = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=12)
    assert listed(start_time_after=noon) == {sids["a"]}
    assert listed(start_time=noon, status="busy") == {sids["a"]}


def test_start_time_filters_sent_by_hand_and_bad_dates(
    sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    sids = _three_days(sandbox, hooks, control)
    url = f"{sandbox.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    day = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    # Twilio's own spelling: `StartTime>=YYYY-MM-DD` is the key "StartTime>" with the value after "=".
    to = NUMBER.replace("+", "%2B")
    page = requests.get(f"{url}?To={to}&StartTime<={day}&PageSize=1", auth=auth, timeout=5).json()
    assert len(page["calls"]) == 1 and page["next_page_uri"] is not None
    following = requests.get(sandbox.base_url + page["next_page_uri"], auth=auth, timeout=5).json()
    assert {page["calls"][0]["sid"], following["calls"][0]["sid"]} == {sids["b"], sids["c"]}
    assert following["next_page_uri"] is None
    bad = requests.get(url, params={"StartTime>": "yesterday"}, auth=auth, timeout=5)
    assert bad.status_code == 400 and bad.json()["code"] == 20001


def test_end_time_filters_too(sandbox: SandboxServer, hooks: WebhookApp, control: Control) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    control.phone(NUMBER, answer="busy")
    ended = client.calls.create(to=NUMBER, from_=OUR_NUMBER, url=hooks.url("/a")).sid
    control.wait_final(ended)
    control.phone("+14155550802", answer="no-answer")
    live = client.calls.create(to="+14155550802", from_=OUR_NUMBER, url=hooks.url("/a"), timeout=60).sid
    wait_until(lambda: control.call(live)["status"] == "ringing", what="the second call ringing")
    today = datetime.now(UTC).date()
    assert [c.sid for c in client.calls.list(end_time=today)] == [ended]
    client.calls(live).update(status="canceled")
