"""The plain data the engine reads and returns. Nothing here knows about a database."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from bot.availability import BookingRules, Slot
from bot.opening_hours import NEVER_OPEN, OpeningHours


@dataclass(frozen=True)
class ClinicInfo:
    id: int
    name: str
    rules: BookingRules
    default_language: str = "es"
    phone: str | None = None
    address: str | None = None
    insurances: str | None = None
    opening_hours: OpeningHours = NEVER_OPEN
    idle_timeout: timedelta = timedelta(minutes=60)
    only_known_patients: bool = False  # a new number may only request an appointment
    # per flow, the optional steps the clinic switched off (`bot.flow.clinic_flow`)
    skipped_steps: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    name: str
    duration: timedelta
    price: str | None = None  # as patients are told it


@dataclass(frozen=True)
class ProfessionalInfo:
    id: int
    name: str
    service_ids: frozenset[int]


@dataclass(frozen=True)
class PersonInfo:
    """A patient already known on this phone."""

    id: int
    name: str


class Availability(Protocol):
    """Where the engine asks for free time; the store answers in production, plain
    schedules in tests."""

    def days_with_space(
        self, service: ServiceInfo, professional_ids: list[int], first_day: date, count: int
    ) -> list[date]: ...

    def slots(self, service: ServiceInfo, professional_ids: list[int], day: date) -> list[Slot]: ...

    def open_days(
        self, service: ServiceInfo, professional_ids: list[int], days: Iterable[date]
    ) -> set[date]: ...

    def is_free(self, service: ServiceInfo, professional_id: int, start: datetime) -> bool: ...


@dataclass(frozen=True)
class AppointmentSummary:
    """One of the phone's upcoming appointments, as the engine talks about it."""

    id: int
    code: str
    service_id: int
    service_name: str
    professional_id: int
    professional_name: str
    starts_at: datetime
    confirmed: bool = False


class Appointments(Protocol):
    """The phone's appointments, read only when a message is about them."""

    def upcoming(self) -> list[AppointmentSummary]: ...

    def reminded_since(self, since: datetime | None) -> AppointmentSummary | None:
        """The appointment of the latest reminder sent to the phone after `since` (the
        patient's previous message), if it is still upcoming."""
        ...

    def campaign_asked_since(self, since: datetime | None) -> AppointmentSummary | None:
        """The appointment of a campaign's reschedule request or closure notice sent to
        the phone after `since`, when it was the last question and still stands."""
        ...

    def surveyed_since(self, since: datetime | None) -> int | None:
        """The appointment of the latest unanswered survey question sent to the phone
        after `since` (the patient's previous message)."""
        ...


class NoAppointments:
    """For views that have no appointments to talk about."""

    def upcoming(self) -> list[AppointmentSummary]:
        return []

    def reminded_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def campaign_asked_since(self, since: datetime | None) -> AppointmentSummary | None:
        return None

    def surveyed_since(self, since: datetime | None) -> int | None:
        return None


@dataclass(frozen=True)
class OfferSummary:
    """A freed slot offered to the phone from the waitlist (it may be gone by now)."""

    id: int


class Waitlist(Protocol):
    """The phone's waitlist offers, read only when a message could answer one."""

    def offered_since(self, since: datetime | None) -> OfferSummary | None:
        """The last offer made to the phone after `since` (its previous message)."""
        ...


class NoWaitlist:
    def offered_since(self, since: datetime | None) -> OfferSummary | None:
        return None


@dataclass(frozen=True)
class ClinicView:
    """What the engine may know of the clinic and of the phone that writes, at `now`."""

    clinic: ClinicInfo
    services: list[ServiceInfo]
    professionals: list[ProfessionalInfo]
    people: list[PersonInfo]
    availability: Availability
    now: datetime
    appointments: Appointments = field(default_factory=NoAppointments)
    waitlist: Waitlist = field(default_factory=NoWaitlist)

    def service(self, service_id: int | None) -> ServiceInfo | None:
        return next((s for s in self.services if s.id == service_id), None)

    def professional(self, professional_id: int | None) -> ProfessionalInfo | None:
        return next((p for p in self.professionals if p.id == professional_id), None)

    def person(self, person_id: int | None) -> PersonInfo | None:
        return next((p for p in self.people if p.id == person_id), None)


@dataclass(frozen=True)
class Inbound:
    """One thing that happened to the conversation: a patient's message, or an event the
    outside world reports back (a booking saved, a slot just taken)."""

    text: str = ""
    payload: str | None = None
    media_count: int = 0
    stale: bool = False  # a tap on a message that is no longer the question (see turnero.taps)
    event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class BookingDraft:
    """The answers collected so far."""

    service: int | None = None
    professional: int | None = None  # None with first_available means any
    first_available: bool = False
    day: str | None = None  # ISO local date
    slot: str | None = None  # ISO UTC start
    slot_professional: int | None = None
    person: int | None = None  # a known patient on this phone
    name: str | None = None
    dni: str | None = None
    insurance: str | None = None
    part: str | None = None  # morning | afternoon | evening: narrows the times offered
    time: str | None = None  # "HH:MM" said with the day, taken if free
    appointment: int | None = None  # an existing appointment being confirmed, cancelled, moved
    comment: str | None = None  # the patient's comment on a visit, or on a request
    preferred: str | None = None  # the days and times an appointment request would like
    # details the patient gave before their question came, by what the question asks
    # ("services", "professionals", "days", a text field such as "dni"): taken, not asked
    ahead: dict[str, str] = field(default_factory=dict)

    @property
    def day_date(self) -> date | None:
        return date.fromisoformat(self.day) if self.day else None

    @property
    def slot_start(self) -> datetime | None:
        return datetime.fromisoformat(self.slot) if self.slot else None


@dataclass
class ConversationState:
    """Where one conversation stands; stored as JSON on the conversation row."""

    flow: str = "booking"
    state: str = "done"
    history: list[str] = field(default_factory=list)
    draft: BookingDraft = field(default_factory=BookingDraft)
    language: str | None = None
    last_inbound_at: str | None = None
    options: list[str] = field(default_factory=list)  # ids offered by the last question

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (`asdict` would deep-copy every value on the hot path)."""
        return {**vars(self), "draft": dict(vars(self.draft))}

    def copy(self) -> "ConversationState":
        """An independent copy (the engine never changes the state it was given)."""
        return ConversationState(
            **{
                **vars(self),
                "history": list(self.history),
                "options": list(self.options),
                "draft": BookingDraft(**{**vars(self.draft), "ahead": dict(self.draft.ahead)}),
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ConversationState":
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        draft = BookingDraft(
            **{
                k: v
                for k, v in known.pop("draft", {}).items()
                if k in BookingDraft.__dataclass_fields__
            }
        )
        return cls(draft=draft, **known)


@dataclass(frozen=True)
class Option:
    """One numbered choice offered to the patient. `label` is data (a service's name);
    `label_key` a locale key; `day` and `moment` are formatted in the patient's language."""

    id: str
    label: str | None = None
    label_key: str | None = None
    day: date | None = None
    moment: datetime | None = None


@dataclass(frozen=True)
class Label:
    """A tag whose text is a locale label (`labels.*`), written in the reader's language
    with its own tags filled in."""

    key: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    """A message to send: a template key, its tags, and the options it lists. An answer
    built on the clinic's facts names `when_unknown`, the template said instead where a
    fact its text uses is missing."""

    template: str
    tags: dict[str, Any] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    when_unknown: str | None = None
