"""The fake Twilio server, driven by the real `twilio` client (as the channel uses it)."""

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask, request
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server

from channel.base import Approval, SendError
from channel.twilio import RedirectingHttpClient, TwilioChannel
from turnero.fake_twilio import FakeTwilio

CLINIC = "whatsapp:+595981000000"
PATIENT = "whatsapp:+595981000001"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def client_for(
    fake: FakeTwilio, account_sid: str | None = None, token: str | None = None
) -> Client:
    return Client(
        account_sid or fake.account_sid,
        token or fake.auth_token,
        http_client=RedirectingHttpClient(api_url=fake.url, timeout=5),
    )


def test_create_answers_like_twilio(fake: FakeTwilio) -> None:
    message = client_for(fake).messages.create(from_=CLINIC, to=PATIENT, body="hola")

    assert message.sid is not None and message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (PATIENT, CLINIC, "hola")
    assert message.account_sid == fake.account_sid
    assert message.date_created is not None and message.date_created.tzinfo is not None
    [recorded] = fake.messages
    assert recorded["sid"] == message.sid


def test_list_and_fetch(fake: FakeTwilio) -> None:
    client = client_for(fake)
    first = client.messages.create(from_=CLINIC, to=PATIENT, body="uno")
    client.messages.create(from_=CLINIC, to="whatsapp:+595981000002", body="dos")

    assert len(client.messages.list()) == 2
    [only] = client.messages.list(to=PATIENT)
    assert only.sid == first.sid
    assert client.messages(first.sid).fetch().body == "uno"


def test_list_filters_by_send_date_and_pages_like_twilio() -> None:
    now = [datetime(2026, 3, 2, 12, 0, tzinfo=UTC)]
    with FakeTwilio(clock=lambda: now[0]) as fake:
        client = client_for(fake)
        client.messages.create(from_=CLINIC, to=PATIENT, body="early")
        now[0] += timedelta(hours=1)
        for n in range(3):
            client.messages.create(from_=CLINIC, to=PATIENT, body=f"late {n}")
        url = f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
        auth = (fake.account_sid, fake.auth_token)
        page = requests.get(
            url,
            params={"To": PATIENT, "DateSent>": "2026-03-02T12:30:00Z", "PageSize": 2},
            auth=auth,
            timeout=5,
        ).json()
        assert [m["body"] for m in page["messages"]] == ["late 2", "late 1"]
        assert page["page_size"] == 2
        assert page["next_page_uri"] and page["previous_page_uri"] is None
        following = requests.get(fake.url + page["next_page_uri"], auth=auth, timeout=5).json()
        assert [m["body"] for m in following["messages"]] == ["late 0"]
        assert following["next_page_uri"] is None
        assert following["messages"][0]["date_created"] == "Mon, 02 Mar 2026 13:00:00 +0000"
        listed = client.messages.list(to=PATIENT, date_sent_after=now[0] - timedelta(hours=2))
        assert len(listed) == 4
        bad = requests.get(url, params={"DateSent>": "yesterday"}, auth=auth, timeout=5)
        assert bad.status_code == 400


def test_content_templates_are_recorded(fake: FakeTwilio) -> None:
    client_for(fake).messages.create(
        from_=CLINIC, to=PATIENT, content_sid="HX" + "1" * 32, content_variables='{"1": "x"}'
    )
    [recorded] = fake.messages
    assert recorded["content_sid"] == "HX" + "1" * 32
    assert recorded["content_variables"] == '{"1": "x"}'


@pytest.mark.parametrize(
    ("account_sid", "token"),
    [(None, "wrong-token"), ("AC" + "9" * 32, None)],
)
def test_wrong_credentials_are_rejected(
    fake: FakeTwilio, account_sid: str | None, token: str | None
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client_for(fake, account_sid, token).messages.create(from_=CLINIC, to=PATIENT, body="hola")
    assert raised.value.status == 401
    assert raised.value.code == 20003
    assert fake.messages == []


def test_wrong_credentials_fail_the_channel_without_retry(fake: FakeTwilio) -> None:
    channel = TwilioChannel(fake.account_sid, "wrong-token", api_url=fake.url)
    with pytest.raises(SendError) as raised:
        channel.send(from_phone="+595981000000", to_phone="+595981000001", body="hola")
    assert (raised.value.http_status, raised.value.code) == (401, "20003")
    assert raised.value.retryable is False


def test_another_accounts_url_is_not_found(fake: FakeTwilio) -> None:
    answer = requests.post(
        f"{fake.url}/2010-04-01/Accounts/AC{'9' * 32}/Messages.json",
        data={"To": PATIENT, "From": CLINIC, "Body": "hola"},
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == 20404


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": CLINIC, "Body": "hola"}, 21604),
        ({"To": PATIENT, "Body": "hola"}, 21603),
        ({"To": PATIENT, "From": CLINIC}, 21602),
        ({"To": "whatsapp:12", "From": CLINIC, "Body": "hola"}, 21211),
        ({"To": PATIENT, "From": CLINIC, "Body": "x" * 1601}, 21617),
    ],
)
def test_invalid_requests_get_twilio_codes(
    fake: FakeTwilio, form: dict[str, str], code: int
) -> None:
    answer = requests.post(
        f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json",
        data=form,
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == code
    assert body["status"] == 400
    assert body["more_info"].endswith(str(code))


def test_fail_next_from_python(fake: FakeTwilio) -> None:
    fake.fail_next(2, http_status=429)
    client = client_for(fake)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(from_=CLINIC, to=PATIENT, body="hola")
        assert (raised.value.status, raised.value.code) == (429, 20429)
    client.messages.create(from_=CLINIC, to=PATIENT, body="hola")
    assert len(fake.messages) == 1


def test_http_control_endpoints(fake: FakeTwilio) -> None:
    client = client_for(fake)
    client.messages.create(from_=CLINIC, to=PATIENT, body="hola")
    assert [m["body"] for m in requests.get(f"{fake.url}/_fake/messages", timeout=5).json()] == [
        "hola"
    ]

    requests.post(
        f"{fake.url}/_fake/fail", json={"count": 1, "http_status": 400, "code": 63016}, timeout=5
    ).raise_for_status()
    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(from_=CLINIC, to=PATIENT, body="otra")
    assert (raised.value.status, raised.value.code) == (400, 63016)

    requests.post(f"{fake.url}/_fake/fail", json={"count": 3}, timeout=5).raise_for_status()
    requests.post(f"{fake.url}/_fake/reset", timeout=5).raise_for_status()
    assert requests.get(f"{fake.url}/_fake/messages", timeout=5).json() == []
    client.messages.create(from_=CLINIC, to=PATIENT, body="después del reset")
    assert len(fake.messages) == 1


def test_down_refuses_every_call_until_up(fake: FakeTwilio) -> None:
    client = client_for(fake)
    client.messages.create(from_=CLINIC, to=PATIENT, body="antes")
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)

    requests.post(f"{fake.url}/_fake/down", timeout=5).raise_for_status()
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(from_=CLINIC, to=PATIENT, body="durante")
        assert raised.value.status == 503
    with pytest.raises(TwilioException, match="503"):
        client.messages.list()
    with pytest.raises(SendError) as failed:
        channel.send(from_phone="+595981000000", to_phone="+595981000001", body="x")
    assert failed.value.retryable  # an outage is worth trying again later
    assert [m["body"] for m in requests.get(f"{fake.url}/_fake/messages", timeout=5).json()] == [
        "antes"
    ]  # the controls still answer, and nothing was accepted

    requests.post(f"{fake.url}/_fake/up", timeout=5).raise_for_status()
    client.messages.create(from_=CLINIC, to=PATIENT, body="después")
    assert [m["body"] for m in fake.messages] == ["antes", "después"]

    fake.go_down()
    fake.reset()  # a reset ends an outage too
    client.messages.create(from_=CLINIC, to=PATIENT, body="otra vez")
    assert len(fake.messages) == 1


class CallbackReceiver:
    """A local webhook that checks each status callback's Twilio signature."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.received: list[tuple[dict[str, Any], bool]] = []
        app = Flask("receiver")
        app.add_url_rule("/status", "status", self.status, methods=["POST"])
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/status"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def status(self) -> tuple[str, int]:
        valid = self.validator.validate(
            self.url, request.form, request.headers.get("X-Twilio-Signature", "")
        )
        self.received.append((request.form.to_dict(), valid))
        return "", 204


def test_status_callbacks_are_signed_and_in_order() -> None:
    with FakeTwilio(send_callbacks=True) as fake:
        receiver = CallbackReceiver(fake.auth_token)
        receiver.thread.start()
        try:
            client = client_for(fake)
            message = client.messages.create(
                from_=CLINIC, to=PATIENT, body="hola", status_callback=receiver.url
            )
            client.messages.create(from_=CLINIC, to=PATIENT, body="sin callback")
            fake.wait_for_callbacks()
        finally:
            receiver.server.shutdown()
            receiver.server.server_close()
        assert [(form["MessageStatus"], valid) for form, valid in receiver.received] == [
            ("sent", True),
            ("delivered", True),
        ]
        form = receiver.received[0][0]
        assert form["MessageSid"] == message.sid
        assert form["AccountSid"] == fake.account_sid
        assert (form["To"], form["From"], form["ChannelPrefix"]) == (PATIENT, CLINIC, "whatsapp")
        assert [c["response_status"] for c in fake.callbacks] == [204, 204]
        assert client.messages(message.sid).fetch().status == "delivered"


def test_callbacks_are_off_by_default(fake: FakeTwilio) -> None:
    client_for(fake).messages.create(
        from_=CLINIC, to=PATIENT, body="hola", status_callback="http://127.0.0.1:9/status"
    )
    fake.wait_for_callbacks()
    assert fake.callbacks == []
    assert fake.messages[0]["status"] == "queued"


def test_main_serves_until_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "turnero.fake_twilio", "--port", "0", "--auth-token", "tok"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("fake Twilio listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        answer = requests.get(f"{url}/_fake/messages", timeout=5)
        assert answer.json() == []
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()


# -- Content API sends, closed windows, failing deliveries, callbacks on demand ------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"content_sid": "HX123"}, 21655),
        ({"content_sid": "HX" + "1" * 32, "content_variables": "{not json"}, 21656),
        ({"content_sid": "HX" + "1" * 32, "content_variables": '["a"]'}, 21656),
        ({"content_sid": "HX" + "1" * 32, "content_variables": '{"1": 2}'}, 21656),
    ],
)
def test_bad_content_is_refused_like_twilio(
    fake: FakeTwilio, fields: dict[str, str], code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        client_for(fake).messages.create(from_=CLINIC, to=PATIENT, **fields)
    assert (raised.value.status, raised.value.code) == (400, code)
    assert fake.messages == []


@pytest.fixture
def receiver(fake: FakeTwilio) -> Iterator["CallbackReceiver"]:
    receiving = CallbackReceiver(fake.auth_token)
    receiving.thread.start()
    yield receiving
    receiving.server.shutdown()
    receiving.server.server_close()


def test_text_to_a_closed_window_is_accepted_then_fails_with_63016(
    fake: FakeTwilio, receiver: "CallbackReceiver"
) -> None:
    fake.close_window("+595981000001")
    client = client_for(fake)
    text = client.messages.create(
        from_=CLINIC, to=PATIENT, body="hola", status_callback=receiver.url
    )
    template = client.messages.create(
        from_=CLINIC,
        to=PATIENT,
        content_sid="HX" + "1" * 32,
        content_variables='{"1": "Rosa"}',
        status_callback=receiver.url,
    )
    fake.wait_for_callbacks()

    assert text.status == "queued"  # accepted: WhatsApp refuses it afterwards
    assert [
        (f["MessageSid"], f["MessageStatus"], f.get("ErrorCode"), ok) for f, ok in receiver.received
    ] == [(text.sid, "failed", "63016", True)]
    assert client.messages(text.sid).fetch().error_code == 63016
    assert client.messages(template.sid).fetch().status == "queued"

    fake.open_window("+595981000001")
    client.messages.create(from_=CLINIC, to=PATIENT, body="otra", status_callback=receiver.url)
    fake.wait_for_callbacks()
    assert len(receiver.received) == 1


def test_a_phone_told_to_fail_reports_its_code(
    fake: FakeTwilio, receiver: "CallbackReceiver"
) -> None:
    fake.fail_delivery("+595981000001", 63003)
    message = client_for(fake).messages.create(
        from_=CLINIC, to=PATIENT, body="hola", status_callback=receiver.url
    )
    fake.wait_for_callbacks()
    [(form, valid)] = receiver.received
    assert (form["MessageSid"], form["MessageStatus"], form["ErrorCode"], valid) == (
        message.sid,
        "undelivered",
        "63003",
        True,
    )
    fake.reset()
    client_for(fake).messages.create(
        from_=CLINIC, to=PATIENT, body="hola", status_callback=receiver.url
    )
    fake.wait_for_callbacks()
    assert len(receiver.received) == 1  # reset forgets the failure


def test_callbacks_on_demand_in_any_order_repeated_and_with_codes(
    fake: FakeTwilio, receiver: "CallbackReceiver"
) -> None:
    message = client_for(fake).messages.create(
        from_=CLINIC, to=PATIENT, body="hola", status_callback=receiver.url
    )
    records = fake.emit_statuses(
        message.sid or "", ["delivered", "sent", "delivered", ("failed", 30008)]
    )
    assert [r["response_status"] for r in records] == [204] * 4
    assert [(f["MessageStatus"], f.get("ErrorCode"), valid) for f, valid in receiver.received] == [
        ("delivered", None, True),
        ("sent", None, True),
        ("delivered", None, True),
        ("failed", "30008", True),
    ]
    with pytest.raises(LookupError):
        fake.post_status("SM" + "0" * 32, "sent")


def test_window_and_delivery_control_over_http(
    fake: FakeTwilio, receiver: "CallbackReceiver"
) -> None:
    def control(path: str, **body: object) -> int:
        return requests.post(f"{fake.url}/_fake/{path}", json=body, timeout=5).status_code

    def send(to: str) -> list[tuple[str, str | None]]:
        client_for(fake).messages.create(
            from_=CLINIC, to=to, body="hola", status_callback=receiver.url
        )
        fake.wait_for_callbacks()
        received = [(f["MessageStatus"], f.get("ErrorCode")) for f, _ in receiver.received]
        receiver.received.clear()
        return received

    assert control("window") == 400
    assert control("fail_delivery", phone="+595981000002") == 400
    assert control("window", phone="+595981000001") == 200
    assert control("fail_delivery", phone="+595981000002", code=63014) == 200
    assert send(PATIENT) == [("failed", "63016")]
    assert send("whatsapp:+595981000002") == [("undelivered", "63014")]
    assert control("window", phone="+595981000001", open=True) == 200
    assert send(PATIENT) == []


# -- WhatsApp's approval of content -----------------------------------------------------


def _text_content(channel: TwilioChannel, samples: dict[str, str] | None) -> str:
    return channel.create_content(
        friendly_name="recordatorio",
        language="es",
        types={"twilio/text": {"body": "Hola {{1}}, tu turno es el {{2}}."}},
        variables=samples,
    )


def test_an_approval_request_waits_until_whatsapp_decides(fake: FakeTwilio) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
    sid = _text_content(channel, {"1": "María", "2": "15/12"})
    assert channel.approval(sid).status == "unsubmitted"

    submitted = channel.submit_for_approval(sid, name="turnero_1_reminder_es", category="UTILITY")
    assert (submitted.status, submitted.rejection_reason) == ("received", None)
    assert fake.approvals[sid]["category"] == "UTILITY"
    assert channel.approval(sid).status == "received"

    fake.decide(sid, "rejected", "INVALID_FORMAT")
    assert channel.approval(sid) == Approval("rejected", "INVALID_FORMAT")
    requests.post(
        f"{fake.url}/_fake/approval", json={"sid": sid, "status": "approved"}, timeout=5
    ).raise_for_status()
    assert channel.approval(sid) == Approval("approved", None)


def test_the_fetch_answers_in_twilios_shape(fake: FakeTwilio) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
    sid = _text_content(channel, {"1": "María", "2": "15/12"})
    channel.submit_for_approval(sid, name="turnero_reminder", category="UTILITY")
    answer = requests.get(
        f"{fake.url}/v1/Content/{sid}/ApprovalRequests",
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    ).json()
    assert answer["sid"] == sid and answer["account_sid"] == fake.account_sid
    assert answer["url"] == f"https://content.twilio.com/v1/Content/{sid}/ApprovalRequests"
    assert {k: answer["whatsapp"][k] for k in ("name", "category", "content_type", "status")} == {
        "name": "turnero_reminder",
        "category": "UTILITY",
        "content_type": "twilio/text",
        "status": "received",
    }


@pytest.mark.parametrize(
    ("samples", "name", "category", "problem"),
    [
        ({"1": "María", "2": "15/12"}, "Recordatorio Turno", "UTILITY", "name must be lowercase"),
        ({"1": "María", "2": "15/12"}, "turnero_reminder", "PROMOTION", "category must be one of"),
        ({"1": "María"}, "turnero_reminder", "UTILITY", "variables need sample values: 2"),
        (None, "turnero_reminder", "MARKETING", "variables need sample values: 1, 2"),
    ],
)
def test_a_bad_approval_request_is_refused(
    fake: FakeTwilio, samples: dict[str, str] | None, name: str, category: str, problem: str
) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
    sid = _text_content(channel, samples)
    with pytest.raises(SendError) as refused:
        channel.submit_for_approval(sid, name=name, category=category)
    assert refused.value.http_status == 400 and problem in refused.value.message
    assert fake.approvals == {}


def test_content_is_submitted_once_and_unknown_content_is_not_found(fake: FakeTwilio) -> None:
    channel = TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url)
    sid = _text_content(channel, {"1": "María", "2": "15/12"})
    channel.submit_for_approval(sid, name="turnero_reminder", category="UTILITY")
    with pytest.raises(SendError) as again:
        channel.submit_for_approval(sid, name="turnero_reminder", category="UTILITY")
    assert again.value.http_status == 400
    with pytest.raises(SendError) as unknown:
        channel.approval("HX" + "0" * 32)
    assert unknown.value.http_status == 404
    with pytest.raises(LookupError):
        fake.decide("HX" + "0" * 32, "approved")
