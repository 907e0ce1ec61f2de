"""The phone tree plays the shop's prompts: <Play> when the prompt exists, <Say> of its sentence when not."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from core.clock import FixedClock
from core.db import get_db
from core.webhooks import FRAGMENT
from ivr.tree import DEFAULT_TREE
from recordings import prompts
from tests.integration.test_ivr_webhooks import BASE, form, post, verbs
from tests.unit.test_prompts import tone_file


def shop_tree(path: Path) -> Path:
    """The default tree, with the greeting and the main menu recorded by the shop."""
    raw = yaml.safe_load(DEFAULT_TREE.read_text(encoding="utf-8"))
    raw["greeting_play"] = "welcome"
    raw["nodes"]["main"]["play"] = "main-menu"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Flask]:
    from agents.service import ensure_default_queues
    from app import create_app

    application = create_app(
        {
            "app_env": "testing",
            "database_url": database_url,
            "public_base_url": BASE,
            "instance_path": str(tmp_path / "instance"),
            "recordings_dir": str(tmp_path / "audio"),
            "ivr_tree": str(shop_tree(tmp_path / "tree.yaml")),
        },
        clock=clock,
    )
    with get_db(application).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    yield application
    get_db(application).engine.dispose()


def add_prompt(app: Flask, tmp_path: Path, name: str) -> str:
    """Upload a prompt through the command line; its URL."""
    file = tmp_path / f"{name}.mp3"
    file.write_bytes(tone_file(fmt="mp3"))
    result = app.test_cli_runner().invoke(args=["prompts", "add", name, str(file)])
    assert result.exit_code == 0, result.output
    with get_db(app).sessions() as session:
        prompt = prompts.find(session, name)
        assert prompt is not None
        return f"{BASE}/audio/prompts/{name}.wav?v={prompt.sha256[:12]}"


def spoken(element: ET.Element) -> list[tuple[str, str]]:
    """What a verb or a <Gather> makes the caller hear, in order: ("Say", text) or ("Play", url)."""
    return [(child.tag, (child.text or "").strip()) for child in element if child.tag in ("Say", "Play")]


def test_without_the_prompts_the_greeting_and_menu_are_said(app: Flask, client: FlaskClient) -> None:
    gather = verbs(post(app, client, "/voice/incoming", form()))[0]
    assert gather.tag == "Gather"
    heard = spoken(gather)
    assert [tag for tag, _ in heard] == ["Say", "Say"]  # the menu, then Spanish offered in Spanish
    assert heard[0][1].startswith("Thanks for calling Callme Shop. To track an order, press 1")


def test_with_the_prompts_they_are_played_inside_the_gather(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    welcome = add_prompt(app, tmp_path, "welcome")
    menu = add_prompt(app, tmp_path, "main-menu")
    gather = verbs(post(app, client, "/voice/incoming", form()))[0]
    assert gather.tag == "Gather" and gather.get("action") == f"{BASE}/voice/ivr/input?node=main#{FRAGMENT}"
    assert spoken(gather) == [("Play", welcome), ("Play", menu), ("Say", "Para español, oprima 9 o diga español.")]
    assert client.get(welcome.removeprefix(BASE)).status_code == 200  # the URL Twilio is given serves the audio


def test_one_prompt_missing_plays_the_other_and_says_the_missing_ones_sentence(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    menu = add_prompt(app, tmp_path, "main-menu")
    gather = verbs(post(app, client, "/voice/incoming", form()))[0]
    assert spoken(gather) == [
        ("Say", "Thanks for calling Callme Shop."),
        ("Play", menu),
        ("Say", "Para español, oprima 9 o diga español."),
    ]


def test_a_reprompt_is_said_even_when_the_prompt_is_recorded(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    add_prompt(app, tmp_path, "main-menu")
    post(app, client, "/voice/incoming", form())
    again = verbs(post(app, client, "/voice/ivr/input?node=main", form(Digits="7")))[0]
    heard = spoken(again)
    assert [tag for tag, _ in heard] == ["Say", "Say"] and heard[0][1].startswith("Sorry, I didn't get that.")


def hold(app: Flask, client: FlaskClient) -> str:
    """Put a caller on hold from the main menu; the hold-wait webhook's path."""
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="0"))
    held = post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(Digits="3"))
    enqueue = verbs(held)[1]
    assert enqueue.tag == "Enqueue"
    return (enqueue.get("waitUrl") or "").removeprefix(BASE)


def test_hold_music_is_the_generated_loop_until_the_shop_uploads_its_own(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    wait = hold(app, client)
    before = verbs(post(app, client, wait, form()))
    assert [v.tag for v in before] == ["Say", "Play"] and before[1].text == f"{BASE}/audio/hold-music.wav"
    music = add_prompt(app, tmp_path, prompts.HOLD_MUSIC)
    # Nothing new to announce on the next loops: music only.
    after = verbs(post(app, client, wait, form()))
    assert after[-1].tag == "Play" and after[-1].text == music
    assert app.test_cli_runner().invoke(args=["prompts", "remove", prompts.HOLD_MUSIC]).exit_code == 0
    assert verbs(post(app, client, wait, form()))[-1].text == f"{BASE}/audio/hold-music.wav"


def test_ivr_check_warns_of_missing_prompts_and_fails_only_when_strict(app: Flask, tmp_path: Path) -> None:
    tree = str(tmp_path / "tree.yaml")
    runner = app.test_cli_runner()
    add_prompt(app, tmp_path, "main-menu")
    result = runner.invoke(args=["ivr", "check", tree])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "warning: greeting_play: there is no prompt called 'welcome'; callers hear the sentence instead "
        "(add it with: flask --app app prompts add welcome FILE)"
    )
    assert not any("main-menu" in line for line in lines) and lines[-1].startswith("OK:")
    assert runner.invoke(args=["ivr", "check", "--strict", tree]).exit_code == 1
    add_prompt(app, tmp_path, "welcome")
    clean = runner.invoke(args=["ivr", "check", "--strict", tree])
    assert clean.exit_code == 0 and "warning" not in clean.output
