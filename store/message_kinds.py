"""Every kind of message the clinic sends, in one table: the value stored on outbox and
notification rows, the template it is written from, whether the business starts it, and
its category for reports. A new kind of message is a member and its row here, and
nothing else."""

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What a message is for, as reports group them."""

    bot_reply = "bot_reply"
    booking_confirmation = "booking_confirmation"
    reminder = "reminder"
    waitlist = "waitlist"
    no_show_recovery = "no_show_recovery"
    post_visit = "post_visit"
    survey = "survey"
    staff_reply = "staff_reply"
    appointment_request = "appointment_request"
    campaign = "campaign"
    waiting_room = "waiting_room"


@dataclass(frozen=True)
class About:
    """One row of the table. A business-initiated kind needs an approved template outside
    the 24-hour window and is held back by a pause or an opt-out; the others answer what
    the patient (or staff for them) just wrote. `template` is None where it varies."""

    template: str | None
    business_initiated: bool
    category: Category
    # WhatsApp's category for its template: UTILITY is a message about a transaction the
    # patient agreed to (confirm, remind, move, cancel, answer a request, a waitlist place
    # they asked for, care and a survey about the visit they just had); MARKETING is one
    # that tries to win the patient back, which WhatsApp reclassifies as promotion: the
    # no-show steps invite a patient who did not come to book again.
    promotional: bool = False


class MessageKind(StrEnum):
    """A kind of message; its value is what rows store. Its row is `TABLE[kind]`."""

    reply = "reply"
    booking_confirmation = "booking_confirmation"
    staff = "staff"
    reminder = "reminder"
    reminder_confirmed = "reminder_confirmed"  # a reminder sent as its appointment stands confirmed
    confirmation = "confirmation"
    waitlist_offer = "waitlist_offer"
    no_show = "no_show"  # planned as one kind, sent as its steps
    no_show_1 = "no_show_1"
    no_show_2 = "no_show_2"
    no_show_3 = "no_show_3"
    care = "care"
    survey = "survey"
    staff_moved = "staff_moved"
    staff_cancelled = "staff_cancelled"
    request_accepted = "request_accepted"
    request_declined = "request_declined"
    # a campaign's message: a ready-made kind, or the desk's own text
    campaign_reminder = "campaign_reminder"
    campaign_schedule_change = "campaign_schedule_change"
    campaign_closure = "campaign_closure"
    campaign_reschedule = "campaign_reschedule"
    campaign_text = "campaign_text"
    turn_near = "turn_near"
    your_turn = "your_turn"

    @property
    def template(self) -> str | None:
        return TABLE[self].template

    @property
    def business_initiated(self) -> bool:
        return TABLE[self].business_initiated

    @property
    def category(self) -> Category:
        return TABLE[self].category

    @property
    def whatsapp_category(self) -> str:
        """The category its WhatsApp template is submitted under."""
        return "MARKETING" if TABLE[self].promotional else "UTILITY"

    def template_key(self) -> str:
        """Its template key, for a kind that always has the same one."""
        if self.template is None:
            raise ValueError(f"message kind {self.value} has no template of its own")
        return self.template


K, C = MessageKind, Category
TABLE: dict[MessageKind, About] = {
    # the bot's answers, and staff writing by hand
    K.reply: About(None, False, C.bot_reply),
    K.booking_confirmation: About(None, False, C.bot_reply),
    K.staff: About(None, False, C.staff_reply),
    # planned as notifications about an appointment
    K.reminder: About("notification.reminder", True, C.reminder),
    K.reminder_confirmed: About("notification.reminder_confirmed", True, C.reminder),
    K.confirmation: About("notification.confirmation", True, C.booking_confirmation),
    K.waitlist_offer: About("notification.waitlist_offer", True, C.waitlist),
    # after the visit; each no-show step has its own template
    K.no_show: About(None, True, C.no_show_recovery),
    K.no_show_1: About("automations.no_show_1", True, C.no_show_recovery, promotional=True),
    K.no_show_2: About("automations.no_show_2", True, C.no_show_recovery, promotional=True),
    K.no_show_3: About("automations.no_show_3", True, C.no_show_recovery, promotional=True),
    K.care: About("automations.care", True, C.post_visit),
    K.survey: About("automations.survey_score", True, C.survey),
    # the desk's messages
    K.staff_moved: About("console.appointment_moved", True, C.staff_reply),
    K.staff_cancelled: About("console.appointment_cancelled", True, C.staff_reply),
    K.request_accepted: About("console.request_accepted", True, C.appointment_request),
    K.request_declined: About("console.request_declined", True, C.appointment_request),
    # campaigns; the desk's own text has no template of its own, so no approved one either
    K.campaign_reminder: About("campaign.reminder", True, C.campaign),
    K.campaign_schedule_change: About("campaign.schedule_change", True, C.campaign),
    K.campaign_closure: About("campaign.closure", True, C.campaign),
    K.campaign_reschedule: About("campaign.reschedule_request", True, C.campaign),
    K.campaign_text: About(None, True, C.campaign),
    # the waiting room: a patient checked in hears when their turn is near, then that it came
    K.turn_near: About("arrival.turn_near", True, C.waiting_room),
    K.your_turn: About("arrival.your_turn", True, C.waiting_room),
}


def recovery_step(step: int | str) -> MessageKind:
    """The kind one step of the no-show sequence is sent as (each has its own template)."""
    return MessageKind(f"{MessageKind.no_show}_{step}")


# A kind the clinic has no approved template of its own for goes out, outside the 24-hour
# window, as the template of the kind it stands in for (a reminder that asks again is
# better than none).
STAND_INS = {MessageKind.reminder_confirmed: MessageKind.reminder}


def template_kinds(kind: str) -> tuple[str, ...]:
    """The kinds whose approved template may carry a message of `kind`, its own first."""
    stand_in = STAND_INS.get(MessageKind(kind)) if kind in TABLE else None
    return (kind,) if stand_in is None else (kind, stand_in)


# What a campaign may send: its ready-made kinds, then the desk's own text.
CAMPAIGN_KINDS = tuple(kind for kind in MessageKind if kind.category == Category.campaign)
# Campaign messages a reply may answer by moving or cancelling their appointment.
CAMPAIGN_QUESTIONS = frozenset({MessageKind.campaign_reschedule, MessageKind.campaign_closure})

# About one appointment: they (and their buttons) stand while it stands where it was.
ABOUT_AN_APPOINTMENT = frozenset(
    {
        MessageKind.reminder,
        MessageKind.reminder_confirmed,
        MessageKind.confirmation,
        *CAMPAIGN_KINDS,
    }
)
# Answers to what the patient wrote, or staff writing by hand to a paused patient: always
# sent, as text (the patient is waiting for them).
ANSWERS = frozenset(kind for kind in MessageKind if not kind.business_initiated)
# Business-initiated kinds an approved template can stand in for once the window has closed.
WITH_TEMPLATES = tuple(
    kind for kind in MessageKind if kind.business_initiated and kind.template is not None
)
