"""The customer's form and status page, with CSRF protection on."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask.testing import FlaskClient

from core.clock import FixedClock

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
    """The page as a person reads it: HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


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
    assert "+1******0123" in page
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
    assert "Scheduled for" in page and "Tuesday 24 November, 10:00 EST" in page


def test_choosing_a_slot_without_a_time_is_explained(client: FlaskClient) -> None:
    page = text(submit(client, when="slot", slot=""))
    assert "choose a time" in page


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
    assert "Wednesday 25 November, 10:00 EST" in text(client.get(location))


def test_a_reschedule_outside_hours_is_explained(client: FlaskClient, clock: FixedClock) -> None:
    location = submit(client).headers["Location"]
    night = (clock.now() + timedelta(days=1)).replace(hour=4).isoformat()  # 23:00 in New York
    response = client.post(
        location + "/reschedule",
        data={"csrf_token": csrf_token(client, location), "when": "slot", "slot": night},
    )
    assert response.status_code == 422
    assert "closed at that time" in text(response)


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
    assert "Call 1 (Mon 23 Nov, 10:00): your line was busy" in page
    assert "Next try" in page and "Monday 23 November, 10:10 EST" in page
