"""The customer's form and status page, with CSRF protection on."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.clock import FixedClock
from core.db import get_db

FORM = {
    "country": "US",
    "phone": "(201) 555-0123",
    "name": "Ann Lee",
    "topic": "orders",
    "order_number": "112-4455667-1234567",
    "when": "asap",
    "consent": "y",
}


def csrf_token(client: FlaskClient, path: str = "/callback") -> str:
    page = text(client.get(path))
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


def text(response) -> str:
    """The page as a person reads it: HTML entities decoded, a narrow no-break space ("10:00\u202fAM") a space."""
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").replace("\xa0", " ")


def submit(client: FlaskClient, **changes: str):
    return client.post("/callback", data={**FORM, "csrf_token": csrf_token(client), **changes})


def test_the_form_offers_topics_countries_and_consent(client: FlaskClient) -> None:
    page = text(client.get("/callback"))
    assert 'name="csrf_token"' in page
    assert "Returns and refunds" in page and 'value="orders"' in page
    assert "United States (+1)" in page and "Canada (+1)" in page
    assert 'name="consent"' in page
    assert '<label for="phone">' in page


def test_a_valid_post_redirects_303_to_the_status_page(client: FlaskClient) -> None:
    response = submit(client)
    assert response.status_code == 303
    ref = response.headers["Location"].rsplit("/", 1)[-1]
    page = text(client.get(f"/callback/{ref}"))
    assert "You're in line" in page
    # Whole to the browser that typed it (a typo must be seen); masked to anyone else with the link.
    assert "+1 201-555-0123" in page
    app = client.application
    with app.test_client() as other:
        assert "+1******0123" in text(other.get(f"/callback/{ref}"))
    assert "You're next" in page
    assert "Unknown: no agent is on duty" in page
    assert "Cancel my callback" in page


def test_a_post_without_a_csrf_token_is_refused_and_queues_nothing(client: FlaskClient) -> None:
    response = client.post("/callback", data=FORM)
    assert response.status_code == 400
    assert "expired" in text(response)
    assert submit(client).status_code == 303  # and the same data with a token is fine


def test_errors_are_shown_in_plain_words_next_to_the_field(client: FlaskClient) -> None:
    response = submit(client, phone="12345")
    page = text(response)
    assert response.status_code == 422
    assert 'id="phone-error"' in page and "too short" in page
    assert 'aria-invalid="true"' in page
    assert 'value="Ann Lee"' in page  # what the customer typed is kept


def test_missing_consent_is_explained(client: FlaskClient) -> None:
    data = {**FORM, "csrf_token": csrf_token(client)}
    del data["consent"]
    page = text(client.post("/callback", data=data))
    assert "agree to be called" in page


def test_a_chosen_slot_is_shown_on_the_status_page(client: FlaskClient, clock: FixedClock) -> None:
    slot = (clock.now() + timedelta(days=1)).isoformat()
    response = submit(client, when="slot", slot=slot)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "You're booked: we'll call you on Tuesday, November 24 at 10:00 AM." in page
    assert "You're next" not in page and "minutes" not in page  # a booked call has a time, not a wait
    assert "United States (New York) Time" in page  # the time zone is said


def test_a_call_put_off_by_the_gap_between_calls_is_not_called_a_booking(app, client: FlaskClient, clock) -> None:
    from core.db import get_db
    from tests import factories

    with get_db(app).sessions() as s:
        req = factories.request(s, clock.now(), next_attempt_at=clock.now() + timedelta(minutes=2))
        ref = req.ref
    page = text(client.get(f"/callback/{ref}"))
    assert "We'll call you on Monday, November 23 at 10:02 AM." in page
    assert "booked" not in page


def test_a_browser_in_utc_is_told_utc(client: FlaskClient, clock: FixedClock) -> None:
    client.set_cookie("tz", "UTC")
    slot = (clock.now() + timedelta(days=1)).isoformat()
    page = text(client.get(submit(client, when="slot", slot=slot).headers["Location"]))
    assert "<dt>Times shown in</dt><dd>UTC</dd>" in page


def test_choosing_a_slot_without_a_time_is_explained(client: FlaskClient) -> None:
    page = text(submit(client, when="slot", slot=""))
    assert "choose a time" in page


def served_times(page: str) -> list[str]:
    """The values of the time list as the page is served (what a browser without JavaScript offers)."""
    found = re.search(r'<select id="slot" name="slot".*?</select>', page, re.S)
    assert found
    return re.findall(r'<option value="([^"]*)"', found.group(0))


def test_without_javascript_a_time_is_booked_in_one_post(app, client: FlaskClient, clock: FixedClock) -> None:
    from agents.models import Queue
    from core.db import get_db

    with get_db(app).sessions() as s:
        s.query(Queue).filter_by(name="other").update({"hours": "24/7"})
        s.commit()
    offered = served_times(text(client.get("/callback")))
    # Before a topic is chosen, the list has every topic's times: the night ones of the all-day topic too
    # (03:00 UTC is 10 PM in New York, the topics' zone).
    night = next(t for t in offered if t.startswith((clock.now() + timedelta(days=1)).date().isoformat() + "T03:00"))
    tomorrow_ten = (clock.now() + timedelta(days=1)).isoformat()
    assert tomorrow_ten in offered and len(offered) == len(set(offered))
    response = submit(client, when="slot", slot=tomorrow_ten)
    assert response.status_code == 303
    assert "You're booked" in text(client.get(response.headers["Location"]))

    # A time the chosen topic does not offer is refused, and that topic's own times are then listed.
    page = text(submit(app.test_client(), phone="(201) 555-0144", when="slot", slot=night))
    assert "is closed on Monday, November 23 at 10:00 PM" in page and "Please choose another time." in page
    listed = served_times(page)
    assert night not in listed and tomorrow_ten in listed


def test_cancel_from_the_status_page(client: FlaskClient) -> None:
    location = submit(client).headers["Location"]
    token = csrf_token(client, location)
    response = client.post(location + "/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    page = text(client.get(location))
    assert "You canceled this callback" in page
    assert "Cancel my callback" not in page


def test_reschedule_from_the_status_page(client: FlaskClient, clock: FixedClock) -> None:
    location = submit(client).headers["Location"]
    slot = (clock.now() + timedelta(days=2)).isoformat()
    response = client.post(
        location + "/reschedule",
        data={"csrf_token": csrf_token(client, location), "when": "slot", "slot": slot},
    )
    assert response.status_code == 303
    assert "we'll call you on Wednesday, November 25 at 10:00 AM" in text(client.get(location))


def test_a_reschedule_outside_hours_is_explained(client: FlaskClient, clock: FixedClock) -> None:
    location = submit(client).headers["Location"]
    night = (clock.now() + timedelta(days=1)).replace(hour=4).isoformat()  # 23:00 in New York
    response = client.post(
        location + "/reschedule",
        data={"csrf_token": csrf_token(client, location), "when": "slot", "slot": night},
    )
    assert response.status_code == 422
    assert (
        "Orders, tracking and delivery is closed on Monday, November 23 at 11:00 PM. "
        "Our hours are Monday to Friday, 9:00 AM to 5:00 PM, New York time. Please choose another time."
    ) in text(response)
    assert "mon 09:00" not in text(response)


def test_an_unknown_reference_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/callback/not-a-real-reference")
    assert response.status_code == 404
    assert "couldn't find" in text(response)


def test_an_active_request_page_refreshes_itself(client: FlaskClient) -> None:
    location = submit(client).headers["Location"]
    page = text(client.get(location))
    assert "status.js" in page and 'http-equiv="refresh"' in page


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/callback")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_customers_pages_and_answers_are_never_kept_in_a_cache(client: FlaskClient) -> None:
    # A shared computer's cache or back button must not show the next person someone's request.
    location = submit(client).headers["Location"]
    ref = _ref(location)
    for response in (client.get(location), client.get(f"/api/callbacks/{ref}"), client.get("/callback")):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
    # What is meant to be kept still is: the pages' own scripts and styles.
    static = client.get("/static/status.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "asked",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-24T10:00:00", "tomorrow", "2026-13-40T99:00Z"],
)
def test_a_garbled_or_impossible_choice_in_the_status_address_is_ignored(client: FlaskClient, asked: str) -> None:
    location = submit(client).headers["Location"]
    page = client.get(location, query_string={"asked": asked})
    assert page.status_code == 200
    assert "instead" not in text(page)


def test_the_status_page_says_what_happened_on_each_call(client: FlaskClient, app, clock: FixedClock) -> None:
    from sqlalchemy import select

    from callback.models import CallAttempt, CallbackRequest
    from core.db import get_db

    location = submit(client).headers["Location"]
    ref = location.rsplit("/", 1)[-1]
    with get_db(app).sessions() as s:
        req = s.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
        assert req is not None
        req.status, req.attempts = "retry_wait", 1
        req.next_attempt_at = clock.now() + timedelta(minutes=10)
        s.add(
            CallAttempt(
                request_id=req.id, created_at=clock.now(), dialled_at=clock.now(), ended_at=clock.now(), outcome="busy"
            )
        )
        s.commit()
    page = text(client.get(location))
    assert "We tried to call you but couldn't get through" in page
    assert "Call 1 (Monday, November 23 at 10:00 AM): your line was busy" in page
    assert "We'll try again on Monday, November 23 at 10:10 AM" in page
    assert "Next try" in page and "<dt>Calls so far</dt><dd>1</dd>" in page


# -- issue 15: clear, honest and helpful on the first try ----------------------------------------------


def _app(database_url: str, clock: FixedClock, **settings: object):
    """The app with settings of its own and a fake phone network that records texts."""
    from agents.service import ensure_default_queues
    from app import create_app
    from core.db import get_db
    from telephony.fake import FakeTelephony

    application = create_app(
        {"app_env": "testing", "database_url": database_url, "public_base_url": "https://shop.example", **settings},
        clock=clock,
    )
    application.extensions["telephony"] = FakeTelephony()
    with get_db(application).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    return application


def _ref(location: str) -> str:
    return location.split("?")[0].rsplit("/", 1)[-1]


SUMMARY = r'<div class="banner error-summary" id="error-summary" role="alert"[^>]*>(.*?)</div>'


def test_an_empty_form_lists_every_problem_at_once_beside_each_field_and_in_a_summary(client: FlaskClient) -> None:
    response = client.post("/callback", data={"csrf_token": csrf_token(client), "when": "slot"})
    page = text(response)
    assert response.status_code == 422
    summary = re.search(SUMMARY, page, re.S)
    assert summary, "no error summary that screen readers announce"
    assert "Please fix 5 problems before we can call you:" in summary.group(1)
    links = re.findall(r'<a href="#(\w+)">', summary.group(1))
    assert links == ["phone", "name", "topic", "slot", "consent"]  # in the order the form asks
    for field in links:
        assert f'id="{field}-error"' in page  # and each beside its field
    assert page.count('aria-invalid="true"') == 5


def test_a_half_filled_form_names_only_what_is_missing(client: FlaskClient) -> None:
    data = {**FORM, "csrf_token": csrf_token(client), "name": "  "}
    del data["consent"]
    page = text(client.post("/callback", data=data))
    assert "Please fix 2 problems" in page
    assert 'id="name-error"' in page and 'id="consent-error"' in page
    assert 'id="phone-error"' not in page and 'id="topic-error"' not in page
    assert 'value="(201) 555-0123"' in page


def test_the_phone_hint_suggests_only_numbers_the_policy_accepts(client: FlaskClient, app) -> None:
    from callback import words
    from core import phone as phones
    from core.phone import PhonePolicy

    page = text(client.get("/callback"))
    hint = re.search(r'<p class="hint" id="phone-hint">(.*?)</p>', page, re.S)
    assert hint
    examples = re.findall(r'<span class="nowrap">([^<]+)</span>', hint.group(1))
    assert examples == ["(201) 555-0123", "+1 506-234-5678"]
    assert "+44" not in hint.group(1)
    with app.test_request_context():
        for allowed in (("US", "CA"), ("GB", "IE"), ("ES",)):
            policy = PhonePolicy(default_region=allowed[0], allowed_countries=allowed, callback_rules=True)
            found = words.phone_examples(policy)
            assert len(found) == len(allowed)
            for example in found:
                phones.normalize(example, policy, allowed[0])  # raises if the policy refused it


def test_a_duplicate_from_another_browser_says_a_text_went_and_reveals_nothing(
    database_url: str, clock: FixedClock
) -> None:
    application = _app(database_url, clock, sms_notifications=True)
    first = application.test_client()
    ref = _ref(submit(first).headers["Location"])
    telephony = application.extensions["telephony"]
    telephony.messages.clear()

    stranger = application.test_client()
    slot = (clock.now() + timedelta(days=1)).isoformat()
    response = submit(stranger, when="slot", slot=slot)
    page = text(response)
    assert response.status_code == 409
    assert (
        "You already asked us to call about orders, tracking and delivery: we've texted that request's link "
        "to your phone." in page
    )
    assert ref not in page and ref not in response.headers.get("Location", "")
    [sms] = telephony.messages
    assert sms.to == "+12015550123"
    link = re.search(r"https://shop\.example(/callback/\S+)", sms.body)
    assert link and ref in link.group(1)

    # Whoever has the phone follows the link: the page offers the time chosen this time.
    owner = application.test_client()
    offer = text(owner.get(link.group(1)))
    assert "You asked again" in offer
    assert "Call me on Tuesday, November 24 at 10:00 AM instead" in offer
    applied = owner.post(
        f"/callback/{ref}/reschedule",
        data={"csrf_token": csrf_token(owner, link.group(1)), "when": "slot", "slot": slot},
    )
    assert applied.status_code == 303
    assert "we'll call you on Tuesday, November 24 at 10:00 AM" in text(owner.get(f"/callback/{ref}"))


def test_without_texts_a_duplicate_does_not_claim_one_was_sent(app, client: FlaskClient) -> None:
    ref = _ref(submit(client).headers["Location"])
    response = submit(app.test_client())
    page = text(response)
    assert response.status_code == 409
    assert "You already asked us to call about orders, tracking and delivery, so we'll call as planned." in page
    assert "texted" not in page and ref not in page
    assert app.extensions["telephony"] is not None


def test_the_same_browser_asking_again_is_offered_its_new_choice(client: FlaskClient, clock: FixedClock) -> None:
    slot = (clock.now() + timedelta(days=1)).isoformat()
    location = submit(client, when="slot", slot=slot).headers["Location"]
    again = submit(client)  # as soon as possible, this time
    assert again.status_code == 303
    assert again.headers["Location"].startswith(location) and "asked=asap" in again.headers["Location"]
    page = text(client.get(again.headers["Location"]))
    assert "Call me as soon as possible instead" in page
    assert "You asked again" in page


def test_times_are_in_the_browsers_time_zone_which_the_page_names(client: FlaskClient, clock: FixedClock) -> None:
    client.set_cookie("tz", "Europe/Madrid")
    slot = (clock.now() + timedelta(days=1)).isoformat()  # 15:00 UTC
    page = text(client.get(submit(client, when="slot", slot=slot).headers["Location"]))
    assert "we'll call you on Tuesday, November 24 at 4:00 PM" in page
    assert "Spain (Madrid) Time" in page
    client.set_cookie("tz", "Not/AZone")  # nonsense: the topic's own zone, named
    page = text(client.get(client.get("/callback").request.path))
    assert "United States (New York) Time" in page


def test_the_picker_is_a_day_then_a_time_and_days_keep_their_last_half_hour(app, client: FlaskClient) -> None:
    from agents.models import Queue
    from core.db import get_db

    with get_db(app).sessions() as s:
        s.query(Queue).filter_by(name="other").update({"hours": "24/7"})
        s.commit()
    page = text(client.get("/callback"))
    found = re.search(r'<script type="application/json" id="slot-data">(.*?)</script>', page, re.S)
    assert found
    data = json.loads(found.group(1))
    days = data["other"]
    assert 7 <= len(days) <= 8 and days[1]["label"] == "Tuesday, November 24"
    full_day = [t["label"].replace("\u202f", " ") for t in days[1]["times"]]
    assert len(full_day) == 48 and full_day[0] == "12:00 AM" and full_day[-1] == "11:30 PM"
    weekdays = data["orders"][1]["times"]
    assert [weekdays[0]["label"], weekdays[-1]["label"]] == ["9:00\u202fAM", "4:30\u202fPM"]
    assert 'id="day"' in page and 'name="slot"' in page


def test_cancel_asks_first_then_can_be_undone_keeping_the_place(app, client: FlaskClient, clock: FixedClock) -> None:
    submit(app.test_client(), phone="(201) 555-0188")  # someone ahead in line
    location = submit(client).headers["Location"]
    assert "1 person ahead of you" in text(client.get(location))
    status_page = text(client.get(location))
    assert f'href="{location}/cancel"' in status_page  # a link to a question, not a one-click cancel

    question = text(client.get(location + "/cancel"))
    assert "Cancel your callback?" in question
    assert "You can undo this for 5 minutes, and keep your place in line." in question
    assert "No, keep my callback" in question

    assert client.post(location + "/cancel", data={"csrf_token": csrf_token(client, location)}).status_code == 303
    canceled = text(client.get(location))
    assert "You canceled this callback. We won't call." in canceled
    assert "We'll call" not in canceled.replace("We won't call", "")
    assert "Undo: keep my callback" in canceled and "until 10:05 AM" in canceled

    clock.advance(minutes=2)
    assert client.post(location + "/undo", data={"csrf_token": csrf_token(client, location)}).status_code == 303
    back = text(client.get(location))
    assert "You're in line" in back and "1 person ahead of you" in back  # its old place

    assert client.post(location + "/cancel", data={"csrf_token": csrf_token(client, location)}).status_code == 303
    token = csrf_token(client, location)  # the page as it was, with its undo button
    clock.advance(minutes=6)
    late = client.post(location + "/undo", data={"csrf_token": token})
    assert late.status_code == 409
    assert "can no longer be undone" in text(late)
    assert "Undo" not in text(client.get(location))


def test_a_finished_request_reads_as_finished(app, client: FlaskClient) -> None:
    from sqlalchemy import update

    from callback.models import CallbackRequest
    from core.db import get_db

    location = submit(client).headers["Location"]
    with get_db(app).sessions() as s:
        s.execute(update(CallbackRequest).values(status="completed", outcome="completed"))
        s.commit()
    page = text(client.get(location))
    assert "All done: you spoke with one of our agents." in page
    assert "We'll call" not in page and "Cancel my callback" not in page and "Change of plans" not in page
    assert "status.js" not in page  # nothing more to watch


def test_counts_and_waits_have_the_right_plurals(app) -> None:
    from callback import words

    with app.test_request_context():
        assert words.wait(59) == "about 1 minute"
        assert words.wait(61) == "about 2 minutes"
        assert words.wait(3 * 3600) == "about 3 hours"
        assert words.place(0) == "You're next"
        assert words.place(1) == "1 person ahead of you"
        assert words.place(2) == "2 people ahead of you"


def test_a_limit_says_when_and_links_only_this_browsers_requests(database_url: str, clock: FixedClock) -> None:
    application = _app(database_url, clock, callback_limit_active_per_number=2, callback_limit_per_number_per_day=3)
    mine = application.test_client()
    refs = [_ref(submit(mine, topic=topic).headers["Location"]) for topic in ("orders", "returns")]

    refused = submit(mine, topic="payments")
    page = text(refused)
    assert refused.status_code == 429
    assert "This number already has as many callbacks waiting as it may" in page
    for ref in refs:
        assert f'href="/callback/{ref}"' in page  # this browser made them: it may have the links

    stranger = submit(application.test_client(), topic="payments")
    assert stranger.status_code == 429
    for ref in refs:
        assert ref not in text(stranger)  # a number is not proof of owning it

    clock.advance(hours=1)
    submit(mine, topic="account")  # the third ask of the day (refused for being too many active)
    mine.post(f"/callback/{refs[0]}/cancel", data={"csrf_token": csrf_token(mine, f"/callback/{refs[0]}")})
    submit(mine, topic="devices")
    daily = text(submit(mine, topic="other"))
    assert "You can ask again from Tuesday, November 24 at 10:00 AM." in daily


def test_a_cancel_made_while_we_were_ringing_cannot_be_undone(app, client: FlaskClient, clock: FixedClock) -> None:
    from sqlalchemy import select

    from callback.models import CallAttempt, CallbackRequest
    from core.db import get_db

    location = submit(client).headers["Location"]
    token = csrf_token(client, location)
    with get_db(app).sessions() as s:
        req = s.scalar(select(CallbackRequest).where(CallbackRequest.ref == _ref(location)))
        assert req is not None
        s.add(CallAttempt(request_id=req.id, created_at=clock.now(), dialled_at=clock.now()))  # still ringing
        s.commit()
    assert client.post(location + "/cancel", data={"csrf_token": token}).status_code == 303
    assert "Undo" not in text(client.get(location))
    refused = client.post(location + "/undo", data={"csrf_token": token})
    assert refused.status_code == 409 and "can no longer be undone" in text(refused)


def _rendered_form(client: FlaskClient) -> dict[str, str]:
    """The form as the browser holds it once rendered: the fields, its CSRF token and its own id."""
    page = text(client.get("/callback"))
    form_id = re.search(r'id="form_id" name="form_id" type="hidden" value="([^"]+)"', page)
    assert form_id, "the form carries no id of its own"
    return {**FORM, "csrf_token": csrf_token(client), "form_id": form_id.group(1)}


def test_a_double_click_lands_both_posts_on_the_status_page(app, client: FlaskClient) -> None:
    from sqlalchemy import select

    from callback.models import CallbackRequest
    from core.db import get_db

    form = _rendered_form(client)
    before = client.get_cookie("session")
    assert before is not None
    first = client.post("/callback", data=form)
    assert first.status_code == 303
    ref = _ref(first.headers["Location"])
    # The second click left before the first was answered: it carries the cookie from before.
    client.set_cookie("session", before.value)
    second = client.post("/callback", data=form)
    assert second.status_code == 303
    assert _ref(second.headers["Location"]) == ref
    assert "You're in line" in text(client.get(second.headers["Location"]))
    refused = submit(client, topic="returns")  # and this browser may ask about something else
    assert refused.status_code == 303

    # Someone else who knows the number posts a form of their own: no reference for them.
    stranger = app.test_client()
    probe = stranger.post("/callback", data=_rendered_form(stranger))
    assert probe.status_code == 409 and ref not in text(probe) and "Location" not in probe.headers
    # The form's id is kept only hashed: reading the database gives nobody a form to post.
    with get_db(app).sessions() as s:
        digest = s.scalar(select(CallbackRequest.form_digest).where(CallbackRequest.ref == ref))
    assert digest and form["form_id"] not in digest


def test_asking_again_from_ones_own_browser_does_not_use_up_the_numbers_daily_asks(client: FlaskClient) -> None:
    form = _rendered_form(client)
    location = client.post("/callback", data=form).headers["Location"]
    for _ in range(4):
        assert submit(client).status_code == 303  # a second look from the same browser (its cookie)
        assert client.post("/callback", data=form).status_code == 303  # the same form posted again
    # Five asks a day for one number: the customer's own re-asks were not asks.
    other = submit(client, topic="returns")
    assert other.status_code == 303 and _ref(other.headers["Location"]) != _ref(location)


def test_a_number_padded_far_past_any_phone_number_is_refused_beside_the_field(client: FlaskClient) -> None:
    response = submit(client, phone="(201) 555-0123" + " " * 60_000)
    page = text(response)
    assert response.status_code == 422
    assert re.search(r'id="phone-error">.*That number is too long\. Please enter just your phone number\.', page)


def test_names_spelled_with_joiners_or_pasted_with_invisible_marks_are_taken(app, client: FlaskClient) -> None:
    from sqlalchemy import select

    from callback.models import CallbackRequest
    from core.db import get_db

    names = {
        "مهر\u200cناز رضایی": "مهر\u200cناز رضایی",  # Persian, with a zero-width non-joiner
        "ल\u200dक्ष्मी": "ल\u200dक्ष्मी",  # Devanagari, with a zero-width joiner
        "\ufeffAnn Mül\u00adler": "Ann Müller",  # pasted: a byte-order mark and a soft hyphen
    }
    for n, (typed, kept) in enumerate(names.items()):
        made = submit(app.test_client(), name=typed, phone=f"(201) 555-014{n}")
        assert made.status_code == 303, typed
        with get_db(app).sessions() as s:
            stored = s.scalar(select(CallbackRequest.name).where(CallbackRequest.ref == _ref(made.headers["Location"])))
        assert stored == kept
    refused = submit(client, name="Ann \u202eeeL")  # a bidi override still is no name
    assert refused.status_code == 422 and "characters we can't read" in text(refused)


def _cancel(client: FlaskClient, location: str) -> None:
    assert client.post(location + "/cancel", data={"csrf_token": csrf_token(client, location)}).status_code == 303


def test_undoing_a_cancel_is_refused_past_the_numbers_active_requests(app, client: FlaskClient) -> None:
    orders = submit(client).headers["Location"]
    _cancel(client, orders)
    for topic in ("returns", "payments"):
        assert submit(client, topic=topic).status_code == 303
    refused = client.post(orders + "/undo", data={"csrf_token": csrf_token(client, orders)})
    assert refused.status_code == 409
    assert "This number already has as many callbacks waiting as it may, so this request stays canceled." in text(
        refused
    )
    assert "You canceled this callback. We won't call." in text(client.get(orders))


def test_undoing_a_cancel_is_refused_once_the_number_is_on_the_do_not_call_list(
    app, client: FlaskClient, clock: FixedClock
) -> None:
    from callback import dnc
    from core.db import get_db

    location = submit(client).headers["Location"]
    _cancel(client, location)
    token = csrf_token(client, location)
    with get_db(app).sessions() as s:
        dnc.add(s, clock, "+12015550123", "asked by phone")
        s.commit()
    refused = client.post(location + "/undo", data={"csrf_token": token})
    page = text(refused)
    assert refused.status_code == 409
    assert "This number is on our do-not-call list now, so this request stays canceled and we won't call it." in page
    assert "You're in line" not in text(client.get(location))


def test_an_order_number_copied_with_its_hash_sign_is_taken_from_the_form(client: FlaskClient) -> None:
    location = submit(client, order_number="#112 4455667 1234567").headers["Location"]
    assert re.search(r"\(order <span[^>]*>112-4455667-1234567</span>\)", text(client.get(location)))


def test_a_number_abroad_is_refused_naming_its_country_and_ours_as_the_api_does(client: FlaskClient) -> None:
    english = text(submit(client, phone="+1 787 555 0123"))
    assert "That number is in Puerto Rico. We can only call numbers in the United States and Canada." in english
    spanish = client.post(
        "/callback",
        data={**FORM, "phone": "+44 20 7183 8750", "csrf_token": csrf_token(client)},
        headers={"Accept-Language": "es"},
    )
    assert spanish.status_code == 422
    assert "Ese número es del Reino Unido. Solo podemos llamar a números de Estados Unidos y Canadá." in text(spanish)
    api = client.post("/api/callbacks", json={"phone": "+17875550123", "name": "A", "topic": "orders", "consent": True})
    assert api.get_json()["error"]["message"] == (
        "That number is in Puerto Rico. We can only call numbers in the United States and Canada."
    )


def test_an_expired_form_keeps_what_was_typed_and_a_fresh_token_sends_it(client: FlaskClient) -> None:
    # The browser lost its session (restarted with its tabs restored): the token no longer matches.
    response = client.post("/callback", data={**FORM, "csrf_token": "stale-token-from-a-lost-session"})
    page = text(response)
    assert response.status_code == 400
    assert "This form has expired, so it wasn't sent. Everything you typed is still here: please send it again." in page
    assert 'value="Ann Lee"' in page and "(201) 555-0123" in page  # nothing typed is lost
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match is not None
    again = client.post("/callback", data={**FORM, "csrf_token": match.group(1)})
    assert again.status_code == 303


def test_an_expired_cancel_returns_to_the_status_page_and_cancels_nothing(client: FlaskClient) -> None:
    location = submit(client).headers["Location"]
    response = client.post(location + "/cancel", data={"csrf_token": "stale-token-from-a-lost-session"})
    page = text(response)
    assert response.status_code == 400
    assert "This page has expired. Please try again." in page and "Cancel my callback" in page
    assert "You canceled this callback" not in text(client.get(location))


# -- what a browser walk-through found -----------------------------------------------------------------


def _set(app, location: str, **values: object) -> None:
    from sqlalchemy import update

    from callback.models import CallbackRequest
    from core.db import get_db

    with get_db(app).sessions() as s:
        s.execute(update(CallbackRequest).where(CallbackRequest.ref == _ref(location)).values(**values))
        s.commit()


def test_a_retry_after_an_answered_call_says_it_was_answered(app, client: FlaskClient, clock: FixedClock) -> None:
    location = submit(client).headers["Location"]
    later = clock.now() + timedelta(minutes=10)
    _set(app, location, status="retry_wait", attempts=1, outcome="no_confirmation", next_attempt_at=later)
    page = text(client.get(location))
    assert "You answered, but we didn't hear you press 1. We'll call you again on Monday, November 23" in page
    assert "couldn't get through" not in page
    _set(app, location, outcome="customer_hung_up")
    assert "The call ended before you were connected to an agent. We'll call you again on" in text(client.get(location))
    _set(app, location, status="failed", outcome="no_confirmation", next_attempt_at=None)
    page = text(client.get(location))
    assert "You answered our calls, but we didn't hear you press 1, so we've stopped calling." in page
    assert "couldn't reach you" not in page


def test_a_customer_who_asked_us_to_call_later_reads_that_on_their_page(
    app, client: FlaskClient, clock: FixedClock
) -> None:
    location = submit(client).headers["Location"]
    later = clock.now() + timedelta(minutes=10)
    _set(app, location, status="retry_wait", attempts=1, outcome="asked_later", next_attempt_at=later)
    page = text(client.get(location))
    assert "You asked us to call back later. We'll call you again on Monday, November 23" in page
    _set(app, location, status="failed", next_attempt_at=None)
    page = text(client.get(location))
    assert "You asked us to call back later, but we've called you as many times as we may" in page
    assert "couldn't reach you" not in page


def test_a_finished_request_offers_to_ask_again_on_its_topic_and_no_longer_warns_about_its_address(
    app, client: FlaskClient
) -> None:
    location = submit(client, topic="returns").headers["Location"]
    assert "Keep this page's address" in text(client.get(location))
    _set(app, location, status="failed", outcome="max_attempts")
    page = text(client.get(location))
    assert "Keep this page's address" not in page
    assert 'href="/callback?topic=returns">Ask for a callback again</a>' in page
    form = text(client.get("/callback?topic=returns"))
    assert '<option selected value="returns">' in form


def test_a_forms_address_opened_again_leads_to_the_status_page(client: FlaskClient) -> None:
    location = submit(client).headers["Location"]
    for action in ("reschedule", "undo"):
        reopened = client.get(f"{location}/{action}")
        assert reopened.status_code == 303 and reopened.headers["Location"] == location


def test_a_refused_change_is_drawn_with_the_status_pages_own_address_to_refresh_from(
    client: FlaskClient, clock: FixedClock
) -> None:
    location = submit(client).headers["Location"]
    past = (clock.now() - timedelta(hours=1)).isoformat()
    refused = client.post(
        f"{location}/reschedule", data={"csrf_token": csrf_token(client, location), "when": "slot", "slot": past}
    )
    assert refused.status_code == 422 and "That time has already passed" in text(refused)
    assert f'data-url="{location}"' in text(refused)


def test_a_mistyped_address_gets_our_page_in_the_customers_language(client: FlaskClient) -> None:
    location = submit(client).headers["Location"]
    for path in (f"{location}/", "/callbacks", "/Callback"):
        missing = client.get(path, headers={"Accept-Language": "es-MX,es;q=0.9"})
        assert missing.status_code == 404
        assert "No encontramos esa página" in text(missing) and 'lang="es"' in text(missing)
    assert "We couldn't find that page" in text(client.get("/nowhere"))
    assert client.get("/api/nowhere").get_json()["error"]["code"] == "not_found"


def test_a_closed_topic_says_its_wait_from_the_opening_not_twice(app, client: FlaskClient, clock: FixedClock) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from agents.models import Queue
    from callback import service, words
    from core.db import get_db
    from tests import factories

    with get_db(app).sessions() as s:
        factories.agent(s, clock.now())  # still signed in after closing: a wait can be told
    clock.set(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))  # 6 PM in New York: orders closed till tomorrow 9
    page = " ".join(text(client.get("/callback")).split())
    card = re.search(r'<li data-topic="orders">(.*?)</li>', page)
    assert card is not None and "closed now; opens" in card.group(1)
    with app.test_request_context(), get_db(app).sessions() as s:
        orders = s.scalar(select(Queue).where(Queue.name == "orders"))
        assert orders is not None
        opening = orders.business_hours.next_open(clock.now())
        total = service.queue_wait(s, orders, clock.now())
        assert opening is not None and total is not None
        from_opening = words.wait(total - int((opening - clock.now()).total_seconds()))
    assert f"then {from_opening}" in card.group(1) and words.wait(total) not in card.group(1)


def test_a_request_made_while_its_topic_is_closed_says_when_we_open(client: FlaskClient, clock: FixedClock) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))  # 6 PM in New York: orders closed till tomorrow 9
    ref = submit(client).headers["Location"].rsplit("/", 1)[-1]
    page = " ".join(text(client.get(f"/callback/{ref}")).split())
    assert (
        "You're in line. We're closed right now: we open on Tuesday, November 24 at 9:00 AM, and we'll call you "
        "when it's your turn after that."
    ) in page
    clock.set(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # 10 AM: open, in line as any other
    assert "We're closed" not in " ".join(text(client.get(f"/callback/{ref}")).split())


def test_the_hour_the_clocks_go_back_is_offered_twice_each_saying_which(app, client: FlaskClient) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from agents.service import update_queue
    from callback.views import _times
    from core.db import get_db
    from tests import factories

    new_york = ZoneInfo("America/New_York")
    with app.test_request_context(headers={"Accept-Language": "en-US"}), get_db(app).sessions() as s:
        update_queue(s, "orders", {"hours": "24/7"})
        # Saturday evening before the first Sunday of November 2027: 2:00 AM EDT becomes 1:00 AM EST.
        days = _times(factories.queue(s, "orders"), datetime(2027, 11, 6, 22, 0, tzinfo=UTC), new_york)
    sunday = next(d for d in days if d["day"] == "2027-11-07")
    labels = [t["label"].replace("\u202f", " ") for t in sunday["times"]]
    assert labels[:6] == ["12:00 AM", "12:30 AM", "1:00 AM EDT", "1:30 AM EDT", "1:00 AM EST", "1:30 AM EST"]
    assert len(set(labels)) == len(labels)


def test_times_are_said_to_be_the_customers_own_only_when_the_browser_told_its_zone(client: FlaskClient) -> None:
    untold = " ".join(text(client.get("/callback")).split())
    assert "Times are in the topic's time zone," in untold and "your time zone" not in untold
    client.set_cookie("tz", "Europe/Madrid")
    told = " ".join(text(client.get("/callback")).split())
    assert "Times are in your time zone," in told and "Madrid" in told


def test_the_form_tells_whether_a_number_is_on_the_do_not_call_list_only_to_counted_asks(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    from callback import dnc

    with get_db(app).sessions() as s:
        dnc.add(s, clock, "+12015550123", "asked by phone")
        s.commit()
    # An unticked consent box stores nothing and counts nothing: it must say nothing of the list.
    for _ in range(3):
        unconsented = submit(client, consent="")
        assert unconsented.status_code == 422 and "do-not-call" not in text(unconsented)
    # A whole ask is counted against the address's hourly limit, whatever the answer: then it is told.
    said = [text(submit(client)) for _ in range(12)]
    assert "do-not-call list" in said[0]
    assert all("do-not-call" not in page for page in said[10:]), said[10][:300]
