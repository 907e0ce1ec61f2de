"""A Spanish browser asks for a callback on the form, and the call it gets speaks Spanish (through the sandbox)."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from tests.e2e.conftest import System

CUSTOMER = "+12015550123"
AGENT = "+12015550188"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.4"}


def spanish_call(system: System) -> tuple[requests.Session, str, list[dict[str, Any]]]:
    """A Spanish browser asks on the form; the call is answered, 1 pressed, an agent accepts.

    Returns the browser, the request's reference and what the customer heard (the sandbox's "say" events)."""
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    system.add_agent(AGENT)

    browser = requests.Session()
    browser.headers.update(SPANISH)
    form = html.unescape(browser.get(f"{system.app_url}/callback", timeout=10).text)
    assert '<html lang="es">' in form and "Pida que le llamemos" in form
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token
    answer = browser.post(
        f"{system.app_url}/callback",
        data={
            "csrf_token": token.group(1),
            "country": "US",
            "phone": "(201) 555-0123",
            "name": "Ana López",
            "topic": "orders",
            "when": "asap",
            "consent": "y",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    ref = answer.headers["Location"].rsplit("/", 1)[-1]
    assert system.request(ref).language == "es"

    system.wait_status(ref, "completed", timeout=40)
    [call] = system.calls(to=CUSTOMER)
    return browser, ref, [e for e in system.call(call["sid"])["timeline"] if e["type"] == "say"]


def test_a_spanish_browser_gets_the_spanish_form_and_a_spanish_callback_prompt(system: System) -> None:
    browser, ref, says = spanish_call(system)
    words = " ".join(e.get("text", "") for e in says)
    assert "Hola Ana. Le llamamos del servicio de atención al cliente" in words
    assert "pedidos, seguimiento y entregas" in words and "oprima 1 o diga sí" in words
    assert "Gracias. Le ponemos en contacto ahora." in words
    prompts = [e for e in says if "Goodbye" not in e.get("text", "")]
    assert prompts and all(e.get("language") == "es-US" for e in prompts), says
    assert "press 1" not in words.lower()

    status = html.unescape(browser.get(f"{system.app_url}/callback/{ref}", timeout=10).text)
    assert "Listo: ha hablado con uno de nuestros agentes." in status


def test_the_goodbye_after_the_call_is_spanish_too(system: System) -> None:
    _browser, _ref, says = spanish_call(system)
    assert says and all(e.get("language") == "es-US" for e in says), says
