"""The command (and so the worker it runs) logs as `LOG_FORMAT` asks."""

import logging

from tests.log_support import json_lines, root_written
from turnero.cli import main


def test_with_log_format_json_the_command_writes_json_lines(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    with root_written() as written:
        assert main(["flows", "diagram", "--check"]) == 0
        logging.getLogger("scheduler.worker").info("pass done for %s", "+595981222333")
    lines = json_lines(written)
    assert lines[-1]["logger"] == "scheduler.worker"
    assert lines[-1]["message"] == "pass done for [phone]"
    assert "request_id" not in lines[-1]
