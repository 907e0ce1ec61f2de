"""`flask --app app figures` in its three formats and its refusals, and who may open /admin/figures."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import calls, line
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import get_db
from reports import figures, figures_views
from tests import factories, signin

# The app's clock stands at Monday 23 November 2026, 10:00 in New York (tests/conftest.py).
MONDAY_9AM = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, to arrange a history."""
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def history(db_session: Session) -> None:
    """Monday: two orders requests (one completed on its first call, one failed after two) and a return."""
    done = factories.request(db_session, MONDAY_9AM, status="completed", quoted_wait_seconds=300)
    db_session.add(
        CallAttempt(
            request_id=done.id,
            created_at=MONDAY_9AM,
            dialled_at=MONDAY_9AM,
            bridged_at=datetime(2026, 11, 23, 14, 10, tzinfo=UTC),
            ended_at=datetime(2026, 11, 23, 14, 15, tzinfo=UTC),
            talk_seconds=300,
        )
    )
    failed = factories.request(db_session, MONDAY_9AM, status="failed")
    for minute in (1, 20):
        moment = datetime(2026, 11, 23, 14, minute, tzinfo=UTC)
        db_session.add(CallAttempt(request_id=failed.id, created_at=moment, dialled_at=moment, ended_at=moment))
    factories.request(db_session, MONDAY_9AM, topic="returns", status="canceled")
    db_session.commit()


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["figures", *args])


# --- the command ----------------------------------------------------------------------------------


def test_json_gives_every_figure_per_queue_and_in_all_under_stable_names(app: Flask, history: None) -> None:
    result = run(app, "--since", "2026-11-23", "--format", "json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    orders = next(q for q in data["queues"] if q["queue"] == "orders")
    assert set(orders) == set(figures.FIELDS)
    assert (orders["offered"], orders["completed"], orders["failed"], orders["calls_placed"]) == (2, 1, 1, 3)
    assert orders["calls_per_completion"] == 3.0
    assert orders["average_speed_of_answer_seconds"] == 600
    assert orders["quoted_wait_bias_seconds"] == 300
    assert (data["all"]["offered"], data["all"]["canceled"]) == (3, 1)
    assert data["since"] == "2026-11-23T05:00:00+00:00" and data["until"] == "2026-11-24T05:00:00+00:00"


def test_csv_has_a_header_of_field_names_and_a_row_per_queue_then_all(app: Flask, history: None) -> None:
    result = run(app, "--since", "2026-11-17", "--until", "2026-11-23", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["queue"] for row in rows] == ["orders", "returns", "payments", "account", "devices", "other", "all"]
    assert rows[0]["offered"] == "2" and rows[-1]["offered"] == "3"
    assert rows[2]["service_level"] == ""  # nothing offered: no share, printed empty
    # Each row says the period it counts and the zone its days are in: a file read later stands alone.
    assert list(rows[0])[:4] == ["queue", "timezone", "since", "until"]
    for row in rows:
        assert (row["timezone"], row["since"], row["until"]) == (
            "America/New_York",
            "2026-11-17T05:00:00+00:00",
            "2026-11-24T05:00:00+00:00",
        )


def test_one_queue_in_a_table_a_person_reads(app: Flask, history: None) -> None:
    result = run(app, "--since", "2026-11-23", "--queue", "orders")

    assert result.exit_code == 0, result.output
    assert "Figures from 2026-11-23 00:00 to 2026-11-24 00:00 (America/New_York)" in result.output
    # Each line: the label, then the value, apart by at least two spaces.
    lines = dict(re.split(r"\s{2,}", line.strip()) for line in result.output.splitlines()[2:])
    assert lines["Offered"] == "2"
    assert lines["Callback success"] == "50.0%"
    assert lines["Average speed of answer"] == "10m 00s"
    assert lines["Menu containment"] == "—"
    assert "all" not in result.output.splitlines()[1]


def test_the_command_counts_each_queues_days_in_its_own_zone(app: Flask, db_session: Session) -> None:
    update_queue(db_session, "returns", {"timezone": "Europe/London"})
    db_session.commit()
    factories.request(db_session, datetime(2026, 11, 23, 3, 0, tzinfo=UTC), topic="returns")  # Monday in London

    data = json.loads(run(app, "--since", "2026-11-23", "--format", "json").output)
    table = run(app, "--since", "2026-11-23").output

    returns = next(q for q in data["queues"] if q["queue"] == "returns")
    assert (returns["offered"], returns["timezone"]) == (1, "Europe/London")
    assert (returns["since"], returns["until"]) == ("2026-11-23T00:00:00+00:00", "2026-11-24T00:00:00+00:00")
    assert data["all"]["offered"] == 1
    assert "returns: Figures from 2026-11-23 00:00 to 2026-11-24 00:00 (Europe/London)" in table


def test_iso_datetimes_bound_the_period_exactly(app: Flask, history: None) -> None:
    result = run(app, "--since", "2026-11-23T08:00", "--until", "2026-11-23T09:30", "--format", "json")

    assert result.exit_code == 0, result.output
    # 08:00-09:30 New York: the requests made at 09:00 are in it.
    assert json.loads(result.output)["all"]["offered"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "yesterday"), "neither a date"),
        (("--since", "2026-11-23", "--until", "2026-13-01"), "neither a date"),
        (("--since", "2026-11-23", "--until", "2026-11-20"), "ends before it starts"),
        (("--since", "9999-12-31"), "give a date between 1970 and 2100"),
        (("--since", "2026-11-23", "--until", "9999-12-31T23:00:00"), "give a date between 1970 and 2100"),
        (("--since", "2026-11-23", "--queue", "nonesuch"), "no queue named 'nonesuch'"),
        (("--since", "2026-11-23", "--format", "xml"), "'xml' is not one of"),
    ],
)
def test_a_bad_date_or_queue_is_refused_with_a_reason(app: Flask, args: tuple[str, ...], message: str) -> None:
    result = run(app, *args)

    assert result.exit_code == 2
    assert message in result.output


def test_since_is_required(app: Flask) -> None:
    result = run(app)

    assert result.exit_code == 2
    assert "--since" in result.output


# --- the page -------------------------------------------------------------------------------------


def signed_in(app: Flask, db_session: Session, clock: FixedClock, role: str) -> FlaskClient:
    user = factories.staff(db_session, clock.now(), role)
    client = app.test_client()
    assert signin.sign_in(client, user.email).status_code == 302
    return client


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_signed_out_browser_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/figures")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_an_agent_may_not_see_the_figures(app: Flask, db_session: Session, clock: FixedClock) -> None:
    assert signed_in(app, db_session, clock, "agent").get("/admin/figures").status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_every_figure_of_today(
    app: Flask, db_session: Session, clock: FixedClock, history: None, role: str
) -> None:
    response = signed_in(app, db_session, clock, role).get("/admin/figures")

    assert response.status_code == 200
    page = page_text(response)
    assert "Monday 23 November 2026" in page
    for label, explanation in figures.LABELS.values():
        assert label in page and explanation in page
    offered = re.search(r'id="figure-offered">.*?</tr>', page, re.S)
    assert offered is not None
    assert re.findall(r"<td>([^<]*)</td>", offered.group(0)) == ["2", "1", "0", "0", "0", "0", "3"]


def test_the_page_carries_its_chart_data_as_json_not_as_script(
    app: Flask, db_session: Session, clock: FixedClock, history: None
) -> None:
    response = signed_in(app, db_session, clock, "supervisor").get("/admin/figures?period=last7&queue=orders")

    page = page_text(response)
    assert response.status_code == 200
    assert "Tue 17 Nov 2026 to Mon 23 Nov 2026" in page
    # Inline scripts are refused by the CSP: every <script> either loads a file or carries JSON.
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    if 'id="figures-data"' in page:
        data = json.loads(re.search(r'id="figures-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
        assert data["offered"][9] == 2 and data["completed"][9] == 1 and len(data["hours"]) == 24
    # The hourly numbers are in tables whether or not the charts are drawn.
    assert 'id="chart-requests-table"' in page and 'id="chart-speed-table"' in page


def test_a_range_is_shown_and_a_backwards_one_refused(app: Flask, db_session: Session, clock: FixedClock) -> None:
    supervisor = signed_in(app, db_session, clock, "supervisor")

    shown = supervisor.get("/admin/figures?period=range&from=2026-11-01&to=2026-11-30")
    backwards = supervisor.get("/admin/figures?period=range&from=2026-11-23&to=2026-11-01")
    unknown = supervisor.get("/admin/figures?queue=nonesuch")

    assert shown.status_code == 200 and "Sun 01 Nov 2026 to Mon 30 Nov 2026" in page_text(shown)
    assert backwards.status_code == 400 and "The range ends before it starts." in page_text(backwards)
    assert unknown.status_code == 400 and "There is no queue named 'nonesuch'." in page_text(unknown)
    far = supervisor.get("/admin/figures?period=range&from=9999-12-30&to=9999-12-31")
    assert far.status_code == 400 and "Give dates between 1970 and 2100." in page_text(far)
    ahead = supervisor.get("/admin/figures?period=range&from=2027-01-01&to=2027-01-31")
    assert ahead.status_code == 400 and "That period has not begun yet." in page_text(ahead)


def cells(page: str, name: str) -> list[str]:
    """The cells of one figure's row, in column order."""
    row = re.search(rf'id="figure-{name}"[^>]*>.*?</tr>', page, re.S)
    assert row is not None, name
    return re.findall(r"<td>([^<]*)</td>", row.group(0))


def test_todays_open_requests_have_a_row_and_the_page_says_how_the_counts_add_up(
    app: Flask, db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    factories.request(db_session, now, status="completed", age=timedelta(minutes=30))
    factories.request(db_session, now, status="queued", age=timedelta(minutes=20))
    factories.request(db_session, now, status="retry_wait", age=timedelta(minutes=20))

    page = page_text(signed_in(app, db_session, clock, "supervisor").get("/admin/figures?queue=orders"))

    assert [cells(page, name) for name in ("offered", "completed", "still_open")] == [["3"], ["1"], ["2"]]
    assert cells(page, "callback_success") == ["100.0%"]  # of the one decided: the open ones wait their turn
    assert "Offered = completed + failed + canceled + expired + still open." in page


def test_every_queues_column_counts_its_own_zones_day_and_says_which(
    app: Flask, db_session: Session, clock: FixedClock
) -> None:
    update_queue(db_session, "returns", {"timezone": "Europe/London"})
    db_session.commit()
    # 03:00 on Monday in London is still Sunday evening (22:00) in New York.
    factories.request(db_session, datetime(2026, 11, 23, 3, 0, tzinfo=UTC), topic="returns")
    supervisor = signed_in(app, db_session, clock, "supervisor")

    alone = page_text(supervisor.get("/admin/figures?period=today&queue=returns"))
    every = page_text(supervisor.get("/admin/figures?period=today"))

    assert cells(alone, "offered") == ["1"]
    assert cells(every, "offered") == ["0", "1", "0", "0", "0", "0", "1"]
    assert "Each queue's days are counted in its own time zone" in every
    assert "Europe/London" in every and "America/New_York" in every


@pytest.mark.parametrize("built", [True, False], ids=["bundle built", "bundle absent"])
def test_the_tables_are_shown_whether_or_not_the_chart_bundle_was_built(
    app: Flask, db_session: Session, clock: FixedClock, history: None, monkeypatch: pytest.MonkeyPatch, built: bool
) -> None:
    monkeypatch.setattr(figures_views, "_chart_bundle_built", lambda: built)

    page = page_text(signed_in(app, db_session, clock, "supervisor").get("/admin/figures"))

    assert 'id="figure-offered"' in page and 'id="chart-requests-table"' in page
    assert ("vendor/chart.min.js" in page) is built
    assert ('<canvas id="chart-requests"' in page) is built
    assert ('id="figures-data"' in page) is built
    assert ("The charts are not built on this server" in page) is not built


# --- a call made by the real call logic -----------------------------------------------------------


def test_a_call_driven_through_the_call_logic_reads_as_worked_out_by_hand(session: Session, clock: FixedClock) -> None:
    start = clock.now()  # 10:00 New York
    agent = factories.agent(session, start, status="reserved")  # claimed for the call at 10:00
    req = factories.request(session, start, status="dialing", attempts=1, agent_id=agent.id, age=timedelta(minutes=10))
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid="CAfigures1", created_at=start, placed_at=start, dialled_at=start
    )
    session.add(attempt)
    session.commit()
    clock.advance(seconds=20)  # the customer answers and presses 1
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
    clock.advance(seconds=15)  # the agent accepts: the two are talking 35 s after the call was placed
    leg = attempt.agent_legs[-1]
    assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "screen"
    assert calls.on_screen_answer(session, clock, leg, "1", None).action == "bridge"
    clock.advance(seconds=95)  # they talk for 95 s
    calls.on_dial_done(session, clock, attempt, leg, "completed", 95, "CAleg1", "in-progress", "true")
    clock.advance(seconds=20)  # the agent is ready after 20 s of wrap-up, then waits 150 s
    session.refresh(agent)
    assert line.end_wrap_up(agent, clock.now())
    session.commit()
    clock.advance(seconds=150)

    row = figures.report(session, figures.Preset("today", clock.now()), "orders", clock.now()).queues[0]

    assert (row.offered, row.completed, row.connected, row.calls_placed) == (1, 1, 1, 1)
    assert row.average_speed_of_answer_seconds == 600 + 35
    assert row.service_level == 1.0
    assert (row.average_talk_seconds, row.average_wrap_up_seconds, row.average_handle_seconds) == (95, 20, 115)
    # Reserved, talking and wrapping up for 150 s of the 300 s the agent was signed in.
    assert row.agent_occupancy == 0.5


# --- a period too large to count at once ----------------------------------------------------------------


def test_the_command_refuses_a_period_of_too_many_requests_with_the_reason(
    app: Flask, history: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "MOST_REQUESTS", 2)

    refused = run(app, "--since", "2026-11-23", "--format", "json")
    one_queue = run(app, "--since", "2026-11-23", "--queue", "orders", "--format", "json")

    assert refused.exit_code == 1
    assert "This period has more than 2 requests" in refused.output and "choose a shorter period" in refused.output
    assert one_queue.exit_code == 0 and json.loads(one_queue.output)["queues"][0]["offered"] == 2


def test_the_page_states_the_bound_and_refuses_a_period_beyond_it_at_once(
    app: Flask, db_session: Session, clock: FixedClock, history: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = signed_in(app, db_session, clock, "supervisor")
    assert "more than 100,000 requests" in page_text(supervisor.get("/admin/figures"))
    monkeypatch.setattr(figures, "MOST_REQUESTS", 2)

    response = supervisor.get("/admin/figures?period=last7")

    page = page_text(response)
    assert response.status_code == 400
    assert "This period has more than 2 requests" in page and 'id="figure-offered"' not in page
