"""What every channel offers: one `send`, its result, and the one error it may raise; and
`sent_since`, to learn whether a send cut off by a crash, or never answered, reached the
provider."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SendResult:
    """The provider's id for the message and its first status (e.g. "queued")."""

    sid: str
    status: str


@dataclass(frozen=True)
class Listed:
    """A message the provider has: its id, latest status and the words it went with (a
    template's are the provider's, not ours)."""

    sid: str
    status: str
    body: str | None

    @property
    def result(self) -> SendResult:
        return SendResult(self.sid, self.status)


class SendError(Exception):
    """A send the provider refused or that never reached it.

    `http_status` is None when no answer came (connection refused, timeout); `code` is the
    provider's error code (Twilio's, e.g. "21211") when it gave one; `unanswered` says the
    request may have reached the provider and only its answer is missing (a read timeout,
    a connection dropped while waiting): the message may have been accepted."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.unanswered = unanswered

    @property
    def retryable(self) -> bool:
        """Worth trying again later: rate limits, server errors and network failures.
        Any other 4xx will fail the same way every time."""
        if self.http_status is None:
            return True
        return self.http_status == 429 or self.http_status >= 500

    @property
    def summary(self) -> str:
        """What a log line says of it: the HTTP status and the provider's code, never the
        provider's words (Twilio's name the number, as 21211's does)."""
        if self.http_status is None:
            return "no answer"
        return f"HTTP {self.http_status}" + (f", code {self.code}" if self.code else "")

    def __repr__(self) -> str:
        return f"SendError({self.message!r}, http_status={self.http_status!r}, code={self.code!r})"


class Channel(Protocol):
    """Something that sends one WhatsApp message. Phones are E.164 ("+595981000001");
    the channel adds any provider prefix such as "whatsapp:"."""

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
        """Send `body` as free-form text, or, with `content_sid`, the approved template or
        interactive content it names with its numbered `content_variables` (`body` is then
        only our copy of the text). `reference` is our own id for the message, which the
        provider's status callbacks carry back. Returns the provider's id; raises
        `SendError` if not accepted."""
        ...

    def sent_since(self, *, from_phone: str, to_phone: str, sent_after: datetime) -> list[Listed]:
        """The messages the provider accepted from `from_phone` to `to_phone` since
        `sent_after`, oldest first; raises `SendError` when the provider cannot be asked."""
        ...


@runtime_checkable
class ContentCreator(Protocol):
    """A channel that can create content to send by its id (Twilio's Content API), such
    as quick-reply buttons or a list picker. Channels without it send text."""

    def create_content(self, *, friendly_name: str, language: str, types: dict[str, Any]) -> str:
        """Create the content (`types` as the Content API takes them, e.g.
        {"twilio/quick-reply": {...}}); returns its id ("HX…"); raises `SendError`."""
        ...


@dataclass(frozen=True)
class Approval:
    """What WhatsApp said of a template, as Twilio reports it: `status` in Twilio's words
    (received, pending, approved, rejected, paused, disabled…) and, for a rejection,
    WhatsApp's reason."""

    status: str
    rejection_reason: str | None = None


@runtime_checkable
class TemplateApprover(Protocol):
    """A channel whose content can be submitted to WhatsApp as a template (Twilio's
    Content API approval requests). The sandbox needs no templates and has none."""

    def create_content(
        self,
        *,
        friendly_name: str,
        language: str,
        types: dict[str, Any],
        variables: dict[str, str] | None = None,
    ) -> str: ...

    def submit_for_approval(self, content_sid: str, *, name: str, category: str) -> Approval:
        """Ask WhatsApp to approve the content as template `name` in `category`
        (UTILITY, MARKETING…); raises `SendError`."""
        ...

    def approval(self, content_sid: str) -> Approval:
        """WhatsApp's status of the content now; raises `SendError`."""
        ...


def keeps_window(channel: object) -> bool:
    """Whether WhatsApp's 24-hour window applies to what `channel` sends: not in the
    sandbox, where nothing reaches WhatsApp (a channel says so with `keeps_window`)."""
    return bool(getattr(channel, "keeps_window", True))
