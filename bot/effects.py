"""What the engine decided that only the outside world can do, as small typed values: the
caller applies each through its own table of handlers (`usecases.inbound`) and tells the
engine how it went with an event. Flow files name the ones a step asks for (`do: book`);
`FROM_FLOW` builds each from the conversation as it stands."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.types import ConversationState, Reply


@dataclass(frozen=True)
class SetLanguage:
    """Remember the patient's language; `chosen` when they asked for it by name."""

    language: str
    chosen: bool = False


@dataclass(frozen=True)
class PauseBot:
    """Hand the conversation to staff."""


@dataclass(frozen=True)
class OptOut:
    """No more business-initiated messages to this phone."""


@dataclass(frozen=True)
class OptIn:
    """Business-initiated messages to this phone again."""


@dataclass(frozen=True)
class Book:
    """Book the reviewed time, for a person known on the phone or a new one."""

    service_id: int | None
    professional_id: int
    starts_at: datetime
    patient_id: int | None
    name: str | None
    dni: str | None
    insurance: str | None
    language: str | None


@dataclass(frozen=True)
class ConfirmAppointment:
    appointment_id: int | None  # None: the appointment is gone from the conversation


@dataclass(frozen=True)
class CancelAppointment:
    appointment_id: int | None


@dataclass(frozen=True)
class RescheduleAppointment:
    appointment_id: int | None
    starts_at: datetime
    professional_id: int


@dataclass(frozen=True)
class CheckIn:
    """The patient is at the clinic: check in today's appointment (None: find it)."""

    appointment_id: int | None


@dataclass(frozen=True)
class JoinWaitlist:
    """Wait for a time on a full day; without a service or a day there is nothing to
    wait for."""

    service_id: int | None
    professional_id: int | None
    day: date | None
    part: str | None
    language: str | None
    patient_id: int | None = None  # a person known on the phone, or
    name: str | None = None  # a new one's name (the offer's booking is in it)


@dataclass(frozen=True)
class LeaveWaitlist:
    pass


@dataclass(frozen=True)
class TakeWaitlistOffer:
    offer_id: int


@dataclass(frozen=True)
class DeclineWaitlistOffer:
    offer_id: int


@dataclass(frozen=True)
class ScoreVisit:
    """A survey's 1–5 score for a visit."""

    appointment_id: int
    score: int


@dataclass(frozen=True)
class CommentOnVisit:
    appointment_id: int
    comment: str | None


@dataclass(frozen=True)
class RequestAppointment:
    """Leave staff a request, where the clinic books known patients only."""

    name: str
    service_id: int | None  # None, or a service the clinic no longer offers: asked again
    preferred: str
    comment: str | None
    language: str | None


Effect = (
    SetLanguage
    | PauseBot
    | OptOut
    | OptIn
    | Book
    | ConfirmAppointment
    | CancelAppointment
    | RescheduleAppointment
    | CheckIn
    | JoinWaitlist
    | LeaveWaitlist
    | TakeWaitlistOffer
    | DeclineWaitlistOffer
    | ScoreVisit
    | CommentOnVisit
    | RequestAppointment
)


@dataclass(frozen=True)
class Turn:
    """What one step decided: the replies, the effects, and where the conversation stands."""

    replies: list[Reply]
    effects: list[Effect]
    state: ConversationState


def _book(conv: ConversationState) -> Book:
    draft = conv.draft
    return Book(
        service_id=draft.service,
        professional_id=_known(draft.slot_professional),
        starts_at=_moment(draft.slot),
        patient_id=draft.person,
        name=draft.name,
        dni=draft.dni,
        insurance=draft.insurance,
        language=conv.language,
    )


def _reschedule(conv: ConversationState) -> RescheduleAppointment:
    draft = conv.draft
    return RescheduleAppointment(
        draft.appointment, _moment(draft.slot), _known(draft.slot_professional)
    )


def _join_waitlist(conv: ConversationState) -> JoinWaitlist:
    draft = conv.draft
    return JoinWaitlist(
        draft.service,
        draft.professional,
        draft.day_date,
        draft.part,
        conv.language,
        patient_id=draft.person,
        name=draft.name,
    )


def _request(conv: ConversationState) -> RequestAppointment:
    draft = conv.draft
    return RequestAppointment(
        _given(draft.name), draft.service, _given(draft.preferred), draft.comment, conv.language
    )


def _known(value: int | None) -> int:
    if value is None:
        raise ValueError("the conversation has not collected what this step needs")
    return value


def _given(value: str | None) -> str:
    if value is None:
        raise ValueError("the conversation has not collected what this step needs")
    return value


def _moment(iso: str | None) -> datetime:
    return datetime.fromisoformat(iso or "")


# The effects a flow file may name in `do:`, each built from the conversation.
FROM_FLOW: dict[str, Callable[[ConversationState], Effect]] = {
    "book": _book,
    "pause_bot": lambda conv: PauseBot(),
    "opt_out": lambda conv: OptOut(),
    "opt_in": lambda conv: OptIn(),
    "confirm_appointment": lambda conv: ConfirmAppointment(conv.draft.appointment),
    "cancel_appointment": lambda conv: CancelAppointment(conv.draft.appointment),
    "reschedule_appointment": _reschedule,
    "check_in": lambda conv: CheckIn(conv.draft.appointment),
    "join_waitlist": _join_waitlist,
    "leave_waitlist": lambda conv: LeaveWaitlist(),
    "save_survey_comment": lambda conv: CommentOnVisit(
        _known(conv.draft.appointment), conv.draft.comment
    ),
    "request_appointment": _request,
}
