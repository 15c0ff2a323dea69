"""A known month for the reports' tests: November 2026 at the small clinic, every row
written as the running code writes it (appointments and their history, reminders and
their messages, confirmations, surveys, waiting-room tickets, waitlist offers, missed
visits that came back). The expected figures are counted by hand in each test."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from store.db import transaction
from store.models import (
    Appointment,
    AppointmentEvent,
    NoShowRecovery,
    Notification,
    OutboxMessage,
    QueueTicket,
    SurveyResponse,
    WaitlistEntry,
    WaitlistOffer,
)
from tests.support import TestClinic, add_patient

ZONE = ZoneInfo("America/Asuncion")
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@dataclass
class History:
    """Writes rows through one session; `ids` names the appointments for the tests."""

    session: Session
    clinic: TestClinic
    patient_id: int
    ids: dict[str, int] = field(default_factory=dict)
    _serial: int = 0

    @property
    def serial(self) -> int:
        return self._serial

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def visit(
        self,
        name: str,
        professional: str,
        starts_at: datetime,
        status: str,
        channel: str = "whatsapp",
        *,
        confirmed: bool = False,
        booked: bool = True,
    ) -> Appointment:
        appointment = Appointment(
            clinic_id=self.clinic.id,
            professional_id=self.clinic.professionals[professional],
            service_id=self.clinic.services["general"],
            patient_id=self.patient_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            status=status,
            source_channel=channel,
            code=f"R{self._next():04d}",
            confirmed_at=starts_at - timedelta(hours=5) if confirmed else None,
            created_at=starts_at - timedelta(days=3),
        )
        self.session.add(appointment)
        self.session.flush()
        self.ids[name] = appointment.id or 0
        if booked:
            self.event(appointment, "booked", starts_at - timedelta(days=3), channel=channel)
        return appointment

    def event(
        self,
        appointment: Appointment,
        kind: str,
        at: datetime,
        *,
        actor: str = "patient",
        channel: str = "whatsapp",
    ) -> None:
        self.session.add(
            AppointmentEvent(
                clinic_id=self.clinic.id,
                appointment_id=appointment.id or 0,
                kind=kind,
                actor=actor,
                channel=channel,
                at=at,
            )
        )

    def message(
        self,
        kind: str,
        status: str,
        created_at: datetime,
        appointment: Appointment | None = None,
        *,
        billed: bool = True,
    ) -> OutboxMessage:
        message = OutboxMessage(
            clinic_id=self.clinic.id,
            idempotency_key=f"report-test:{self._next()}",
            kind=kind,
            from_phone="+595210000000",
            to_phone="+595981000001",
            body="…",
            appointment_id=appointment.id if appointment else None,
            status=status,
            twilio_sid=f"SM{self._next():032d}" if billed else None,
            sent_at=created_at if billed else None,
            created_at=created_at,
        )
        self.session.add(message)
        self.session.flush()
        return message

    def reminder(
        self,
        appointment: Appointment,
        status: str = "delivered",
        kind: str = "reminder",
        *,
        about: datetime | None = None,
    ) -> datetime:
        """A day-before reminder, as the notification pass writes it; returns its time."""
        about = about or appointment.starts_at
        sent_at = about - timedelta(days=1)
        message = self.message(kind, status, sent_at, appointment)
        self.session.add(
            Notification(
                clinic_id=self.clinic.id,
                appointment_id=appointment.id or 0,
                kind="reminder",
                step="day_before",
                starts_at=about,
                due_at=sent_at,
                status="queued",
                outbox_message_id=message.id,
            )
        )
        return sent_at

    def score(self, appointment: Appointment, score: int) -> None:
        self.session.add(
            SurveyResponse(
                clinic_id=self.clinic.id,
                appointment_id=appointment.id or 0,
                phone="+595981000001",
                score=score,
                asked_at=appointment.ends_at + timedelta(hours=1),
                scored_at=appointment.ends_at + timedelta(hours=2),
            )
        )

    def waited(self, appointment: Appointment, minutes: int, serving: int = 20) -> None:
        """Checked in at the kiosk five minutes early, called `minutes` later, served for
        `serving` minutes."""
        arrived = appointment.starts_at - timedelta(minutes=5)
        self._ticket(
            f"service:{appointment.service_id}",
            arrived,
            minutes,
            serving,
            appointment_id=appointment.id,
            source_channel=appointment.source_channel,
        )

    def walked_in(
        self, queue: str, arrived: datetime, minutes: int | None, serving: int | None
    ) -> None:
        """A visit without an appointment, called after `minutes` (None: still waiting at
        the day's end), then served for `serving` minutes (None: no answer, absent)."""
        self._ticket(queue, arrived, minutes, serving)

    def _ticket(
        self,
        queue: str,
        arrived: datetime,
        minutes: int | None,
        serving: int | None,
        **about: object,
    ) -> None:
        called = arrived + timedelta(minutes=minutes) if minutes is not None else None
        if called is None:
            status, ended = "waiting", None
        elif serving is None:
            status, ended = "absent", called + timedelta(minutes=3)
        else:
            status, ended = "served", called + timedelta(minutes=serving)
        self.session.add(
            QueueTicket(
                clinic_id=self.clinic.id,
                queue=queue,
                day=arrived.astimezone(ZONE).date(),
                letter="A",
                number=self._next(),
                channel="kiosk",
                tier=1,
                sort_at=arrived,
                status=status,
                arrived_at=arrived,
                called_at=called,
                ended_at=ended,
                **about,
            )
        )


def write_history(engine: Engine, clinic: TestClinic) -> dict[str, int]:
    """November's visits (names: A… Dra. Benítez's, L… Dr. Ortiz's, W1 from the
    waitlist) and walk-ins to the waiting room, one visit in October and one visit and
    one walk-in in December outside the period."""
    patient = add_patient(engine, clinic.id, "+595981000001", "María Pérez")
    with transaction(engine) as session:
        h = History(session, clinic, patient)
        a1 = h.visit("A1", "ana", local(2, 8), "completed", confirmed=True)
        h.event(a1, "confirmed", h.reminder(a1, "read") + timedelta(minutes=10))
        h.message("booking_confirmation", "read", a1.starts_at - timedelta(hours=30), a1)
        h.score(a1, 5)
        h.waited(a1, 10)
        a2 = h.visit("A2", "ana", local(3, 8), "no_show")
        h.reminder(a2, "delivered")
        a3 = h.visit("A3", "ana", local(4, 8), "completed", "web")
        h.reminder(a3, "delivered")
        h.score(a3, 3)
        a4 = h.visit("A4", "ana", local(5, 8), "cancelled", "desk")
        h.event(a4, "cancelled", h.reminder(a4, "sent") + timedelta(hours=1))
        a5 = h.visit("A5", "ana", local(6, 8), "completed", "web")
        h.message("confirmation", "delivered", a5.starts_at - timedelta(hours=30), a5)
        h.waited(a5, 20)
        l1 = h.visit("L1", "luis", local(9, 9), "no_show", "phone")
        h.reminder(l1, "failed")
        h.message(
            "confirmation", "not_sendable", l1.starts_at - timedelta(hours=30), l1, billed=False
        )
        old_time = local(10, 9)
        l2 = h.visit("L2", "luis", local(12, 9), "completed")
        asked = h.reminder(l2, "delivered", about=old_time)
        h.event(l2, "rescheduled", asked + timedelta(hours=2), channel="self_service")
        l3 = h.visit("L3", "luis", local(16, 9), "completed", "rasa", confirmed=True)
        h.reminder(l3, "delivered", "reminder_confirmed")
        h.waited(l3, 30, serving=10)
        l4 = h.visit("L4", "luis", local(17, 9), "no_show", confirmed=True)
        h.event(l4, "confirmed", h.reminder(l4, "read") + timedelta(hours=3))
        w1 = h.visit("W1", "ana", local(20, 8), "completed", "waitlist")
        h.message("reply", "read", local(20, 7))
        h.message("staff", "undelivered", local(21, 7))
        h.message("care", "failed", local(21, 8)).error_code = "63018"  # not billed
        h.message("campaign_closure", "delivered", local(22, 7), w1)
        lab, luis = (
            f"service:{clinic.services['lab']}",
            f"professional:{clinic.professionals['luis']}",
        )
        h.walked_in(lab, local(18, 10), 15, 12)  # served
        h.walked_in(lab, local(19, 10), 25, None)  # did not answer
        h.walked_in(lab, local(19, 10, 30), None, None)  # never called
        h.walked_in(lab, local(30, 23, 30), 10, 5)  # the last evening: December in UTC
        h.walked_in(luis, local(24, 9), 5, 15)  # a queue by professional
        h.walked_in(lab, local(1, 10, month=12), 5, 5)  # outside the period
        held = h.visit("H1", "ana", local(23, 8), "cancelled", "waitlist", booked=False)
        h.visit("OCT", "ana", local(30, 8, month=10), "no_show")
        h.visit("DEC", "ana", local(1, 8, month=12), "booked")
        entry = WaitlistEntry(
            clinic_id=clinic.id,
            patient_id=patient,
            phone="+595981000001",
            service_id=clinic.services["general"],
            day=date(2026, 11, 20),
        )
        session.add(entry)
        session.flush()
        for appointment, status in ((w1, "accepted"), (held, "expired")):
            session.add(
                WaitlistOffer(
                    clinic_id=clinic.id,
                    entry_id=entry.id or 0,
                    patient_id=patient,
                    phone="+595981000001",
                    appointment_id=appointment.id or 0,
                    professional_id=appointment.professional_id,
                    starts_at=appointment.starts_at,
                    offered_at=appointment.starts_at - timedelta(days=1),
                    expires_at=appointment.starts_at - timedelta(hours=20),
                    status=status,
                )
            )
        for missed, back in ((a2, l3), (l1, None)):
            session.add(
                NoShowRecovery(
                    clinic_id=clinic.id,
                    appointment_id=missed.id or 0,
                    patient_id=patient,
                    missed_at=missed.starts_at,
                    marked_at=missed.ends_at,
                    recovered_appointment_id=back.id if back else None,
                    recovered_at=back.created_at if back else None,
                )
            )
        return h.ids
