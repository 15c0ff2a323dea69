"""Nothing that identifies a patient reaches the logs at the default level: a number
Twilio refuses (21211, whose words name it), a send and a lookup through the real twilio
client against the fake Twilio — every line a root handler writes at INFO or above, ours
and the twilio client's, is free of phone numbers once the app is built."""

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from config.logs import QUIET
from scheduler.dispatcher import dispatch_due
from tests.support import Clock
from tests.window_support import Live, add_clinic, live, queue_message, row

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
CLINIC_NUMBER = "+595981000000"
PHONE = "+595981000001"


def names_a_number(log: str) -> bool:
    """Whether `log` holds the patient's or the clinic's number, however it is written."""
    return any(phone.lstrip("+") in log for phone in (PHONE, CLINIC_NUMBER))


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What a handler of the root logger writes at INFO and above, as `turnero` logs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def clinic_id(db: Engine) -> int:
    return add_clinic(db, CLINIC_NUMBER)


@pytest.fixture
def server(written: io.StringIO, db: Engine, clock: Clock) -> Iterator[Live]:
    with live(db, clock) as running:  # builds the app, which protects the logs
        yield running


def test_a_number_twilio_refuses_is_not_logged(
    db: Engine, clinic_id: int, server: Live, written: io.StringIO
):
    ours = io.StringIO()  # our own lines, before any root handler's mask
    handler = logging.StreamHandler(ours)
    logging.getLogger("scheduler").addHandler(handler)
    server.fake.fail_next(1, http_status=400, code=21211)
    queue_message(db, clinic_id, "m1", PHONE, NOW)
    assert dispatch_due(db, server.channel, NOW).failed == 1
    assert PHONE in (row(db, "m1").error_message or "")  # kept for staff, in the store
    logging.getLogger("scheduler").removeHandler(handler)
    log = written.getvalue()
    assert "21211" in ours.getvalue() and "21211" in log
    assert not names_a_number(ours.getvalue()), ours.getvalue()
    assert not names_a_number(log), log


def test_the_twilio_client_logs_no_number(
    db: Engine, clinic_id: int, server: Live, written: io.StringIO
):
    queue_message(db, clinic_id, "m1", PHONE, NOW)
    assert dispatch_due(db, server.channel, NOW).sent == 1
    listed = server.channel.sent_since(
        from_phone=CLINIC_NUMBER, to_phone=PHONE, sent_after=NOW - timedelta(1)
    )
    assert [m.body for m in listed] == ["hola"]
    assert not names_a_number(written.getvalue()), written.getvalue()


def test_a_third_party_line_that_names_a_number_is_masked(server: Live, written: io.StringIO):
    logging.getLogger("twilio.http_client").setLevel(logging.INFO)  # as if set to talk
    server.channel.sent_since(
        from_phone=CLINIC_NUMBER, to_phone=PHONE, sent_after=NOW - timedelta(1)
    )
    assert "[phone]" in written.getvalue()
    assert not names_a_number(written.getvalue()), written.getvalue()
