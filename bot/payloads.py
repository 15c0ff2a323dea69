"""What a business message's buttons send back when tapped — a reminder's action, a
waitlist offer's answer, a survey's score — written and read here only: "<what>:<number>"."""

from bot.numbers import read_id
from bot.types import Option

CONFIRM, CANCEL, RESCHEDULE = "confirm", "cancel", "reschedule"
ACTIONS = (CONFIRM, CANCEL, RESCHEDULE)  # a reminder's 1, 2, 3
CONFIRMED_ACTIONS = (CANCEL, RESCHEDULE)  # a confirmed appointment's reminder: 2, 3
CAMPAIGN_ACTIONS = (RESCHEDULE, CANCEL)  # a campaign's reschedule request or closure: 1, 2
TAKE, PASS = "take", "pass"
OFFER_ANSWERS = (TAKE, PASS)  # a waitlist offer's 1, 2
CHECK_IN = "check_in"  # the day's reminder's "I'm here"
SCORE = "score"
SCORES = range(1, 6)  # the survey's 1 (very poor) to 5 (excellent)


def reminder_buttons(appointment_id: int, actions: tuple[str, ...] = ACTIONS) -> tuple[Option, ...]:
    """A reminder's buttons, each naming its action and the appointment."""
    return tuple(
        Option(_payload(action, appointment_id), label_key=f"labels.{action}") for action in actions
    )


def check_in_button(appointment_id: int) -> Option:
    """The day's reminder's "I'm here" button, naming the appointment."""
    return Option(_payload(CHECK_IN, appointment_id), label_key=f"labels.{CHECK_IN}")


def offer_buttons(offer_id: int) -> tuple[Option, ...]:
    """A waitlist offer's buttons: take it or let it go, naming the offer."""
    return tuple(
        Option(_payload(answer, offer_id), label_key=f"labels.{answer}_offer")
        for answer in OFFER_ANSWERS
    )


def score_buttons() -> tuple[Option, ...]:
    """The survey question's buttons, 1 to 5."""
    return tuple(Option(_payload(SCORE, n), label_key=f"labels.score_{n}") for n in SCORES)


def read_action(payload: str | None) -> tuple[str | None, int | None]:
    """A reminder button's payload: "confirm:12" names the action and the appointment;
    a bare "confirm" names only the action."""
    action, number = _split(payload)
    if action not in ACTIONS:
        return None, None
    return action, number


def read_check_in(payload: str | None) -> int | None:
    """The appointment an "I'm here" button's payload ("check_in:12") names, if it is one."""
    what, number = _split(payload)
    return number if what == CHECK_IN else None


def reminder_appointment(payload: str | None) -> int | None:
    """The appointment any of a reminder's buttons names (an action or "I'm here")."""
    return read_action(payload)[1] or read_check_in(payload)


def read_offer_answer(payload: str | None) -> tuple[str | None, int | None]:
    """A waitlist offer button's payload: "take:7" or "pass:7"."""
    answer, offer = _split(payload)
    if answer not in OFFER_ANSWERS or offer is None:
        return None, None
    return answer, offer


def read_score(payload: str | None) -> int | None:
    """The score a survey button's payload ("score:4") gives, if it is one."""
    what, number = _split(payload)
    return number if what == SCORE and number is not None and number in SCORES else None


def _payload(what: str, number: int) -> str:
    return f"{what}:{number}"


def _split(payload: str | None) -> tuple[str, int | None]:
    """The prefix and the id; an id no table could hold is no id (the tap is then read
    like the words it carries)."""
    what, _, number = (payload or "").partition(":")
    return what, read_id(number)
