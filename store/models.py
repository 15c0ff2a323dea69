"""The tables. Every table carries `clinic_id` (the distribution column when sharded)."""

from datetime import UTC, date, datetime, time
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.message_kinds import MessageKind
from store.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clinic(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    timezone: str = "America/Asuncion"
    whatsapp_number: str = Field(unique=True, description="E.164 sender number")
    phone: str | None = None
    address: str | None = None
    email: str | None = None
    insurances: str | None = Field(
        default=None, description="the insurances the clinic accepts, as patients are told"
    )
    default_language: str = "es"
    min_notice_minutes: int = 120
    horizon_days: int = 60
    slot_step_minutes: int = 15
    idle_timeout_minutes: int = 60
    reminder_hours_before: int | None = Field(
        default=24, description="a reminder this many hours before; null for none"
    )
    reminder_day_before_at: time | None = Field(
        default=None, description="also a reminder the day before at this local time"
    )
    interactive_messages: bool = Field(
        default=False, description="choices as WhatsApp buttons / list pickers where they fit"
    )
    send_rate_per_second: float = Field(
        default=80, description="pacing of this clinic's sender number"
    )
    waitlist_hold_minutes: int = Field(
        default=15, description="how long a freed slot offered from the waitlist is held"
    )
    waitlist_offers_per_day: int = Field(
        default=3, description="at most this many waitlist offers to one patient a day"
    )
    auto_no_show_at: time | None = Field(
        default=None,
        description="local time each day when past appointments neither arrived nor "
        "completed become no-shows; null: off",
    )
    no_show_followup_hours: str = Field(
        default="2,24,72",
        description="hours after a missed appointment's end for each recovery message (up to 3)",
    )
    recovery_days: int = Field(
        default=30, description="a no-show rebooked within this many days counts as recovered"
    )
    care_delay_minutes: int | None = Field(
        default=120, description="the care message this long after a visit; null: none"
    )
    survey_enabled: bool = False
    survey_delay_minutes: int = 60
    bot_resume_after_minutes: int = Field(
        default=120, description="a paused bot resumes after this long without staff acting"
    )
    only_known_patients: bool = Field(
        default=False,
        description="only patients the clinic knows book on WhatsApp; a new number may "
        "request an appointment, which staff accept or decline",
    )
    booking_slug: str | None = Field(
        default=None,
        unique=True,
        description="the booking page's address, /r/<slug>; null: the clinic has none",
    )
    web_booking: bool = Field(
        default=False,
        description="whether the booking page takes bookings",
    )
    booking_embed_origin: str | None = Field(
        default=None,
        description="the one website (https://host) that may show the booking page in a frame",
    )
    web_phone_proof: bool = Field(
        default=True,
        description="a new number books on the page only once its own WhatsApp message "
        "brings the code the page gave (store.web_bookings)",
    )
    web_hold_minutes: int = Field(
        default=10,
        description="how long the page holds a new number's time for its WhatsApp message",
    )
    catalog_version: int = Field(
        default=0,
        sa_column_kwargs={"server_default": text("0")},
        description="bumped with every change to what the bot caches of the clinic "
        "(store.catalog_version)",
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Branch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    name: str
    address: str | None = None
    active: bool = Field(default=True, description="a closed branch is kept for its history")


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    name: str
    duration_minutes: int = 30
    price: str | None = Field(default=None, description='as patients are told: "150.000 Gs"')
    self_bookable: bool = True
    web_bookable: bool = Field(
        default=True,
        description="offered on the booking page (when also self-bookable)",
    )
    active: bool = True
    care_template: str | None = Field(
        default=None,
        description="template key of its care message (automations.care_*); null: the default",
    )


class Professional(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    name: str
    active: bool = True
    reminders_enabled: bool = True


class ProfessionalService(SQLModel, table=True):
    __tablename__ = "professional_service"
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    professional_id: int = Field(foreign_key="professional.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class WorkingHours(SQLModel, table=True):
    """One interval of a professional's week, in the clinic's local time; several a day make
    breaks."""

    __tablename__ = "working_hours"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    professional_id: int = Field(foreign_key="professional.id", index=True)
    weekday: int = Field(description="0 = Monday … 6 = Sunday")
    start: time
    end: time


class BlockOff(SQLModel, table=True):
    """A time nobody (professional_id null) or one professional can be booked."""

    __tablename__ = "block_off"
    # Reads want the block-offs that have not ended yet: a range on ends_at, so the past
    # is never read (a block-off may last weeks: the start gives no bound).
    __table_args__ = (Index("ix_block_off_clinic_ends", "clinic_id", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    professional_id: int | None = Field(default=None, foreign_key="professional.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = None


class DayLoad(SQLModel, table=True):
    """One professional's local day summed up: the longest stretch of working time with
    nothing booked or blocked, written in the transaction of every change to the day
    (`store.day_loads`). "First available" skips the days too full for a service without
    reading them; `week_key` names the working hours and time zone it was computed with,
    so a record made under other hours is not trusted."""

    __tablename__ = "day_load"
    professional_id: int = Field(foreign_key="professional.id", primary_key=True)
    day: date = Field(primary_key=True, description="local date, the clinic's time zone")
    longest_free_minutes: int
    week_key: int = Field(sa_type=BigInteger)


class ReportHorizon(SQLModel, table=True):
    """How far a clinic's report days are summed up (`store.report_days`): every local day
    before `summarized_until` may have its counts, and a change to a row about a time
    before it marks that time stale (the triggers of migration 0031)."""

    __tablename__ = "report_horizon"
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    summarized_until: datetime = Field(sa_type=UTCDateTime)
    timezone: str = Field(description="the clinic's zone the days were cut in")


class ReportDay(SQLModel, table=True):
    """A closed local day whose counts are in `report_count`."""

    __tablename__ = "report_day"
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    day: date = Field(primary_key=True, description="local date, the clinic's time zone")
    summed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportCount(SQLModel, table=True):
    """One figure of one day: what the reports would count live for that day alone, by
    its keys (`store.report_days` names them)."""

    __tablename__ = "report_count"
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    figure: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    professional_id: int = Field(default=0, primary_key=True, description="0: not by one")
    k1: str = Field(default="", primary_key=True)
    k2: str = Field(default="", primary_key=True)
    k3: str = Field(default="", primary_key=True)
    value: float


class ReportStale(SQLModel, table=True):
    """A time whose rows changed after its day was summed up: the days it touches are
    counted live until the worker sums them up again. Written by triggers."""

    __tablename__ = "report_stale"
    __table_args__ = (Index("ix_report_stale_clinic", "clinic_id", "starts_at"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)


class Patient(SQLModel, table=True):
    """A person; one phone may belong to several (a family sharing a phone)."""

    __table_args__ = (Index("ix_patient_clinic_phone", "clinic_id", "phone"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    phone: str = Field(description="E.164")
    name: str | None = None
    dni: str | None = None
    insurance: str | None = None
    plan: str | None = None
    language: str | None = None
    bot_paused: bool = False
    opted_out: bool = False
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unreachable: str | None = Field(
        default=None, description="why WhatsApp cannot reach the number: invalid, blocked"
    )
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppointmentStatus(StrEnum):
    booked = "booked"
    confirmed = "confirmed"
    arrived = "arrived"  # at the desk; still holds its time (only cancelled frees it)
    cancelled = "cancelled"
    held = "held"  # offered from the waitlist: busy until accepted (booked) or released
    completed = "completed"
    no_show = "no_show"


class Appointment(SQLModel, table=True):
    """No two appointments of one professional that are not cancelled may overlap: an
    exclusion constraint on PostgreSQL, triggers on SQLite (see the first migration)."""

    __table_args__ = (
        UniqueConstraint("clinic_id", "code", name="uq_appointment_code"),
        Index("ix_appointment_prof_start", "professional_id", "starts_at"),
        Index("ix_appointment_clinic_start", "clinic_id", "starts_at"),  # a report's days
        Index("ix_appointment_patient", "patient_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    professional_id: int = Field(foreign_key="professional.id")
    service_id: int = Field(foreign_key="service.id")
    patient_id: int = Field(foreign_key="patient.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = AppointmentStatus.booked
    source_channel: str = "whatsapp"
    code: str
    new_patient: bool = False
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hold_expires_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="a held slot is released after this"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppointmentEvent(SQLModel, table=True):
    """What happened to an appointment, by whom and through which channel: booked,
    confirmed, cancelled, rescheduled (with the old and new time in `detail`)."""

    __tablename__ = "appointment_event"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    kind: str
    actor: str = Field(description="patient, staff:<login> or system")
    channel: str = Field(description="whatsapp, self_service, console, api, system")
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationMode(StrEnum):
    reminders = "reminders"
    confirmations = "confirmations"
    both = "both"


class NotificationRule(SQLModel, table=True):
    """Which appointments get reminders and/or booking confirmations. Each filter is one
    value or null for "all"; an appointment gets a kind of message if any active rule
    that matches it allows that kind."""

    __tablename__ = "notification_rule"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    professional_id: int | None = Field(default=None, foreign_key="professional.id")
    service_id: int | None = Field(default=None, foreign_key="service.id")
    insurance: str | None = None
    plan: str | None = None
    mode: str = NotificationMode.both
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationRuleChange(SQLModel, table=True):
    """The history of the rules: who changed which rule when, and how it was before and
    after (JSON; null before a creation and after a deletion)."""

    __tablename__ = "notification_rule_change"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    rule_id: int = Field(description="kept after the rule is deleted; no foreign key")
    changed_by: str
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(description="created, updated or deleted")
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class NotificationStatus(StrEnum):
    pending = "pending"  # waiting for its time
    queued = "queued"  # handed to the outbox
    skipped = "skipped"  # its time came but it no longer applied (reason says why)
    withdrawn = "withdrawn"  # the appointment was cancelled or moved before its time


class Notification(SQLModel, table=True):
    """A business-initiated message planned for an appointment (a reminder, ...), due at
    `due_at`. The store, not the scheduler's memory, holds what is due; the scan reads
    only pending rows through a partial index, so it grows with the due work."""

    __table_args__ = (
        UniqueConstraint(
            "appointment_id", "kind", "step", "starts_at", name="uq_notification_step"
        ),
        Index(
            "ix_notification_due",
            "due_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    kind: str = Field(description="reminder, ...")
    step: str = Field(description="which one of its kind: hours_before, day_before, ...")
    starts_at: datetime = Field(sa_type=UTCDateTime, description="the time it is about")
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = NotificationStatus.pending
    reason: str | None = None
    outbox_message_id: int | None = Field(default=None, foreign_key="outbox_message.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NoShowRecovery(SQLModel, table=True):
    """A missed appointment and whether its patient came back: the appointment that
    rebooked them, if booked within the clinic's `recovery_days`."""

    __tablename__ = "no_show_recovery"
    __table_args__ = (Index("ix_no_show_recovery_missed", "clinic_id", "missed_at"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    appointment_id: int = Field(foreign_key="appointment.id", unique=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    missed_at: datetime = Field(sa_type=UTCDateTime, description="the missed appointment's start")
    marked_at: datetime = Field(sa_type=UTCDateTime)
    recovered_appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    recovered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyResponse(SQLModel, table=True):
    """The satisfaction survey of one completed appointment: when it was asked, the 1–5
    score and the optional comment (empty when the patient declined)."""

    __tablename__ = "survey_response"
    __table_args__ = (Index("ix_survey_response_phone", "clinic_id", "phone", "asked_at"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    appointment_id: int = Field(foreign_key="appointment.id", unique=True)
    phone: str
    score: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    asked_at: datetime = Field(sa_type=UTCDateTime)
    scored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    commented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """The chat with one phone at one clinic: where its flow stands and what it collected."""

    __table_args__ = (UniqueConstraint("clinic_id", "phone", name="uq_conversation_phone"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    phone: str
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    needs_staff: bool = False
    last_inbound_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    taken_over_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="when the bot was last paused or staff last wrote by hand (quiet time)",
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboundMessage(SQLModel, table=True):
    """Every accepted inbound message, kept whatever the bot did with it."""

    __tablename__ = "inbound_message"
    # clinic_id alone is served by the leading column of ix_inbound_phone
    __table_args__ = (Index("ix_inbound_phone", "clinic_id", "from_phone", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int | None = Field(default=None, foreign_key="clinic.id")
    message_sid: str = Field(unique=True)
    from_phone: str
    to_phone: str
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    num_media: int = 0
    fields: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    handled_by_bot: bool = True
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    queued = "queued"
    accepted = "accepted"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    undelivered = "undelivered"
    skipped = "skipped"  # no longer applied at send time (error_message says why)
    unconfirmed = "unconfirmed"  # a send was cut off and Twilio could not tell: staff decide
    not_sendable = "not_sendable"  # outside the 24-hour window with no template (error_message)


# Business-initiated questions the phone's next message may answer (`store.prompts`).
BUSINESS_QUESTIONS = (
    MessageKind.reminder,
    MessageKind.waitlist_offer,
    MessageKind.survey,
    MessageKind.campaign_reschedule,
    MessageKind.campaign_closure,
)
IS_QUESTION = f"kind IN ({', '.join(repr(kind.value) for kind in BUSINESS_QUESTIONS)})"
# Failures the failed-messages panel lists until staff handle them (`handled_at`).
OPEN_FAILURE_STATUSES = ("failed", "undelivered", "not_sendable", "unconfirmed")
OPEN_FAILURE = (
    "status IN ('failed', 'undelivered', 'not_sendable', 'unconfirmed') AND handled_at IS NULL"
)


SPARSE_OUTBOX_INDEXES = (
    ("ix_outbox_attempted_at", "attempted_at"),
    ("ix_outbox_sent_at", "sent_at"),
    ("ix_outbox_message_twilio_sid", "twilio_sid"),
)


class OutboxMessage(SQLModel, table=True):
    """A message to send; written in the transaction that decided it, sent by the dispatcher."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_phone", "clinic_id", "to_phone", "id"),
        # Rows still to send have none of these: a partial index keeps no entry for them,
        # so queueing a reply writes three index entries fewer (reads all name a value).
        *(
            Index(
                name,
                column,
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for name, column in SPARSE_OUTBOX_INDEXES
        ),
        Index(
            "ix_outbox_questions",
            "clinic_id",
            "to_phone",
            "created_at",
            postgresql_where=text(IS_QUESTION),
            sqlite_where=text(IS_QUESTION),
        ),
        Index("ix_outbox_clinic_created", "clinic_id", "created_at"),  # a report's days
        Index(
            "ix_outbox_open_failures",
            "clinic_id",
            "id",
            postgresql_where=text(OPEN_FAILURE),
            sqlite_where=text(OPEN_FAILURE),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")  # indexed first in ix_outbox_phone
    idempotency_key: str = Field(unique=True)
    kind: str = MessageKind.reply.value
    template: str | None = None
    from_phone: str
    to_phone: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    not_after: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="useless after this: skipped, not sent"
    )
    language: str | None = None
    variables: str | None = Field(
        default=None,
        sa_column=Column(Text, nullable=True),
        description="JSON: the message's tags as text, for a template sent in its place",
    )
    options: str | None = Field(
        default=None,
        sa_column=Column(Text, nullable=True),
        description="JSON: the choices offered, for buttons or a list picker",
    )
    content_sid: str | None = Field(default=None, description="the content actually sent")
    status: str = Field(default=OutboxStatus.pending)
    twilio_sid: str | None = None  # indexed where set: ix_outbox_message_twilio_sid
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    error_code: str | None = None
    error_message: str | None = None
    attempted_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="when the latest send attempt started"
    )
    sent_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="when Twilio accepted the message"
    )
    handled_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="a failure staff have dealt with"
    )
    handled_by: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContentTemplate(SQLModel, table=True):
    """A WhatsApp template (Twilio Content API) a clinic sends, once approved, in place of
    a business-initiated message when the 24-hour window is closed. `variables` maps the
    template's numbered placeholders to our tags (JSON: {"1": "patient_name", ...})."""

    __tablename__ = "content_template"
    __table_args__ = (
        UniqueConstraint("clinic_id", "kind", "language", name="uq_content_template"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    kind: str = Field(description="the outbox kind it stands for: reminder, confirmation, ...")
    language: str
    content_sid: str
    variables: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    status: str = Field(
        default="approved",
        sa_column_kwargs={"server_default": "approved"},
        description="WhatsApp's word on it, as Twilio reports it: received, pending, "
        "approved, rejected, paused, disabled…; only an approved one is sent",
    )
    category: str | None = Field(default=None, description="UTILITY or MARKETING, if submitted")
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InteractiveContent(SQLModel, table=True):
    """Quick-reply or list-picker content created through Twilio's Content API, kept by a
    digest of what it shows so the same choices are created once."""

    __tablename__ = "interactive_content"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    digest: str = Field(unique=True)
    content_sid: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MessageStatusEvent(SQLModel, table=True):
    """One status callback, kept once per (MessageSid, MessageStatus)."""

    __tablename__ = "message_status_event"
    __table_args__ = (UniqueConstraint("message_sid", "status", name="uq_status_event"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int | None = Field(default=None, foreign_key="clinic.id", index=True)
    message_sid: str
    status: str
    error_code: str | None = None
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffRole(StrEnum):
    staff = "staff"  # the front desk: the agenda and the conversations
    admin = "admin"  # also the clinic's settings, block-offs, templates and flows


class StaffUser(SQLModel, table=True):
    """A person who signs in to the staff console; `login` is unique across clinics, so
    the login page needs no clinic."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    login: str = Field(unique=True, description="lower-case; an e-mail or a short name")
    display_name: str
    role: str = StaffRole.staff
    password_hash: str
    language: str = "es"
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in, kept for the per-login wait that every web worker shares."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_login", "login", "at"),
        Index("ix_login_attempt_at", "at"),  # forgetting old failures
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int | None = Field(
        default=None, foreign_key="clinic.id", description="null when the login is unknown"
    )
    login: str
    ip: str = Field(description="where the failure came from, for the record only")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkerHeartbeat(SQLModel, table=True):
    """When a worker last ran its outbox dispatcher, for `/readyz`. Not a clinic's data:
    one row per job name, whichever worker ran it last."""

    __tablename__ = "worker_heartbeat"
    name: str = Field(primary_key=True)
    beat_at: datetime = Field(sa_type=UTCDateTime)


class SenderPace(SQLModel, table=True):
    """One WhatsApp sender number's send schedule, shared by every dispatcher so that
    together they keep to its rate (`scheduler.pacing`; JSON it alone reads). Not a
    clinic's data: it only ever holds the last second's sends."""

    __tablename__ = "sender_pace"
    from_phone: str = Field(primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))


class WaitlistStatus(StrEnum):
    waiting = "waiting"
    offered = "offered"  # a slot is held for the patient right now
    booked = "booked"
    expired = "expired"  # its day passed
    left = "left"  # the patient asked to leave the list


class WaitlistEntry(SQLModel, table=True):
    """A patient waiting for a slot on one local day; `created_at` (then `id`) is the fair
    order in which freed slots are offered."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index("ix_waitlist_waiting", "clinic_id", "day", "status", "created_at"),
        Index("ix_waitlist_phone", "clinic_id", "phone"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    patient_id: int = Field(foreign_key="patient.id")
    phone: str
    service_id: int = Field(foreign_key="service.id")
    professional_id: int | None = Field(default=None, foreign_key="professional.id")
    day: date = Field(description="the clinic's local day")
    part: str | None = Field(default=None, description="morning, afternoon, evening or any")
    status: str = WaitlistStatus.waiting
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfferStatus(StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # the held slot was released before an answer (staff, a pause)


class WaitlistOffer(SQLModel, table=True):
    """One freed slot offered to one waitlist entry, held by the appointment row
    `appointment_id` (status `held`) until `expires_at`."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (
        Index("ix_waitlist_offer_phone", "clinic_id", "phone", "offered_at"),
        Index("ix_waitlist_offer_open", "status", "expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    entry_id: int = Field(foreign_key="waitlist_entry.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    phone: str
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    professional_id: int = Field(foreign_key="professional.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    offered_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    status: str = OfferStatus.offered
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FreedSlot(SQLModel, table=True):
    """A time that became free (a cancellation, a move, a released hold, a block-off
    removed), for the waitlist pass to offer; `handled_at` once it has been looked at."""

    __tablename__ = "freed_slot"
    __table_args__ = (
        Index(
            "ix_freed_slot_pending",
            "created_at",
            postgresql_where=text("handled_at IS NULL"),
            sqlite_where=text("handled_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    professional_id: int | None = Field(
        default=None, foreign_key="professional.id", description="null: every professional"
    )
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    why: str = Field(description="cancelled, rescheduled, hold_released, block_off_removed")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RequestStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    declined = "declined"
    withdrawn = "withdrawn"  # replaced by a newer request from the same phone


OPEN_REQUEST = "status = 'open'"


class AppointmentRequest(SQLModel, table=True):
    """A new number asking for an appointment at a clinic that books known patients only;
    staff accept it (choosing a time: `appointment_id`) or decline it. At most one open
    request per phone (the partial unique index)."""

    __tablename__ = "appointment_request"
    __table_args__ = (
        Index(
            "ix_request_open_phone",
            "clinic_id",
            "phone",
            unique=True,
            postgresql_where=text(OPEN_REQUEST),
            sqlite_where=text(OPEN_REQUEST),
        ),
        Index("ix_request_clinic_created", "clinic_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    phone: str = Field(description="E.164")
    patient_name: str
    service_id: int = Field(foreign_key="service.id")
    preferred: str = Field(description="the days and times the patient would like, as written")
    comment: str | None = None
    language: str | None = None
    status: str = RequestStatus.open
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    handled_by: str | None = None
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    decline_reason: str | None = None


class ClinicTemplate(SQLModel, table=True):
    """A clinic's own text of one message template in one language; without a row the
    default in `templates/<language>/` is sent."""

    __tablename__ = "clinic_template"
    __table_args__ = (UniqueConstraint("clinic_id", "language", "key", name="uq_clinic_template"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    language: str
    key: str = Field(description="the template key, e.g. notification.reminder")
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(description="staff:<login>")


class ClinicFlow(SQLModel, table=True):
    """The optional steps of a flow a clinic switched off; without a row, every step."""

    __tablename__ = "clinic_flow"
    __table_args__ = (UniqueConstraint("clinic_id", "flow", name="uq_clinic_flow"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    flow: str
    skipped: str = Field(default="", description="state ids, comma-separated, sorted")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str


class CustomizationChange(SQLModel, table=True):
    """The history of a clinic's texts and steps: who changed what when, before and
    after. `subject` is `template` (language and template key; null before or after: the
    default text) or `flow` (language empty, the flow's name; the skipped steps,
    comma-separated, null for none)."""

    __tablename__ = "customization_change"
    __table_args__ = (
        Index("ix_customization_change_of", "clinic_id", "subject", "language", "key", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    subject: str
    language: str
    key: str
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_by: str
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reverts: int | None = Field(default=None, description="the change this one undid")


class WebBookingStatus(StrEnum):
    waiting = "waiting"  # for the phone's own WhatsApp message with the proof code
    done = "done"
    expired = "expired"


class WebBooking(SQLModel, table=True):
    """What the booking page was asked, one row per attempt: a booking (its time held as
    an appointment `held` until the phone proves itself), a waitlist entry or an
    appointment request, waiting for the proof code or done at once. The rows are also
    the page's rate limits: attempts per address and per phone (`store.web_bookings`)."""

    __tablename__ = "web_booking"
    __table_args__ = (
        Index("ix_web_booking_phone", "clinic_id", "phone", "created_at"),
        Index("ix_web_booking_client", "client", "created_at"),
        Index(
            "ix_web_booking_waiting",
            "expires_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    phone: str = Field(description="E.164")
    client: str = Field(description="a keyed hash of the visitor's address, never the address")
    kind: str = Field(description="book, waitlist or request")
    proof: str = Field(description="the code the phone's own message must bring")
    status: str = WebBookingStatus.waiting
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    details: str = Field(
        default="{}",
        sa_column=Column(Text, nullable=False, default="{}"),
        description="what the page collected (JSON), used once the phone proves itself",
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class CampaignStatus(StrEnum):
    scheduled = "scheduled"  # waiting for its time; its recipients not fixed yet
    writing = "writing"  # recipients fixed, their messages being written to the outbox
    sending = "sending"  # recipients fixed, their messages in the outbox
    stopped = "stopped"  # what was not sent yet will not be


class Campaign(SQLModel, table=True):
    """A message the desk sends to the patients of the appointments its filters match,
    kept with who made it, when, its filters and its text. `token` is the form's own: a
    form sent twice makes one campaign."""

    __table_args__ = (Index("ix_campaign_clinic", "clinic_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    token: str = Field(unique=True)
    kind: str = Field(description="a campaign message kind: campaign_closure, campaign_text…")
    text: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="the desk's own text"
    )
    filters: str = Field(sa_column=Column(Text, nullable=False), description="JSON")
    include_paused: bool = False
    status: str = CampaignStatus.scheduled
    send_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(description="staff:<login> or api")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_by: str | None = None
    recipients: int = Field(default=0, description="messages it sends, fixed when it started")
    written_through: int = Field(
        default=0, description="the last recipient (id) whose message is in the outbox"
    )


class CampaignRecipient(SQLModel, table=True):
    """One appointment a campaign wrote about, fixed when it started; appointments of one
    phone on one day share a message (`outbox_key`, the key of the message that carries
    it). One row per (campaign, appointment): the database keeps each once."""

    __tablename__ = "campaign_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "appointment_id", name="uq_campaign_recipient"),
        Index("ix_campaign_recipient_order", "campaign_id", "id"),
        Index("ix_campaign_recipient_message", "campaign_id", "outbox_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int  # no foreign keys: written only from the appointments a start reads
    campaign_id: int
    appointment_id: int
    phone: str
    outbox_key: str


class QueueBy(StrEnum):
    """What a clinic's waiting room makes one queue of."""

    service = "service"
    professional = "professional"


class WaitingRoom(SQLModel, table=True):
    """A clinic's waiting-room rules, set by its admin; a clinic without a row has the
    defaults."""

    __tablename__ = "waiting_room"
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    queue_by: str = QueueBy.service
    late_grace_minutes: int = Field(
        default=10,
        description="an appointment checked in later than this after its time queues as a walk-in",
    )
    near_ahead: int = Field(default=2, description='"your turn is near" at this many ahead')
    near_minutes: int | None = Field(
        default=None, description="… or once the estimated wait drops under this; null: off"
    )
    show_initials: bool = Field(default=False, description="the room's screen shows initials")


class TicketStatus(StrEnum):
    waiting = "waiting"
    called = "called"
    served = "served"
    absent = "absent"


class QueueTicket(SQLModel, table=True):
    """One visit in a day's queue, from check-in to served or absent: its number said
    aloud (`letter`-`number`, A-014), its place (`tier`, then `sort_at`: see
    `store.queue_order`), who called it and from where, and the times the figures read."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("clinic_id", "queue", "day", "number", name="uq_queue_ticket_number"),
        UniqueConstraint("appointment_id", name="uq_queue_ticket_appointment"),
        Index("ix_queue_ticket_waiting", "clinic_id", "queue", "day", "status", "tier", "sort_at"),
        Index("ix_queue_ticket_calls", "clinic_id", "day", "call_seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id")
    queue: str = Field(
        description='"service:<id>", "branch:<id>/service:<id>" or "professional:<id>"'
    )
    day: date = Field(description="local date, the clinic's time zone")
    branch_id: int | None = Field(
        default=None, foreign_key="branch.id", description="null: the clinic has one branch"
    )
    letter: str
    number: int
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    phone: str | None = Field(default=None, description="E.164, to be told; null: nobody")
    language: str | None = None
    initials: str | None = None
    channel: str = Field(description="whatsapp, kiosk or desk: how the patient checked in")
    source_channel: str | None = Field(
        default=None, description="the channel the appointment was booked through"
    )
    priority: bool = False
    tier: int
    sort_at: datetime = Field(sa_type=UTCDateTime)
    status: str = TicketStatus.waiting
    arrived_at: datetime = Field(sa_type=UTCDateTime)
    called_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    called_by: str | None = None
    called_to: str | None = Field(default=None, description="the desk or room it was called to")
    calls: int = 0
    call_seq: int | None = Field(
        default=None, description="the clinic's day's count of calls at its latest call or recall"
    )
    near_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description='when "your turn is near" was queued'
    )


class QueueCounter(SQLModel, table=True):
    """The last number given in a queue on a day: one upsert hands out the next."""

    __tablename__ = "queue_counter"
    clinic_id: int = Field(foreign_key="clinic.id", primary_key=True)
    queue: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    last: int = 0
