"""What a step through the phone menu costs the database, on both backends: the statements each
webhook sends, one pooled connection per request, and that the cheap way of saving loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from core.db import get_db, holds_connection
from ivr.models import IvrSession
from orders.demo import DEMO_CUSTOMER, load_demo_orders
from tests.integration.test_ivr_webhooks import form, post, verbs

KINDLE_ORDER = "11244556671234567"


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL the app sends meanwhile, each as its first two words ("SELECT orders", ...), and every
    transaction it opens as "BEGIN" (none is opened on a connection that commits each statement)."""
    engine = get_db(app).engine
    sent: list[str] = []

    def note(_conn, _cursor, sql: str, *_args) -> None:
        words = sql.split()
        table = words[words.index("FROM") + 1] if words[0] == "SELECT" else words[2 if words[0] != "UPDATE" else 1]
        sent.append(f"{words[0]} {table}")

    def begun(conn) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            sent.append("BEGIN")

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "begin", begun)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
        event.remove(engine, "begin", begun)


def caller_form(**extra: str) -> dict[str, str]:
    return form(**{"From": DEMO_CUSTOMER, **extra})


def test_a_new_call_costs_one_read_and_one_insert(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    post(app, client, "/voice/incoming", caller_form(CallSid="CA" + "2" * 32))  # reads the queue's zone
    with statements(app) as sent:
        answer = post(app, client, "/voice/incoming", caller_form())
    # A recognised caller: their latest order is read, the session written, no transaction opened.
    assert sent == ["SELECT orders", "INSERT ivr_sessions"]
    assert "Are you calling about your order" in spoken(answer)


def test_a_lookup_costs_three_statements_and_keeps_every_change(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="1"))
    # Not found (keyed whole, ended by #); reads the zone.
    post(app, client, "/voice/ivr/input?node=track_order&mode=ref", form(Digits="12345", FinishedOnKey="#"))
    with statements(app) as sent:
        answer = post(app, client, "/voice/ivr/input?node=track_order&mode=ref", form(Digits=KINDLE_ORDER))
    assert sent == ["SELECT ivr_sessions", "SELECT orders", "UPDATE ivr_sessions"]
    assert "Kindle Paperwhite" in spoken(answer)
    with get_db(app).sessions() as session:
        ivr = session.scalars(select(IvrSession)).one()
    # What the step changed is in the row: where the caller is, what they heard, the lookup's steps.
    assert ivr.node == "after_order" and ivr.topic == "orders"
    assert ivr.get_state()["answered"] is True and "Kindle Paperwhite" in ivr.get_state()["last_answer"]
    assert [s["kind"] for s in ivr.get_steps()] == ["menu", "reference", "lookup", "reference", "lookup"]


def test_a_retried_new_call_reads_the_first_tries_session(app: Flask, client: FlaskClient) -> None:
    first = post(app, client, "/voice/incoming", form())
    with statements(app) as sent:
        again = post(app, client, "/voice/incoming", form())
    assert sent == ["SELECT orders", "INSERT ivr_sessions", "SELECT ivr_sessions"]
    assert [v.tag for v in verbs(again)] == [v.tag for v in verbs(first)]
    with get_db(app).sessions() as session:
        assert session.scalars(select(IvrSession.node)).all() == ["main"]


def test_a_request_checks_out_one_connection_for_its_reads_and_writes(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    post(app, client, "/voice/incoming", caller_form())
    checkouts: list[object] = []
    pool = get_db(app).engine.pool
    listener = lambda *_args: checkouts.append(1)  # noqa: E731
    event.listen(pool, "checkout", listener)
    try:
        post(app, client, "/voice/ivr/input?node=track_order&mode=offer", caller_form(Digits="1"))
    finally:
        event.remove(pool, "checkout", listener)
    # The session read, the order read and the session's update: all on one connection.
    assert len(checkouts) == 1


def test_a_step_that_changes_more_than_the_session_commits_it_in_one_transaction(
    app: Flask, client: FlaskClient
) -> None:
    post(app, client, "/voice/incoming", form())
    with statements(app) as sent:
        answer = post(app, client, "/voice/ivr/input?node=main", form(Digits="0"))
    # Put through to the orders team: the line's rows change with the session's, atomically.
    assert "BEGIN" in sent
    assert verbs(answer)
    with get_db(app).sessions() as session:
        ivr = session.scalars(select(IvrSession)).one()
    assert ivr.node != "main"


def test_a_session_holds_a_connection_only_between_its_first_statement_and_its_end(app: Flask) -> None:
    with get_db(app).sessions() as session:
        assert not holds_connection(session)
        session.add(
            IvrSession(call_sid="CA1", caller="+1", called="+2", started_at=_now(), updated_at=_now(), node="main")
        )
        assert not holds_connection(session)  # an object added is not yet a statement sent
        session.flush()
        assert holds_connection(session)
        session.rollback()
        assert not holds_connection(session)
        session.scalar(select(IvrSession.id))
        assert holds_connection(session)
        session.commit()
        assert not holds_connection(session)


def spoken(response) -> str:
    """Every word of the TwiML, in order."""
    return " ".join(element.text or "" for verb in verbs(response) for element in verb.iter())


def _now() -> datetime:
    return datetime(2026, 11, 30, 12, tzinfo=UTC)
