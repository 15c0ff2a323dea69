"""`LOG_FORMAT=json`: one JSON object a line, phone numbers masked in it as in text, the
request's id only inside a request; `text` (the default) writes the lines as before."""

import logging
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from config.logs import protect_logs
from config.request_ids import CURRENT, accepted_request_id
from config.settings import LogSettings
from tests.log_support import json_lines, root_written

PHONE = "+595981222333"
log = logging.getLogger("turnero.test")


def test_a_json_line_carries_time_level_logger_and_message_with_the_number_masked():
    with root_written() as written:
        protect_logs("json")
        log.warning("sent to %s", f"whatsapp:{PHONE}")
    (line,) = json_lines(written)
    assert line["level"] == "WARNING" and line["logger"] == "turnero.test"
    assert line["message"] == "sent to [phone]"
    when = datetime.fromisoformat(line["time"])
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
    assert abs(when - datetime.now(UTC)).total_seconds() < 60
    assert "request_id" not in line and "exception" not in line  # outside a request


def test_an_exception_is_in_the_json_line_with_the_number_masked():
    with root_written() as written:
        protect_logs("json")
        try:
            raise ValueError(f"refused {PHONE}")
        except ValueError:
            log.exception("send failed")
    (line,) = json_lines(written)
    assert line["message"] == "send failed"
    assert "ValueError: refused [phone]" in line["exception"]
    assert PHONE.lstrip("+") not in written.getvalue()


def test_a_line_written_inside_a_request_carries_its_id():
    with root_written() as written:
        protect_logs("json")
        token = CURRENT.set("req-42")
        try:
            log.info("inside")
        finally:
            CURRENT.reset(token)
        log.info("outside")
    inside, outside = json_lines(written)
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside


def test_text_is_the_default_and_writes_the_lines_as_before():
    assert LogSettings().log_format == "text"
    with root_written() as written:
        logging.getLogger().handlers[-1].setFormatter(
            logging.Formatter("%(levelname)s %(name)s: %(message)s")
        )
        protect_logs()
        log.warning("sent to %s", PHONE)
    assert written.getvalue() == "WARNING turnero.test: sent to [phone]\n"


def test_log_format_is_read_from_the_environment_and_checked(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert LogSettings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        LogSettings()


@pytest.mark.parametrize(
    "offered", ["a" * 129, "abc\ndef", "<script>", "id with spaces", "ñandú", ""]
)
def test_a_weird_or_overlong_offered_id_is_replaced_by_a_new_one(offered):
    assert re.fullmatch(r"[0-9a-f]{32}", accepted_request_id(offered))


def test_a_short_plain_offered_id_is_kept_and_the_first_sane_one_wins():
    assert accepted_request_id("edge-7f3a.1:2_x") == "edge-7f3a.1:2_x"
    assert accepted_request_id("bad id", None, "AC12-34") == "AC12-34"
