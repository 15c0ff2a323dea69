"""Whatever is posted, the action server answers with rasa-sdk's own error response (JSON
with `error`) or, for a request it can run, a proper answer; it never goes down."""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.rasa.support import ActionServer, call, said, slots_set

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("America/Asuncion"))
LONG = "x" * 5000


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    """rasa-sdk logs each error with its traceback; the answers are what is checked."""
    caplog.set_level(logging.CRITICAL, logger="rasa_sdk")


def _still_up(rasa: ActionServer) -> None:
    assert rasa.http.get(f"{rasa.url}/health", timeout=10).json() == {"status": "ok"}
    assert "Consulta general" in said(rasa.run("action_turnero_services"))


def test_an_unknown_action_is_rasa_sdks_404(rasa: ActionServer):
    answer = rasa.post(call("action_that_does_not_exist"))
    assert answer.status_code == 404
    assert answer.json()["action_name"] == "action_that_does_not_exist"
    assert "error" in answer.json()
    _still_up(rasa)


def _with(**fields: object) -> dict[str, object]:
    return {**call("action_turnero_services"), **fields}


@pytest.mark.parametrize(
    "body",
    [
        _with(tracker="not a tracker"),
        _with(tracker={"slots": {}}),  # no sender
        _with(tracker={"sender_id": "s", "latest_message": "text", "slots": {}}),
    ],
)
def test_a_malformed_tracker_is_rasa_sdks_error_answer_not_a_crash(rasa: ActionServer, body):
    answer = rasa.post(body)
    assert answer.status_code == 500
    assert "error" in answer.json()
    _still_up(rasa)


def test_a_call_without_its_domain_is_rasa_sdks_449(rasa: ActionServer):
    body = call("validate_turnero_booking_form")
    del body["domain"]
    answer = rasa.post(body)
    assert answer.status_code == 449 and "error" in answer.json()
    _still_up(rasa)


def test_a_body_that_is_not_json_is_refused(rasa: ActionServer):
    answer = rasa.http.post(f"{rasa.url}/webhook", data=b"\xff{not json", timeout=10)
    assert answer.status_code == 400
    _still_up(rasa)


def test_a_slot_of_5000_characters_is_answered_like_any_wrong_answer(rasa: ActionServer):
    name = rasa.run(
        "validate_turnero_booking_form",
        candidates={"patient_name": LONG},
        active_loop="turnero_booking_form",
    )
    assert slots_set(name) == {"patient_name": None}
    assert "Necesito un nombre y apellido" in said(name)
    times = rasa.run("action_turnero_find_times", slots={"service": "1", "day": LONG})
    assert said(times)  # read as far as a message is read, answered
    code = rasa.run("action_turnero_look_up", slots={"code": LONG, "phone": LONG})
    assert "No encuentro" in said(code)
    booking = rasa.run("action_turnero_book", slots={s: LONG for s in ("service", "time", "phone")})
    assert "Necesito un nombre" in said(booking)
    _still_up(rasa)


def test_slots_of_the_wrong_type_are_read_as_text(rasa: ActionServer):
    odd = {"service": {"name": "peluquería"}, "professional": [1, 2], "day": 12345, "language": 7}
    assert "no entendí" in said(rasa.run("action_turnero_find_times", slots=odd))
    listed = rasa.run("action_turnero_find_times", slots={**odd, "service": ["opción", 1]})
    assert said(listed).startswith("Horarios libres para Consulta general")  # "opción 1"
    _still_up(rasa)


def test_numbers_too_big_for_an_id_are_no_ids(rasa: ActionServer):
    big = "9" * 40
    slots = {"clinic_id": 10**30, "service": "1", "patient_name": "Ana Benítez"}
    slots |= {"phone": "0981 222 333", "time": f"2026-11-26T13:30:00+00:00|{big}"}
    booking = rasa.run("action_turnero_book", slots=slots)
    assert slots_set(booking) == {"time": None} and "no entendí" in said(booking)
    assert "Consulta general" in said(rasa.run("action_turnero_services", slots={"clinic_id": big}))
    _still_up(rasa)
