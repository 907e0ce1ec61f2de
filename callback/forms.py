"""The customer's callback form (Flask-WTF supplies the CSRF token); labels in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice

WHEN_CHOICES = [SelectChoice("asap", _l("As soon as possible")), SelectChoice("slot", _l("At a time I choose"))]


class CallbackForm(FlaskForm):
    """Phone, name, topic, optional order, when, and consent; the service does the real validation."""

    country = SelectField(_l("Country"))
    phone = TelField(_l("Phone number"))
    name = StringField(_l("Your name"))
    topic = SelectField(_l("What is it about?"))
    order_number = StringField(_l("Order number (optional)"))
    when = RadioField(_l("When should we call?"), choices=WHEN_CHOICES, default="asap")
    # Slots depend on the topic's hours, so they are checked by the service, not as fixed choices.
    slot = StringField(_l("Time"))
    consent = BooleanField(_l("I agree to be called at this number about my request."))
    # A random id per rendered form (callback.views.form_id): a second post of the same form is its maker's.
    form_id = HiddenField()


class RescheduleForm(FlaskForm):
    """Pick another slot, or as soon as possible."""

    # Two submit buttons carry "slot" or "asap"; pressing Enter in the picker means the slot.
    when = StringField(default="slot")
    slot = StringField(_l("Time"))


class CancelForm(FlaskForm):
    """Nothing but the CSRF token: the reference in the URL says which request (cancel and undo)."""
