"""The process's logging: what every handler of the root logger writes, ours and third
parties' alike, shows no phone number — E.164 numbers and `whatsapp:+…` addresses, plain
or URL-encoded, are masked — and the twilio client's request lines (the `To` number in
their query) stay below the default level."""

import logging
import re

PHONE = re.compile(r"(?:whatsapp(?::|%3A))?(?:\+|%2B)\d[\d\s-]{5,17}\d", re.IGNORECASE)
MASK = "[phone]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("apscheduler", "alembic", "twilio.http_client")  # noise, or a number per request


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


def protect_logs() -> None:
    """Quiet the chatty loggers and mask phone numbers in every handler of the root
    logger (where every logger's records end); called by whatever starts a process."""
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactPhones) for f in handler.filters):
            handler.addFilter(RedactPhones())


def configure_logging() -> None:
    """INFO and above to stderr, protected (`protect_logs`)."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    protect_logs()
