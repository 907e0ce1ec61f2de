"""The supervisors' and admins' forms (Flask-WTF supplies the CSRF token); the services do the real validation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

STATUS_CHOICES = [
    SelectChoice("available", "Available"),
    SelectChoice("away", "Away"),
    SelectChoice("offline", "Offline"),
]
ROLE_CHOICES = [
    SelectChoice("agent", "Agent"),
    SelectChoice("supervisor", "Supervisor"),
    SelectChoice("admin", "Admin"),
]
STRATEGY_CHOICES = [SelectChoice("customer_first", "Customer first"), SelectChoice("agent_first", "Agent first")]
# Whole numbers only: a word here would otherwise reach the service as text.
WHOLE_NUMBER = "Please enter a whole number."


class StatusForm(FlaskForm):
    """Set one agent available, away or offline."""

    status = SelectField("New status", choices=STATUS_CHOICES)


class QueueForm(FlaskForm):
    """A queue's settings; `update_queue` judges them and names the field at fault."""

    hours = StringField("Opening hours")
    timezone = StringField("Time zone")
    caller_id = TelField("Caller ID")
    max_attempts = IntegerField("Most calls per request", render_kw={"inputmode": "numeric"})
    backoff_seconds = StringField("Wait before each retry (seconds)")
    expiry_hours = IntegerField("Give up after (hours)", render_kw={"inputmode": "numeric"})
    wrap_up_seconds = IntegerField("Wrap-up after each call (seconds)", render_kw={"inputmode": "numeric"})
    dial_strategy = SelectField("Dial strategy", choices=STRATEGY_CHOICES)
    recording = BooleanField("Record calls")
    service_level_seconds = IntegerField("Service-level target (seconds)", render_kw={"inputmode": "numeric"})
    languages = StringField("Languages its agents speak")

    INTEGERS = ("max_attempts", "expiry_hours", "wrap_up_seconds", "service_level_seconds")


class StaffForm(FlaskForm):
    """A new staff account; the staff service checks the address, the role and the password."""

    email = EmailField("Email")
    name = StringField("Name")
    role = SelectField("Role", choices=ROLE_CHOICES, default="agent")
    agent_id = SelectField("Linked agent (optional)", default="")
    password = PasswordField("Password")


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField("Role", choices=ROLE_CHOICES)


class ResetPasswordForm(FlaskForm):
    """A new password for someone who forgot theirs; the staff service checks it."""

    password = PasswordField("New password", render_kw={"autocomplete": "new-password", "maxlength": 1024})


class DncForm(FlaskForm):
    """A number never to call, and why."""

    phone = TelField("Phone number")
    # The list's reason column holds 200 characters.
    reason = StringField(
        "Reason (optional)", validators=[Length(max=200, message="Keep the reason under 200 characters.")]
    )


class DncRemoveForm(FlaskForm):
    """Take one number off the list (the number travels in a hidden field)."""

    phone = StringField()


class RequestFilterForm(FlaskForm):
    """The requests list's filters (a GET, kept in the URL: no token needed); the view judges the search."""

    class Meta:
        csrf = False

    q = StringField("Reference or last digits of the phone")
    status = SelectField("Status", choices=[], default="")
    queue = SelectField("Queue", choices=[], default="")
    date_from = DateField("Asked from", validators=[Optional()])
    date_to = DateField("Asked until", validators=[Optional()])
    duplicates = BooleanField("Show repeated asks")


class MoveForm(FlaskForm):
    """Move a waiting request to another queue (the choices are the other queues)."""

    queue = SelectField("Move to", choices=[])
