"""Each request has an id — the caller's `X-Request-ID` or Twilio's idempotency token when
it is a short plain token, else a new one — sent back in `X-Request-ID` and carried by the
JSON lines written while handling it; with text logs the lines are as before."""

import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from config.request_ids import CURRENT
from tests.log_support import json_lines, root_written
from tests.support import PUBLIC_URL, Clock, make_app, sign

UNKNOWN_CLINIC = "+595991999999"
PATIENT = "+595981222333"
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_app(db: Engine, clock: Clock) -> Iterator[tuple[Flask, object]]:
    with root_written() as written:
        yield make_app(db, clock, log_format="json"), written


def post_to_unknown_clinic(app: Flask, **headers: str) -> TestResponse:
    """A signed message to a number no clinic uses, which the webhook logs (a warning)."""
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": f"whatsapp:{PATIENT}",
        "To": f"whatsapp:{UNKNOWN_CLINIC}",
        "Body": "hola",
    }
    headers["X-Twilio-Signature"] = sign(PUBLIC_URL + "/whatsapp/inbound", form)
    return app.test_client().post("/whatsapp/inbound", data=form, headers=headers)


def webhook_line(written) -> dict:
    (line,) = [line for line in json_lines(written) if line["logger"] == "webhook"]
    return line


def test_a_request_logs_json_with_the_id_its_response_names(json_app):
    app, written = json_app
    response = post_to_unknown_clinic(app, **{"X-Request-ID": "edge-7f3a"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "edge-7f3a"
    line = webhook_line(written)
    assert line["request_id"] == "edge-7f3a" and line["level"] == "WARNING"
    assert line["message"] == "message to [phone], which no clinic uses"
    assert UNKNOWN_CLINIC.lstrip("+") not in written.getvalue()


def test_without_an_offered_id_one_is_made(json_app):
    app, written = json_app
    response = post_to_unknown_clinic(app)
    assert NEW_ID.fullmatch(response.headers["X-Request-ID"])
    assert webhook_line(written)["request_id"] == response.headers["X-Request-ID"]
    assert post_to_unknown_clinic(app).headers["X-Request-ID"] != response.headers["X-Request-ID"]


@pytest.mark.parametrize("forged", ["x" * 500, "a\tb", "<script>alert(1)</script>", "a b"])
def test_a_forged_overlong_or_weird_id_is_replaced(json_app, forged):
    app, written = json_app
    response = post_to_unknown_clinic(app, **{"X-Request-ID": forged})
    assert NEW_ID.fullmatch(response.headers["X-Request-ID"])
    assert webhook_line(written)["request_id"] == response.headers["X-Request-ID"]
    assert forged not in written.getvalue()


def test_twilio_s_idempotency_token_serves_as_the_id(json_app):
    app, written = json_app
    token = "AC" + "1" * 32 + "-1700000000-" + "a" * 32
    response = post_to_unknown_clinic(app, **{"I-Twilio-Idempotency-Token": token})
    assert response.headers["X-Request-ID"] == token
    assert webhook_line(written)["request_id"] == token


def test_every_response_names_its_id_even_a_refused_one(json_app):
    app, _ = json_app
    response = app.test_client().get("/no-such-page", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 404 and response.headers["X-Request-ID"] == "probe-1"


def test_by_default_the_lines_stay_plain_text(db: Engine, clock: Clock):
    with root_written() as written:
        response = post_to_unknown_clinic(make_app(db, clock))
    assert NEW_ID.fullmatch(response.headers["X-Request-ID"])
    (line,) = [line for line in written.getvalue().splitlines() if " webhook: " in line]
    plain = r"\S+ \S+ WARNING webhook: message to \[phone\], which no clinic uses"
    assert re.fullmatch(plain, line)


def test_a_request_handled_inside_another_leaves_each_its_own_id_and_none_after(
    db: Engine, clock: Clock
) -> None:
    """A request answered while another is being handled in the same thread (they share
    the application context, and its `g`) gets its own id; the outer one keeps its own,
    and once both are done no id is left for the lines written outside a request."""
    app = make_app(db, clock)
    inner: list[TestResponse] = []

    @app.get("/outer-test")
    def outer() -> str:
        inner.append(post_to_unknown_clinic(app, **{"X-Request-ID": "inner-1"}))
        return CURRENT.get() or ""

    response = app.test_client().get("/outer-test", headers={"X-Request-ID": "outer-1"})
    assert response.get_data(as_text=True) == "outer-1"
    assert response.headers["X-Request-ID"] == "outer-1"
    assert inner[0].headers["X-Request-ID"] == "inner-1"
    assert CURRENT.get() is None
