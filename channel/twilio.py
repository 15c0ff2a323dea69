"""Sending through Twilio's Messages API with the official client."""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList
from twilio.rest.content.v1.content.approval_create import ApprovalCreateList
from urllib3.exceptions import NewConnectionError

from channel.base import Approval, Channel, Listed, SendError, SendResult
from channel.sandbox import SandboxChannel

log = logging.getLogger(__name__)

TWILIO_API_BASE = "https://api.twilio.com"
# Twilio's other API hosts the client calls (the Content API); TWILIO_API_URL serves all.
TWILIO_HOSTS = (TWILIO_API_BASE, "https://content.twilio.com")
FIND_LIMIT = 200  # messages to one patient since a send was cut off: a handful at most
# The status callback's query field naming the message (`send`'s `reference`): Twilio signs
# the whole URL and calls it for every status, so each callback says which message it is.
REFERENCE_FIELD = "ref"


def callback_url(base: str, reference: str | None) -> str:
    """The status callback address of one message: `base`, with its reference."""
    if reference is None:
        return base
    return f"{base}{'&' if '?' in base else '?'}{urlencode({REFERENCE_FIELD: reference})}"


def whatsapp_address(phone: str) -> str:
    """The Twilio address of an E.164 phone: +595981000001 -> whatsapp:+595981000001."""
    return phone if phone.startswith("whatsapp:") else f"whatsapp:{phone}"


# the most sends one dispatcher waits on at once (`Settings.outbox_sends_at_once`'s bound)
KEPT_CONNECTIONS = 64


class RedirectingHttpClient(TwilioHttpClient):
    """The client's HTTP layer with a timeout, optionally sending requests meant for
    Twilio's hosts (api.twilio.com, content.twilio.com) to another base URL (how
    TWILIO_API_URL points at a fake server)."""

    def __init__(
        self, api_url: str | None = None, timeout: float = 10, connections: int = KEPT_CONNECTIONS
    ) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/") if api_url else None
        # one kept-alive connection for each send that may wait at once (the library keeps
        # a few per CPU), so parallel sends do not open a new TLS connection each time
        for scheme in ("https://", "http://"):
            if self.session is not None:
                self.session.mount(scheme, HTTPAdapter(pool_maxsize=connections))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.api_url:
            host = next((h for h in TWILIO_HOSTS if url.startswith(h + "/")), None)
            if host is not None:
                url = self.api_url + url[len(host) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioChannel:
    """WhatsApp through Twilio. Every failure surfaces as `SendError`, so the dispatcher
    decides between retrying and giving up from `SendError.retryable` alone."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_url: str | None = None,
        status_callback_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.status_callback_url = status_callback_url
        self.client = Client(
            account_sid,
            auth_token,
            http_client=RedirectingHttpClient(api_url=api_url, timeout=timeout),
        )

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
        params: dict[str, Any] = {
            "from_": whatsapp_address(from_phone),
            "to": whatsapp_address(to_phone),
        }
        if content_sid:
            params["content_sid"] = content_sid
            if content_variables:
                params["content_variables"] = json.dumps(content_variables, ensure_ascii=False)
        else:
            params["body"] = body
        if self.status_callback_url:
            params["status_callback"] = callback_url(self.status_callback_url, reference)
        with _as_send_error():
            message = self.client.messages.create(**params)
        return SendResult(sid=str(message.sid), status=str(message.status or "queued"))

    def create_content(
        self,
        *,
        friendly_name: str,
        language: str,
        types: dict[str, Any],
        variables: dict[str, str] | None = None,
    ) -> str:
        """Create content through the Content API (`client.content.v1.contents`), with
        sample values for its numbered `variables` (WhatsApp's approval needs them);
        returns its SID ("HX…"). Failures surface as `SendError`."""
        fields: dict[str, Any] = {"friendly_name": friendly_name, "language": language}
        fields["types"] = types
        if variables:
            fields["variables"] = variables
        request = ContentList.ContentCreateRequest(fields)
        with _as_send_error():
            content = self.client.content.v1.contents.create(request)
        if not content.sid:
            raise SendError("the Content API answered without a SID")
        return str(content.sid)

    def submit_for_approval(self, content_sid: str, *, name: str, category: str) -> Approval:
        """`POST /v1/Content/<sid>/ApprovalRequests/whatsapp` with `name` and `category`."""
        request = ApprovalCreateList.ContentApprovalRequest({"name": name, "category": category})
        with _as_send_error():
            answer = self.client.content.v1.contents(content_sid).approval_create.create(request)
        return Approval(str(answer.status or "received"), answer.rejection_reason or None)

    def approval(self, content_sid: str) -> Approval:
        """`GET /v1/Content/<sid>/ApprovalRequests`: its `whatsapp` part."""
        with _as_send_error():
            answer = self.client.content.v1.contents(content_sid).approval_fetch().fetch()
        whatsapp = answer.whatsapp or {}
        reason = whatsapp.get("rejection_reason")
        return Approval(
            str(whatsapp.get("status") or "unsubmitted"), str(reason) if reason else None
        )

    def sent_since(self, *, from_phone: str, to_phone: str, sent_after: datetime) -> list[Listed]:
        """Twilio's message list (`DateSent>` narrows it; the creation time is compared
        here too, since a message still queued has no send date)."""
        try:
            messages = self.client.messages.list(
                from_=whatsapp_address(from_phone),
                to=whatsapp_address(to_phone),
                date_sent_after=sent_after,
                limit=FIND_LIMIT,
                page_size=50,
            )
        except TwilioRestException as exc:
            raise SendError(str(exc.msg), http_status=exc.status) from exc
        except TwilioServiceException as exc:
            raise SendError(str(exc.detail or exc.title), http_status=exc.status) from exc
        except TwilioException as exc:  # a page it could not read (its own HTTP errors)
            response = exc.args[1] if len(exc.args) > 1 else None
            status = getattr(response, "status_code", None)
            raise SendError(f"{exc.args[0]}: {response}", http_status=status) from exc
        except (requests.RequestException, ValueError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
        return [
            Listed(sid=str(m.sid), status=str(m.status or "queued"), body=m.body)
            for m in reversed(messages)  # Twilio lists the newest first
            if m.date_created is None or m.date_created >= sent_after
        ]


@contextmanager
def _as_send_error() -> Iterator[None]:
    """Twilio's errors, and a request that never got an answer, as `SendError`."""
    try:
        yield
    except TwilioRestException as exc:
        raise SendError(
            str(exc.msg), http_status=exc.status, code=_twilio_code(exc.code, exc.status)
        ) from exc
    except TwilioServiceException as exc:
        raise SendError(
            str(exc.detail or exc.title),
            http_status=exc.status,
            code=_twilio_code(exc.code, exc.status),
        ) from exc
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}", unanswered=_may_have_arrived(exc)) from exc


def _may_have_arrived(error: requests.RequestException) -> bool:
    """Whether a request that got no answer may still have reached Twilio: not when the
    connection was never made (refused, or its own timeout), else it may."""
    if isinstance(error, requests.ConnectTimeout):
        return False
    reason = error.args[0] if error.args else None
    return not isinstance(getattr(reason, "reason", reason), NewConnectionError)


def _twilio_code(code: object, http_status: int) -> str | None:
    """Twilio's error code as text; None when the client only echoed the HTTP status
    (it does that when the error body carries no code)."""
    if code is None or code == http_status:
        return None
    return str(code)


def make_channel(
    account_sid: str | None,
    auth_token: str | None,
    api_url: str | None = None,
    status_callback_url: str | None = None,
) -> Channel:
    """Twilio when both credentials are set, else the sandbox (which sends nothing)."""
    if account_sid and auth_token:
        return TwilioChannel(
            account_sid, auth_token, api_url=api_url, status_callback_url=status_callback_url
        )
    log.warning("no Twilio credentials: using the sandbox channel, nothing will be sent")
    return SandboxChannel()
