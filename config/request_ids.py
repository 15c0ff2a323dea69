"""The id of the request being handled, for the log lines written while handling it: a
context variable the web side sets per request and a filter that puts it on each record."""

import logging
import re
import secrets
from contextvars import ContextVar

CURRENT: ContextVar[str | None] = ContextVar("request_id", default=None)
SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # what a proxy's or Twilio's id looks like


def new_request_id() -> str:
    return secrets.token_hex(16)


def accepted_request_id(*offered: str | None) -> str:
    """The first offered id that is a short plain token, else a new one: a client's id
    never carries newlines, markup or megabytes into the logs."""
    for candidate in offered:
        if candidate and SANE.fullmatch(candidate):
            return candidate
    return new_request_id()


class AttachRequestId(logging.Filter):
    """Sets `record.request_id`: the current request's id, or None outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = CURRENT.get()
        return True
