"""`/metrics`: the figures counted from the database, in Prometheus's text format, only
for the admin API's bearer token."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from channel.twilio import TwilioChannel
from scheduler.dispatcher import dispatch_due
from store.db import transaction
from store.heartbeat import beat
from store.message_kinds import MessageKind
from store.models import InboundMessage, Notification, NotificationStatus, OutboxMessage
from store.outbox import reply_key
from tests.console_support import NOW, book_at
from tests.support import Chat, Clock, add_patient, make_app
from tests.support import TestClinic as ClinicIds
from turnero.fake_twilio import FakeTwilio

CLINIC_PHONE = "+59521000000"
PATIENT_PHONE = "+595981000001"


def _scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    token = app.extensions["turnero"]["settings"].admin_token
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def _outbox(clinic_id: int, key: str, created_at: datetime, **fields: Any) -> OutboxMessage:
    return OutboxMessage(
        clinic_id=clinic_id,
        idempotency_key=key,
        from_phone=CLINIC_PHONE,
        to_phone=PATIENT_PHONE,
        body="hola",
        created_at=created_at,
        **fields,
    )


def test_the_figures_are_the_rows_in_the_database(
    db: Engine, app: Flask, clock: Clock, clinic: ClinicIds
):
    patient = add_patient(db, clinic.id, PATIENT_PHONE, "Rosa Gómez")
    book_at(db, clinic, patient, NOW + timedelta(days=1), channel="self_service")
    with transaction(db) as session:
        session.add_all(
            [
                _outbox(clinic.id, "a", clock() - timedelta(seconds=90)),
                _outbox(clinic.id, "b", clock() - timedelta(seconds=10)),
                _outbox(clinic.id, "c", clock(), status="failed", error_code="63016"),
                _outbox(clinic.id, "d", clock() - timedelta(hours=5), status="delivered"),
                InboundMessage(
                    clinic_id=clinic.id,
                    message_sid="SM1",
                    from_phone=PATIENT_PHONE,
                    to_phone=CLINIC_PHONE,
                ),
            ]
        )
    beat(db, clock() - timedelta(seconds=30))

    figures = _scrape(app)

    assert figures[("turnero_inbound_messages_total", ())] == 1
    assert figures[("turnero_bookings_total", (("channel", "self_service"),))] == 1
    assert figures[("turnero_outbox_messages", (("status", "pending"),))] == 2
    assert figures[("turnero_outbox_messages", (("status", "failed"),))] == 1
    assert figures[("turnero_outbox_messages", (("status", "delivered"),))] == 1
    failed_63016 = (("error_code", "63016"), ("status", "failed"))
    assert figures[("turnero_outbox_errors", failed_63016)] == 1
    assert [key for key in figures if key[0] == "turnero_outbox_errors"] == [
        ("turnero_outbox_errors", failed_63016)
    ]
    assert figures[("turnero_outbox_oldest_pending_age_seconds", ())] == 90
    assert figures[("turnero_worker_heartbeat_age_seconds", ())] == 30


def test_an_empty_database_has_no_ages_to_report(db: Engine, app: Flask):
    figures = _scrape(app)
    assert figures[("turnero_inbound_messages_total", ())] == 0
    assert not any(name.endswith("_age_seconds") for name, _ in figures)


def test_refused_without_the_admin_token(db: Engine, app: Flask):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "turnero_" not in response.get_data(as_text=True)


def _inbound(clinic_id: int, sid: str, received_at: datetime) -> InboundMessage:
    return InboundMessage(
        clinic_id=clinic_id,
        message_sid=sid,
        from_phone=PATIENT_PHONE,
        to_phone=CLINIC_PHONE,
        received_at=received_at,
    )


def _due(clinic_id: int, appointment_id: int, step: str, due_at: datetime, **fields: Any):
    return Notification(
        clinic_id=clinic_id,
        appointment_id=appointment_id,
        kind=MessageKind.reminder,
        step=step,
        starts_at=NOW + timedelta(days=1),
        due_at=due_at,
        **fields,
    )


def test_the_last_five_minutes_of_sends_replies_and_late_notifications(
    db: Engine, app: Flask, clock: Clock, clinic: ClinicIds
):
    now = clock()
    minutes, seconds = (
        (lambda n: now - timedelta(minutes=n)),
        (lambda n: now - timedelta(seconds=n)),
    )
    patient = add_patient(db, clinic.id, PATIENT_PHONE, "Rosa Gómez")
    appointment = book_at(db, clinic, patient, NOW + timedelta(days=1))
    sent = {"status": "delivered"}
    with transaction(db) as session:
        session.add_all(
            [
                # answered in 2 s
                _inbound(clinic.id, "SM100", seconds(60)),
                _outbox(
                    clinic.id,
                    reply_key("SM100"),
                    seconds(60),
                    attempted_at=seconds(59),
                    sent_at=seconds(58),
                    **sent,
                ),
                # answered in two pieces; the first, 10 s after, is the one that counts
                _inbound(clinic.id, "SM101", seconds(120)),
                _outbox(
                    clinic.id,
                    reply_key("SM101") + "#1",
                    seconds(120),
                    attempted_at=seconds(111),
                    sent_at=seconds(110),
                    **sent,
                ),
                _outbox(
                    clinic.id,
                    reply_key("SM101") + "#2",
                    seconds(120),
                    attempted_at=seconds(101),
                    sent_at=seconds(100),
                    **sent,
                ),
                # answered too long ago to count
                _inbound(clinic.id, "SM102", minutes(20)),
                _outbox(
                    clinic.id,
                    reply_key("SM102"),
                    minutes(20),
                    attempted_at=minutes(19),
                    sent_at=minutes(19),
                    **sent,
                ),
                # not a reply: a send, but no latency
                _outbox(
                    clinic.id,
                    "reminder-1",
                    minutes(30),
                    attempted_at=seconds(30),
                    sent_at=seconds(29),
                    **sent,
                ),
                # refused just now, and a retry whose attempt is older than five minutes
                _outbox(
                    clinic.id,
                    "refused",
                    minutes(1),
                    attempted_at=seconds(20),
                    status="failed",
                    error_code="63016",
                ),
                _outbox(clinic.id, "retry", minutes(30), attempted_at=minutes(6), error_code="429"),
                _due(clinic.id, appointment, "a", seconds(90)),
                _due(clinic.id, appointment, "b", seconds(30)),
                _due(clinic.id, appointment, "c", now + timedelta(hours=1)),
                _due(clinic.id, appointment, "d", minutes(120), status=NotificationStatus.queued),
            ]
        )

    figures = _scrape(app)

    assert figures[("turnero_reply_latency_seconds_count", ())] == 2
    assert figures[("turnero_reply_latency_seconds_sum", ())] == 12
    assert figures[("turnero_reply_latency_seconds", (("quantile", "0.5"),))] == 2
    assert figures[("turnero_reply_latency_seconds", (("quantile", "0.99"),))] == 10
    sends = {
        labels: value
        for (name, labels), value in figures.items()
        if name == "turnero_outbox_sends_last_5m"
    }
    assert sends == {
        (("error_code", ""), ("status", "delivered")): 4,
        (("error_code", "63016"), ("status", "failed")): 1,
    }
    assert figures[("turnero_notifications_oldest_due_age_seconds", ())] == 90


def test_nothing_recent_reports_no_latency_no_sends_and_no_late_notification(
    db: Engine, app: Flask
):
    figures = _scrape(app)
    assert figures[("turnero_reply_latency_seconds_count", ())] == 0
    assert not any(labels for name, labels in figures if name == "turnero_reply_latency_seconds")
    assert not any(name == "turnero_outbox_sends_last_5m" for name, _ in figures)
    assert ("turnero_notifications_oldest_due_age_seconds", ()) not in figures


@pytest.fixture
def twilio() -> Iterator[TwilioChannel]:
    with FakeTwilio() as fake:
        yield TwilioChannel(fake.account_sid, fake.auth_token, api_url=fake.url, timeout=5)


def test_a_patients_message_answered_through_twilio_shows_its_latency(
    db: Engine, clock: Clock, clinic: ClinicIds, twilio: TwilioChannel
):
    """The webhook keeps the message and queues the reply; the dispatcher sends it through
    the real twilio client three seconds later; `/metrics` finds the three seconds."""
    app = make_app(db, clock)  # with Twilio's credentials: the webhook checks its signature
    Chat(app.test_client(), db).says("hola")
    clock.advance(seconds=3)
    assert dispatch_due(db, twilio, clock(), clock=clock).sent == 1
    clock.advance(seconds=60)

    figures = _scrape(app)

    assert figures[("turnero_reply_latency_seconds_count", ())] == 1
    assert figures[("turnero_reply_latency_seconds", (("quantile", "0.5"),))] == 3
    assert (
        figures[("turnero_outbox_sends_last_5m", (("error_code", ""), ("status", "queued")))] == 1
    )
