"""`/metrics`: the figures counted from the database, in Prometheus's text format, only
for the admin API's bearer token."""

from datetime import datetime, timedelta

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from store.db import transaction
from store.heartbeat import beat
from store.models import InboundMessage, OutboxMessage
from tests.console_support import NOW, book_at
from tests.support import Clock, add_patient
from tests.support import TestClinic as ClinicIds

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


def _outbox(clinic_id: int, key: str, created_at: datetime, **fields: str) -> OutboxMessage:
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
