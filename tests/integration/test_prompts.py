"""The shop's prompts through the app: the CLI, the admin page, and the public URL Twilio plays."""

from __future__ import annotations

import html
import io
import re
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydub import AudioSegment
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.audit import AuditEvent
from core.clock import FixedClock
from core.db import get_db
from recordings import prompts
from recordings.audio import PROMPT_LEVEL_DBFS
from recordings.models import Prompt
from tests import factories, signin
from tests.signin import csrf_token
from tests.unit.test_prompts import silent_file, tone_file


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Flask]:
    """The whole app, keeping its audio under the test's own folder."""
    from agents.service import ensure_default_queues
    from app import create_app

    application = create_app(
        {
            "app_env": "testing",
            "database_url": database_url,
            "public_base_url": "https://shop.example",
            "instance_path": str(tmp_path / "instance"),
            "recordings_dir": str(tmp_path / "audio"),
            "prompt_max_seconds": 4,
        },
        clock=clock,
    )
    with get_db(application).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    yield application
    get_db(application).engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def sign_in(app: Flask, db_session: Session, clock: FixedClock) -> Callable[[str], FlaskClient]:
    def signed_in(role: str) -> FlaskClient:
        user = factories.staff(db_session, clock.now(), role)
        client = app.test_client()
        assert signin.sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def audio_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def prompt_row(app: Flask, name: str) -> Prompt | None:
    with get_db(app).sessions() as s:
        return prompts.find(s, name)


def audit_actions(app: Flask) -> list[tuple[str, str, str]]:
    with get_db(app).sessions() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("prompt.%")).order_by(AuditEvent.id))
        return [(e.action, e.target, e.actor) for e in events]


# --- the command line ---------------------------------------------------------------------------


def test_prompts_add_list_replace_and_remove_from_the_command_line(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(
        args=["prompts", "add", "greeting", str(audio_file(tmp_path, "hi.mp3", tone_file(fmt="mp3")))]
    )
    assert first.exit_code == 0, first.output
    assert "added prompt 'greeting'" in first.output and "dBFS" in first.output
    again = runner.invoke(
        args=["prompts", "add", "greeting", str(audio_file(tmp_path, "hi.ogg", tone_file(fmt="ogg")))]
    )
    assert again.exit_code == 0 and "replaced prompt 'greeting'" in again.output
    listed = runner.invoke(args=["prompts", "list"])
    assert listed.exit_code == 0 and re.search(r"^greeting\s+2\.0 s\s+-20\.0 dBFS.*hi\.ogg$", listed.output, re.M)
    removed = runner.invoke(args=["prompts", "remove", "greeting"])
    assert removed.exit_code == 0 and prompt_row(app, "greeting") is None
    assert "no prompts" in runner.invoke(args=["prompts", "list"]).output
    assert [action for action, target, actor in audit_actions(app) if actor.startswith("cli")] == [
        "prompt.add",
        "prompt.replace",
        "prompt.remove",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00garbage" * 300, "refused (unsupported): This is not an audio file we take: use WAV, MP3"),
        (b"RIFF\x00\x00\x00\x00WAVE" + b"garbage" * 300, "refused (corrupt): This file is not audio we can read"),
        (silent_file(), "refused (silent): This file is silent"),
        (tone_file(seconds=6.0), "refused (too_long): This recording lasts 6 seconds; a prompt may last at most 4"),
    ],
    ids=["unsupported", "corrupt", "silent", "too_long"],
)
def test_the_command_refuses_a_bad_file_with_its_reason(app: Flask, tmp_path: Path, data: bytes, message: str) -> None:
    result = app.test_cli_runner().invoke(args=["prompts", "add", "greeting", str(audio_file(tmp_path, "x.wav", data))])
    assert result.exit_code == 1 and message in result.output
    assert prompt_row(app, "greeting") is None


def test_the_command_refuses_a_missing_file_a_bad_name_and_an_unknown_prompt(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["prompts", "add", "greeting", str(tmp_path / "nope.wav")])
    assert missing.exit_code == 1 and "cannot read" in missing.output and "nope.wav" in missing.output
    bad = runner.invoke(args=["prompts", "add", "Big Hello", str(audio_file(tmp_path, "a.wav", tone_file()))])
    assert bad.exit_code == 1 and "lower-case letters" in bad.output
    unknown = runner.invoke(args=["prompts", "remove", "nothing"])
    assert unknown.exit_code == 1 and "no prompt called 'nothing'" in unknown.output


# --- the public URL -----------------------------------------------------------------------------


def test_a_prompt_is_served_publicly_as_wav_with_a_long_cache_life(app: Flask, tmp_path: Path) -> None:
    app.test_cli_runner().invoke(
        args=["prompts", "add", "greeting", str(audio_file(tmp_path, "a.mp3", tone_file(fmt="mp3")))]
    )
    response = app.test_client().get("/audio/prompts/greeting.wav?v=whatever")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert (response.cache_control.max_age or 0) >= 86400 * 30
    with wave.open(io.BytesIO(response.data)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (8000, 1)
    level = AudioSegment.from_file(io.BytesIO(response.data), format="wav").dBFS
    assert abs(level - PROMPT_LEVEL_DBFS) <= 1.0


@pytest.mark.parametrize(
    "path", ["/audio/prompts/nothing.wav", "/audio/prompts/Bad%20Name.wav", "/audio/prompts/..%2Fx.wav"]
)
def test_an_unknown_prompt_is_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


# --- the admin page -----------------------------------------------------------------------------


def upload(client: FlaskClient, name: str, data: bytes, filename: str = "greeting.mp3"):
    token = csrf_token(client, "/admin/prompts")
    return client.post(
        "/admin/prompts",
        data={"csrf_token": token, "name": name, "audio": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_a_prompt_bigger_than_the_app_wide_limit_and_sees_it_with_a_player(
    app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    admin = sign_in("admin")
    data = tone_file(seconds=3.0, fmt="wav")
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]  # the upload needs the raised limit
    response = upload(admin, "greeting", data, "welcome.wav")
    assert response.status_code == 303, text(response)
    page = text(admin.get("/admin/prompts"))
    assert "Prompt greeting added: 3.0 seconds." in page
    stored = prompt_row(app, "greeting")
    assert stored is not None and stored.original_name == "welcome.wav"
    assert f'<audio controls preload="none" src="/audio/prompts/greeting.wav?v={stored.sha256[:12]}"' in page
    assert admin.get(f"/audio/prompts/greeting.wav?v={stored.sha256[:12]}").status_code == 200
    assert upload(admin, "greeting", tone_file(fmt="mp3")).status_code == 303
    assert [a for a, t, _ in audit_actions(app)] == ["prompt.add", "prompt.replace"]
    assert all(target == "prompt greeting" and actor.startswith("admin") for _, target, actor in audit_actions(app))


def test_the_raised_limit_is_for_the_upload_alone(app: Flask, sign_in: Callable[[str], FlaskClient]) -> None:
    admin = sign_in("admin")
    token = csrf_token(admin, "/admin/prompts")
    big = {"csrf_token": token, "phone": "2015550199", "reason": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)}
    assert admin.post("/admin/dnc", data=big).status_code == 413


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"not audio at all " * 100,
            "This is not an audio file we take: use WAV, MP3, Ogg (Vorbis or Opus), FLAC, M4A/MP4, WebM, AIFF or AMR.",
        ),
        (b"OggS" + b"not audio at all " * 100, "This file is not audio we can read (it may be damaged)."),
        (silent_file(), "This file is silent: there is nothing to play."),
        (tone_file(seconds=6.0, fmt="mp3"), "This recording lasts 6 seconds; a prompt may last at most 4."),
    ],
    ids=["unsupported", "corrupt", "silent", "too_long"],
)
def test_the_page_refuses_a_bad_file_next_to_the_file_field(
    app: Flask, sign_in: Callable[[str], FlaskClient], data: bytes, message: str
) -> None:
    response = upload(sign_in("admin"), "greeting", data)
    assert response.status_code == 422
    assert f'<p class="error" id="audio-error" role="alert">{message}</p>' in text(response)
    assert prompt_row(app, "greeting") is None and audit_actions(app) == []


def test_the_page_refuses_a_bad_name_or_no_file_next_to_the_field(sign_in: Callable[[str], FlaskClient]) -> None:
    admin = sign_in("admin")
    bad = text(upload(admin, "Hello There", tone_file()))
    assert 'id="name-error" role="alert">A prompt name is 1 to 64 lower-case' in bad
    token = csrf_token(admin, "/admin/prompts")
    empty = admin.post(
        "/admin/prompts", data={"csrf_token": token, "name": "greeting"}, content_type="multipart/form-data"
    )
    assert empty.status_code == 422 and 'id="audio-error" role="alert">Please choose an audio file.' in text(empty)


def test_an_upload_without_a_valid_csrf_token_is_refused(app: Flask, sign_in: Callable[[str], FlaskClient]) -> None:
    admin = sign_in("admin")
    response = admin.post(
        "/admin/prompts",
        data={"csrf_token": "forged", "name": "greeting", "audio": (io.BytesIO(tone_file()), "a.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and prompt_row(app, "greeting") is None


def test_an_admin_removes_a_prompt(app: Flask, sign_in: Callable[[str], FlaskClient]) -> None:
    admin = sign_in("admin")
    upload(admin, "greeting", tone_file())
    response = admin.post("/admin/prompts/greeting/remove", data={"csrf_token": csrf_token(admin, "/admin/prompts")})
    assert response.status_code == 303 and prompt_row(app, "greeting") is None
    assert [a for a, _, _ in audit_actions(app)] == ["prompt.add", "prompt.remove"]
    again = admin.post("/admin/prompts/greeting/remove", data={"csrf_token": csrf_token(admin, "/admin/prompts")})
    assert again.status_code == 404


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_agents_and_supervisors_may_not_see_or_change_prompts(
    app: Flask, sign_in: Callable[[str], FlaskClient], role: str
) -> None:
    client = sign_in(role)
    assert client.get("/admin/prompts").status_code == 403
    token = csrf_token(client, "/staff")
    response = client.post(
        "/admin/prompts",
        # Small enough for the app-wide limit: the raised one is the admin's view's, and this never reaches it.
        data={"csrf_token": token, "name": "greeting", "audio": (io.BytesIO(tone_file(0.5, rate=8000)), "a.wav")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403 and prompt_row(app, "greeting") is None
    assert "/admin/prompts" not in client.get("/staff").get_data(as_text=True)


def test_the_admin_navigation_links_to_prompts(sign_in: Callable[[str], FlaskClient]) -> None:
    assert 'href="/admin/prompts"' in sign_in("admin").get("/admin/prompts").get_data(as_text=True)


def test_an_upload_above_the_raised_limit_is_refused_next_to_the_file_field(
    app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    from recordings.prompt_admin import UPLOAD_LIMIT_BYTES

    response = upload(sign_in("admin"), "greeting", b"\0" * (UPLOAD_LIMIT_BYTES + 1))
    assert response.status_code == 413
    assert 'id="audio-error" role="alert">This file is larger than 20 MB.' in text(response)
    assert prompt_row(app, "greeting") is None


def test_two_uploads_of_a_new_name_at_once_end_as_an_add_then_a_replace_never_an_error(
    app: Flask, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = prompts.store_for(app)
    first_look = prompts.find

    def racing_find(session: Session, name: str) -> Prompt | None:
        # The other upload commits the same new name just after this one looked and found nothing.
        monkeypatch.setattr(prompts, "find", first_look)
        with get_db(app).sessions() as other:
            prompts.save(other, store, clock, name, tone_file(1.0), max_seconds=4, actor="cli")
        return None

    monkeypatch.setattr(prompts, "find", racing_find)
    with get_db(app).sessions() as session:
        saved = prompts.save(session, store, clock, "welcome", tone_file(2.0), max_seconds=4, actor="cli")
    assert saved.replaced
    with get_db(app).sessions() as session:
        (row,) = session.scalars(select(Prompt).where(Prompt.name == "welcome")).all()
        assert row.duration_seconds == pytest.approx(2.0, abs=0.1)  # the later upload wins
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target == "prompt welcome")).all()
        assert sorted(actions) == ["prompt.add", "prompt.replace"]
    # The first upload's file went with the row that pointed at it; only the winner's is stored.
    assert len(list((tmp_path / "audio").rglob("*.wav"))) == 1
