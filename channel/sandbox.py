"""A channel that sends nothing, for running the bot without Twilio credentials."""

import logging
import threading
import uuid
from collections import deque
from datetime import UTC, datetime

from channel.base import Listed, SendResult

log = logging.getLogger(__name__)


class SandboxChannel:
    """Accepts every message and reports it delivered. The messages stay in the outbox
    table, which is where the demo's terminal chat reads the replies from; the channel
    remembers the last few it accepted, so `sent_since` can answer for them."""

    keeps_window = False  # nothing reaches WhatsApp: no 24-hour window, no templates

    def __init__(self, remember: int = 1000) -> None:
        self._lock = threading.Lock()
        self._sent: deque[tuple[str, str, str, datetime, SendResult]] = deque(maxlen=remember)

    def send(
        self,
        *,
        from_phone: str,
        to_phone: str,
        body: str,
        content_sid: str | None = None,
        content_variables: dict[str, str] | None = None,
        reference: str | None = None,
    ) -> SendResult:
        sid = "SB" + uuid.uuid4().hex
        log.debug("sandbox: not sending %s from %s to %s", sid, from_phone, to_phone)
        result = SendResult(sid=sid, status="delivered")
        with self._lock:
            self._sent.append((from_phone, to_phone, body, datetime.now(UTC), result))
        return result

    def sent_since(self, *, from_phone: str, to_phone: str, sent_after: datetime) -> list[Listed]:
        with self._lock:
            return [
                Listed(result.sid, result.status, text)
                for sender, recipient, text, at, result in self._sent
                if (sender, recipient) == (from_phone, to_phone) and at >= sent_after
            ]
