"""Who hears a recording, how it is served (ranges, no caching), what the audit log keeps; the admin
API's list; and the operator commands that purge recordings and forget a request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agents import audit
from agents.models import Agent
from callback import service as callbacks
from callback.models import CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from recordings import audio
from recordings.models import Recording
from recordings.storage import LocalFolder, new_key, sha256
from telephony.fake import FakeTelephony
from tests import factories, signin
from tests.unit.test_recordings_transcode import telephone_wav


@dataclass
class Scene:
    """Two agents, a supervisor, a request whose call agent A took and recorded."""

    app: Flask
    store: LocalFolder
    req: CallbackRequest
    recording: Recording
    data: bytes
    agent_a: str
    agent_b: str
    supervisor: str
    telephony: FakeTelephony


def make_recording(
    session: Session, store: LocalFolder, now: datetime, req: CallbackRequest, agent: Agent | None, data: bytes
) -> Recording:
    key = new_key("recordings", now.year, "ogg")
    store.put(key, data)
    recording = Recording(
        kind="call",
        request_id=req.id,
        agent_id=agent.id if agent else None,
        provider_sid="RE" + sha256(key.encode())[:32],
        channels=2,
        state="stored",
        storage_key=key,
        format="ogg",
        duration_seconds=3.0,
        bytes=len(data),
        sha256=sha256(data),
        created_at=now,
        stored_at=now,
        provider_deleted_at=now,
    )
    session.add(recording)
    session.commit()
    return recording


@pytest.fixture(scope="module")
def ogg() -> bytes:
    return audio.compact(audio.decode(telephone_wav(3.0, channels=2)))


@pytest.fixture
def scene(app: Flask, clock: FixedClock, tmp_path: Path, ogg: bytes) -> Iterator[Scene]:
    store = LocalFolder(tmp_path / "recordings")
    telephony = FakeTelephony()
    app.extensions["audio_store"] = store
    app.extensions["telephony"] = telephony
    now = clock.now()
    with get_db(app).sessions() as session:
        a = factories.agent(session, now)
        b = factories.agent(session, now)
        staff_a = factories.staff(session, now, "agent", agent_id=a.id)
        staff_b = factories.staff(session, now, "agent", agent_id=b.id)
        boss = factories.staff(session, now, "supervisor")
        req = factories.request(session, now, status="completed", order_number="A-77", note="a refund")
        recording = make_recording(session, store, now, req, a, ogg)
        yield Scene(app, store, req, recording, ogg, staff_a.email, staff_b.email, boss.email, telephony)


def lines(app: Flask, action: str) -> list[audit.AuditEvent]:
    with get_db(app).sessions() as session:
        return [e for e in audit.recent(session, 200) if e.action == action]


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    assert signin.sign_in(client, email).status_code == 302
    return client


def url(scene: Scene, suffix: str = "") -> str:
    return f"/recordings/{scene.recording.public_id}{suffix}"


# --- access -----------------------------------------------------------------------------------------


def test_signed_out_nobody_hears_or_downloads_a_recording(scene: Scene) -> None:
    client = scene.app.test_client()
    for path in (url(scene), url(scene, "/download")):
        page = client.get(path)
        assert page.status_code == 302 and "/login" in page.headers["Location"]
        script = client.get(path, headers={"Accept": "application/json"})
        assert script.status_code == 401
        assert scene.data not in page.get_data() + script.get_data()
    assert lines(scene.app, "recording.play") == [] and lines(scene.app, "recording.download") == []


def test_an_agent_hears_their_own_call_with_ranges_and_one_audit_line(scene: Scene, clock: FixedClock) -> None:
    client = signed_in(scene.app, scene.agent_a)

    seek_first = client.get(url(scene), headers={"Range": "bytes=500-"})
    assert seek_first.status_code == 206 and len(lines(scene.app, "recording.play")) == 1
    whole = client.get(url(scene))
    start = client.get(url(scene), headers={"Range": "bytes=0-99"})
    seek = client.get(url(scene), headers={"Range": "bytes=100-"})

    assert client.head(url(scene)).status_code == 200  # a HEAD hears nothing: not audited
    assert whole.status_code == 200 and whole.get_data() == scene.data
    assert whole.mimetype == "audio/ogg"
    assert whole.headers["Cache-Control"] == "private, no-store"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert start.status_code == 206 and start.get_data() == scene.data[:100]
    assert start.headers["Content-Range"] == f"bytes 0-99/{len(scene.data)}"
    assert seek.status_code == 206 and seek.get_data() == scene.data[100:]
    # One playback, however many range requests the player made.
    played = lines(scene.app, "recording.play")
    assert len(played) == 1
    assert played[0].actor == scene.agent_a and played[0].target == f"recording {scene.recording.id}"

    clock.advance(minutes=6)
    client.get(url(scene), headers={"Range": "bytes=0-"})
    assert len(lines(scene.app, "recording.play")) == 2


@pytest.mark.parametrize(
    ("asked", "served"), [("bytes=-{size}", 206), ("bytes=1-", 206), ("bytes=-100000000", 416), ("bytes={size}-", 416)]
)
def test_no_range_reads_the_audio_unaudited(scene: Scene, asked: str, served: int) -> None:
    # A suffix range, or one that skips byte 0, gets the file (or all of it but a byte) all the same;
    # a range refused (416) serves nothing, and nothing is audited.
    for path, action in ((url(scene), "recording.play"), (url(scene, "/download"), "recording.download")):
        client = signed_in(scene.app, scene.supervisor)
        answer = client.get(path, headers={"Range": asked.format(size=len(scene.data))})
        assert answer.status_code == served
        audited = [scene.supervisor] if served == 206 else []
        assert [e.actor for e in lines(scene.app, action)] == audited, (path, asked)
        with get_db(scene.app).sessions() as s:
            s.execute(delete(audit.AuditEvent))
            s.commit()


def test_another_agent_gets_404_as_if_the_recording_did_not_exist(scene: Scene) -> None:
    client = signed_in(scene.app, scene.agent_b)

    assert client.get(url(scene)).status_code == 404
    assert client.get(url(scene, "/download")).status_code == 404
    assert lines(scene.app, "recording.play") == [] and lines(scene.app, "recording.download") == []


def test_a_supervisor_hears_any_recording_and_downloads_it_audited(scene: Scene) -> None:
    client = signed_in(scene.app, scene.supervisor)

    played = client.get(url(scene))
    saved = client.get(url(scene, "/download"))

    assert played.status_code == 200 and played.get_data() == scene.data
    assert saved.status_code == 200 and saved.get_data() == scene.data
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    assert saved.headers["Cache-Control"] == "private, no-store"
    assert [e.actor for e in lines(scene.app, "recording.play")] == [scene.supervisor]
    assert [e.actor for e in lines(scene.app, "recording.download")] == [scene.supervisor]


def test_a_forged_or_expired_link_is_refused(scene: Scene) -> None:
    client = signed_in(scene.app, scene.supervisor)
    forged = scene.recording.public_id[:-2] + ("AA" if not scene.recording.public_id.endswith("AA") else "BB")

    assert client.get(f"/recordings/{forged}").status_code == 404
    assert client.get("/recordings/..%2F..%2Fetc%2Fpasswd").status_code == 404
    # Expired: purged by retention, the same link finds nothing.
    with get_db(scene.app).sessions() as session:
        session.delete(session.get(Recording, scene.recording.id))
        session.commit()
    assert client.get(url(scene)).status_code == 404
    assert lines(scene.app, "recording.play") == []


def test_a_recording_not_yet_brought_home_is_not_served(scene: Scene, clock: FixedClock) -> None:
    with get_db(scene.app).sessions() as session:
        pending = Recording(provider_sid="RE" + "c" * 32, state="pending", created_at=clock.now())
        session.add(pending)
        session.commit()
    client = signed_in(scene.app, scene.supervisor)
    assert client.get(f"/recordings/{pending.public_id}").status_code == 404


def test_the_request_page_and_the_agents_console_offer_the_player(scene: Scene) -> None:
    boss = signed_in(scene.app, scene.supervisor)
    page = boss.get(f"/admin/requests/{scene.req.id}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="{url(scene)}">' in page
    assert f'href="{url(scene, "/download")}"' in page

    agent = signed_in(scene.app, scene.agent_a)
    console = agent.get("/agent").get_data(as_text=True)
    assert "My recordings" in console and url(scene) in console
    other = signed_in(scene.app, scene.agent_b).get("/agent").get_data(as_text=True)
    assert url(scene) not in other
    # Showing the player is not listening: nothing is audited until the audio is read.
    assert lines(scene.app, "recording.play") == []


def test_the_request_page_says_which_recordings_are_still_being_copied_or_failed_to_copy(
    scene: Scene, clock: FixedClock
) -> None:
    """A supervisor looking for a call's recording learns it exists, and that Twilio still holds it,
    while it is copied home and when copying failed: not silence, as if nothing was recorded."""
    with get_db(scene.app).sessions() as session:
        for state, sid, tries, error in (
            ("pending", "RE" + "1" * 32, 2, "TelephonyError: 0: connection reset"),
            ("failed", "RE" + "2" * 32, 12, "CopyRejected: the copy lasts 4.000 s, the original 300.000 s"),
        ):
            session.add(
                Recording(
                    provider_sid=sid,
                    request_id=scene.req.id,
                    state=state,
                    tries=tries,
                    last_error=error,
                    channels=2,
                    created_at=clock.now() + timedelta(minutes=tries),
                )
            )
        session.commit()

    page = signed_in(scene.app, scene.supervisor).get(f"/admin/requests/{scene.req.id}").get_data(as_text=True)

    section = page[page.index('<section class="card recordings"') :]
    section = section[: section.index("</section>")]
    items = section.split("<li")[1:]
    assert len(items) == 3
    stored, copying, failed = items
    assert "<audio" in stored
    assert "Being copied from Twilio" in copying and "Twilio still holds it" in copying and "<audio" not in copying
    assert "Copying failed after 12 tries" in failed and "Twilio still holds it" in failed
    assert "the copy lasts 4.000 s" in failed and "recordings fetch --retry-failed" in failed
    assert "<audio" not in failed and "/download" not in failed


# --- the admin API -----------------------------------------------------------------------------------


def test_the_api_lists_a_requests_recordings_with_the_documented_fields(
    scene: Scene, admin_headers: dict[str, str]
) -> None:
    client = scene.app.test_client()

    listed = client.get(f"/api/recordings?request={scene.req.ref}", headers=admin_headers)

    assert listed.status_code == 200
    [item] = listed.get_json()
    assert set(item) == {"id", "request", "duration_seconds", "channels", "format", "created_at", "url"}
    assert item["request"] == scene.req.ref and item["format"] == "ogg" and item["channels"] == 2
    assert item["duration_seconds"] == 3.0
    assert datetime.fromisoformat(item["created_at"]) == scene.recording.created_at
    assert item["url"] == f"https://shop.example/recordings/{scene.recording.public_id}"
    # The URL carries no secret: without a session it is refused.
    assert client.get(url(scene), headers={"Accept": "application/json"}).status_code == 401


def test_the_api_refuses_without_the_token_and_explains_bad_input(scene: Scene, admin_headers: dict[str, str]) -> None:
    client = scene.app.test_client()
    assert client.get(f"/api/recordings?request={scene.req.ref}").status_code == 401
    missing = client.get("/api/recordings", headers=admin_headers)
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "missing_request"
    unknown = client.get("/api/recordings?request=nope", headers=admin_headers)
    assert unknown.status_code == 404


# --- the commands --------------------------------------------------------------------------------------


def test_purge_before_a_date_deletes_the_older_recordings(scene: Scene, clock: FixedClock, ogg: bytes) -> None:
    with get_db(scene.app).sessions() as session:
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None
        old = make_recording(session, scene.store, clock.now() - timedelta(days=40), req, None, ogg)
    runner = scene.app.test_cli_runner()

    result = runner.invoke(args=["recordings", "purge", "--before", "2026-11-01"])

    assert result.exit_code == 0, result.output
    assert "1 recording(s)" in result.output
    with get_db(scene.app).sessions() as session:
        remaining = session.scalars(select(Recording.id)).all()
    assert remaining == [scene.recording.id]
    assert scene.store.path(old.storage_key or "") is None
    assert [e.details_dict["deleted"] for e in lines(scene.app, "recording.purge")] == [1]


@pytest.mark.parametrize(
    ("given", "complaint"),
    [("last week", "not a date"), ("2099-01-01", "in the future"), ("2026-11-01T10:00:00", "offset")],
)
def test_purge_refuses_a_bad_date_and_deletes_nothing(scene: Scene, given: str, complaint: str) -> None:
    result = scene.app.test_cli_runner().invoke(args=["recordings", "purge", "--before", given])

    assert result.exit_code != 0 and complaint in result.output
    with get_db(scene.app).sessions() as session:
        assert session.scalars(select(Recording.id)).all() == [scene.recording.id]


def test_forgetting_a_request_deletes_its_recordings_and_erases_the_customer(scene: Scene) -> None:
    result = scene.app.test_cli_runner().invoke(args=["requests", "forget", "--", scene.req.ref])

    assert result.exit_code == 0, result.output
    assert "1 recording(s) deleted" in result.output
    assert scene.store.path(scene.recording.storage_key or "") is None
    with get_db(scene.app).sessions() as session:
        assert session.scalars(select(Recording.id)).all() == []
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None
        assert (req.name, req.phone, req.order_number, req.note) == (
            callbacks.FORGOTTEN_NAME,
            callbacks.FORGOTTEN_PHONE,
            None,
            None,
        )
    [line] = lines(scene.app, "request.forget")
    assert line.target == f"request {scene.req.id}"


@pytest.mark.parametrize("status", ["dialing", "connected"])
def test_a_refused_forget_deletes_no_recording_of_the_request(scene: Scene, clock: FixedClock, status: str) -> None:
    """Forgetting waits for the call to end: then nothing may be gone, neither our file nor Twilio's copy."""
    pending_sid = "RE" + "e" * 32
    scene.telephony.add_recording(pending_sid, telephone_wav(2.0))
    with get_db(scene.app).sessions() as session:
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None
        req.status = status
        session.add(Recording(provider_sid=pending_sid, request_id=req.id, state="pending", created_at=clock.now()))
        session.commit()

    # "--": a reference may begin with "-", which click would read as an option.
    result = scene.app.test_cli_runner().invoke(args=["requests", "forget", "--", scene.req.ref])

    assert result.exit_code != 0 and "once the call is over" in result.output
    assert scene.store.path(scene.recording.storage_key or "") is not None
    assert pending_sid in scene.telephony.recordings and scene.telephony.deleted_recordings == []
    with get_db(scene.app).sessions() as session:
        assert len(session.scalars(select(Recording.id)).all()) == 2
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None and req.phone != callbacks.FORGOTTEN_PHONE
    assert lines(scene.app, "request.forget") == []
    # And the staff who may hear it still can.
    assert signed_in(scene.app, scene.supervisor).get(url(scene)).status_code == 200


def test_a_reference_that_begins_with_a_dash_is_forgotten_as_typed(scene: Scene) -> None:
    """One reference in 64 begins with "-": the operator types it as the customer gave it, without "--"."""
    dashed = "-" + scene.req.ref[1:]
    with get_db(scene.app).sessions() as session:
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None
        req.ref = dashed
        session.commit()

    result = scene.app.test_cli_runner().invoke(args=["requests", "forget", dashed])

    assert result.exit_code == 0, result.output
    assert "1 recording(s) deleted" in result.output
    with get_db(scene.app).sessions() as session:
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None and req.phone == callbacks.FORGOTTEN_PHONE
    # An option the command does have is still one.
    assert "Usage" in scene.app.test_cli_runner().invoke(args=["requests", "forget", "--help"]).output


def test_forgetting_an_unknown_reference_says_so(scene: Scene) -> None:
    result = scene.app.test_cli_runner().invoke(args=["requests", "forget", "no-such-ref"])
    assert result.exit_code != 0 and "couldn't find" in result.output


def test_the_daily_retention_job_deletes_exactly_the_expired_recordings(
    scene: Scene, clock: FixedClock, ogg: bytes
) -> None:
    from scheduler.runtime import retention_pass

    days = scene.app.config["SETTINGS"].recording_retention_days
    with get_db(scene.app).sessions() as session:
        req = session.get(CallbackRequest, scene.req.id)
        assert req is not None
        expired = make_recording(session, scene.store, clock.now() - timedelta(days=days, seconds=1), req, None, ogg)
        kept = make_recording(session, scene.store, clock.now() - timedelta(days=days - 1), req, None, ogg)

    assert retention_pass(scene.app) == 1

    with get_db(scene.app).sessions() as session:
        assert sorted(session.scalars(select(Recording.id)).all()) == sorted([scene.recording.id, kept.id])
    assert scene.store.path(expired.storage_key or "") is None
    assert scene.store.path(kept.storage_key or "") is not None


def test_fetch_by_hand_brings_home_a_recording_that_had_failed(scene: Scene, clock: FixedClock) -> None:
    sid = "RE" + "d" * 32
    scene.telephony.add_recording(sid, telephone_wav(2.0))
    with get_db(scene.app).sessions() as session:
        failed = Recording(
            provider_sid=sid, state="failed", tries=12, provider_duration_seconds=2, created_at=clock.now()
        )
        session.add(failed)
        session.commit()
    runner = scene.app.test_cli_runner()

    untouched = runner.invoke(args=["recordings", "fetch"])
    again = runner.invoke(args=["recordings", "fetch", "--retry-failed"])

    assert untouched.exit_code == 0 and "0 stored" in untouched.output
    assert again.exit_code == 0, again.output
    assert "1 failed recording(s) back in line" in again.output and "1 stored" in again.output
    with get_db(scene.app).sessions() as session:
        row = session.get(Recording, failed.id)
        assert row is not None and row.state == "stored" and row.provider_deleted_at is not None
    assert scene.telephony.deleted_recordings == [sid]
