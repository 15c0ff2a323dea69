"""A channel that sends nothing, for running the bot without Twilio credentials."""

import logging
import uuid

from channel.base import SendResult

log = logging.getLogger(__name__)


class SandboxChannel:
    """Accepts every message and reports it delivered. The messages stay in the outbox
    table, which is where the demo's terminal chat reads the replies from."""

    def send(self, *, from_phone: str, to_phone: str, body: str) -> SendResult:
        sid = "SB" + uuid.uuid4().hex
        log.debug("sandbox: not sending %s from %s to %s", sid, from_phone, to_phone)
        return SendResult(sid=sid, status="delivered")
