"""A year of one clinic's history, written fast, for the report benchmarks (`reports.py`).

One clinic (America/Asuncion), 2 branches, 30 professionals, 12 services, about 150,000
patients and `--appointments` (1,000,000) appointments over the 365 days before a fixed
"now" and three weeks after it (booked), on working days (Monday to Saturday) 08:00-18:00
local. Each professional's day is cut into slots that never overlap (the database's
exclusion constraint holds them to it); a slot cancelled early may be taken again, from
the waitlist or by another booking. Every appointment carries the rows the running code
writes for it (`store.appointments`, `store.notifications`, `scheduler.notifications`,
`store.outbox`, `store.recovery`, `store.surveys`, `store.queues`, `store.campaigns`):
its events, the booking confirmation (outside the chat) or the bot's replies (in it), the
reminder 24 hours before with its outbox row and the patient's answer, the outcome, the
care and survey messages after a visit, the survey's score, the queue ticket, the no-show
recovery sequence, waitlist entries and offers, and a few campaigns.

The patients' answers follow a model the reports should find again: after a reminder
about 55% confirm, 8% cancel and 4% move it; 3% of those who confirmed do not come, 15% of
those who did not answer, 12% of those who got no reminder.

Rows go in with PostgreSQL's `COPY` (psycopg's `cursor.copy`), or `executemany` on SQLite,
in chunks of days; ids are given here, so rows can point at each other without reading
anything back; the sequences are moved past them at the end, then `ANALYZE`.

Run: python bench/report_history.py [--database-url URL] [--appointments 1000000]
     [--seed 7] [--keep NAME] [--fresh]
Without --database-url a SQLite file in a temp folder; --keep NAME writes into the
database NAME on the URL's server (created if missing), unless it already holds a
finished history, which is then reused (--fresh writes it again).
"""

import argparse
import json
import logging
import random
import tempfile
import time as clock
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, MetaData, Table, create_engine, insert, make_url, text

from config.tzcheck import use_packaged_tzdata
from store.booking import CODE_ALPHABET, CODE_LENGTH
from store.campaigns import campaign_key
from store.db import make_engine, normalize_url
from store.message_kinds import MessageKind
from store.migrate import upgrade
from store.notification_plan import HOURS_BEFORE
from store.queue_order import ON_TIME, PRIORITY, WALK_IN, letter

K = MessageKind  # the kinds of the rows below, named short

ZONE_NAME = "America/Asuncion"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday, 12:00 in Asunción
DAYS_BEFORE = 365
DAYS_AFTER = 21  # booked ahead of "now", fewer the further away
OPEN, CLOSE = time(8), time(18)
BRANCHES = 2
PROFESSIONALS = 30
PATIENTS = 150_000  # for 1,000,000 appointments; fewer for a smaller history
MARKER_TABLE = "bench_report_history"  # a finished history, for --keep

# (name, minutes for a roomy calendar, price in guaraníes, popularity)
SERVICES = [
    ("Consulta general", 30, 150_000, 14),
    ("Control", 15, 80_000, 16),
    ("Pediatría", 30, 180_000, 10),
    ("Ginecología", 30, 200_000, 8),
    ("Cardiología", 40, 250_000, 6),
    ("Dermatología", 30, 220_000, 6),
    ("Odontología", 45, 180_000, 8),
    ("Limpieza dental", 30, 120_000, 6),
    ("Laboratorio", 10, 60_000, 12),
    ("Vacunación", 10, 50_000, 8),
    ("Ecografía", 20, 200_000, 4),
    ("Fisioterapia", 45, 130_000, 2),
]
# Where bookings come from (the primary booking of each slot; the waitlist takes freed ones)
CHANNELS = [
    ("whatsapp", 0.575),
    ("web", 0.157),
    ("desk", 0.126),
    ("phone", 0.084),
    ("rasa", 0.031),
    ("api", 0.027),
]
LANGUAGES = [("es", 0.85), ("gn", 0.08), ("en", 0.07)]
# Outbox statuses of business-initiated messages, and of answers inside the 24-hour window
BUSINESS_STATUSES = [
    ("read", 0.50),
    ("delivered", 0.29),
    ("sent", 0.06),
    ("accepted", 0.02),
    ("failed", 0.08),
    ("undelivered", 0.05),
]
ANSWER_STATUSES = [("read", 0.72), ("delivered", 0.22), ("sent", 0.04), ("failed", 0.02)]
FAILED_CODES = ["63016", "63003", "63049"]
UNDELIVERED_CODES = ["63024", "30008", "30003"]
# The patient's answer to a delivered reminder (80% are delivered or read, so overall
# about 55% confirm, 8% cancel, 4% move it)
ANSWER_CONFIRM, ANSWER_CANCEL = 0.69, 0.10
MOVED = 0.05  # of reminded appointments: moved after the reminder of their old time
NO_SHOW_CONFIRMED, NO_SHOW_UNANSWERED, NO_SHOW_UNREMINDED = 0.03, 0.15, 0.12
CONFIRM_EARLY = 0.05  # confirmed on the self-service page before any reminder
CANCEL_OTHERWISE = 0.045  # cancelled without a reminder's prompt
REBOOKED = 0.55  # of slots cancelled well ahead: taken again
FROM_WAITLIST = 0.62  # of those taken again: through a waitlist offer
EXPIRED_OFFER_FIRST = 0.25  # of waitlist offers accepted: another expired before
ARRIVED = 0.80  # of completed visits: marked arrived first
TICKETED = 0.75  # of those arrived: checked in through the waiting room (60% of completed)
WALK_INS = 0.03  # of a day's appointments: visits without one, to the waiting room
WALK_IN_ENDS = [("served", 0.85), ("absent", 0.10), ("waiting", 0.05)]  # never called
SURVEY_SCORED = 0.40  # of completed visits
RECOVERED = 0.35  # of no-shows: booked again within the clinic's 30 days
STAFF_WRITES = 0.04  # appointments whose patient staff wrote to by hand
NO_REMINDERS = {3, 11, 22}  # professionals (by position) who send no reminders
CARE_MINUTES, SURVEY_MINUTES = 120, 60
NO_SHOW_HOURS = (2, 24, 72)
RECOVERY_DAYS = 30
CAMPAIGN_KINDS = [
    K.campaign_schedule_change,
    K.campaign_reminder,
    K.campaign_text,
    K.campaign_reminder,
    K.campaign_reschedule,
    K.campaign_text,
]
CHUNK_DAYS = 7  # rows are written once a week of days is generated
EXPANSION = 1.07  # appointments per slot: a cancelled slot may be taken again

BODIES = {
    K.reply: "Elegí el día: 1) lunes 2) martes 3) miércoles",
    K.booking_confirmation: "¡Listo! Tu turno quedó agendado. Código {code}",
    K.confirmation: "Tu turno quedó agendado. Código {code}",
    K.reminder: "Te recordamos tu turno de mañana. 1 confirmar, 2 cancelar, 3 cambiar ({code})",
    K.reminder_confirmed: "Te recordamos tu turno confirmado de mañana ({code})",
    K.care: "Gracias por tu visita. Recordá las indicaciones.",
    K.survey: "¿Cómo fue tu atención? Respondé de 1 a 5",
    K.staff: "Hola, te escribimos de la clínica por tu turno.",
    K.waitlist_offer: "Se liberó un turno para vos. ¿Lo tomás? ({code})",
    K.no_show_1: "Te esperamos hoy y no pudiste venir. ¿Querés otro turno?",
    K.no_show_2: "¿Agendamos otro turno? Escribinos: https://wa.me/595210000000",
    K.no_show_3: "Seguimos a tu disposición para un nuevo turno.",
    "campaign": "Aviso de la clínica sobre tu turno ({code})",
}
COMMENTS = ["Muy buena atención", "Esperé mucho", "Excelente", "Todo bien", "Demoraron"]

# The tables written, in the order their rows may point at each other, and their columns.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patient": ("id", "clinic_id", "phone", "name", "dni", "insurance", "language",
                "bot_paused", "opted_out", "opted_out_at", "first_seen_at"),
    "appointment": ("id", "clinic_id", "professional_id", "service_id", "patient_id",
                    "starts_at", "ends_at", "status", "source_channel", "code", "new_patient",
                    "confirmed_at", "cancelled_at", "hold_expires_at", "created_at",
                    "updated_at"),
    "outbox_message": ("id", "clinic_id", "idempotency_key", "kind", "template", "from_phone",
                       "to_phone", "body", "appointment_id", "not_after", "language",
                       "status", "twilio_sid", "attempts", "next_attempt_at", "error_code",
                       "error_message", "attempted_at", "sent_at", "created_at",
                       "updated_at"),
    "notification": ("id", "clinic_id", "appointment_id", "kind", "step", "starts_at",
                     "due_at", "status", "reason", "outbox_message_id", "created_at",
                     "updated_at"),
    "appointment_event": ("id", "clinic_id", "appointment_id", "kind", "actor", "channel",
                          "detail", "at"),
    "waitlist_entry": ("id", "clinic_id", "patient_id", "phone", "service_id",
                       "professional_id", "day", "part", "status", "created_at",
                       "updated_at"),
    "waitlist_offer": ("id", "clinic_id", "entry_id", "patient_id", "phone", "appointment_id",
                       "professional_id", "starts_at", "offered_at", "expires_at", "status",
                       "answered_at"),
    "survey_response": ("id", "clinic_id", "appointment_id", "phone", "score", "comment",
                        "asked_at", "scored_at", "commented_at"),
    "queue_ticket": ("id", "clinic_id", "queue", "day", "letter", "number", "appointment_id",
                     "patient_id", "phone", "language", "initials", "channel",
                     "source_channel", "priority", "tier", "sort_at", "status", "arrived_at",
                     "called_at", "ended_at", "called_by", "called_to", "calls"),
    "campaign_recipient": ("id", "clinic_id", "campaign_id", "appointment_id", "phone",
                           "outbox_key"),
    "no_show_recovery": ("id", "clinic_id", "appointment_id", "patient_id", "missed_at",
                         "marked_at", "recovered_appointment_id", "recovered_at"),
    "queue_counter": ("clinic_id", "queue", "day", "last"),
}  # fmt: skip
TABLES = tuple(COLUMNS)
WITH_IDS = tuple(t for t in TABLES if COLUMNS[t][0] == "id")


@dataclass
class HistoryFacts:
    """What was written: the clinic, its first and last local day, "now", and rows per
    table (the benchmarks print them; the tests check them)."""

    clinic_id: int
    first_day: date
    last_day: date
    now: datetime
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def appointments(self) -> int:
        return self.rows.get("appointment", 0)

    def to_json(self) -> str:
        return json.dumps(
            {
                "clinic_id": self.clinic_id,
                "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(),
                "now": self.now.isoformat(),
                "rows": self.rows,
                "seconds": self.seconds,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> "HistoryFacts":
        data = json.loads(raw)
        return cls(
            clinic_id=data["clinic_id"],
            first_day=date.fromisoformat(data["first_day"]),
            last_day=date.fromisoformat(data["last_day"]),
            now=datetime.fromisoformat(data["now"]),
            rows=data["rows"],
            seconds=data["seconds"],
        )


class Sink:
    """Rows kept per table until written: `COPY` on PostgreSQL, `executemany` of the
    tables' own inserts (their column types convert the times) on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.written: Counter[str] = Counter()
        metadata = MetaData()
        self.tables = {t: Table(t, metadata, autoload_with=engine) for t in TABLES}

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows[table].append(row)

    def flush(self, only: Iterable[str] = TABLES) -> None:
        """Write what is kept, tables in the order their rows point at each other."""
        tables = [t for t in TABLES if t in set(only) and self.rows[t]]
        if self.postgres:
            raw = self.engine.raw_connection()
            try:
                with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                    # no summary exists yet, so the report days' triggers have nothing to
                    # mark: skip them (and the foreign keys' checks, the ids are given here)
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    for table in tables:
                        columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
                        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            for row in self.rows[table]:
                                copy.write_row(row)
                raw.commit()
            finally:
                raw.close()
        else:
            with self.engine.begin() as connection:
                for table in tables:
                    names = COLUMNS[table]
                    connection.execute(
                        insert(self.tables[table]),
                        [dict(zip(names, r, strict=True)) for r in self.rows[table]],
                    )
        for table in tables:
            self.written[table] += len(self.rows[table])
            self.rows[table].clear()


def _weights(pairs: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    names = [n for n, _ in pairs]
    total = 0.0
    cumulative = []
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return names, [c / total for c in cumulative]


def code_of(appointment_id: int) -> str:
    """A unique six-letter code per id (an odd multiplier permutes 32**6 numbers)."""
    number = (appointment_id * 0x9E3779B1) % (len(CODE_ALPHABET) ** CODE_LENGTH)
    letters = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[digit])
    return "".join(letters)


@dataclass
class Visit:
    """One appointment as it is being written: what later rows need of it."""

    id: int
    professional: int
    service: int
    patient: int
    starts_at: datetime
    ends_at: datetime
    channel: str
    created_at: datetime
    status: str = "booked"
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    hold_expires_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Missed:
    """A no-show, its recovery written once the year is: who may book again, and when."""

    visit: Visit
    marked_at: datetime
    recover: bool
    recovered_by: int | None = None
    recovered_at: datetime | None = None


class Writer:
    """Generates the history day by day and hands the rows to a `Sink`."""

    def __init__(self, engine: Engine, appointments: int, seed: int, now: datetime) -> None:
        self.engine = engine
        self.sink = Sink(engine)
        self.chance = random.Random(seed)
        self.walk_in_chance = random.Random(seed + 1)  # the appointments' draws stay as they were
        self.target = appointments
        self.now = now
        self.zone = ZoneInfo(ZONE_NAME)
        today = now.astimezone(self.zone).date()
        self.first_day = today - timedelta(days=DAYS_BEFORE)
        self.last_day = today + timedelta(days=DAYS_AFTER)
        self.patients = max(200, min(PATIENTS, appointments * 3 // 20))
        self.ids = self._next_ids()
        self.channels = _weights(CHANNELS)
        self.languages = _weights(LANGUAGES)
        self.business = _weights(BUSINESS_STATUSES)
        self.answers = _weights(ANSWER_STATUSES)
        self.walk_in_ends = _weights(WALK_IN_ENDS)
        self.seen_patients: set[int] = set()
        self.pending_recoveries: deque[Missed] = deque()
        self.missed: list[Missed] = []
        self.counters: dict[tuple[str, date], int] = {}
        self.campaigns: dict[date, tuple[int, str, datetime]] = {}
        self.campaign_recipients: Counter[int] = Counter()
        self.inbound = 0

    # ids -----------------------------------------------------------------------------

    def _next_ids(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {
                t: int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar())
                for t in (*WITH_IDS, "clinic", "branch", "service", "professional", "campaign")
            }

    def new_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # the clinic --------------------------------------------------------------------------

    def clinic(self) -> None:
        """The clinic, its branches, services, professionals and their weekly hours, its
        notification rule, waiting room, campaigns, and the patients."""
        chance = self.chance
        created = datetime.combine(self.first_day - timedelta(days=60), time(9), tzinfo=UTC)
        self.clinic_id = self.new_id("clinic")
        self.clinic_phone = f"+5952100{self.clinic_id:05d}"
        per_day = self.target / (PROFESSIONALS * self._working_days()) / EXPANSION
        popularity = sum(p for *_, p in SERVICES)
        mean_minutes = sum(m * p for _, m, _, p in SERVICES) / popularity
        # a calendar this full needs short visits: every service shrinks alike, to fit
        scale = min(1.0, 0.9 * 600 / max(per_day, 1e-9) / mean_minutes)
        self.minutes = [max(3, round(m * scale)) for _, m, _, _ in SERVICES]
        metadata = MetaData()
        table = {
            t: Table(t, metadata, autoload_with=self.engine)
            for t in (
                "clinic", "branch", "service", "professional", "professional_service",
                "working_hours", "notification_rule", "waiting_room", "campaign",
            )
        }  # fmt: skip
        with self.engine.begin() as connection:
            connection.execute(
                insert(table["clinic"]),
                {
                    "id": self.clinic_id,
                    "name": "Clínica del Año",
                    "timezone": ZONE_NAME,
                    "whatsapp_number": self.clinic_phone,
                    "default_language": "es",
                    "min_notice_minutes": 60,
                    "horizon_days": 60,
                    "slot_step_minutes": 5,
                    "idle_timeout_minutes": 60,
                    "reminder_hours_before": 24,
                    "interactive_messages": True,
                    "send_rate_per_second": 80,
                    "waitlist_hold_minutes": 15,
                    "waitlist_offers_per_day": 3,
                    "auto_no_show_at": time(21),
                    "no_show_followup_hours": ",".join(str(h) for h in NO_SHOW_HOURS),
                    "recovery_days": RECOVERY_DAYS,
                    "care_delay_minutes": CARE_MINUTES,
                    "survey_enabled": True,
                    "survey_delay_minutes": SURVEY_MINUTES,
                    "bot_resume_after_minutes": 120,
                    "only_known_patients": False,
                    "web_booking": True,
                    "web_phone_proof": True,
                    "catalog_version": 0,
                    "created_at": created,
                },
            )
            branches = [self.new_id("branch") for _ in range(BRANCHES)]
            connection.execute(
                insert(table["branch"]),
                [
                    {"id": b, "clinic_id": self.clinic_id, "name": name, "active": True}
                    for b, name in zip(branches, ("Centro", "Villa Morra"), strict=False)
                ],
            )
            self.services = [self.new_id("service") for _ in SERVICES]
            connection.execute(
                insert(table["service"]),
                [
                    {
                        "id": s,
                        "clinic_id": self.clinic_id,
                        "name": name,
                        "duration_minutes": minutes,
                        "price": f"{price:,} Gs".replace(",", "."),
                        "self_bookable": True,
                        "web_bookable": True,
                        "active": True,
                    }
                    for s, (name, _, price, _), minutes in zip(
                        self.services, SERVICES, self.minutes, strict=True
                    )
                ],
            )
            self.professionals = [self.new_id("professional") for _ in range(PROFESSIONALS)]
            self._silent = {self.professionals[i] for i in NO_REMINDERS}
            connection.execute(
                insert(table["professional"]),
                [
                    {
                        "id": p,
                        "clinic_id": self.clinic_id,
                        "branch_id": branches[n % BRANCHES],
                        "name": f"Dra. Profesional {n + 1}"
                        if n % 2
                        else f"Dr. Profesional {n + 1}",
                        "active": True,
                        "reminders_enabled": n not in NO_REMINDERS,
                    }
                    for n, p in enumerate(self.professionals)
                ],
            )
            # each professional offers three or four services, weighted by popularity
            self.offers: list[tuple[list[int], list[float]]] = []
            links = []
            for n, p in enumerate(self.professionals):
                chosen = sorted({n % len(SERVICES), *chance.sample(range(len(SERVICES)), 3)})
                weights = [SERVICES[i][3] for i in chosen]
                total = sum(weights)
                cumulative = [sum(weights[: k + 1]) / total for k in range(len(weights))]
                self.offers.append((chosen, cumulative))
                links += [
                    {
                        "clinic_id": self.clinic_id,
                        "professional_id": p,
                        "service_id": self.services[i],
                    }
                    for i in chosen
                ]
            connection.execute(insert(table["professional_service"]), links)
            connection.execute(
                insert(table["working_hours"]),
                [
                    {
                        "clinic_id": self.clinic_id,
                        "professional_id": p,
                        "weekday": weekday,
                        "start": OPEN,
                        "end": CLOSE,
                    }
                    for p in self.professionals
                    for weekday in range(6)
                ],
            )
            connection.execute(
                insert(table["notification_rule"]),
                {"clinic_id": self.clinic_id, "mode": "both", "active": True,
                 "created_at": created, "updated_at": created},
            )  # fmt: skip
            connection.execute(
                insert(table["waiting_room"]),
                {"clinic_id": self.clinic_id, "queue_by": "service", "late_grace_minutes": 10,
                 "near_ahead": 2, "show_initials": False},
            )  # fmt: skip
            connection.execute(insert(table["campaign"]), self._campaigns())
        self._patients()

    def _working_days(self) -> float:
        """Working days, the days ahead counted by how full they get."""
        total = 0.0
        day = self.first_day
        while day <= self.last_day:
            total += self._day_weight(day)
            day += timedelta(days=1)
        return total

    def _day_weight(self, day: date) -> float:
        if day.weekday() == 6:
            return 0.0
        ahead = (day - self.now.astimezone(self.zone).date()).days
        if ahead <= 0:
            return 1.0
        return max(0.05, 1.0 - ahead / (DAYS_AFTER + 3))

    def _campaigns(self) -> list[dict[str, Any]]:
        """A few campaigns over the year, each about one day's appointments, sent the day
        before at 10:00; the last one still ahead."""
        rows = []
        span = (self.last_day - self.first_day).days
        for n, kind in enumerate(CAMPAIGN_KINDS):
            day = self.first_day + timedelta(days=(n + 1) * span // (len(CAMPAIGN_KINDS) + 1))
            if day.weekday() == 6:
                day += timedelta(days=1)
            send_at = datetime.combine(day - timedelta(days=1), time(10), tzinfo=self.zone)
            send_at = send_at.astimezone(UTC)
            campaign_id = self.new_id("campaign")
            started = send_at <= self.now
            self.campaigns[day] = (campaign_id, kind.value, send_at)
            rows.append(
                {
                    "id": campaign_id,
                    "clinic_id": self.clinic_id,
                    "token": f"report-history-{self.clinic_id}-{campaign_id}",
                    "kind": kind.value,
                    "text": "Aviso de la clínica" if kind == K.campaign_text else None,
                    "filters": json.dumps({"first": day.isoformat(), "last": day.isoformat()}),
                    "include_paused": False,
                    "status": "sending" if started else "scheduled",
                    "send_at": send_at,
                    "created_by": "staff:admin",
                    "created_at": send_at - timedelta(days=2),
                    "started_at": send_at if started else None,
                    "recipients": 0,
                }
            )
        return rows

    def _patients(self) -> None:
        chance = self.chance
        names, cumulative = self.languages
        first_seen = datetime.combine(self.first_day - timedelta(days=400), time(12), tzinfo=UTC)
        self.patient_ids: list[int] = []
        self.patient_phones: dict[int, str] = {}
        self.patient_languages: dict[int, str] = {}
        self.opted_out: set[int] = set()
        phone = ""
        for n in range(self.patients):
            patient_id = self.new_id("patient")
            if n == 0 or chance.random() >= 0.05:  # 5% share a phone with family
                phone = f"+5959{81_000_000 + self.clinic_id * 1_000_000 + n:08d}"[:13]
            language = names[_pick(chance, cumulative)]
            out = chance.random() < 0.01
            seen = first_seen + timedelta(minutes=chance.randrange(0, 800 * 24 * 60))
            self.sink.add(
                "patient",
                (patient_id, self.clinic_id, phone, f"Paciente {n + 1}",
                 str(1_000_000 + n), chance.choice((None, "IPS", "Santa Clara", "Migone")),
                 language, False, out, seen + timedelta(days=30) if out else None, seen),
            )  # fmt: skip
            self.patient_ids.append(patient_id)
            self.patient_phones[patient_id] = phone
            self.patient_languages[patient_id] = language
            if out:
                self.opted_out.add(patient_id)
        self.sink.flush(("patient",))

    def pick_patient(self, created_at: datetime) -> tuple[int, Missed | None]:
        """A patient, the frequent ones more often; first a no-show's patient who is to
        come back (and that no-show, for the booking to recover)."""
        while self.pending_recoveries:
            missed = self.pending_recoveries[0]
            if created_at > missed.marked_at + timedelta(days=RECOVERY_DAYS):
                self.pending_recoveries.popleft()
                continue
            if created_at >= missed.marked_at:
                self.pending_recoveries.popleft()
                return missed.visit.patient, missed
            break
        return self.patient_ids[int(self.chance.random() ** 1.6 * len(self.patient_ids))], None

    # the days ---------------------------------------------------------------------------

    def write(self) -> HistoryFacts:
        started = clock.perf_counter()
        self.clinic()
        weights = self._working_days()
        carry = 0.0
        written = 0
        day = self.first_day
        days_in_chunk = 0
        while day <= self.last_day:
            weight = self._day_weight(day)
            if weight:
                wanted = self.target * weight / weights + carry
                made = self.day(day, wanted, self.target - written)
                written += made
                carry = wanted - made
            days_in_chunk += 1
            if days_in_chunk >= CHUNK_DAYS:
                self.sink.flush()
                days_in_chunk = 0
            day += timedelta(days=1)
        self.waitlist_leftovers()
        self.recoveries()
        self.sink.flush()
        self.finish()
        facts = HistoryFacts(
            clinic_id=self.clinic_id,
            first_day=self.first_day,
            last_day=self.last_day,
            now=self.now,
            rows=dict(self.sink.written),
        )
        facts.seconds = clock.perf_counter() - started
        return facts

    def day(self, day: date, wanted: float, left: int) -> int:
        """One local day's appointments, professional by professional, slot by slot."""
        chance = self.chance
        opens = datetime.combine(day, OPEN, tzinfo=self.zone).astimezone(UTC)
        closes = datetime.combine(day, CLOSE, tzinfo=self.zone).astimezone(UTC)
        self.today = day
        self.campaign_today = self.campaigns.get(day)
        made = 0
        for n, professional in enumerate(self.professionals):
            share = (wanted - made) / (PROFESSIONALS - n)  # what is left, over who is left
            goal = min(int(share + chance.random()), left - made)
            if goal <= 0:
                continue
            chosen, cumulative = self.offers[n]
            mean = sum(self.minutes[i] for i in chosen) / len(chosen)
            slots = goal / EXPANSION
            gap = max(0.0, (600 - slots * mean) / (slots + 1))
            cursor = opens
            produced = 0
            while produced < goal:
                service = chosen[_pick(chance, cumulative)]
                pause = int(chance.expovariate(1 / gap)) if gap >= 1 else 0
                starts = cursor + timedelta(minutes=pause)
                ends = starts + timedelta(minutes=self.minutes[service])
                if ends > closes:
                    break
                produced += self.slot(n, professional, service, starts, ends, goal - produced)
                cursor = ends
            made += produced
        self.walk_ins(opens, made)
        return made

    def slot(
        self, n: int, professional: int, service: int, starts: datetime, ends: datetime, room: int
    ) -> int:
        """A slot's appointments: the first booking, and if it was cancelled well ahead,
        the one that took it again (from the waitlist or not); returns how many."""
        chance = self.chance
        lead = timedelta(minutes=60 + chance.expovariate(1 / (6 * 24 * 60)))
        created = starts - lead
        channels, cumulative = self.channels
        channel = channels[_pick(chance, cumulative)]
        visit = self.visit(n, professional, service, starts, ends, channel, created)
        count = 1
        if (
            room > 1
            and visit.cancelled_at is not None
            and starts - visit.cancelled_at > timedelta(hours=2)
            and chance.random() < REBOOKED
        ):
            freed = visit.cancelled_at + timedelta(minutes=chance.uniform(1, 10))
            if chance.random() < FROM_WAITLIST and freed < self.now:
                count += self.from_waitlist(n, professional, service, starts, ends, freed, room)
            else:
                later = freed + (starts - freed) * chance.random() * 0.8
                channel = channels[_pick(chance, cumulative)]
                self.visit(n, professional, service, starts, ends, channel, later)
                count += 1
        return count

    # one appointment -------------------------------------------------------------------------

    def visit(
        self,
        n: int,
        professional: int,
        service: int,
        starts: datetime,
        ends: datetime,
        channel: str,
        created: datetime,
        *,
        chosen: tuple[int, Missed | None] | None = None,
        booked_at: datetime | None = None,
    ) -> Visit:
        """One appointment and everything that follows it, the way the running code
        writes them; `booked_at` is when a held slot became a booking."""
        chance = self.chance
        now = self.now
        patient, recovering = chosen or self.pick_patient(created)
        visit = Visit(
            self.new_id("appointment"), professional, service, patient, starts, ends, channel,
            created,
        )  # fmt: skip
        booked = booked_at or created
        if recovering is not None:  # `store.recovery.rebooked`
            recovering.recovered_by, recovering.recovered_at = visit.id, booked
        actor, via = _actor(channel)
        self.event(visit, "booked", actor, via, booked)
        if via == "whatsapp":
            for k in range(3):
                self.reply(visit, booked - timedelta(minutes=(3 - k) * 1.5))
            self.outbox(visit, K.booking_confirmation, booked, answer=True,
                        key=f"appointment:{visit.id}:booking_confirmation")  # fmt: skip
        elif via != "rasa" or chance.random() < 0.5:
            self.notified(visit, K.confirmation, "booked", booked, starts)
        if chance.random() < STAFF_WRITES:
            at = min(booked + timedelta(hours=chance.uniform(1, 20)), now)
            self.outbox(visit, K.staff, at, answer=True, about=False, key="staff:{id}")

        latest = min(starts - timedelta(minutes=30), now)
        early = min(starts - timedelta(hours=25), now)
        if chance.random() < CONFIRM_EARLY and booked + timedelta(hours=1) < early:
            at = booked + (early - booked) * chance.random()
            visit.status, visit.confirmed_at = "confirmed", at
            self.event(visit, "confirmed", "patient", "self_service", at)
        cancel_at: datetime | None = None
        if chance.random() < CANCEL_OTHERWISE and booked + timedelta(hours=1) < latest:
            cancel_at = booked + (latest - booked) * chance.random()

        reminded, answered_yes = self.reminder(visit, booked, cancel_at)
        if visit.cancelled_at is None and cancel_at is not None and cancel_at < now:
            who, how = chance.choice(
                (("patient", "whatsapp"), ("patient", "self_service"), ("staff:ana", "console"))
            )
            visit.status, visit.cancelled_at = "cancelled", cancel_at
            self.event(visit, "cancelled", who, how, cancel_at)
            if how == "whatsapp":
                self.reply(visit, cancel_at)

        if visit.status != "cancelled" and ends <= now:
            self.outcome(visit, reminded, answered_yes)
        self.campaign(visit)
        self.appointment_row(visit)
        return visit

    def appointment_row(self, v: Visit) -> None:
        last = v.cancelled_at or v.confirmed_at or v.created_at
        new = v.patient not in self.seen_patients
        self.seen_patients.add(v.patient)
        self.sink.add(
            "appointment",
            (v.id, self.clinic_id, v.professional, self.services[v.service], v.patient,
             v.starts_at, v.ends_at, v.status, v.channel, code_of(v.id), new, v.confirmed_at,
             v.cancelled_at, v.hold_expires_at, v.created_at, v.updated_at or last),
        )  # fmt: skip

    def reminder(
        self, visit: Visit, booked: datetime, cancel_at: datetime | None
    ) -> tuple[bool, bool]:
        """The reminder 24 hours before and the answer to it; (sent, confirmed by it).
        Some patients move the appointment after the reminder of its old time: the row
        holds the new time, the first reminder and the event the old one."""
        chance = self.chance
        starts = visit.starts_at
        if visit.professional in self._silent or starts - timedelta(hours=24) <= booked:
            return False, False
        old = starts - timedelta(days=chance.randint(2, 6))
        if (
            chance.random() < MOVED
            and cancel_at is None
            and old - timedelta(hours=24) > booked + timedelta(hours=1)
            and old - timedelta(hours=21) < self.now
            and visit.patient not in self.opted_out
        ):
            status = self._notice(
                visit, K.reminder, HOURS_BEFORE, old - timedelta(hours=24), old, None
            )
            wait = timedelta(minutes=chance.expovariate(1 / 120))
            at = min(old - timedelta(hours=24) + wait, old - timedelta(hours=1), self.now)
            answered = status in ("read", "delivered") and chance.random() < 0.75
            how = "whatsapp" if answered else "self_service"
            self.event(
                visit, "rescheduled", "patient", how, at,
                old_starts_at=old.isoformat(), old_professional_id=visit.professional,
                starts_at=starts.isoformat(), professional_id=visit.professional,
            )  # fmt: skip
            if answered:
                self.reply(visit, at)
            visit.status, visit.confirmed_at, visit.updated_at = "booked", None, at
        status = self._notice(
            visit,
            K.reminder,
            HOURS_BEFORE,
            starts - timedelta(hours=24),
            starts,
            cancel_at,
        )
        if status is None:
            return False, visit.status == "confirmed"
        return True, self._answer(visit, status, starts)

    def _answer(self, visit: Visit, status: str, starts: datetime) -> bool:
        """The patient's answer to a delivered reminder, if any: confirmed, cancelled or
        none; True when it confirmed (or the appointment stood confirmed already)."""
        chance = self.chance
        if status not in ("read", "delivered") or visit.status == "confirmed":
            return visit.status == "confirmed"
        due = starts - timedelta(hours=24)
        at = min(
            due + timedelta(minutes=chance.expovariate(1 / 120)), starts - timedelta(minutes=30)
        )
        if at >= self.now:
            return False
        draw = chance.random()
        how = "self_service" if chance.random() < 0.15 else "whatsapp"
        if draw < ANSWER_CONFIRM:
            visit.status, visit.confirmed_at, visit.updated_at = "confirmed", at, at
            self.event(visit, "confirmed", "patient", how, at)
            if how == "whatsapp":
                self.reply(visit, at)
            return True
        if draw < ANSWER_CONFIRM + ANSWER_CANCEL:
            visit.status, visit.cancelled_at, visit.updated_at = "cancelled", at, at
            self.event(visit, "cancelled", "patient", how, at)
            if how == "whatsapp":
                self.reply(visit, at)
        return False

    def _notice(
        self,
        visit: Visit,
        kind: str,
        step: str,
        due: datetime,
        about: datetime,
        cancel_at: datetime | None,
    ) -> str | None:
        """A planned notification about `about` due at `due`: pending ahead of now,
        withdrawn if cancelled first, skipped for an opted-out patient, else queued with
        its outbox row; returns the outbox row's status, None if nothing was sent."""
        created = visit.created_at
        gone = visit.cancelled_at or cancel_at
        if due > self.now:
            state = "withdrawn" if gone is not None and gone < self.now else "pending"
            self._notification(visit, kind, step, about, due, state, None, None, created)
            return None
        if gone is not None and gone < due:
            self._notification(visit, kind, step, about, due, "withdrawn", None, None, gone)
            return None
        if visit.patient in self.opted_out:
            self._notification(
                visit, kind, step, about, due, "skipped", "patient opted out", None, due
            )
            return None
        sent_as = kind
        if kind == K.reminder and visit.status == "confirmed":
            sent_as = K.reminder_confirmed
        key = f"appointment:{visit.id}:{kind}:{step}:{int(about.timestamp())}"
        message, status = self.outbox(visit, sent_as, due, key=key, not_after=about)
        self._notification(visit, kind, step, about, due, "queued", None, message, due)
        return status

    def notified(
        self, visit: Visit, kind: str, step: str, due: datetime, about: datetime
    ) -> str | None:
        return self._notice(visit, kind, step, due, about, None)

    def _notification(
        self,
        visit: Visit,
        kind: str,
        step: str,
        about: datetime,
        due: datetime,
        status: str,
        reason: str | None,
        message: int | None,
        updated: datetime,
    ) -> None:
        self.sink.add(
            "notification",
            (self.new_id("notification"), self.clinic_id, visit.id, kind, step, about, due,
             status, reason, message, min(visit.created_at, due), max(updated, due)
             if status == "queued" else updated),
        )  # fmt: skip

    def outbox(
        self,
        visit: Visit,
        kind: str,
        at: datetime,
        *,
        key: str,
        answer: bool = False,
        about: bool = True,
        not_after: datetime | None = None,
    ) -> tuple[int, str]:
        """An outbox row, sent at `at` with a status drawn as they come back from Twilio."""
        chance = self.chance
        names, cumulative = self.answers if answer else self.business
        status = names[_pick(chance, cumulative)]
        message = self.new_id("outbox_message")
        key = key.format(id=message)  # staff messages: keyed by the submission
        sent = at + timedelta(seconds=chance.uniform(0.2, 4))
        accepted = status != "failed" or chance.random() < 0.5
        error = None
        if status == "failed":
            error = chance.choice(FAILED_CODES)
        elif status == "undelivered":
            error = chance.choice(UNDELIVERED_CODES)
        body = BODIES.get(kind, BODIES["campaign"]).format(code=code_of(visit.id))
        template = None if answer else _template(kind)
        self.sink.add(
            "outbox_message",
            (message, self.clinic_id, key, kind, template, self.clinic_phone,
             self.patient_phones[visit.patient], body, visit.id if about else None, not_after,
             self.patient_languages[visit.patient], status,
             f"SM{message:032x}" if accepted else None, 1 if accepted else 3, at, error,
             "Twilio: error" if error else None, sent, sent if accepted else None, at,
             sent + timedelta(minutes=chance.uniform(0, 30))),
        )  # fmt: skip
        return message, status

    def reply(self, visit: Visit, at: datetime) -> None:
        """The bot's answer to one message of the patient (no appointment of its own)."""
        self.inbound += 1
        self.outbox(visit, K.reply, at, answer=True, about=False,
                    key=f"reply:SM{self.clinic_id:04x}{self.inbound:028x}")  # fmt: skip

    def event(
        self, visit: Visit, kind: str, actor: str, channel: str, at: datetime, **detail: object
    ) -> None:
        self.sink.add(
            "appointment_event",
            (self.new_id("appointment_event"), self.clinic_id, visit.id, kind, actor, channel,
             json.dumps(detail) if detail else "{}", at),
        )  # fmt: skip

    # after the visit -------------------------------------------------------------------------

    def outcome(self, visit: Visit, reminded: bool, confirmed: bool) -> None:
        """Completed (arrived first, often with a queue ticket; care and survey after) or
        a no-show (its recovery written at the end)."""
        chance = self.chance
        if confirmed or visit.status == "confirmed":
            risk = NO_SHOW_CONFIRMED
        elif reminded:
            risk = NO_SHOW_UNANSWERED
        else:
            risk = NO_SHOW_UNREMINDED
        before = visit.status
        if chance.random() < risk:
            if chance.random() < 0.6:
                marked = datetime.combine(self.today, time(21), tzinfo=self.zone).astimezone(UTC)
                who, how = "system", "system"
            else:
                marked = visit.ends_at + timedelta(minutes=chance.uniform(5, 90))
                who, how = "staff:ana", "console"
            marked = min(marked, self.now)
            visit.status, visit.updated_at = "no_show", marked
            self.event(visit, "no_show", who, how, marked, before=before)
            missed = Missed(visit, marked, chance.random() < RECOVERED)
            self.missed.append(missed)
            if missed.recover:
                self.pending_recoveries.append(missed)
            return
        duration = visit.ends_at - visit.starts_at
        wait = None
        done = visit.ends_at + timedelta(minutes=chance.uniform(0, 20))
        if chance.random() < ARRIVED:
            arrived = visit.starts_at - timedelta(minutes=chance.uniform(-12, 25))
            self.event(visit, "arrived", "staff:ana", "console", arrived, before=before)
            before = "arrived"
            if chance.random() < TICKETED:
                wait, done = self.ticket(visit, arrived, duration)
        done = min(done, self.now)
        visit.status, visit.updated_at = "completed", done
        self.event(visit, "completed", "staff:ana", "console", done, before=before)
        care = visit.ends_at + timedelta(minutes=CARE_MINUTES)
        care = max(care, done)
        self._after(visit, K.care, "completed", care)
        survey = max(visit.ends_at + timedelta(minutes=SURVEY_MINUTES), done)
        status = self._after(visit, K.survey, "score", survey)
        if status is not None:
            scored = None
            score = None
            comment = commented = None
            if chance.random() < SURVEY_SCORED:
                scored = survey + timedelta(minutes=chance.expovariate(1 / 90))
                score = _score(chance, wait)
                if chance.random() < 0.3:
                    comment = chance.choice(COMMENTS)
                    commented = scored + timedelta(minutes=2)
            self.sink.add(
                "survey_response",
                (self.new_id("survey_response"), self.clinic_id, visit.id,
                 self.patient_phones[visit.patient], score, comment, survey, scored, commented),
            )  # fmt: skip

    def _after(self, visit: Visit, kind: str, step: str, due: datetime) -> str | None:
        """A message after the visit: pending ahead of now, else queued and sent."""
        return self._notice(visit, kind, step, due, visit.starts_at, None)

    def ticket(
        self, visit: Visit, arrived: datetime, duration: timedelta
    ) -> tuple[float, datetime]:
        """A queue ticket from check-in to served; returns the wait in minutes and the end."""
        chance = self.chance
        service = visit.service
        queue = f"service:{self.services[service]}"
        number = self.counters.get((queue, self.today), 0) + 1
        self.counters[(queue, self.today)] = number
        priority = chance.random() < 0.05
        if priority:
            tier, sort_at = PRIORITY, arrived
        elif arrived <= visit.starts_at + timedelta(minutes=10):
            tier, sort_at = ON_TIME, visit.starts_at
        else:
            tier, sort_at = WALK_IN, arrived
        called = max(arrived, visit.starts_at) + timedelta(minutes=chance.expovariate(1 / 9))
        ended = called + duration * chance.uniform(0.7, 1.3)
        ended = min(ended, self.now)
        called = min(called, ended)
        self.sink.add(
            "queue_ticket",
            (self.new_id("queue_ticket"), self.clinic_id, queue, self.today, letter(service),
             number, visit.id, visit.patient, self.patient_phones[visit.patient],
             self.patient_languages[visit.patient], None,
             chance.choice(("whatsapp", "kiosk", "kiosk", "desk")), visit.channel, priority,
             tier, sort_at, "served", arrived, called, ended, "staff:ana",
             f"Consultorio {visit.professional % 12 + 1}", 1),
        )  # fmt: skip
        return (called - arrived).total_seconds() / 60, ended

    def walk_ins(self, opens: datetime, visits: int) -> None:
        """The day's visits without an appointment, each to a service's queue: most
        served, some called without an answer, a few never called."""
        chance = self.walk_in_chance
        for _ in range(int(visits * WALK_INS + chance.random())):
            arrived = opens + timedelta(minutes=chance.uniform(0, 600))
            if arrived >= self.now:
                continue
            service = chance.randrange(len(self.services))
            queue = f"service:{self.services[service]}"
            number = self.counters.get((queue, self.today), 0) + 1
            self.counters[(queue, self.today)] = number
            ends = self.walk_in_ends
            status = ends[0][_pick(chance, ends[1])]
            called = ended = None
            if status != "waiting":
                called = min(arrived + timedelta(minutes=chance.expovariate(1 / 14)), self.now)
                serving = self.minutes[service] * chance.uniform(0.7, 1.3)
                ended = min(
                    called + timedelta(minutes=serving if status == "served" else 3), self.now
                )
            self.sink.add(
                "queue_ticket",
                (self.new_id("queue_ticket"), self.clinic_id, queue, self.today, letter(service),
                 number, None, None, None, None, None, "kiosk", None, False, WALK_IN, arrived,
                 status, arrived, called, ended, "staff:ana" if called else None,
                 "Consultorio 1" if called else None, 1 if called else 0),
            )  # fmt: skip

    def campaign(self, visit: Visit) -> None:
        """A campaign about this day: a message to each appointment standing when it went."""
        if self.campaign_today is None:
            return
        campaign_id, kind, send_at = self.campaign_today
        if send_at > self.now or visit.created_at >= send_at:
            return
        if visit.cancelled_at is not None and visit.cancelled_at < send_at:
            return
        key = campaign_key(campaign_id, visit.id)
        self.outbox(visit, kind, send_at + timedelta(seconds=self.chance.uniform(0, 600)), key=key,
                    not_after=visit.starts_at)  # fmt: skip
        self.sink.add(
            "campaign_recipient",
            (self.new_id("campaign_recipient"), self.clinic_id, campaign_id, visit.id,
             self.patient_phones[visit.patient], key),
        )  # fmt: skip
        self.campaign_recipients[campaign_id] += 1

    # the waitlist ---------------------------------------------------------------------------

    def from_waitlist(
        self, n: int, professional: int, service: int, starts: datetime, ends: datetime,
        freed: datetime, room: int,
    ) -> int:  # fmt: skip
        """A freed slot offered from the waitlist: sometimes one offer expires (its hold
        released), then one is accepted and becomes the booking."""
        chance = self.chance
        made = 0
        offered = freed
        if chance.random() < EXPIRED_OFFER_FIRST and room > 2:
            patient, recovering = self.pick_patient(offered)
            if recovering is not None:  # a hold is no booking: still to come back
                self.pending_recoveries.appendleft(recovering)
            entry = self.entry(patient, service, starts, offered, "expired")
            held = self.held(n, professional, service, starts, ends, patient, offered)
            expires = offered + timedelta(minutes=15)
            held.status, held.cancelled_at, held.updated_at = "cancelled", expires, expires
            self.offer(entry, held, offered, "expired", None)
            self.appointment_row(held)
            made += 1
            offered = expires + timedelta(minutes=chance.uniform(1, 5))
        if offered >= starts - timedelta(minutes=30):
            return made
        chosen = self.pick_patient(offered)
        entry = self.entry(chosen[0], service, starts, offered, "booked")
        answered = min(offered + timedelta(minutes=chance.uniform(1, 14)), self.now)
        visit = self.visit(
            n, professional, service, starts, ends, "waitlist", offered,
            chosen=chosen, booked_at=answered,
        )  # fmt: skip
        self.offer(entry, visit, offered, "accepted", answered)
        return made + 1

    def held(
        self, n: int, professional: int, service: int, starts: datetime, ends: datetime,
        patient: int, offered: datetime,
    ) -> Visit:  # fmt: skip
        visit = Visit(
            self.new_id("appointment"), professional, service, patient, starts, ends,
            "waitlist", offered,
        )  # fmt: skip
        visit.hold_expires_at = offered + timedelta(minutes=15)
        return visit

    def entry(
        self, patient: int, service: int, starts: datetime, offered: datetime, status: str
    ) -> int:
        """The patient's place on the day's waitlist, joined some days before the offer."""
        entry_id = self.new_id("waitlist_entry")
        joined = offered - timedelta(hours=self.chance.uniform(1, 96))
        part = "morning" if starts.astimezone(self.zone).hour < 13 else "afternoon"
        self.sink.add(
            "waitlist_entry",
            (entry_id, self.clinic_id, patient, self.patient_phones[patient],
             self.services[service], None, self.today, self.chance.choice((part, None)),
             status, joined, offered),
        )  # fmt: skip
        return entry_id

    def offer(
        self, entry: int, visit: Visit, offered: datetime, status: str, answered: datetime | None
    ) -> None:
        """The offer, and its message (a notification queued at once)."""
        self.sink.add(
            "waitlist_offer",
            (self.new_id("waitlist_offer"), self.clinic_id, entry, visit.patient,
             self.patient_phones[visit.patient], visit.id, visit.professional, visit.starts_at,
             offered, offered + timedelta(minutes=15), status, answered),
        )  # fmt: skip
        key = f"appointment:{visit.id}:waitlist_offer:offer:{int(visit.starts_at.timestamp())}"
        message, _ = self.outbox(visit, K.waitlist_offer, offered, key=key,
                                 not_after=offered + timedelta(minutes=15))  # fmt: skip
        self._notification(visit, K.waitlist_offer, "offer", visit.starts_at, offered, "queued",
                           None, message, offered)  # fmt: skip

    def waitlist_leftovers(self) -> None:
        """Entries that were never offered a slot: their day passed, or the patient left."""
        chance = self.chance
        for _ in range(self.target // 100):
            day = self.first_day + timedelta(
                days=chance.randrange((self.last_day - self.first_day).days)
            )
            patient = self.patient_ids[chance.randrange(len(self.patient_ids))]
            joined = datetime.combine(day, time(9), tzinfo=UTC) - timedelta(
                hours=chance.uniform(2, 200)
            )
            ahead = day >= self.now.astimezone(self.zone).date()
            status = "waiting" if ahead else chance.choice(("expired", "expired", "left"))
            self.sink.add(
                "waitlist_entry",
                (self.new_id("waitlist_entry"), self.clinic_id, patient,
                 self.patient_phones[patient], self.services[chance.randrange(len(SERVICES))],
                 None, day, chance.choice(("morning", "afternoon", "any", None)), status,
                 joined, joined),
            )  # fmt: skip

    # no-show recovery -----------------------------------------------------------------------

    def recoveries(self) -> None:
        """Each no-show's record (recovered or not) and its messages, withdrawn once the
        patient booked again."""
        for missed in self.missed:
            visit = missed.visit
            recovered = missed.recovered_at if missed.recovered_by is not None else None
            self.sink.add(
                "no_show_recovery",
                (self.new_id("no_show_recovery"), self.clinic_id, visit.id, visit.patient,
                 visit.starts_at, missed.marked_at, missed.recovered_by if recovered else None,
                 recovered),
            )  # fmt: skip
            for number, hours in enumerate(NO_SHOW_HOURS, start=1):
                due = visit.ends_at + timedelta(hours=hours)
                if number == 1:
                    due = max(due, missed.marked_at)
                elif due <= missed.marked_at:
                    continue
                step = str(number)
                if recovered is not None and recovered < due:
                    self._notification(visit, K.no_show, step, visit.starts_at, due, "withdrawn",
                                       None, None, recovered)  # fmt: skip
                    continue
                if due > self.now:
                    self._notification(visit, K.no_show, step, visit.starts_at, due, "pending",
                                       None, None, missed.marked_at)  # fmt: skip
                    continue
                if visit.patient in self.opted_out:
                    self._notification(visit, K.no_show, step, visit.starts_at, due, "skipped",
                                       "patient opted out", None, due)  # fmt: skip
                    continue
                key = f"appointment:{visit.id}:no_show:{step}:{int(visit.starts_at.timestamp())}"
                message, _ = self.outbox(visit, f"no_show_{number}", due, key=key)
                self._notification(visit, K.no_show, step, visit.starts_at, due, "queued", None,
                                   message, due)  # fmt: skip

    def finish(self) -> None:
        """The queues' last numbers, the campaigns' counts, the sequences past the ids."""
        for (queue, day), last in self.counters.items():
            self.sink.add("queue_counter", (self.clinic_id, queue, day, last))
        self.sink.flush()
        with self.engine.begin() as connection:
            for campaign_id, count in self.campaign_recipients.items():
                connection.execute(
                    text("UPDATE campaign SET recipients = :n WHERE id = :id"),
                    {"n": count, "id": campaign_id},
                )
            if self.engine.dialect.name == "postgresql":
                for table in (*WITH_IDS, "clinic", "branch", "service", "professional", "campaign"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                            f" GREATEST((SELECT MAX(id) FROM {table}), 1))"
                        )
                    )
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))


def _pick(chance: random.Random, cumulative: Sequence[float]) -> int:
    draw = chance.random()
    for index, bound in enumerate(cumulative):
        if draw < bound:
            return index
    return len(cumulative) - 1


def _actor(channel: str) -> tuple[str, str]:
    """Who books through a source channel, and the channel its history names."""
    if channel in ("desk", "phone"):
        return "staff:ana", "console"
    if channel in ("whatsapp", "waitlist"):
        return "patient", "whatsapp"
    if channel == "api":
        return "api", "api"
    return "patient", channel  # web, rasa


def _template(kind: str) -> str | None:
    try:
        return MessageKind(kind).template
    except ValueError:
        return None


def _score(chance: random.Random, wait: float | None) -> int:
    """A 1-5 score, lower after a long wait."""
    draw = chance.random()
    if wait is not None and wait > 25:
        draw *= 0.7
    if draw < 0.05:
        return 1
    if draw < 0.11:
        return 2
    if draw < 0.23:
        return 3
    if draw < 0.50:
        return 4
    return 5


def write_history(
    engine: Engine, appointments: int, seed: int, now: datetime = NOW
) -> HistoryFacts:
    """Write a year of one clinic's history (see the module's text) into a migrated,
    empty database; returns the clinic, its days and rows written per table."""
    return Writer(engine, appointments, seed, now).write()


# --keep: a finished history is marked, so it is written once and reused ----------------


def finished_history(engine: Engine) -> HistoryFacts | None:
    """The history a database already holds, if one was finished there."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            exists = connection.execute(text(f"SELECT to_regclass('{MARKER_TABLE}')")).scalar()
        else:
            exists = connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table' AND name = :n"),
                {"n": MARKER_TABLE},
            ).scalar()
        if not exists:
            return None
        raw = connection.execute(text(f"SELECT facts FROM {MARKER_TABLE}")).scalar()
    return HistoryFacts.from_json(raw) if raw else None


def mark_finished(engine: Engine, facts: HistoryFacts) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (facts TEXT)"))
        connection.execute(text(f"DELETE FROM {MARKER_TABLE}"))
        connection.execute(
            text(f"INSERT INTO {MARKER_TABLE} (facts) VALUES (:f)"), {"f": facts.to_json()}
        )


def _on_server(url: str, statement: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _database_exists(url: str, name: str) -> bool:
    engine = create_engine(make_url(url).set(database="postgres"))
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
    finally:
        engine.dispose()
    return bool(found)


def kept_history(
    url: str, name: str, appointments: int, seed: int, *, fresh: bool = False
) -> tuple[str, HistoryFacts, bool]:
    """The database NAME on the URL's server holding a finished history, written now
    (created and migrated) unless it holds one already; (its URL, the facts, written now)."""
    url = normalize_url(url)
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    if _database_exists(url, name) and not fresh:
        upgrade(target)  # a history kept from an older schema
        engine = make_engine(target)
        try:
            facts = finished_history(engine)
        finally:
            engine.dispose()
        if facts is not None and facts.appointments >= appointments * 0.99:
            return target, facts, False
    _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _on_server(url, f'CREATE DATABASE "{name}"')
    return target, written_into(target, appointments, seed), True


def written_into(url: str, appointments: int, seed: int) -> HistoryFacts:
    """Migrate the empty database at `url`, write the history and mark it finished."""
    upgrade(url)
    engine = make_engine(url)
    try:
        facts = write_history(engine, appointments, seed)
        mark_finished(engine, facts)
    finally:
        engine.dispose()
    return facts


def print_facts(facts: HistoryFacts, written: bool = True) -> None:
    verb = "written in" if written else "reused (written in)"
    print(
        f"  history {verb} {facts.seconds:.1f} s: clinic {facts.clinic_id},"
        f" {facts.first_day} to {facts.last_day}, now {facts.now:%Y-%m-%d %H:%M} UTC"
    )
    for table, count in sorted(facts.rows.items(), key=lambda item: -item[1]):
        print(f"    {table:<22} {count:>12,}")
    print(f"    {'(all)':<22} {sum(facts.rows.values()):>12,}")


def table_sizes(engine: Engine) -> list[tuple[str, int, int]]:
    """(table, rows estimated, bytes with indexes) of the largest tables, PostgreSQL."""
    with engine.connect() as connection:
        return [
            (str(r[0]), int(r[1]), int(r[2]))
            for r in connection.execute(
                text(
                    "SELECT relname, reltuples::bigint, pg_total_relation_size(oid)"
                    " FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                    " ORDER BY 3 DESC LIMIT 14"
                )
            )
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", metavar="NAME", help="write into (or reuse) database NAME")
    parser.add_argument("--fresh", action="store_true", help="with --keep: write it again")
    args = parser.parse_args(argv)
    logging.getLogger("config.tzcheck").setLevel(logging.ERROR)
    use_packaged_tzdata()
    if args.keep:
        if not args.database_url:
            raise SystemExit("--keep needs a PostgreSQL --database-url")
        url, facts, written = kept_history(
            args.database_url, args.keep, args.appointments, args.seed, fresh=args.fresh
        )
        print(f"report history: PostgreSQL database {args.keep}")
        print_facts(facts, written)
        return 0
    try:
        from _support import drop_scratch_database, scratch_database_url
    except ImportError:  # imported as bench.report_history
        from bench._support import drop_scratch_database, scratch_database_url
    with tempfile.TemporaryDirectory(prefix="bench-report-history-") as folder:
        url = scratch_database_url(args.database_url, "report_history", Path(folder))
        try:
            facts = written_into(url, args.appointments, args.seed)
            print(f"report history: {make_url(url).get_backend_name()} {make_url(url).database}")
            print_facts(facts)
        finally:
            drop_scratch_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
