"""The actions a Rasa assistant calls: the catalog, free times, the booking form's checks,
booking, and an appointment by code and phone. Each reads the tracker, asks the agenda
(in a worker thread: the store is not async), says the agenda's text in the tracker's
language and returns rasa-sdk's events."""

import asyncio
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from rasa_actions.tracker import (
    FORM,
    SLOTS,
    Context,
    clinic_of,
    language_of,
    latest_text,
    slot,
    slot_events,
    text,
)
from usecases.assistant import ANY, Booking, Said, read_time_id

# The form's slots, each with the Turnero name of the answer it holds.
FIELDS = {
    SLOTS[field]: field
    for field in ("service", "professional", "day", "time", "name", "phone", "dni", "insurance")
}


def form_so_far(tracker: Tracker) -> dict[str, object]:
    """The answers a time is read against: the service, professional, day and the times
    offered last."""
    return {name: slot(tracker, name) for name in ("service", "professional", "day", "times")}


class TurneroAction(Action):
    """An action answered by one call to the agenda (`answer`)."""

    action_name = ""

    def __init__(self, context: Context) -> None:
        self.context = context

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = await asyncio.to_thread(self._answer, tracker)
        if said.text:
            dispatcher.utter_message(text=said.text)
        return [*slot_events(said), *self.after(said)]

    def _answer(self, tracker: Tracker) -> Said:
        clinic_id = clinic_of(tracker, self.context)
        return self.answer(tracker, clinic_id, language_of(tracker, self.context, clinic_id))

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        raise NotImplementedError

    def after(self, said: Said) -> list[EventType]:
        """Events that follow the answer's slots (none unless an action says so)."""
        return []


class ListServices(TurneroAction):
    action_name = "action_turnero_services"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        return self.context.agenda.services(clinic_id, language)


class ListProfessionals(TurneroAction):
    """The professionals of the service in the `service` slot (its id or name)."""

    action_name = "action_turnero_professionals"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        return self.context.agenda.professionals(clinic_id, slot(tracker, "service"), language)


class FindTimes(TurneroAction):
    """Free times of the service, with the professional chosen (or anyone), on the day the
    latest message names in free text ("el martes a la tarde"), or else the `day` slot's."""

    action_name = "action_turnero_find_times"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        return self.context.agenda.find_times(
            clinic_id,
            slot(tracker, "service"),
            slot(tracker, "professional"),
            latest_text(tracker),
            language,
            otherwise=text(tracker, "day"),
        )


class Book(TurneroAction):
    """Book the form's answers. A time taken meanwhile: the times still free are offered
    and the form asks the time again."""

    action_name = "action_turnero_book"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        booking = Booking(
            service=text(tracker, "service"),
            time=text(tracker, "time"),
            name=text(tracker, "name"),
            phone=text(tracker, "phone"),
            dni=text(tracker, "dni") or None,
            insurance=text(tracker, "insurance") or None,
            professional=text(tracker, "professional") or ANY,
        )
        return self.context.agenda.book(clinic_id, booking, language)

    def after(self, said: Said) -> list[EventType]:
        asked_again = any(value is None for value in said.values.values())
        return [FollowupAction(FORM)] if asked_again else []


class LookUp(TurneroAction):
    """The appointment of the `code` slot, if the `phone` slot's patient holds it."""

    action_name = "action_turnero_look_up"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        code, phone = text(tracker, "code"), text(tracker, "phone")
        return self.context.agenda.look_up(clinic_id, code, phone, language)


class Confirm(TurneroAction):
    action_name = "action_turnero_confirm"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        code, phone = text(tracker, "code"), text(tracker, "phone")
        return self.context.agenda.confirm(clinic_id, code, phone, language)


class Cancel(TurneroAction):
    action_name = "action_turnero_cancel"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        code, phone = text(tracker, "code"), text(tracker, "phone")
        return self.context.agenda.cancel(clinic_id, code, phone, language)


class Reschedule(TurneroAction):
    """Move the appointment of `code` to the time the `time` slot holds (one offered by
    `action_turnero_find_times`)."""

    action_name = "action_turnero_reschedule"

    def answer(self, tracker: Tracker, clinic_id: int | None, language: str) -> Said:
        agenda = self.context.agenda
        wanted = text(tracker, "time") or latest_text(tracker)
        if read_time_id(wanted) is None:  # "the 2nd", "10:30": one of the times offered
            checked = agenda.check(clinic_id, "time", wanted, form_so_far(tracker), language)
            if not checked.ok:
                return checked
            wanted = str(checked.values["time"])
        code, phone = text(tracker, "code"), text(tracker, "phone")
        return agenda.reschedule(clinic_id, code, phone, wanted, language)


class ValidateBookingForm(FormValidationAction):
    """Each answer of `turnero_booking_form` checked as the WhatsApp flow checks it, with
    its error texts: a value refused is set to None and the form asks again."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def name(self) -> str:
        return f"validate_{FORM}"

    async def _check(
        self, field: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        said = await asyncio.to_thread(self._answer, field, value, tracker)
        if said.text:
            dispatcher.utter_message(text=said.text)
        return {SLOTS[k]: v for k, v in said.values.items() if k in SLOTS}

    def _answer(self, field: str, value: Any, tracker: Tracker) -> Said:
        clinic_id = clinic_of(tracker, self.context)
        language = language_of(tracker, self.context, clinic_id)
        return self.context.agenda.check(clinic_id, field, value, form_so_far(tracker), language)

    def __getattr__(self, name: str) -> Any:
        """`validate_<slot>`, the method rasa-sdk looks up for each slot of the form: every
        one checks its answer through the agenda (the slot's Turnero name: `FIELDS`)."""
        field = FIELDS.get(name.removeprefix("validate_")) if name.startswith("validate_") else None
        if field is None:
            raise AttributeError(name)

        async def validate(
            value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
        ) -> dict[str, Any]:
            return await self._check(field, value, dispatcher, tracker)

        return validate


ACTIONS = (ListServices, ListProfessionals, FindTimes, Book, LookUp, Confirm, Cancel, Reschedule)


def actions(context: Context) -> list[Action]:
    """Every action of the server, sharing one context."""
    return [*(kind(context) for kind in ACTIONS), ValidateBookingForm(context)]
