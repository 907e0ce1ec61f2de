"""Languages: the customer's pages follow the browser, and the call speaks the request's language."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback import calls, twiml
from callback.models import PHONE_CALLER, CallAttempt, CallbackRequest
from core.clock import FixedClock
from tests import factories


def _says(xml: str) -> list[ET.Element]:
    """Every <Say> of a TwiML document, in order, nested in <Gather> or not."""
    return list(ET.fromstring(xml).iter("Say"))


def test_a_spanish_request_is_called_in_spanish_with_a_spanish_voice(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now(), language="es", order_number="12345")
    xml = twiml.confirm(req, "Acme", "https://shop.example/confirm")
    says = _says(xml)
    assert says and all((s.get("voice"), s.get("language")) == ("Polly.Lupe", "es-US") for s in says)
    gathers = list(ET.fromstring(xml).iter("Gather"))
    assert gathers and all(g.get("language") == "es-US" for g in gathers)  # Spanish answers are heard
    assert gathers[0].get("hints") == "sí, no, espere"
    greeting = says[0].text or ""
    assert greeting.startswith("Hola Test. Le llamamos del servicio de atención al cliente de Acme")
    assert "pedidos, seguimiento y entregas, pedido 1 2 3 4 5" in greeting and "oprima 1 o diga sí" in greeting
    assert not any("press 1" in (s.text or "") for s in says)
    again = _says(twiml.confirm(req, "Acme", "https://shop.example/confirm", again=True))
    assert (again[0].text or "").startswith("Perdone, no le he entendido")
    assert "Le volveremos a llamar pronto" in (_says(twiml.voicemail(req, "Acme", "+15005550006"))[0].text or "")
    assert "Le ponemos ahora con un agente" in (_says(twiml.greet_customer(req, "Acme"))[0].text or "")


@pytest.mark.parametrize(
    ("language", "said", "action"),
    [
        ("es", "Sí.", "dial"),
        ("es", "Claro que sí.", "dial"),
        ("es", "Uno.", "dial"),
        ("es", "No, gracias.", "declined"),
        ("en", "Yes please.", "dial"),
    ],
)
def test_the_customer_answers_the_connect_question_in_the_language_they_were_asked_in(
    session: Session, clock: FixedClock, language: str, said: str, action: str
) -> None:
    # Asked "oprima 1 o diga sí", a Spanish customer says sí: heard in Spanish, not by the English reader.
    agent = factories.agent(session, clock.now(), status="reserved")
    req = factories.request(session, clock.now(), status="dialing", attempts=1, agent_id=agent.id, language=language)
    attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid="CAes1", created_at=clock.now())
    session.add(attempt)
    session.commit()
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, None, said).action == action


def test_every_sentence_the_callback_call_says_before_an_agent_has_its_spanish() -> None:
    # A sentence missing from twiml.SPANISH is said in English by the Spanish voice.
    source = (Path(twiml.__file__).parent / "voice.py").read_text()
    said = re.findall(r'_dial\(attempt, step, "([^"]+)"\)', source)
    assert len(said) >= 3
    assert [sentence for sentence in said if sentence not in twiml.SPANISH] == []


@pytest.mark.parametrize(("language", "hello"), [("en", "Hello there. This is Acme"), ("es", "Hola. Le llamamos")])
def test_a_callback_asked_for_on_the_phone_greets_nobody_by_our_placeholder_name(
    session: Session, clock: FixedClock, language: str, hello: str
) -> None:
    req = factories.request(session, clock.now(), language=language, source="ivr")
    req.name = PHONE_CALLER
    greeting = _says(twiml.confirm(req, "Acme", "https://shop.example/confirm"))[0].text or ""
    assert greeting.startswith(hello) and "Phone" not in greeting


def test_an_english_request_is_called_as_before(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now())
    assert req.language == "en"
    says = _says(twiml.confirm(req, "Acme", "https://shop.example/confirm"))
    assert (says[0].text or "").startswith(
        "Hello Test. This is Acme customer service, returning your call about orders"
    )
    assert all(s.get("voice") == "Polly.Joanna" and s.get("language") is None for s in says)


def test_goodbyes_said_to_a_customer_follow_their_language() -> None:
    [spanish] = _says(twiml.goodbye("Thank you for talking with us. Goodbye.", language="es"))
    assert (spanish.text, spanish.get("language")) == ("Gracias por hablar con nosotros. Adiós.", "es-US")
    [english] = _says(twiml.goodbye("Thank you for talking with us. Goodbye."))
    assert (english.text, english.get("language")) == ("Thank you for talking with us. Goodbye.", None)
    # A sentence nobody translated yet is still said (in English), never dropped.
    assert [s.text for s in _says(twiml.goodbye("Something new.", language="es"))] == ["Something new."]


# -- the customer's pages follow the browser -----------------------------------------------------------

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").replace("\xa0", " ")


def _token(client: FlaskClient, path: str = "/callback") -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', _page(client.get(path, headers=SPANISH)))
    assert match
    return match.group(1)


FORM = {
    "country": "US",
    "phone": "(201) 555-0123",
    "name": "Ana López",
    "topic": "orders",
    "when": "asap",
    "consent": "y",
}


def test_a_spanish_browser_gets_the_spanish_form(client: FlaskClient) -> None:
    page = _page(client.get("/callback", headers=SPANISH))
    assert '<html lang="es">' in page
    assert "Olvídese de la música de espera: le llamamos nosotros" in page
    assert "Pedidos, seguimiento y entregas" in page and "Estados Unidos (+1)" in page
    assert "Acepto que me llamen a este número por mi consulta." in page
    assert "Saltar al contenido" in page
    assert "Skip the hold music" not in page


def test_an_english_or_unknown_language_gets_english(client: FlaskClient) -> None:
    for accept in ("en-US,en;q=0.9", "fr-FR,fr;q=0.9", ""):
        page = _page(client.get("/callback", headers={"Accept-Language": accept}))
        assert '<html lang="en">' in page and "Skip the hold music: we'll call you" in page


def test_spanish_errors_list_every_problem_in_spanish(client: FlaskClient) -> None:
    response = client.post(
        "/callback", data={"csrf_token": _token(client), "phone": "+44 20 7183 8750"}, headers=SPANISH
    )
    page = _page(response)
    assert response.status_code == 422
    assert "Corrija 4 problemas para que podamos llamarle:" in page
    assert "Solo podemos llamar a números de Estados Unidos y Canadá." in page
    assert "Díganos su nombre." in page and "Elija el motivo de su llamada." in page


def test_a_spanish_cancel_at_one_oclock_can_be_undone_hasta_la_1(client: FlaskClient, clock: FixedClock) -> None:
    data = {**FORM, "csrf_token": _token(client)}
    location = client.post("/callback", data=data, headers=SPANISH).headers["Location"]
    client.set_cookie("tz", "America/Bogota")
    clock.set(clock.now().replace(hour=6, minute=0) + timedelta(days=1))  # 1:00 in Bogotá
    token = _token(client, location)
    assert client.post(location + "/cancel", data={"csrf_token": token}, headers=SPANISH).status_code == 303
    page = _page(client.get(location, headers=SPANISH))
    assert "Puede deshacerlo hasta la 1:05 y conservar su lugar en la fila." in page


def test_a_closed_time_is_explained_with_the_hours_in_spanish(client: FlaskClient, clock: FixedClock) -> None:
    night = (clock.now() + timedelta(days=1)).replace(hour=4).isoformat()  # 23:00 in New York
    data = {**FORM, "csrf_token": _token(client), "when": "slot", "slot": night}
    page = _page(client.post("/callback", data=data, headers=SPANISH))
    assert (
        "El equipo de «Pedidos, seguimiento y entregas» no atiende el lunes, 23 de noviembre a las 23:00. "
        "Nuestro horario es de lunes a viernes, de 9:00 a 17:00, hora de Nueva York. Elija otra hora."
    ) in page


def test_a_spanish_request_keeps_its_language_and_its_page_speaks_it(
    app, client: FlaskClient, clock: FixedClock
) -> None:
    from core.db import get_db

    slot = (clock.now() + timedelta(days=1)).isoformat()
    data = {**FORM, "when": "slot", "slot": slot, "csrf_token": _token(client)}
    location = client.post("/callback", data=data, headers=SPANISH).headers["Location"]
    ref = location.rsplit("/", 1)[-1]
    with get_db(app).sessions() as s:
        assert s.scalar(select(CallbackRequest.language).where(CallbackRequest.ref == ref)) == "es"
    page = _page(client.get(location, headers=SPANISH))
    assert "Reservado: le llamaremos el martes, 24 de noviembre a las 10:00." in page
    assert "hora de Estados Unidos (Nueva York)" in page
    assert "Cancelar mi llamada" in page


def test_a_customer_on_an_english_phone_may_choose_spanish_and_keeps_it(app, client: FlaskClient) -> None:
    from core.db import get_db

    english = {"Accept-Language": "en-US,en;q=0.9"}
    first = _page(client.get("/callback", headers=english))
    assert 'href="/callback?lang=es" hreflang="es" lang="es">Español</a>' in first
    chosen = _page(client.get("/callback?lang=es", headers=english))
    assert '<html lang="es">' in chosen and 'hreflang="en" lang="en">English</a>' in chosen
    # Kept for the pages after it, the request and its call.
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', chosen)
    assert token
    location = client.post("/callback", data={**FORM, "csrf_token": token.group(1)}, headers=english).headers[
        "Location"
    ]
    with get_db(app).sessions() as s:
        ref = location.rsplit("/", 1)[-1]
        assert s.scalar(select(CallbackRequest.language).where(CallbackRequest.ref == ref)) == "es"
    assert '<html lang="es">' in _page(client.get(location, headers=english))
    # And back.
    assert '<html lang="en">' in _page(client.get("/callback?lang=en", headers=SPANISH))
    assert '<html lang="en">' in _page(client.get("/callback", headers=SPANISH))


def test_a_team_that_does_not_speak_the_customers_language_is_said_on_the_form(client: FlaskClient) -> None:
    from agents.service import update_queue
    from core.db import get_db

    with get_db(client.application).sessions() as s:
        update_queue(s, "returns", {"languages": "en"})
        update_queue(s, "orders", {"languages": "en,es"})
    spanish = _page(client.get("/callback", headers=SPANISH))
    returns = re.search(r'<li data-topic="returns">.*?</li>', spanish, re.S)
    orders = re.search(r'<li data-topic="orders">.*?</li>', spanish, re.S)
    assert returns and "es posible que la persona que le llame solo hable inglés" in returns.group(0)
    assert orders and "solo hable" not in orders.group(0)
    assert "may speak only" not in _page(client.get("/callback", headers={"Accept-Language": "en"}))
    # No team speaks it: said once, not once a topic.
    with get_db(client.application).sessions() as s:
        update_queue(s, "orders", {"languages": "en"})
    once = _page(client.get("/callback", headers=SPANISH))
    assert once.count("solo hable") == 1 and "Es posible que la persona que le llame solo hable inglés." in once


def test_a_form_post_too_large_is_explained_in_the_customers_language(client: FlaskClient) -> None:
    response = client.post("/callback", data={**FORM, "name": "x" * 200_000}, headers=SPANISH)
    assert response.status_code == 413
    page = _page(response)
    assert "Era más de lo que admite el formulario" in page and '<html lang="es">' in page


def test_the_confirmation_text_is_in_the_requests_language(database_url: str, clock: FixedClock) -> None:
    from tests.integration.test_callback_pages import _app

    application = _app(database_url, clock, sms_notifications=True)
    client = application.test_client()
    client.post("/callback", data={**FORM, "csrf_token": _token(client)}, headers=SPANISH)
    [sms] = application.extensions["telephony"].messages
    assert sms.body.startswith("Hemos recibido su solicitud de llamada sobre pedidos, seguimiento y entregas.")


# -- the catalog -------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_every_customer_facing_string_has_a_spanish_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "_N"]
        + ["--no-location", "-o", str(pot), str(ROOT)]
    )
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot.open("rb")) if m.id}
    po = read_po((ROOT / "translations/es/LC_MESSAGES/messages.po").open("rb"))
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in po if m.id and m.string and all(m.string)}
    assert wanted - translated == set(), "run pybabel update and translate (see babel.cfg)"


def test_the_committed_mo_file_matches_the_po_file() -> None:
    po = read_po((ROOT / "translations/es/LC_MESSAGES/messages.po").open("rb"))
    compiled = BytesIO()
    write_mo(compiled, po)
    committed = (ROOT / "translations/es/LC_MESSAGES/messages.mo").read_bytes()
    assert compiled.getvalue() == committed, "run: pybabel compile -d translations"


def test_the_api_takes_a_language_or_follows_accept_language(client: FlaskClient) -> None:
    body = {"phone": "+12015550123", "name": "Ana", "topic": "orders", "consent": True}
    given = client.post("/api/callbacks", json={**body, "language": "es"})
    assert given.status_code == 201 and given.get_json()["language"] == "es"
    followed = client.post("/api/callbacks", json={**body, "topic": "returns"}, headers=SPANISH)
    assert followed.get_json()["language"] == "es"
    plain = client.post("/api/callbacks", json={**body, "phone": "+12015550124"})
    assert plain.get_json()["language"] == "en"
    refused = client.post("/api/callbacks", json={**body, "phone": "+12015550125", "language": "fr"})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "language"


def test_the_expired_form_page_speaks_the_browsers_language_and_staff_pages_stay_english(client: FlaskClient) -> None:
    customer = _page(client.post("/callback", data={"phone": "1"}, headers=SPANISH))
    # The form itself again (what was typed kept), saying in Spanish that it expired.
    assert '<html lang="es">' in customer and "Este formulario ha caducado" in customer
    staff = _page(client.post("/login", data={}, headers=SPANISH))
    assert '<html lang="en">' in staff and "This page has expired" in staff and "caducado" not in staff


def test_a_browser_is_matched_on_its_primary_language_in_its_own_order() -> None:
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    from callback.words import preferred_language

    def best(header: str) -> str:
        return preferred_language(parse_accept_header(header, LanguageAccept))

    assert best("es-US,en;q=0.5") == "es"
    assert best("es-419,en;q=0.9") == "es"
    assert best("es-MX,en-US;q=0.7,en;q=0.3") == "es"
    assert best("en-GB,es;q=0.8") == "en"
    assert best("fr-FR,es-AR;q=0.8,en;q=0.5") == "es"
    assert best("en;q=0.4,es-CO;q=0.6") == "es"  # by weight, not by where it is written
    assert best("es;q=0,en;q=0.1") == "en"  # q=0 is a refusal
    assert best("fr,de") == best("") == best("*") == "en"


def test_spanish_first_browsers_get_spanish_pages_and_spanish_callbacks(client: FlaskClient) -> None:
    for accept in ("es-US,en;q=0.5", "es-419,en;q=0.9", "es-MX,en-US;q=0.7,en;q=0.3"):
        page = _page(client.get("/callback", headers={"Accept-Language": accept}))
        assert '<html lang="es">' in page, accept
    body = {"phone": "+12015550123", "name": "Ana", "topic": "orders", "consent": True}
    made = client.post("/api/callbacks", json=body, headers={"Accept-Language": "es-419,en;q=0.9"})
    assert made.status_code == 201 and made.get_json()["language"] == "es"
