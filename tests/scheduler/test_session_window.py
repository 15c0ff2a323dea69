"""WhatsApp's 24-hour window at send time: a reminder inside it goes as text, outside it as
the clinic's approved template (the right ContentSid, variables from the reminder's tags),
and with no template it is recorded as not sendable. Twilio's 63016 on a text sends the
template in its place, once. All through the real twilio client and the fake Twilio."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from channel.base import SendResult
from channel.sandbox import SandboxChannel
from scheduler.dispatcher import dispatch_due
from store.content_templates import find_template, set_status
from store.db import transaction
from store.models import OutboxMessage
from store.window import (
    EMPTY_VARIABLE,
    MARGIN,
    NO_TEMPLATE,
    PIECE_COVERED,
    TEXT,
    SendPlan,
    Template,
    content_variables,
    plan_send,
    variable_text,
    window_open,
)
from tests import support
from tests.notification_support import CHAT, book_at, outbox, run_pass, set_reminders, writes
from tests.support import Clock, make_clinic
from tests.window_support import (
    REMINDER_SID,
    REMINDER_SID_GN,
    Live,
    approve,
    live,
    row,
    rows,
    variables_sent,
)

ASU = ZoneInfo("America/Asuncion")
BOOKED_AT = datetime(2026, 11, 25, 9, 0, tzinfo=ASU).astimezone(UTC)  # a Wednesday
STARTS = datetime(2026, 11, 27, 10, 30, tzinfo=ASU)  # Friday 10:30
DUE = STARTS.astimezone(UTC) - timedelta(hours=24)  # the 24-hour reminder
PHONE = "+595981222333"


# -- the decision, pure ----------------------------------------------------------------------


def test_the_window_lasts_24_hours_from_the_last_inbound_message_less_a_margin() -> None:
    wrote = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert window_open(wrote, wrote)
    assert window_open(wrote, wrote + timedelta(hours=24) - MARGIN - timedelta(seconds=1))
    assert not window_open(wrote, wrote + timedelta(hours=24) - MARGIN)
    assert not window_open(wrote, wrote + timedelta(hours=25))
    assert not window_open(None, wrote)  # never wrote: closed


def message(**fields: object) -> OutboxMessage:
    values: dict[str, object] = {
        "clinic_id": 1,
        "idempotency_key": "k",
        "kind": "reminder",
        "from_phone": "+595981000000",
        "to_phone": PHONE,
        "body": "Hola",
        "language": "es",
        "variables": json.dumps({"patient_name": "Rosa", "date": "viernes", "time": "10:30"}),
    }
    values.update(fields)
    return OutboxMessage.model_validate(values)


NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
TEMPLATE = Template(REMINDER_SID, {"1": "patient_name", "2": "date", "3": "time"})


def test_plan_text_inside_the_window_and_for_answers_always() -> None:
    assert plan_send(message(), NOW - timedelta(hours=1), TEMPLATE, NOW) == TEXT
    for kind in ("reply", "booking_confirmation", "staff"):
        assert plan_send(message(kind=kind), None, None, NOW) == TEXT


def test_plan_the_template_outside_the_window() -> None:
    assert plan_send(message(), NOW - timedelta(hours=30), TEMPLATE, NOW) == SendPlan(
        content_sid=REMINDER_SID,
        content_variables={"1": "Rosa", "2": "viernes", "3": "10:30"},
    )


def test_plan_a_row_queued_as_a_template_never_goes_as_text() -> None:
    forced = message(content_sid=REMINDER_SID, idempotency_key="k:template")
    assert plan_send(forced, NOW, TEMPLATE, NOW).content_sid == REMINDER_SID
    assert plan_send(forced, NOW, None, NOW).not_sendable


def test_plan_not_sendable_without_a_template_or_its_tags() -> None:
    assert plan_send(message(), None, None, NOW) == SendPlan(
        not_sendable=NO_TEMPLATE.format(kind="reminder", language="es")
    )
    lacking = Template(REMINDER_SID, {"1": "code"})
    assert "code" in (plan_send(message(), None, lacking, NOW).not_sendable or "")
    assert plan_send(message(variables="not json"), None, TEMPLATE, NOW).not_sendable
    assert plan_send(message(variables=None), None, TEMPLATE, NOW).not_sendable


def test_plan_the_later_parts_of_a_split_message_ride_on_the_first() -> None:
    assert plan_send(message(idempotency_key="k#1"), None, TEMPLATE, NOW).content_sid
    assert plan_send(message(idempotency_key="k#2"), None, TEMPLATE, NOW) == SendPlan(
        skip=PIECE_COVERED
    )


def test_template_variables_are_one_line_never_empty_and_within_twilios_limit() -> None:
    assert variable_text("Av. España    100\n2º piso") == "Av. España 100 2º piso"
    assert variable_text("") == EMPTY_VARIABLE
    assert len(variable_text("x" * 5000)) == 1600
    assert content_variables({"1": "a", "2": "b"}, {"a": " uno ", "b": "dos"}) == {
        "1": "uno",
        "2": "dos",
    }
    with pytest.raises(KeyError):
        content_variables({"1": "missing"}, {})


# -- a reminder through the notifications pass, the dispatcher and the fake Twilio -----------


@pytest.fixture
def clock() -> Clock:
    return Clock(BOOKED_AT)


@pytest.fixture
def clinic(db: Engine) -> support.TestClinic:
    clinic = make_clinic(db)
    set_reminders(db, clinic.id, 24, None)
    return clinic


@pytest.fixture
def server(db: Engine, clock: Clock) -> Iterator[Live]:
    with live(db, clock) as running:
        yield running


def reminder_due(db: Engine, clinic: support.TestClinic, clock: Clock, **patient: object) -> None:
    """Book from the chat (no booking confirmation), then queue the 24-hour reminder."""
    book_at(db, clinic, STARTS, BOOKED_AT, actor=CHAT, **patient)
    clock.now = DUE
    assert run_pass(db, clock()).queued == 1


def test_the_reminder_keeps_its_language_and_tags_for_a_template(
    db: Engine, clinic: support.TestClinic, clock: Clock
) -> None:
    reminder_due(db, clinic, clock)
    [queued] = outbox(db)
    assert queued.language == "es"
    tags = json.loads(queued.variables or "")
    assert tags["patient_name"] == "Rosa Giménez"
    assert tags["date"] == "viernes 27 de noviembre"
    assert tags["time"] == "10:30"
    assert tags["professional"] == "Dra. Ana Benítez"
    assert tags["link"].startswith("https://")


def test_a_reminder_inside_the_window_goes_as_text(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(db, clinic.id)
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=3))

    assert dispatch_due(db, server.channel, clock()).sent == 1

    [sent] = server.fake.messages
    assert "Te recordamos tu turno" in sent["body"]
    assert sent["content_sid"] is None
    assert outbox(db)[0].content_sid is None


def test_a_reminder_outside_the_window_goes_as_the_approved_template(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(db, clinic.id)
    approve(db, clinic.id, language="gn", sid=REMINDER_SID_GN)
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=30))  # wrote a day and more ago

    assert dispatch_due(db, server.channel, clock()).sent == 1

    [sent] = server.fake.messages
    assert sent["content_sid"] == REMINDER_SID
    assert sent["body"] == ""  # no free-form text outside the window
    assert variables_sent(sent) == {
        "1": "Rosa Giménez",
        "2": "viernes 27 de noviembre",
        "3": "10:30",
        "4": "Dra. Ana Benítez",
    }
    [reminder] = outbox(db)
    assert (reminder.status, reminder.content_sid) == ("queued", REMINDER_SID)
    assert reminder.twilio_sid == sent["sid"]


def test_the_template_is_the_one_of_the_patients_language(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(db, clinic.id)
    approve(db, clinic.id, language="gn", sid=REMINDER_SID_GN)
    reminder_due(db, clinic, clock, language="gn")  # never wrote: the window is closed

    dispatch_due(db, server.channel, clock())

    [sent] = server.fake.messages
    assert sent["content_sid"] == REMINDER_SID_GN
    assert variables_sent(sent)["2"] != "viernes 27 de noviembre"  # written in Guarani


def test_outside_the_window_without_a_template_the_reminder_is_recorded_not_sendable(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(db, clinic.id, language="en", sid=REMINDER_SID_GN)  # not the patient's language
    reminder_due(db, clinic, clock)

    report = dispatch_due(db, server.channel, clock())

    assert (report.sent, report.not_sendable) == (0, 1)
    assert server.fake.messages == []
    [reminder] = outbox(db)
    assert reminder.status == "not_sendable"
    assert reminder.error_message == NO_TEMPLATE.format(kind="reminder", language="es")
    assert reminder.attempts == 0  # nothing was tried
    assert dispatch_due(db, server.channel, clock() + timedelta(hours=1)).total == 0


@pytest.mark.parametrize("status", ["received", "pending", "rejected", "paused", "disabled"])
def test_a_template_whatsapp_has_not_approved_is_never_sent(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live, status: str
) -> None:
    approve(db, clinic.id)
    with transaction(db) as session:
        template = find_template(session, clinic.id, "reminder", "es")
        assert template is not None
        set_status(session, template, status, "INVALID_FORMAT", clock())
    reminder_due(db, clinic, clock)  # the patient never wrote: the window is closed

    report = dispatch_due(db, server.channel, clock())

    assert (report.sent, report.not_sendable) == (0, 1)
    assert server.fake.messages == []
    [reminder] = outbox(db)
    assert reminder.error_message == NO_TEMPLATE.format(kind="reminder", language="es")


def test_the_sandbox_has_no_window_so_its_reminders_go_out(
    db: Engine, clinic: support.TestClinic, clock: Clock
) -> None:
    """The demo, without Twilio: nothing reaches WhatsApp, so there is no window to keep
    and no template to need; an automation is shown sent, not "not sendable"."""
    reminder_due(db, clinic, clock)
    report = dispatch_due(db, SandboxChannel(), clock())
    assert (report.sent, report.not_sendable) == (1, 0)
    [reminder] = outbox(db)
    assert reminder.status == "delivered"


def test_twilio_refusing_a_text_outside_the_window_sends_the_template_instead_once(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    """Our record says the window is open, Twilio says it is not (63016, reported as a
    failed status callback): the template goes in its place, under its own key."""
    approve(db, clinic.id)
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=2))
    server.fake.close_window(PHONE)

    assert dispatch_due(db, server.channel, clock()).sent == 1
    server.fake.wait_for_callbacks()

    [original, resend] = rows(db)
    assert (original.status, original.error_code) == ("failed", "63016")
    assert original.content_sid is None
    assert resend.idempotency_key == original.idempotency_key + ":template"
    assert (resend.status, resend.content_sid) == ("pending", REMINDER_SID)
    assert (resend.kind, resend.appointment_id, resend.not_after) == (
        original.kind,
        original.appointment_id,
        original.not_after,
    )

    assert dispatch_due(db, server.channel, clock()).sent == 1
    server.fake.wait_for_callbacks()
    text, template = server.fake.messages
    assert (text["content_sid"], template["content_sid"]) == (None, REMINDER_SID)
    assert variables_sent(template)["1"] == "Rosa Giménez"
    assert row(db, resend.idempotency_key).status == "queued"  # templates pass the window
    assert dispatch_due(db, server.channel, clock() + timedelta(hours=1)).total == 0


def test_a_template_refused_with_63016_is_not_sent_again(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(db, clinic.id)
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=2))
    server.fake.fail_delivery(PHONE, 63016, "failed")  # text and template alike

    dispatch_due(db, server.channel, clock())
    server.fake.wait_for_callbacks()
    dispatch_due(db, server.channel, clock())
    server.fake.wait_for_callbacks()

    assert [(r.status, r.error_code) for r in rows(db)] == [("failed", "63016")] * 2
    assert len(server.fake.messages) == 2
    assert dispatch_due(db, server.channel, clock() + timedelta(hours=1)).total == 0
    assert len(rows(db)) == 2


def test_63016_without_a_template_records_the_message_not_sendable(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=2))
    server.fake.close_window(PHONE)

    dispatch_due(db, server.channel, clock())
    server.fake.wait_for_callbacks()

    [reminder] = rows(db)
    assert (reminder.status, reminder.error_code) == ("not_sendable", "63016")
    assert reminder.error_message == NO_TEMPLATE.format(kind="reminder", language="es")
    assert dispatch_due(db, server.channel, clock() + timedelta(hours=1)).total == 0


def test_a_desk_booking_confirmation_to_a_patient_who_never_wrote_uses_its_template(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    approve(
        db,
        clinic.id,
        kind="confirmation",
        sid="HX" + "c" * 32,
        variables={"1": "patient_name", "2": "code"},
    )
    book_at(db, clinic, STARTS, BOOKED_AT)  # by staff: a booking confirmation is due now
    run_pass(db, clock())

    assert dispatch_due(db, server.channel, clock()).sent == 1

    [sent] = server.fake.messages
    assert sent["content_sid"] == "HX" + "c" * 32
    assert variables_sent(sent)["1"] == "Rosa Giménez"
    assert len(variables_sent(sent)["2"]) >= 4  # the confirmation code


def test_a_63016_that_beats_the_mark_of_its_send_still_sends_the_template(
    db: Engine, clinic: support.TestClinic, clock: Clock, server: Live
) -> None:
    """Twilio may call back before the dispatcher has stored the SID: the mark applies the
    waiting failure and does what its code asks."""

    class CallbackFirst:
        def send(self, **kw: object) -> SendResult:
            result = server.channel.send(**kw)  # type: ignore[arg-type]
            server.fake.post_status(result.sid, "failed", 63016)
            return result

    approve(db, clinic.id)
    reminder_due(db, clinic, clock)
    writes(db, clinic.id, PHONE, DUE - timedelta(hours=2))

    assert dispatch_due(db, CallbackFirst(), clock()).sent == 1  # type: ignore[arg-type]

    original, resend = rows(db)
    assert (original.status, original.error_code) == ("failed", "63016")
    assert (resend.status, resend.content_sid) == ("pending", REMINDER_SID)
