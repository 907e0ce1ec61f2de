"""The shop's recordings are of the default language's words: a caller in another language hears them said."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.test_ivr_webhooks import form, post, verbs

# The shop's tree with its greeting and main menu recorded, and the helpers that upload a prompt.
from tests.integration.test_prompts_ivr import add_prompt, app, spoken

__all__ = ["app"]  # the fixture, used by name


def test_a_caller_who_chose_spanish_hears_the_menu_said_in_spanish_not_the_english_recording(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    menu = add_prompt(app, tmp_path, "main-menu")
    english = verbs(post(app, client, "/voice/incoming", form()))[0]
    assert ("Play", menu) in spoken(english)

    spanish = spoken(verbs(post(app, client, "/voice/ivr/input?node=main", form(Digits="9")))[0])

    assert [tag for tag, _ in spanish] == ["Say", "Say"]
    assert spanish[0][1].startswith("Gracias por llamar a Callme Shop. Para saber dónde está su pedido")
    assert spanish[1][1] == "For English, press 8, or say English."
