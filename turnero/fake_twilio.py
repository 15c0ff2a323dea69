"""A small fake of Twilio's Messages REST API, for tests, benchmarks and `turnero
fake-twilio`; no part of the running app, which sends through `channel.twilio`.

It speaks the part of the API the official `twilio` client uses to send WhatsApp messages,
so the real client (pointed here through `TwilioChannel(api_url=...)`) runs unchanged:

- `POST /2010-04-01/Accounts/<AccountSid>/Messages.json` creates a message (basic auth
  with the account SID and auth token, Twilio's error bodies and codes);
- `GET  /2010-04-01/Accounts/<AccountSid>/Messages.json` lists them, newest first (filters
  `To`, `From`, `DateSent>` and `DateSent<`, which compare the creation time of a message
  not yet sent; pages by `PageSize` and `Page`, with Twilio's paging fields);
- `GET  /2010-04-01/Accounts/<AccountSid>/Messages/<Sid>.json` fetches one;
- the Content API (`content.twilio.com`, which `TwilioChannel` sends to the same URL):
  `POST /v1/Content` (JSON) creates `twilio/text`, `twilio/quick-reply` or
  `twilio/list-picker` content with WhatsApp's limits checked, `GET /v1/Content` lists,
  `GET|DELETE /v1/Content/<Sid>` fetch or delete one; a message created with the
  `ContentSid` of content created here has its body, `ContentVariables` filled in, one
  naming deleted content fails with 21655, any other is taken for an approved template;
- WhatsApp's approval of content: `POST /v1/Content/<Sid>/ApprovalRequests/whatsapp`
  (JSON `name`, `category`) submits it — the name lowercase letters, digits and
  underscores, the category one of WhatsApp's (UTILITY, MARKETING, AUTHENTICATION), every
  `{{n}}` of the body with a sample value among the content's `variables`, once per
  content — and answers `{name, category, content_type, status: "received",
  rejection_reason: "", allow_category_change}` (201); `GET
  /v1/Content/<Sid>/ApprovalRequests` answers `{sid, account_sid, url, whatsapp: {…,
  status, rejection_reason}}`, status "unsubmitted" before a submission.

A create may carry `ContentSid` (an approved template or interactive content, "HX" and 32
hex digits) with `ContentVariables` (a JSON object of strings) instead of `Body`; both are
kept on the message record, and bad ones get Twilio's 21655 / 21656.

Control, from Python (`FakeTwilio`) or over HTTP without auth: `GET /_fake/messages`,
`POST /_fake/fail` (json `{count, http_status, code}`: the next creates fail),
`POST /_fake/window` (json `{phone, open}`), `POST /_fake/fail_delivery` (json
`{phone, code, status}`), `POST /_fake/answer_late` (json `{count, delay}`: the next creates
are accepted, then answered only after `delay` seconds, later than a client's timeout),
`POST /_fake/reset` (also ends an outage), `POST /_fake/down` and `POST /_fake/up` (while
down, every API call — messages and content alike — is answered 503 Service Unavailable, as
an outage in front of Twilio answers, and nothing is accepted; `up` ends it),
`POST /_fake/approval` (json `{sid, status, reason}`: WhatsApp decides on submitted content,
e.g. "approved", or "rejected" with a reason; `decide` from Python; `approvals` lists the
submissions); `fail_next_content` makes the next content creates fail. With
`send_callbacks=True`, a message that names a StatusCallback gets "sent" then "delivered"
callbacks signed like Twilio's (`X-Twilio-Signature`). Whatever `send_callbacks` says, a
message WhatsApp would refuse — free-form text to a phone whose 24-hour window is closed
(63016), or to a phone told to
fail — is accepted ("queued") and then reported "failed"/"undelivered" with its
`ErrorCode` in a status callback, which is how Twilio reports it. `post_status` and
`emit_statuses` post callbacks of a message on demand: in any order, repeated, with codes."""

import argparse
import json
import logging
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
DEFAULT_PORT = 8099
API_VERSION = "2010-04-01"
BODY_LIMIT = 1600
CALLBACK_STATUSES = ("sent", "delivered")
# WhatsApp's limits on in-session interactive content, as Twilio's Content API checks them.
CONTENT_BODY_LIMIT = 1024
QUICK_REPLY_BUTTONS = 10
BUTTON_TITLE_LIMIT = 20
LIST_ITEMS = 10
LIST_ITEM_LIMIT = 24
LIST_DESCRIPTION_LIMIT = 72
LIST_BUTTON_LIMIT = 20
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# WhatsApp's template categories and names, as Twilio's approval request takes them
WHATSAPP_CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")

INVALID_TO = 21211
_INVALID_TO_TEXT = "The 'To' number {to} is not a valid phone number."
_PHONE = re.compile(r"^(whatsapp:)?\+[1-9][0-9]{6,14}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$")
OUTSIDE_WINDOW = "63016"
_ERROR_MESSAGES = {
    400: "Bad Request",
    401: "Authenticate",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def twilio_error(http_status: int, code: int, message: str) -> ResponseReturnValue:
    """An error answer shaped like Twilio's: {code, message, more_info, status}."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": http_status,
    }
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if http_status == 401 else {}
    return jsonify(body), http_status, headers


class FakeTwilio:
    """The fake server: `with FakeTwilio() as fake:` serves it on 127.0.0.1 (any free port
    by default) in a daemon thread; `fake.url` is the base URL to give the client."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        send_callbacks: bool = False,
        callback_timeout: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.send_callbacks = send_callbacks
        self.callback_timeout = callback_timeout
        self.clock = clock  # the time messages are stamped with (a test may move it)
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._failures: list[tuple[int, int | None]] = []
        self._late_answers: list[float] = []
        self._stopping = threading.Event()  # lets answers held back by `answer_late` go
        self._content_failures: list[tuple[int, int | None]] = []
        self._contents: list[dict[str, Any]] = []
        self._deleted_contents: set[str] = set()
        self._approvals: dict[str, dict[str, Any]] = {}
        self._callbacks: list[dict[str, Any]] = []
        self._callback_threads: list[threading.Thread] = []
        self._closed_windows: set[str] = set()
        self._delivery_failures: dict[str, tuple[str, str]] = {}
        self._down = False
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app = self._make_app()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        """Serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns quickly
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (the port is known once started)."""
        return f"http://{self.host}:{self.port}"

    # -- control ------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Copies of the created messages, oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages]

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """The status callbacks posted so far: url, params, and response_status or error."""
        with self._lock:
            return [dict(c) for c in self._callbacks]

    def fail_next(self, count: int, http_status: int = 500, code: int | None = None) -> None:
        """Make the next `count` creates fail with Twilio's error body; `code` defaults to
        Twilio's generic one for the status (20429, 20500, ...)."""
        with self._lock:
            self._failures.extend([(http_status, code)] * count)

    def answer_late(self, count: int, delay: float) -> None:
        """Accept the next `count` creates (the message exists, its callbacks go) but
        answer each only after `delay` seconds (or when the fake stops): a client whose
        timeout is shorter never learns the SID."""
        with self._lock:
            self._late_answers.extend([delay] * count)

    @property
    def contents(self) -> list[dict[str, Any]]:
        """Copies of the content created through the Content API, oldest first."""
        with self._lock:
            return [dict(c) for c in self._contents]

    @property
    def approvals(self) -> dict[str, dict[str, Any]]:
        """The approval requests submitted so far, by content SID."""
        with self._lock:
            return {sid: dict(a) for sid, a in self._approvals.items()}

    def decide(self, sid: str, status: str, reason: str | None = None) -> None:
        """WhatsApp's decision on submitted content: "approved", "rejected" (with
        `reason`), "paused", "disabled"…"""
        with self._lock:
            if sid not in self._approvals:
                raise LookupError(f"no approval request for {sid}")
            self._approvals[sid]["status"] = status
            self._approvals[sid]["rejection_reason"] = reason or ""

    def fail_next_content(
        self, count: int, http_status: int = 500, code: int | None = None
    ) -> None:
        """Make the next `count` content creates fail, like `fail_next` for messages."""
        with self._lock:
            self._content_failures.extend([(http_status, code)] * count)

    def close_window(self, phone: str) -> None:
        """From now on free-form text to `phone` fails with 63016, as WhatsApp's 24-hour
        window is closed (templates still go)."""
        with self._lock:
            self._closed_windows.add(_bare(phone))

    def open_window(self, phone: str) -> None:
        with self._lock:
            self._closed_windows.discard(_bare(phone))

    def fail_delivery(self, phone: str, code: str | int, status: str = "undelivered") -> None:
        """From now on messages to `phone` are accepted, then reported `status` with
        `code` (e.g. 63003 not on WhatsApp, 63014 blocked, 63018 rate limit)."""
        with self._lock:
            self._delivery_failures[_bare(phone)] = (status, str(code))

    def go_down(self) -> None:
        """From now on every API call is answered 503 and nothing is accepted (an
        outage), until `come_up`."""
        with self._lock:
            self._down = True

    def come_up(self) -> None:
        with self._lock:
            self._down = False

    def reset(self) -> None:
        """Forget messages, contents, callbacks, pending failures and closed windows; an
        outage ends."""
        with self._lock:
            self._down = False
            self._messages.clear()
            self._contents.clear()
            self._deleted_contents.clear()
            self._approvals.clear()
            self._failures.clear()
            self._late_answers.clear()
            self._content_failures.clear()
            self._callbacks.clear()
            self._closed_windows.clear()
            self._delivery_failures.clear()

    def post_status(
        self, sid: str, status: str, error_code: str | int | None = None
    ) -> dict[str, Any]:
        """Post one signed status callback of message `sid` now, in this thread, and move
        the message there (Twilio's own record keeps its latest news). Returns the record
        also kept in `callbacks`: url, params, response_status or error."""
        validator = RequestValidator(self.auth_token)
        with self._lock:
            message = next((m for m in self._messages if m["sid"] == sid), None)
            if message is None or not message["status_callback"]:
                raise LookupError(f"no message {sid} with a status callback")
            message["status"] = status
            message["date_updated"] = format_datetime(self.clock().astimezone(UTC))
            if status == "sent":
                message["date_sent"] = message["date_updated"]
            if error_code is not None:
                message["error_code"] = int(error_code)
            url = str(message["status_callback"])
            params = {
                "MessageSid": sid,
                "MessageStatus": status,
                "AccountSid": self.account_sid,
                "To": message["to"],
                "From": message["from"],
                "ChannelPrefix": "whatsapp",
            }
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
        record: dict[str, Any] = {"url": url, "params": params}
        try:
            answer = requests.post(
                url,
                data=params,
                headers={"X-Twilio-Signature": validator.compute_signature(url, params)},
                timeout=self.callback_timeout,
            )
            record["response_status"] = answer.status_code
        except requests.RequestException as exc:
            log.warning("fake twilio: status callback to %s failed: %s", url, exc)
            record["error"] = str(exc)
        with self._lock:
            self._callbacks.append(record)
        return record

    def emit_statuses(
        self, sid: str, statuses: Sequence[str | tuple[str, str | int]]
    ) -> list[dict[str, Any]]:
        """Post the callbacks of `sid` in exactly this order (a status may repeat or come
        before an earlier one); a `(status, code)` pair carries an ErrorCode."""
        return [
            self.post_status(sid, *((item, None) if isinstance(item, str) else item))
            for item in statuses
        ]

    def wait_for_callbacks(self, timeout: float = 5.0) -> None:
        """Wait until every status callback started so far has been posted."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._callback_threads)
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # -- the app ------------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("fake_twilio")
        base = f"/{API_VERSION}/Accounts/<account_sid>"
        app.add_url_rule(f"{base}/Messages.json", "create", self._create, methods=["POST"])
        app.add_url_rule(f"{base}/Messages.json", "list", self._list, methods=["GET"])
        app.add_url_rule(f"{base}/Messages/<sid>.json", "fetch", self._fetch, methods=["GET"])
        app.add_url_rule("/v1/Content", "content_create", self._content_create, methods=["POST"])
        app.add_url_rule("/v1/Content", "content_list", self._content_list, methods=["GET"])
        app.add_url_rule("/v1/Content/<sid>", "content_fetch", self._content_fetch)
        app.add_url_rule(
            "/v1/Content/<sid>", "content_delete", self._content_delete, methods=["DELETE"]
        )
        app.add_url_rule(
            "/v1/Content/<sid>/ApprovalRequests/whatsapp",
            "approval_create",
            self._approval_create,
            methods=["POST"],
        )
        app.add_url_rule(
            "/v1/Content/<sid>/ApprovalRequests", "approval_fetch", self._approval_fetch
        )
        app.add_url_rule(
            "/_fake/approval", "fake_approval", self._control_approval, methods=["POST"]
        )
        app.add_url_rule("/_fake/messages", "fake_messages", self._control_messages)
        app.add_url_rule("/_fake/fail", "fake_fail", self._control_fail, methods=["POST"])
        app.add_url_rule("/_fake/reset", "fake_reset", self._control_reset, methods=["POST"])
        app.add_url_rule(
            "/_fake/answer_late", "fake_answer_late", self._control_answer_late, methods=["POST"]
        )
        app.add_url_rule("/_fake/window", "fake_window", self._control_window, methods=["POST"])
        app.add_url_rule("/_fake/down", "fake_down", self._control_down, methods=["POST"])
        app.add_url_rule("/_fake/up", "fake_up", self._control_up, methods=["POST"])
        app.before_request(self._outage)
        app.add_url_rule(
            "/_fake/fail_delivery",
            "fake_fail_delivery",
            self._control_fail_delivery,
            methods=["POST"],
        )
        return app

    def _outage(self) -> ResponseReturnValue | None:
        """While down, the answer to any call but the controls: 503, nothing accepted."""
        with self._lock:
            down = self._down
        if down and not request.path.startswith("/_fake/"):
            return twilio_error(503, 20503, _ERROR_MESSAGES[503])
        return None

    def _refuse(self, account_sid: str | None = None) -> ResponseReturnValue | None:
        """Twilio's answer to bad credentials or another account's URL, if either."""
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return twilio_error(401, 20003, "Authenticate")
        if account_sid is not None and account_sid != self.account_sid:
            return twilio_error(
                404,
                20404,
                f"The requested resource /{API_VERSION}/Accounts/{account_sid} was not found",
            )
        return None

    def _create(self, account_sid: str) -> ResponseReturnValue:
        refused = self._refuse(account_sid)
        if refused is not None:
            return refused
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            http_status, code = failure
            reason = _ERROR_MESSAGES.get(http_status, "Error")
            if code == INVALID_TO:  # Twilio's words name the number
                reason = _INVALID_TO_TEXT.format(to=request.form.get("To", ""))
            return twilio_error(
                http_status, code if code is not None else 20000 + http_status, reason
            )
        form = request.form
        to, from_ = form.get("To", ""), form.get("From", "")
        body, content_sid = form.get("Body", ""), form.get("ContentSid")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not from_:
            return twilio_error(400, 21603, "A 'From' phone number is required.")
        if not _PHONE.match(to):
            return twilio_error(400, INVALID_TO, _INVALID_TO_TEXT.format(to=to))
        if not body and not content_sid:
            return twilio_error(400, 21602, "Message body is required.")
        if content_sid is not None and not _CONTENT_SID.match(content_sid):
            return twilio_error(400, 21655, "The ContentSid is Invalid.")
        content_variables = form.get("ContentVariables")
        if content_variables is not None and not _variables_ok(content_variables):
            return twilio_error(400, 21656, "The ContentVariables Parameter is invalid.")
        if content_sid:
            with self._lock:
                content = next((c for c in self._contents if c["sid"] == content_sid), None)
                deleted = content_sid in self._deleted_contents
            if deleted:
                return twilio_error(400, 21655, "The ContentSid is Invalid")
            try:
                variables = json.loads(form.get("ContentVariables") or "{}")
            except ValueError:
                return twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
            if not isinstance(variables, dict):
                return twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
            if content is not None:  # else an approved template made in Twilio's console
                body = _content_body(content, variables)
        if len(body) > BODY_LIMIT:
            return twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        moment = self.clock().astimezone(UTC)
        now = format_datetime(moment)
        sid = "SM" + uuid.uuid4().hex
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        message: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "to": to,
            "from": from_,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "uri": f"{uri}.json",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            # Not in Twilio's answer; kept so tests can see what was asked for.
            "status_callback": form.get("StatusCallback"),
            "content_sid": content_sid,
            "content_variables": content_variables,
            "received_at": moment.isoformat(),  # to the microsecond: pacing is measured on it
        }
        with self._lock:
            self._messages.append(message)
            answer = dict(message)
            statuses: list[tuple[str, str | None]] = []
            refusal = self._refusal(_bare(to), content_sid)
            if refusal is not None:
                statuses = [refusal]
            elif self.send_callbacks:
                statuses = [(status, None) for status in CALLBACK_STATUSES]
            if statuses and message["status_callback"]:
                thread = threading.Thread(
                    target=self._post_callbacks,
                    args=(sid, statuses),
                    name=f"fake-twilio-{sid}",
                    daemon=True,
                )
                self._callback_threads.append(thread)
                thread.start()
            delay = self._late_answers.pop(0) if self._late_answers else None
        if delay is not None:
            self._stopping.wait(delay)
        return jsonify(answer), 201

    def _list(self, account_sid: str) -> ResponseReturnValue:
        refused = self._refuse(account_sid)
        if refused is not None:
            return refused
        to, from_ = request.args.get("To"), request.args.get("From")
        try:
            after = _query_time(request.args.get("DateSent>"))
            before = _query_time(request.args.get("DateSent<"))
        except ValueError as error:
            return twilio_error(400, 20001, f"Invalid DateSent: {error}")
        page_size = min(max(request.args.get("PageSize", default=50, type=int) or 50, 1), 1000)
        page = max(request.args.get("Page", default=0, type=int) or 0, 0)
        with self._lock:
            found = [
                dict(m)
                for m in reversed(self._messages)  # Twilio lists the newest first
                if (to is None or m["to"] == to)
                and (from_ is None or m["from"] == from_)
                and _sent_between(m, after, before)
            ]
        start = page * page_size
        shown = found[start : start + page_size]
        path = request.path

        def page_uri(number: int) -> str:
            args = {k: v for k, v in request.args.items() if k not in ("Page", "PageToken")}
            args.update(Page=str(number), PageSize=str(page_size))
            return f"{path}?{urlencode(args)}"

        more = start + page_size < len(found)
        return jsonify(
            {
                "messages": shown,
                "start": start,
                "end": start + max(len(shown) - 1, 0),
                "page": page,
                "page_size": page_size,
                "uri": page_uri(page),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            }
        )

    def _fetch(self, account_sid: str, sid: str) -> ResponseReturnValue:
        refused = self._refuse(account_sid)
        if refused is not None:
            return refused
        with self._lock:
            found = next((dict(m) for m in self._messages if m["sid"] == sid), None)
        if found is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return jsonify(found)

    # -- the Content API ------------------------------------------------------------------

    def _content_create(self) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            failure = self._content_failures.pop(0) if self._content_failures else None
        if failure is not None:
            http_status, code = failure
            reason = _ERROR_MESSAGES.get(http_status, "Error")
            return twilio_error(
                http_status, code if code is not None else 20000 + http_status, reason
            )
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return twilio_error(400, 20001, "The request body must be a JSON object")
        types = {k: v for k, v in (data.get("types") or {}).items() if v is not None}
        problem = _content_problem(types)
        if problem is not None:
            return twilio_error(400, 20001, problem)
        now = format_datetime(self.clock().astimezone(UTC))
        sid = "HX" + uuid.uuid4().hex
        url = f"https://content.twilio.com/v1/Content/{sid}"
        content = {
            "sid": sid,
            "account_sid": self.account_sid,
            "friendly_name": data.get("friendly_name"),
            "language": data.get("language") or "en",
            "variables": data.get("variables") or {},
            "types": types,
            "url": url,
            "links": {
                "approval_create": f"{url}/ApprovalRequests/whatsapp",
                "approval_fetch": f"{url}/ApprovalRequests",
            },
            "date_created": now,
            "date_updated": now,
        }
        with self._lock:
            self._contents.append(content)
        return jsonify(content), 201

    def _content_list(self) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            contents = [dict(c) for c in self._contents]
        url = "https://content.twilio.com/v1/Content?PageSize=50&Page=0"
        return jsonify(
            {
                "contents": contents,
                "meta": {
                    "page": 0,
                    "page_size": 50,
                    "first_page_url": url,
                    "previous_page_url": None,
                    "url": url,
                    "next_page_url": None,
                    "key": "contents",
                },
            }
        )

    def _content_fetch(self, sid: str) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            found = next((dict(c) for c in self._contents if c["sid"] == sid), None)
        if found is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return jsonify(found)

    def _content_delete(self, sid: str) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            found = [c for c in self._contents if c["sid"] == sid]
            if not found:
                return twilio_error(
                    404, 20404, f"The requested resource {request.path} was not found"
                )
            self._contents.remove(found[0])
            self._deleted_contents.add(sid)
        return "", 204

    def _approval_create(self, sid: str) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            content = next((dict(c) for c in self._contents if c["sid"] == sid), None)
            submitted = sid in self._approvals
        if content is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return twilio_error(400, 20001, "The request body must be a JSON object")
        name, category = data.get("name"), data.get("category")
        if not isinstance(name, str) or not _TEMPLATE_NAME.match(name):
            return twilio_error(
                400, 20001, "name must be lowercase letters, digits and underscores"
            )
        if category not in WHATSAPP_CATEGORIES:
            return twilio_error(
                400, 20001, f"category must be one of {', '.join(WHATSAPP_CATEGORIES)}"
            )
        [(content_type, spec)] = content["types"].items()
        samples = content.get("variables") or {}
        unsampled = [
            n for n in _VARIABLE.findall(spec.get("body", "")) if not str(samples.get(n, ""))
        ]
        if unsampled:
            return twilio_error(
                400, 20001, f"variables need sample values: {', '.join(sorted(set(unsampled)))}"
            )
        if submitted:
            return twilio_error(400, 20001, "this content was already submitted for approval")
        approval = {
            "name": name,
            "category": category,
            "content_type": content_type,
            "status": "received",
            "rejection_reason": "",
            "allow_category_change": bool(data.get("allow_category_change", True)),
        }
        with self._lock:
            self._approvals[sid] = approval
        return jsonify(approval), 201

    def _approval_fetch(self, sid: str) -> ResponseReturnValue:
        refused = self._refuse()
        if refused is not None:
            return refused
        with self._lock:
            known = any(c["sid"] == sid for c in self._contents)
            approval = dict(self._approvals.get(sid) or {"status": "unsubmitted"})
        if not known:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        url = f"https://content.twilio.com/v1/Content/{sid}/ApprovalRequests"
        whatsapp = {"type": "whatsapp", "rejection_reason": "", **approval}
        return jsonify(
            {"sid": sid, "account_sid": self.account_sid, "url": url, "whatsapp": whatsapp}
        )

    def _control_approval(self) -> ResponseReturnValue:
        data = request.get_json(silent=True) or {}
        sid, status = str(data.get("sid", "")), str(data.get("status", ""))
        if not sid or not status:
            return jsonify({"error": "sid and status are required"}), 400
        try:
            self.decide(sid, status, data.get("reason"))
        except LookupError as missing:
            return jsonify({"error": str(missing)}), 404
        return jsonify({"ok": True})

    def _control_messages(self) -> ResponseReturnValue:
        return jsonify(self.messages)

    def _control_fail(self) -> ResponseReturnValue:
        data = request.get_json(silent=True) or {}
        code = data.get("code")
        self.fail_next(
            int(data.get("count", 1)),
            http_status=int(data.get("http_status", 500)),
            code=int(code) if code is not None else None,
        )
        return jsonify({"ok": True})

    def _control_answer_late(self) -> ResponseReturnValue:
        data = request.get_json(silent=True) or {}
        self.answer_late(int(data.get("count", 1)), float(data.get("delay", 15)))
        return jsonify({"ok": True})

    def _control_down(self) -> ResponseReturnValue:
        self.go_down()
        return jsonify({"ok": True})

    def _control_up(self) -> ResponseReturnValue:
        self.come_up()
        return jsonify({"ok": True})

    def _control_reset(self) -> ResponseReturnValue:
        self.reset()
        return jsonify({"ok": True})

    def _control_window(self) -> ResponseReturnValue:
        data = request.get_json(silent=True) or {}
        phone = str(data.get("phone", ""))
        if not phone:
            return jsonify({"error": "phone is required"}), 400
        (self.open_window if data.get("open") else self.close_window)(phone)
        return jsonify({"ok": True})

    def _control_fail_delivery(self) -> ResponseReturnValue:
        data = request.get_json(silent=True) or {}
        phone, code = str(data.get("phone", "")), data.get("code")
        if not phone or code is None:
            return jsonify({"error": "phone and code are required"}), 400
        self.fail_delivery(phone, str(code), str(data.get("status", "undelivered")))
        return jsonify({"ok": True})

    def _refusal(self, phone: str, content_sid: str | None) -> tuple[str, str | None] | None:
        """The failure WhatsApp reports for a message to `phone`, if any (lock held)."""
        if phone in self._delivery_failures:
            return self._delivery_failures[phone]
        if content_sid is None and phone in self._closed_windows:
            return ("failed", OUTSIDE_WINDOW)
        return None

    # -- status callbacks ---------------------------------------------------------------

    def _post_callbacks(self, sid: str, statuses: Sequence[tuple[str, str | None]]) -> None:
        """Move the message through `statuses`, telling its StatusCallback each time,
        signed with the auth token as Twilio does."""
        for status, code in statuses:
            try:
                self.post_status(sid, status, code)
            except LookupError:  # reset meanwhile
                return


def _bare(phone: str) -> str:
    return phone.removeprefix("whatsapp:")


def _variables_ok(raw: str) -> bool:
    """ContentVariables as Twilio takes them: a JSON object of strings."""
    try:
        variables = json.loads(raw)
    except ValueError:
        return False
    return isinstance(variables, dict) and all(
        isinstance(key, str) and isinstance(value, str) for key, value in variables.items()
    )


def _content_problem(types: dict[str, Any]) -> str | None:
    """What makes content unacceptable (one type, WhatsApp's limits), or None."""
    if len(types) != 1:
        return "Content must have exactly one type"
    [(kind, spec)] = types.items()
    if not isinstance(spec, dict):
        return f"{kind} must be an object"
    body = spec.get("body")
    if not isinstance(body, str) or not body:
        return f"{kind}.body is required"
    if len(body) > CONTENT_BODY_LIMIT:
        return f"{kind}.body exceeds {CONTENT_BODY_LIMIT} characters"
    if kind == "twilio/text":
        return None
    if kind == "twilio/quick-reply":
        actions = spec.get("actions")
        if not isinstance(actions, list) or not 1 <= len(actions) <= QUICK_REPLY_BUTTONS:
            return f"twilio/quick-reply needs 1 to {QUICK_REPLY_BUTTONS} actions"
        titles = [a.get("title") if isinstance(a, dict) else None for a in actions]
        if any(not isinstance(t, str) or not t or len(t) > BUTTON_TITLE_LIMIT for t in titles):
            return f"a quick-reply title must have 1 to {BUTTON_TITLE_LIMIT} characters"
        if len(set(titles)) < len(titles):
            return "quick-reply titles must be unique"
        return None
    if kind == "twilio/list-picker":
        button, items = spec.get("button"), spec.get("items")
        if not isinstance(button, str) or not button or len(button) > LIST_BUTTON_LIMIT:
            return f"twilio/list-picker.button must have 1 to {LIST_BUTTON_LIMIT} characters"
        if not isinstance(items, list) or not 1 <= len(items) <= LIST_ITEMS:
            return f"twilio/list-picker needs 1 to {LIST_ITEMS} items"
        for item in items:
            if not isinstance(item, dict) or not item.get("id"):
                return "every list item needs an id"
            title, description = item.get("item"), item.get("description")
            if not isinstance(title, str) or not title or len(title) > LIST_ITEM_LIMIT:
                return f"a list item must have 1 to {LIST_ITEM_LIMIT} characters"
            if description is not None and len(str(description)) > LIST_DESCRIPTION_LIMIT:
                return f"a list item description exceeds {LIST_DESCRIPTION_LIMIT} characters"
        return None
    return f"content type {kind} is not supported by this fake"


def _content_body(content: dict[str, Any], variables: dict[str, Any]) -> str:
    """The text of a message sent with content: its body, variables filled in (the
    content's own defaults where the message names none)."""
    [spec] = content["types"].values()
    values = {**content.get("variables", {}), **variables}
    return _VARIABLE.sub(lambda m: str(values.get(m.group(1), m.group(0))), spec["body"])


def _query_time(value: str | None) -> datetime | None:
    """A `DateSent` filter: an ISO date-time ("2026-03-07T12:00:00Z") or a date."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sent_between(message: dict[str, Any], after: datetime | None, before: datetime | None) -> bool:
    stamp = message["date_sent"] or message["date_created"]
    moment = parsedate_to_datetime(stamp)
    return (after is None or moment >= after) and (before is None or moment < before)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the fake on a host and port until interrupted (Ctrl-C or SIGTERM)."""
    parser = argparse.ArgumentParser(
        prog="fake-twilio", description="Serve a fake of Twilio's Messages API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 = any free port")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--send-callbacks", action="store_true", help="post sent/delivered status callbacks"
    )
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        send_callbacks=args.send_callbacks,
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    fake.start()
    print(f"fake Twilio listening on {fake.url}", flush=True)
    print(
        f"TWILIO_API_URL={fake.url} TWILIO_ACCOUNT_SID={fake.account_sid} "
        f"TWILIO_AUTH_TOKEN={fake.auth_token}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
