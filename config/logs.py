"""The process's logging: what every handler of the root logger writes, ours and third
parties' alike, shows no phone number — E.164 numbers and `whatsapp:+…` addresses, plain
or URL-encoded, are masked — and the twilio client's request lines (the `To` number in
their query) stay below the default level. With `LOG_FORMAT=json` each line is one JSON
object, carrying the id of the request it was written in."""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Literal

from config.request_ids import AttachRequestId

PHONE = re.compile(r"(?:whatsapp(?::|%3A))?(?:\+|%2B)\d[\d\s-]{5,17}\d", re.IGNORECASE)
MASK = "[phone]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("apscheduler", "alembic", "twilio.http_client")  # noise, or a number per request
LogFormat = Literal["text", "json"]


def redact(text: str) -> str:
    """`text` with every phone number in it masked."""
    return PHONE.sub(MASK, text)


class RedactPhones(logging.Filter):
    """Masks phone numbers in a record — its message with its arguments, its traceback and
    its stack — before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if PHONE.search(message):
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and where
    there are some the exception, the stack and the request's id."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        return json.dumps(line, ensure_ascii=False)


def protect_logs(log_format: LogFormat = "text") -> None:
    """Quiet the chatty loggers, and on every handler of the root logger (where every
    logger's records end) mask phone numbers and attach the request's id — JSON lines
    where `log_format` asks for them; called by whatever starts a process."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactPhones) for f in handler.filters):
            handler.addFilter(RedactPhones())
        if not any(isinstance(f, AttachRequestId) for f in handler.filters):
            handler.addFilter(AttachRequestId())
        if log_format == "json" and not isinstance(handler.formatter, JsonLines):
            handler.setFormatter(JsonLines())


def configure_logging(log_format: LogFormat = "text") -> None:
    """INFO and above to stderr (unless the root logger has a handler already), protected
    (`protect_logs`)."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    protect_logs(log_format)
