"""Languages: the customer's pages follow the browser, and the call speaks the request's language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from callback import twiml
from core.clock import FixedClock
from tests import factories


def test_a_spanish_request_is_called_in_spanish_with_a_spanish_voice(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now(), language="es", order_number="12345")
    xml = twiml.confirm(req, "Acme", "https://shop.example/confirm")
    assert 'language="es-US"' in xml and 'voice="Polly.Lupe"' in xml
    assert "Hola Test. Le llamamos del servicio de atención al cliente de Acme" in xml
    assert "pedidos, seguimiento y entregas, pedido 1 2 3 4 5" in xml
    assert "pulse 1 o diga sí" in xml
    assert "Polly.Joanna" not in xml and "press 1" not in xml
    assert 'hints="sí, no, espere"' in xml  # the recogniser listens for Spanish answers too
    again = twiml.confirm(req, "Acme", "https://shop.example/confirm", again=True)
    assert "Perdone, no le he entendido" in again
    assert "Le volveremos a llamar pronto" in twiml.voicemail(req, "Acme", "+15005550006")
    assert "Le ponemos ahora con un agente" in twiml.greet_customer(req, "Acme")


def test_an_english_request_is_called_as_before(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now())
    assert req.language == "en"
    xml = twiml.confirm(req, "Acme", "https://shop.example/confirm")
    assert "Hello Test. This is Acme customer service, returning your call about orders" in xml
    assert 'voice="Polly.Joanna"' in xml and "es-US" not in xml


def test_goodbyes_said_to_a_customer_follow_their_language() -> None:
    spanish = twiml.goodbye("Thank you for talking with us. Goodbye.", language="es")
    assert "Gracias por hablar con nosotros. Adiós." in spanish and 'language="es-US"' in spanish
    english = twiml.goodbye("Thank you for talking with us. Goodbye.")
    assert "Thank you for talking with us." in english and "language=" not in english
    # A sentence nobody translated yet is still said (in English), never dropped.
    assert "Something new." in twiml.goodbye("Something new.", language="es")
