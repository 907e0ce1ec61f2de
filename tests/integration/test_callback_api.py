"""The callback JSON API, through Flask's test client, on every backend."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from core.clock import FixedClock

VALID = {"phone": "+12015550123", "name": "Ann Lee", "topic": "orders", "consent": True}


def post(client: FlaskClient, **changes: object):
    body = {**VALID, **changes}
    return client.post("/api/callbacks", json={k: v for k, v in body.items() if v is not ...})


def test_a_new_request_answers_201_with_its_place_and_status_url(client: FlaskClient) -> None:
    response = post(client, order_number="112-4455667-1234567")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "queued"
    assert body["position"] == 0
    assert body["estimated_wait_seconds"] is None  # nobody staffs the queue in this test
    assert body["status_url"] == f"https://shop.example/callback/{body['id']}"
    assert response.headers["Location"].endswith(f"/api/callbacks/{body['id']}")


def test_the_same_number_and_topic_again_answers_409_without_the_existing_id(client: FlaskClient) -> None:
    first = post(client).get_json()
    again = post(client, phone="201-555-0123")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_requested"
    assert first["id"] not in again.get_data(as_text=True)
    assert "Location" not in again.headers


def test_reading_a_request_masks_the_phone_number(client: FlaskClient) -> None:
    ref = post(client).get_json()["id"]
    body = client.get(f"/api/callbacks/{ref}").get_json()
    assert body["phone"] == "+1******0123"
    assert {"id", "status", "position", "estimated_wait_seconds", "not_before", "attempts", "topic"} <= set(body)
    assert (body["topic"], body["attempts"], body["not_before"]) == ("orders", 0, None)


def test_delete_cancels_and_repeating_it_is_harmless(client: FlaskClient) -> None:
    ref = post(client).get_json()["id"]
    first = client.delete(f"/api/callbacks/{ref}")
    second = client.delete(f"/api/callbacks/{ref}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.get_json()["status"] == second.get_json()["status"] == "canceled"
    assert client.get(f"/api/callbacks/{ref}").get_json()["position"] is None


def test_an_unknown_id_is_404_in_the_error_shape(client: FlaskClient) -> None:
    for response in (client.get("/api/callbacks/nope"), client.delete("/api/callbacks/nope")):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "not a number"}, "phone"),
        ({"phone": "+900 555 0199"}, "phone"),
        ({"phone": 12015550123}, "phone"),
        ({"phone": ...}, "phone"),
        ({"name": ""}, "name"),
        ({"topic": "astrology"}, "topic"),
        ({"consent": False}, "consent"),
        ({"consent": "yes"}, "consent"),
        ({"consent": ...}, "consent"),
        ({"order_number": "<script>"}, "order_number"),
        ({"not_before": "tomorrow"}, "not_before"),
        ({"not_before": "2026-11-24T15:00:00"}, "not_before"),
        ({"not_before": "2026-11-23T23:30:00Z"}, "not_before"),
    ],
)
def test_invalid_input_is_422_naming_the_field(client: FlaskClient, changes: dict[str, object], field: str) -> None:
    response = post(client, **changes)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"] and error["code"]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"just a string"', b"null"])
def test_json_that_is_not_an_object_is_422(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/callbacks", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_json"


@pytest.mark.parametrize("body", [b"", b"{not json", b'{"phone": "+12015550123",}', b"\xff\xfe{}"])
def test_malformed_json_is_400_bad_json(client: FlaskClient, body: bytes) -> None:
    response = client.post("/api/callbacks", data=body, content_type="application/json")
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == {"code": "bad_json", "message": "The request body is not valid JSON."}
    assert answer["errors"] == [answer["error"]]


def test_a_form_post_is_415_saying_to_send_json(client: FlaskClient) -> None:
    response = client.post("/api/callbacks", data={k: str(v) for k, v in VALID.items()})
    assert response.status_code == 415
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in error["message"]
    assert "application/x-www-form-urlencoded" in error["message"]


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_text_or_an_unlabelled_body_is_415(client: FlaskClient, content_type: str | None) -> None:
    response = client.post("/api/callbacks", data=json.dumps(VALID), content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_json_with_a_charset_or_a_json_suffix_is_taken(client: FlaskClient) -> None:
    response = client.post("/api/callbacks", data=json.dumps(VALID), content_type="application/json; charset=utf-8")
    assert response.status_code == 201
    other = {**VALID, "phone": "+12015550124"}
    assert (
        client.post("/api/callbacks", data=json.dumps(other), content_type="application/merge+json").status_code == 201
    )


def test_every_missing_field_is_listed_and_the_first_stays_the_error(client: FlaskClient) -> None:
    response = client.post("/api/callbacks", json={"consent": True})
    assert response.status_code == 422
    answer = response.get_json()
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [
        ("phone_required", "phone"),
        ("name_required", "name"),
        ("topic_required", "topic"),
    ]
    assert answer["error"] == answer["errors"][0]
    assert all(e["message"] for e in answer["errors"])


def test_every_problem_is_listed_whether_missing_or_wrong(client: FlaskClient) -> None:
    response = post(client, phone="not a number", name=..., topic="astrology", consent=..., not_before="tomorrow")
    assert response.status_code == 422
    answer = response.get_json()
    assert [e["field"] for e in answer["errors"]] == ["consent", "name", "not_before", "phone", "topic"]
    assert answer["error"]["field"] == "consent"  # checked first, as before


def test_a_single_problem_is_listed_alone(client: FlaskClient) -> None:
    answer = post(client, name="").get_json()
    assert answer["errors"] == [answer["error"]] and answer["error"]["field"] == "name"


def test_a_number_on_the_do_not_call_list_is_not_named_beside_other_problems(
    app, client: FlaskClient, clock: FixedClock
) -> None:
    from callback import dnc
    from core.db import get_db

    with get_db(app).sessions() as s:
        dnc.add(s, clock, "+12015550123", "asked by phone")
    answer = post(client, name="").get_json()
    assert [e["field"] for e in answer["errors"]] == ["name"]  # the list is not revealed beside other problems
    answer = post(client).get_json()
    assert answer["error"]["code"] == "do_not_call"


def test_a_scheduled_request_reports_its_time(client: FlaskClient, clock: FixedClock) -> None:
    slot = (clock.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    body = post(client, not_before=slot).get_json()
    assert body["not_before"].startswith((clock.now() + timedelta(days=1)).isoformat()[:16])
    assert body["estimated_wait_seconds"] == 24 * 3600


def test_a_national_number_is_read_in_the_given_country(client: FlaskClient) -> None:
    response = post(client, phone="(613) 555-0123", country="CA")
    assert response.status_code == 201
    assert response.get_json()["phone"] == "+1******0123"


def test_hitting_a_limit_is_429_with_retry_after(client: FlaskClient) -> None:
    for n in range(10):
        assert post(client, phone=f"+1201555{3000 + n}").status_code == 201
    response = post(client, phone="+12015554000")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "client_hourly_limit"


def test_the_client_ip_comes_from_the_connection_unless_proxies_are_trusted(client: FlaskClient) -> None:
    # A forged X-Forwarded-For does not let one client dodge the per-client limit.
    for n in range(10):
        post_from = client.post(
            "/api/callbacks",
            json={**VALID, "phone": f"+1201555{3100 + n}"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        assert post_from.status_code == 201
    assert post(client, phone="+12015554001").status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(database_url: str, clock: FixedClock) -> None:
    from agents.service import ensure_default_queues
    from app import create_app
    from core.db import get_db

    app = create_app({"app_env": "testing", "database_url": database_url, "trusted_proxies": 1}, clock=clock)
    with get_db(app).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    client = app.test_client()
    for n in range(11):
        response = client.post(
            "/api/callbacks",
            json={**VALID, "phone": f"+1201555{3200 + n}"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        )
        assert response.status_code == 201
    get_db(app).engine.dispose()


def test_the_openapi_document_describes_every_route(app, client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    served = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, operations in doc["paths"].items() for method in operations}
    assert served == documented


def test_health_check_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "scheduler": {"last_pass": None},  # no dispatcher has run against this database
        "dialling": {"paused": False},
    }


@pytest.mark.parametrize("field", ["name", "topic", "order_number"])
def test_control_characters_are_refused_not_stored(client: FlaskClient, field: str) -> None:
    response = post(client, **{field: "Ann\u0000Lee"})
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


@pytest.mark.parametrize("ref", ["a%00b", "x" * 200, "..%2f..%2fetc"])
def test_a_malformed_reference_is_simply_not_found(client: FlaskClient, ref: str) -> None:
    assert client.get(f"/api/callbacks/{ref}").status_code == 404


def test_unknown_api_routes_and_methods_answer_json(client: FlaskClient) -> None:
    missing = client.get("/api/nothing-here")
    wrong_method = client.put("/api/callbacks", json={})
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    assert missing.get_json()["error"]["code"] == "not_found"
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}  # what the URL takes


def test_order_numbers_as_people_copy_them_are_kept_in_one_form(app, client: FlaskClient) -> None:
    from sqlalchemy import select

    from callback.models import CallbackRequest
    from core.db import get_db

    copied = ["#112-4455667-1234567", "112 4455667 1234567", " # 112 - 4455667 - 1234567 "]
    for n, typed in enumerate(copied):
        made = post(client, phone=f"+1201555014{n}", order_number=typed)
        assert made.status_code == 201, typed
        with get_db(app).sessions() as s:
            kept = s.scalar(select(CallbackRequest.order_number).where(CallbackRequest.ref == made.get_json()["id"]))
        assert kept == "112-4455667-1234567"
    refused = post(client, phone="+12015550150", order_number="112/4455667")
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "order_number"


def test_a_retry_with_the_same_idempotency_key_gets_the_request_it_made_and_is_not_counted(
    client: FlaskClient,
) -> None:
    key = {"Idempotency-Key": "7f1c6a52-2b3e-4c8e-9a7d-0e5b8d3f4a21"}
    first = client.post("/api/callbacks", json=VALID, headers=key)
    assert first.status_code == 201
    # The first answer was lost to a timeout: the client asks again with the same key, several times.
    for _ in range(6):  # more than the number's daily asks: a replay is not an ask
        again = client.post("/api/callbacks", json=VALID, headers=key)
        assert again.status_code == 201, again.get_json()
        assert again.get_json()["id"] == first.get_json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
    # Without the key (someone who merely knows the number), or with another, it is the usual 409.
    stranger = client.post("/api/callbacks", json=VALID, headers={"Idempotency-Key": "another-random-key-0001"})
    assert stranger.status_code == 409 and first.get_json()["id"] not in stranger.get_data(as_text=True)
    assert post(client).status_code == 409


def test_a_retry_after_the_request_was_canceled_gets_that_request_not_a_new_call(client: FlaskClient) -> None:
    key = {"Idempotency-Key": "0123456789abcdef-retry-after-cancel"}
    first = client.post("/api/callbacks", json=VALID, headers=key).get_json()
    assert client.delete(f"/api/callbacks/{first['id']}").status_code == 200  # canceled (the SMS link, say)

    again = client.post("/api/callbacks", json=VALID, headers=key)

    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first["id"] and again.get_json()["status"] == "canceled"


@pytest.mark.parametrize("change", [{"topic": "returns"}, {"phone": "+12015550188"}])
def test_a_key_used_again_for_another_ask_is_refused(client: FlaskClient, change: dict[str, str]) -> None:
    key = {"Idempotency-Key": "0123456789abcdef-used-twice"}
    assert client.post("/api/callbacks", json=VALID, headers=key).status_code == 201

    other = client.post("/api/callbacks", json={**VALID, **change}, headers=key)

    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert other.get_json()["error"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("key", ["short", "x" * 256, "has a space in it ok"])
def test_a_malformed_idempotency_key_is_refused_clearly(client: FlaskClient, key: str) -> None:
    response = client.post("/api/callbacks", json=VALID, headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_idempotency_key"


@pytest.mark.parametrize("country", ["ZZ", "united states", "U", "usa"])
def test_a_country_that_is_no_country_code_is_refused_naming_it(client: FlaskClient, country: str) -> None:
    response = client.post("/api/callbacks", json={**VALID, "phone": "2015550128", "country": country})

    assert response.status_code == 422
    assert (response.get_json()["error"]["code"], response.get_json()["error"]["field"]) == ("bad_country", "country")


def test_a_national_number_is_read_in_the_country_given(client: FlaskClient) -> None:
    response = client.post("/api/callbacks", json={**VALID, "phone": "(201) 555-0128", "country": "us"})

    assert response.status_code == 201 and response.get_json()["phone"].endswith("0128")
