"""The demo clinic: three services, four professionals with different hours and breaks, a
holiday, and today's and a week's appointments, so that the agenda, "first available"
and full days show."""

import random
import secrets
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import select

from bot.availability import ProfessionalSchedule, free_slots
from store.booking import new_code
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentStatus,
    BlockOff,
    Branch,
    Clinic,
    Patient,
    Professional,
    ProfessionalService,
    Service,
    WorkingHours,
)
from store.rules import add_default_rule
from store.staff import create_staff, find_by_login
from usecases.stored_availability import booking_rules

DEMO_NUMBER = "+595981100100"  # a Paraguayan mobile, as a clinic's WhatsApp would be
DEMO_ZONE = "America/Asuncion"
MORNING, AFTERNOON = (time(8), time(12)), (time(14), time(18))

SERVICES = [  # name, minutes, price as patients are told it
    ("Consulta clínica", 30, "150.000 Gs"),
    ("Odontología", 45, "200.000 Gs"),
    ("Pediatría", 30, "150.000 Gs"),
]
PROFESSIONALS = [
    # name, services (indexes above), weekly hours {weekday: intervals}
    ("Dra. Ana Benítez", [0, 2], {d: [MORNING, AFTERNOON] for d in range(5)}),
    ("Dr. Luis Ortiz", [0], {d: [(time(9), time(13))] for d in range(6)}),
    ("Dra. Carmen Duarte", [1], {d: [(time(8), time(11)), (time(15), time(19))] for d in (0, 2)}),
    ("Dr. Diego Villalba", [1, 0], {d: [AFTERNOON] for d in (1, 3)}),
]
DEMO_ADMIN = "admin@sanroque.example"
PATIENTS = ["María González", "José Martínez", "Rosa Giménez", "Carlos Ramírez", "Lucía Acosta"]


DEMO_SLUG = "san-roque"  # the booking page: /r/san-roque


def seed_demo(engine: Engine, now: datetime | None = None) -> Clinic:
    """Create the demo clinic unless it exists; returns it."""
    now = now or datetime.now(UTC)
    with transaction(engine) as session:
        found = session.exec(select(Clinic).where(Clinic.whatsapp_number == DEMO_NUMBER)).first()
        if found:
            return found
        clinic = Clinic(
            name="Clínica San Roque",
            timezone=DEMO_ZONE,
            whatsapp_number=DEMO_NUMBER,
            phone="+595 21 555 0100",
            address="Av. Mariscal López 1234, Asunción",
            email="turnos@sanroque.example",
            insurances="IPS, Asismed, Santa Clara, Mapfre",
            min_notice_minutes=60,
            horizon_days=60,
            slot_step_minutes=15,
            booking_slug=DEMO_SLUG,
            web_booking=True,
        )
        session.add(clinic)
        session.flush()
        cid = clinic.id or 0
        add_default_rule(session, cid, now)
        session.add(Branch(clinic_id=cid, name="Sede Centro", address=clinic.address))
        services = [
            Service(clinic_id=cid, name=n, duration_minutes=d, price=p) for n, d, p in SERVICES
        ]
        session.add_all(services)
        session.flush()
        tz = ZoneInfo(DEMO_ZONE)
        today = now.astimezone(tz).date()
        holiday = today + timedelta(days=3)
        session.add(
            BlockOff(
                clinic_id=cid,
                starts_at=datetime.combine(holiday, time.min, tzinfo=tz),
                ends_at=datetime.combine(holiday + timedelta(days=1), time.min, tzinfo=tz),
                reason="Feriado",
            )
        )
        patients = [
            Patient(clinic_id=cid, phone=f"+5959810000{n:02d}", name=name, language="es")
            for n, name in enumerate(PATIENTS, start=10)
        ]
        session.add_all(patients)
        professionals = []
        for name, offered, weekly in PROFESSIONALS:
            professional = Professional(clinic_id=cid, name=name)
            session.add(professional)
            session.flush()
            professionals.append((professional, offered, weekly))
            for index in offered:
                session.add(
                    ProfessionalService(
                        clinic_id=cid,
                        professional_id=professional.id or 0,
                        service_id=services[index].id or 0,
                    )
                )
            for weekday, intervals in weekly.items():
                for start, end in intervals:
                    session.add(
                        WorkingHours(
                            clinic_id=cid,
                            professional_id=professional.id or 0,
                            weekday=weekday,
                            start=start,
                            end=end,
                        )
                    )
        session.flush()
        _book_a_week(session, clinic, services, professionals, patients, holiday, today, now)
        return clinic


def seed_demo_admin(engine: Engine, clinic_id: int) -> tuple[str, str | None]:
    """The demo clinic's admin account unless it exists: its login, and the generated
    password when it was just made (None when it existed already)."""
    with transaction(engine) as session:
        if find_by_login(session, DEMO_ADMIN) is not None:
            return DEMO_ADMIN, None
        password = secrets.token_urlsafe(12)
        create_staff(
            session,
            clinic_id=clinic_id,
            login=DEMO_ADMIN,
            display_name="Admin San Roque",
            password=password,
            role="admin",
            now=datetime.now(UTC),
        )
        return DEMO_ADMIN, password


def _book_a_week(session, clinic, services, professionals, patients, holiday, today, now) -> None:
    """About half of today's and the next week's slots taken (today's past ones already
    seen), Dr. Ortiz's next working day full, and no patient in two places at once."""
    rules = booking_rules(clinic)
    tz = ZoneInfo(clinic.timezone)
    chance = random.Random(7)
    full_day_done = False
    busy_patients: dict[int, list[tuple[datetime, datetime]]] = {}
    for offset in range(0, 8):
        day = today + timedelta(days=offset)
        if day == holiday:
            continue
        # today: every slot of the day, the past ones too (seen, or not come)
        seen_from = datetime.combine(day, time.min, tzinfo=tz) if offset == 0 else now
        for professional, offered, weekly in professionals:
            service = services[offered[0]]
            duration = timedelta(minutes=service.duration_minutes)
            fill_all = offset > 0 and professional.name == "Dr. Luis Ortiz" and not full_day_done
            busy: list[tuple[datetime, datetime]] = []
            schedule = ProfessionalSchedule(professional.id or 0, weekly)
            slots = free_slots(schedule, duration, day, rules, seen_from)
            if fill_all and slots:
                full_day_done = True
            for slot in slots:
                start, end = slot.starts_at, slot.starts_at + duration
                if _overlaps(busy, start, end) or (not fill_all and chance.random() > 0.5):
                    continue
                free = [
                    p for p in patients if not _overlaps(busy_patients.get(p.id, []), start, end)
                ]
                if not free:
                    continue
                patient = chance.choice(free)
                busy.append((start, end))
                busy_patients.setdefault(patient.id, []).append((start, end))
                session.add(
                    Appointment(
                        clinic_id=clinic.id,
                        professional_id=professional.id,
                        service_id=service.id,
                        patient_id=patient.id,
                        starts_at=start,
                        ends_at=end,
                        status=_status_at(start, end, now, chance),
                        source_channel=chance.choice(["whatsapp", "phone", "desk"]),
                        code=new_code(),
                        created_at=now,
                    )
                )
    session.flush()


def _overlaps(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(s < end and e > start for s, e in intervals)


def _status_at(start: datetime, end: datetime, now: datetime, chance: random.Random) -> str:
    """An appointment's state as the desk would have left it by `now`."""
    if end <= now:
        return AppointmentStatus.completed if chance.random() < 0.85 else AppointmentStatus.no_show
    if start <= now:
        return AppointmentStatus.arrived
    return AppointmentStatus.booked
