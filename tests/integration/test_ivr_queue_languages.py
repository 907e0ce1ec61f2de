"""A queue says which languages its agents speak, from the command line and the admin page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories

# The admin pages' signed-in browser and form helpers, shared rather than written twice.
from tests.integration.test_admin_pages import QUEUE_FORM, admin, db_session, post, sign_in, text

__all__ = ["admin", "db_session", "sign_in"]  # fixtures, used by name


def test_a_queues_languages_are_set_and_listed_from_the_command_line(app: Flask) -> None:
    runner = app.test_cli_runner()

    assert "languages=en" in runner.invoke(args=["queues", "list"]).output
    result = runner.invoke(args=["queues", "set", "orders", "--languages", "en, es,en"])
    assert result.exit_code == 0, result.output
    listed = [line for line in runner.invoke(args=["queues", "list"]).output.splitlines() if line.startswith("orders")]
    assert listed and "languages=en,es" in listed[0]

    bad = runner.invoke(args=["queues", "set", "orders", "--languages", "English"])
    assert bad.exit_code != 0 and "Languages are codes separated by commas" in bad.output


def test_an_admin_marks_a_queue_as_having_spanish_speakers(admin: FlaskClient, db_session: Session) -> None:
    form = text(admin.get("/admin/queues/orders"))
    assert 'id="languages"' in form and 'value="en"' in form

    response = post(admin, "/admin/queues/orders", "/admin/queues/orders", **{**QUEUE_FORM, "languages": "en,es"})

    assert response.status_code == 303
    queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert queue.languages == "en,es" and queue.speaks("es")
    assert "en, es" in text(admin.get("/admin/queues"))


def test_a_language_that_is_not_a_code_is_explained_next_to_its_field(admin: FlaskClient, db_session: Session) -> None:
    response = post(admin, "/admin/queues/orders", "/admin/queues/orders", **{**QUEUE_FORM, "languages": "Spanish"})

    assert response.status_code == 422
    error = re.search(r'<p class="error" id="languages-error" role="alert">([^<]*)</p>', text(response))
    assert error and "codes separated by commas" in error.group(1)
    queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert queue.languages == "en"


def test_language_codes_are_taken_in_any_case_and_with_a_region_they_mean_the_language(
    app: Flask, db_session: Session
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["queues", "set", "orders", "--languages", "EN-us, es_mx"])
    assert result.exit_code == 0, result.output
    queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert queue.languages == "en-US,es-MX"
    # Agents listed as en-US speak to a caller who chose en, and es-MX to one who chose es.
    assert queue.speaks("en") and queue.speaks("es") and not queue.speaks("fr")
    empty = runner.invoke(args=["queues", "set", "orders", "--languages", " , "])
    assert empty.exit_code != 0 and "at least one language" in empty.output
