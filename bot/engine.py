"""The dialogue engine: `step(conversation, inbound, view) -> Turn`, a pure function.

It reads the flow file, decides the replies and the effects, and returns the next state;
whoever calls it sends, saves and books. Commands, events and timeouts are ordinary
transitions of the flow."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.details import Details, details_in
from bot.effects import (
    FROM_FLOW,
    DeclineWaitlistOffer,
    Effect,
    ScoreVisit,
    SetLanguage,
    TakeWaitlistOffer,
    Turn,
)
from bot.flow import Action, Flow, State, clinic_flow
from bot.intents import HEARD_IN_FREE_TEXT, HEARD_WHEN_IDLE, intent_of
from bot.locale import LANGUAGES
from bot.payloads import (
    ACTIONS,
    CAMPAIGN_ACTIONS,
    CANCEL,
    CONFIRM,
    OFFER_ANSWERS,
    PASS,
    RESCHEDULE,
    SCORES,
    TAKE,
    read_action,
    read_check_in,
    read_offer_answer,
    reminder_appointment,
)
from bot.payloads import read_score as read_score_button
from bot.questions import (
    CHOICES,
    GONE,
    READINGS,
    Form,
    Reading,
    day_options,
    is_open,
    slots,
    time_options,
    today,
    without_manners,
)
from bot.text import match_choice, normalize, option_number
from bot.types import (
    AppointmentSummary,
    BookingDraft,
    ClinicView,
    ConversationState,
    Inbound,
    Label,
    Option,
    Reply,
)
from bot.vocabulary import words, words_any
from bot.when import PARTS, names_a_day, read_when

_CODE = re.compile(r"[A-Z2-9]{6}")
# Commands that win over everything else (a reminder reply, a timed-out question): a
# patient who writes "BAJA" is opted out wherever the conversation stood.
FIRST_COMMANDS = ("opt_out", "opt_in")
# Choices where "lo antes posible" is their first option (a professional: first_available).
SOONEST_FIRST = ("days", "times")
UNKNOWN_FACT = "faq.unknown"  # said instead of an answer whose facts the clinic never gave


def step(conv: ConversationState, inbound: Inbound, view: ClinicView) -> Turn:
    """Advance one conversation by one inbound message or event, in the clinic's own
    version of its flow (optional steps it switched off are passed over)."""
    flow = clinic_flow(conv.flow, view.clinic.skipped_steps.get(conv.flow, frozenset()))
    run = _Run(conv.copy(), view, flow)
    if run.conv.state not in flow.states:  # saved under an older version of the flow
        run.conv.state, run.conv.history = flow.idle, []
    run.handle(inbound)
    return Turn(run.replies, run.effects, run.conv)


@dataclass
class _Run:
    conv: ConversationState
    view: ClinicView
    flow: Flow
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    said: str = ""  # the patient's words, normalized

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, inbound: Inbound) -> None:
        if inbound.event:
            self.act(self.flow.events[inbound.event], inbound.data)
            return
        self.said = normalize(inbound.text)
        self.notice_language()
        if first := first_command(inbound):
            self.act(self.flow.commands[first])
        elif inbound.stale:  # never applied, whatever it names
            self.answer_stale(inbound)
        elif (
            self.answer_check_in(inbound)
            or self.answer_offer(inbound)
            or self.answer_campaign(inbound)
            or self.answer_reminder(inbound)
            or self.answer_survey(inbound)
        ):
            pass
        elif self.timed_out():
            self.act(self.flow.events["timeout"])
        elif inbound.media_count and not inbound.text.strip() and not inbound.payload:
            self.say("booking.media_unsupported")
            self.ask_again()
        elif self.switch_language(inbound):
            pass
        elif command := self.command(inbound) or self.intent(inbound):
            self.act(self.flow.commands[command], heard=inbound)
        elif appointment := self.appointment_by_code(inbound):
            self.manage(appointment)
        else:
            self.answer(self.state, inbound)
        self.conv.last_inbound_at = self.view.now.isoformat()

    @property
    def state(self) -> State:
        return self.flow.states[self.conv.state]

    def command(self, inbound: Inbound) -> str | None:
        said = inbound.payload or normalize(inbound.text)
        fixed = (o for o in self.conv.options if o.replace("_", "").isalpha())
        if any(said in words_any(offered) for offered in fixed):
            return None  # it answers the question ("cancel" the appointment, not the chat)
        return next((c for c in self.flow.commands if said in words_any(c) or said == c), None)

    def intent(self, inbound: Inbound) -> str | None:
        """What the patient asks for in a sentence of their own ("quiero cancelar mi
        turno"), as a flow command; while they answer in their own words (a name, a
        comment) only the few intents heard there, and a thanks only with no question
        pending ("sí, gracias" answers it)."""
        if inbound.payload:
            return None
        intent = intent_of(inbound.text)
        if intent is None or intent not in self.flow.commands:
            return None
        if intent in HEARD_WHEN_IDLE and self.conv.state != self.flow.idle:
            return None
        state = self.state
        free_text = bool(state.ask) and not state.choose and self.reading(state).form is Form.text
        return None if free_text and intent not in HEARD_IN_FREE_TEXT else intent

    def timed_out(self) -> bool:
        if self.conv.state == self.flow.idle or not self.conv.last_inbound_at:
            return False
        last = datetime.fromisoformat(self.conv.last_inbound_at)
        return self.view.now - last > self.view.clinic.idle_timeout

    def answer_reminder(self, inbound: Inbound) -> bool:
        """A reply to a reminder: a button's payload ("confirm:12"), or a number or an
        action word written after the reminder arrived. The reminder is the last thing
        the patient saw, so it wins over whatever the conversation was doing."""
        if not self.flow.manage:
            return False
        action, appointment_id = read_action(inbound.payload)
        if action is None and not _could_be_action(inbound.text):
            return False
        if appointment_id is not None:
            upcoming = self.view.appointments.upcoming()
            appointment = next((a for a in upcoming if a.id == appointment_id), None)
            if appointment is None:  # cancelled or moved since, or not this phone's
                self.act(self.flow.events["appointment_gone"])
                return True
        else:
            appointment = self.view.appointments.reminded_since(self.last_message_at())
            if appointment is None:
                return False
        self.manage(appointment, answered=True)  # the reminder itself asked
        said = normalize(inbound.text)
        if action is None and said in words_any("yes"):
            action = CONFIRM
        self.answer_choice(self.state, Inbound(text=inbound.text, payload=action))
        return True

    def last_message_at(self) -> datetime | None:
        """When the phone last wrote before this message: what the business's questions
        (reminders, campaigns, offers, surveys) must have been sent after to be answered."""
        since = self.conv.last_inbound_at
        return datetime.fromisoformat(since) if since else None

    def answer_campaign(self, inbound: Inbound) -> bool:
        """A reply to a campaign's reschedule request or closure notice, the last question
        that reached the phone after its previous message: "1" or words of moving start
        rescheduling the appointment it was about, "2" or words of cancelling ask to
        cancel it. Its buttons name the appointment and are read as a reminder's."""
        if not self.flow.manage or inbound.payload:
            return False
        action = _campaign_action(inbound.text)
        if action is None:
            return False
        appointment = self.view.appointments.campaign_asked_since(self.last_message_at())
        if appointment is None:
            return False
        self.manage(appointment, answered=True)  # the campaign's message itself asked
        self.answer_choice(self.state, Inbound(text="", payload=action))
        return True

    def answer_check_in(self, inbound: Inbound) -> bool:
        """A tap on the day's reminder's "I'm here" ("check_in:12"): that appointment is
        checked in as "llegué" would check it in (the store says if it is today's)."""
        appointment_id = read_check_in(inbound.payload)
        arrival = self.flow.commands.get("check_in")
        if appointment_id is None or arrival is None or not arrival.next:
            return False
        self.conv.draft, self.conv.history = BookingDraft(appointment=appointment_id), []
        self.enter(arrival.next)
        return True

    def answer_offer(self, inbound: Inbound) -> bool:
        """A reply to a waitlist offer: "1" / yes takes the slot, "2" / no lets it go (or
        a button "take:<offer>" / "pass:<offer>"). Only when an offer reached the phone
        after its previous message; whether it is still open the store decides."""
        answer, offer_id = read_offer_answer(inbound.payload)
        if answer is None:
            said = normalize(inbound.text)
            number = option_number(said, len(OFFER_ANSWERS))
            if number is not None:
                answer = OFFER_ANSWERS[number]
            elif said in words_any("yes"):
                answer = TAKE
            elif said in words_any("no"):
                answer = PASS
            else:
                return False
        if offer_id is None:
            offer = self.view.waitlist.offered_since(self.last_message_at())
            if offer is None:
                return False
            offer_id = offer.id
        self.conv.draft, self.conv.history = BookingDraft(), []
        answered = TakeWaitlistOffer if answer == TAKE else DeclineWaitlistOffer
        self.effects.append(answered(offer_id))
        return True

    def answer_survey(self, inbound: Inbound) -> bool:
        """A score answering the survey question sent after the patient's previous
        message: a number, a word ("excelente", "malo") or a button ("score:4"). The
        store is asked only when the message could be a score."""
        score = read_score(inbound)
        if score is None:
            return False
        appointment = self.view.appointments.surveyed_since(self.last_message_at())
        if appointment is None:
            return False
        self.conv.draft = BookingDraft(appointment=appointment)
        self.conv.history = []
        self.effects.append(ScoreVisit(appointment, score))
        return True

    def answer_stale(self, inbound: Inbound) -> None:
        """A tap on an earlier message: never applied. A reminder's button is about an
        appointment that has changed since (or is not this phone's); any other button
        answers an old question, so the current one is asked again."""
        if reminder_appointment(inbound.payload) is not None:
            self.act(self.flow.events["appointment_gone"])
        elif self.timed_out():
            self.act(self.flow.events["timeout"])
        elif self.state.ask:
            self.say("booking.stale_tap")
            self.ask_again()
        else:
            self.say("booking.stale_tap_idle")

    def appointment_by_code(self, inbound: Inbound) -> AppointmentSummary | None:
        """An appointment's confirmation code written when no question is pending."""
        code = inbound.text.strip().upper()
        if self.conv.state not in (self.flow.idle, "appointments") or not _CODE.fullmatch(code):
            return None
        return next((a for a in self.view.appointments.upcoming() if a.code == code), None)

    def manage(self, appointment: AppointmentSummary, *, answered: bool = False) -> None:
        """Turn to one of the patient's appointments and ask what to do with it; when the
        patient has `answered` already (a reply to its reminder), without asking again."""
        self.conv.draft = BookingDraft(
            appointment=appointment.id,
            service=appointment.service_id,
            professional=appointment.professional_id,
        )
        self.conv.history = []
        state = self.flow.manage or self.flow.idle
        if not answered:
            self.enter(state, remember=False)
            return
        self.conv.state = state
        self.conv.options = [o.id for o in self.options(self.flow.states[state])]

    def turn_to_appointment(self, action: str) -> None:
        """ "Cancel / change my appointment": the one upcoming appointment goes straight to
        that action's question (a cancel is always asked "are you sure?"); with several,
        the one the message names ("con el dr ortiz", "el del jueves"), or else which one
        is asked first, the action kept for after; with none, that is said and the
        conversation goes on."""
        upcoming = self.view.appointments.upcoming()
        meant = upcoming if len(upcoming) < 2 else self.named_appointments(upcoming)
        if not upcoming:
            self.say(f"manage.nothing_to_{action}")
            self.ask_again()
        elif len(meant) != 1:
            self.conv.draft, self.conv.history = BookingDraft(ahead={"actions": action}), []
            self.enter("appointments", remember=False)
        else:
            self.manage(meant[0], answered=True)
            self.answer_choice(self.state, Inbound(text="", payload=action))

    def named_appointments(self, upcoming: list[AppointmentSummary]) -> list[AppointmentSummary]:
        """The appointments the message names by their professional or their day (all of
        them where it names neither)."""
        on = today(self.view)
        details = details_in(self.said, self.view, on, dayless=False)
        day = read_when(details.when, on).day if details.when else None
        tz = self.view.clinic.rules.timezone
        return [
            a
            for a in upcoming
            if details.professional in (None, a.professional_id)
            and day in (None, a.starts_at.astimezone(tz).date())
        ]

    def notice_language(self) -> None:
        """The first message sets the language when it is clearly in one: a greeting, or
        more of its everyday words than of any other language's."""
        if self.conv.language:
            return
        said = self.said
        spoken = next((lang for lang in LANGUAGES if said in words("greeting", lang)), None)
        spoken = spoken or _mostly_in(said)
        self.conv.language = spoken or self.view.clinic.default_language
        if spoken:
            self.effects.append(SetLanguage(spoken))

    def switch_language(self, inbound: Inbound) -> bool:
        """ "English", "guaraní", "español" at any time: the conversation goes on in it."""
        said = inbound.payload or normalize(inbound.text)
        asked = next((lang for lang in LANGUAGES if said in words_any(f"language_{lang}")), None)
        intent = None if inbound.payload else intent_of(inbound.text)
        if asked is None and intent and intent.startswith("language_"):
            asked = intent.removeprefix("language_")
        if asked is None:
            return False
        self.conv.language = asked
        self.effects.append(SetLanguage(asked, chosen=True))
        self.say("booking.language_changed")
        self.ask_again()
        return True

    # -- transitions ---------------------------------------------------------------------

    def act(
        self, action: Action, tags: dict[str, object] | None = None, heard: Inbound | None = None
    ) -> None:
        """Do what `action` says. `heard`: the message that asked for it, whose details
        answer the pending question after a question of the patient's is answered ("el
        lunes, si atienden" at the day question: the hours, then Monday's times)."""
        if action.when_idle and self.conv.state == self.flow.idle:
            action = action.when_idle
        if action.manage:
            self.turn_to_appointment(action.manage)
            return
        if action.do:
            self.do(action.do)
        if action.say:
            self.say(action.say, {**self.summary(), **(tags or {})})
        if action.answer:
            self.answer_question(action.answer)
        if action.clear:
            self.conv.draft = BookingDraft()
            self.conv.history = []
        if action.back:
            self.go_back()
        elif action.next:
            self.enter(action.next)
        elif action.ask_again:
            answered = heard and action.answer and self.take_details(self.state, heard)
            if not answered:
                self.ask_again()

    def enter(self, state_id: str, remember: bool = True) -> None:
        state = self.flow.states[state_id]
        if remember and self.state.ask and self.conv.state != state_id:
            self.conv.history.append(self.conv.state)
        self.conv.state = state_id
        self.conv.options = []
        if state.on_enter:
            self.act(state.on_enter)
        elif state.ask:
            self.ask(state)

    def go_back(self) -> None:
        if self.conv.history:
            self.enter(self.conv.history.pop(), remember=False)
        else:
            self.ask_again()

    def ask_again(self) -> None:
        if self.state.ask:
            self.ask(self.state)

    def ask(self, state: State) -> None:
        if self.turned_away(state) or self.take_ahead(state):
            return
        if not state.choose:
            self.say(state.ask or "", self.summary())
            return
        if CHOICES[state.choose].takes_said_time and self.take_wanted_time(state):
            return
        options = self.options(state)
        if not options:  # nothing to offer: the flow says where to go, or start over
            if state.when_empty or state.id != self.flow.start:
                self.act(state.when_empty or Action(clear=True, next=self.flow.start))
            return
        self.conv.options = [o.id for o in options]
        self.say(state.ask or "", self.summary(), tuple(options))

    def take_wanted_time(self, state: State) -> bool:
        """The time the patient already said with the day: taken if free (no question);
        otherwise said so. A part of the day with no free time that day is said too."""
        draft = self.conv.draft
        if draft.time:
            wanted, draft.time = time.fromisoformat(draft.time), None
            found = self.free_at(wanted)
            if found is not None:
                self.remember(state, found)
                self.enter(state.next_for(found.id) or self.flow.idle)
                return True
            self.say("booking.time_unavailable", {"time": wanted.strftime("%H:%M")})
        if draft.part and not time_options(self.view, draft):
            self.say("booking.part_full", {"date": draft.day_date, "part": _PART_LABEL[draft.part]})
            draft.part = None
        return False

    def say(
        self,
        template: str,
        tags: dict[str, object] | None = None,
        options: tuple[Option, ...] = (),
    ) -> None:
        # the clinic's name, phone and address may go in any text a clinic writes
        self.replies.append(Reply(template, {**self.clinic_tags(), **(tags or {})}, options))

    def answer_question(self, template: str) -> None:
        """The clinic's answer, filled with the facts it gave (prices, opening hours,
        insurances, address); where one it uses is missing, that a person will answer."""
        view = self.view
        facts = {
            "prices": tuple(
                Label("labels.price_line", (("service", s.name), ("price", s.price)))
                for s in view.services
                if s.price
            ),
            "opening_hours": view.clinic.opening_hours,
            "insurances": view.clinic.insurances or "",
        }
        tags = {**self.clinic_tags(), **facts}
        self.replies.append(Reply(template, tags, when_unknown=UNKNOWN_FACT))

    def do(self, kind: str) -> None:
        self.effects.append(FROM_FLOW[kind](self.conv))

    # -- answers -------------------------------------------------------------------------

    def answer(self, state: State, inbound: Inbound) -> None:
        if state.greet:
            self.greet()
            self.keep_ahead(self.details(inbound.text))
            self.conv.history = []
            self.enter(state.next_for(None) or self.flow.start, remember=False)
        elif state.wait:
            self.say("booking.please_wait")
        elif self.turned_away(state):
            pass
        elif state.choose:
            self.answer_choice(state, inbound)
        else:
            reading = self.reading(state)
            if reading.form is Form.yes_no:
                self.answer_yes_no(state, inbound)
            elif reading.form is Form.day:
                self.answer_day(state, inbound.text)
            else:
                self.answer_text(state, reading, inbound)

    def turned_away(self, state: State) -> bool:
        """At a clinic that books known patients only, a phone with nobody known on it
        goes where the state's `when_unknown` says (the appointment request) instead."""
        if state.when_unknown is None or self.view.people:
            return False
        if not self.view.clinic.only_known_patients:
            return False
        self.act(state.when_unknown)
        return True

    def greet(self) -> None:
        people = self.view.people
        if len(people) == 1:
            self.say(
                "booking.greeting_known", {**self.clinic_tags(), "patient_name": people[0].name}
            )
        else:
            self.say("booking.greeting", self.clinic_tags())

    def not_understood(self) -> None:
        """Say so and ask again; a "hola" in the middle is greeted, not called a mistake."""
        greeted = self.said in words_any("greeting")
        self.say("booking.greeted_again" if greeted else "booking.not_understood")
        self.ask_again()

    def answer_choice(self, state: State, inbound: Inbound) -> None:
        choice, offered = CHOICES[state.choose or ""], self.numbered(inbound)
        options: list[Option] = []
        chosen: Option | None = None
        if offered is not None and offered in state.full_also:
            chosen = Option(offered, label_key=f"labels.{offered}")
        elif offered is not None and choice.as_offered is not None:
            taken = choice.as_offered(self.view, self.conv.draft, offered)
            if taken is GONE:
                self.say("booking.slot_taken")
                self.ask_again()
                return
            chosen = taken
        if chosen is None:
            options = self.options(state)
            chosen = self.pick(options, inbound)
        if chosen is None and self.take_details(state, inbound, options):
            return
        form = self.reading(state).form
        if chosen is None and form is Form.date:
            self.answer_date(state, inbound.text)
            return
        if chosen is None and choice.from_words is not None:
            chosen = choice.from_words(inbound.text, today(self.view))
        if chosen is None and form is Form.time:
            chosen = self.pick_time(options, inbound.text)
            if chosen is None:
                return
        if chosen is None:
            self.not_understood()
            return
        self.remember(state, chosen)
        self.enter(state.next_for(chosen.id) or self.flow.idle)

    def pick(self, options: list[Option], inbound: Inbound) -> Option | None:
        by_id = {o.id: o for o in options}
        if inbound.payload in by_id:
            return by_id[inbound.payload]
        offered = self.numbered(inbound)  # (an offered day was taken before the options were read)
        if offered is not None:
            return by_id.get(offered)
        said = normalize(inbound.text)
        for option in options:  # fixed choices such as "first available" or "cancel"
            if option.label_key and said in words_any(option.id):
                return option
        for extra in self.state.full_also:
            if extra in self.conv.options and said in words_any(extra):
                return Option(extra, label_key=f"labels.{extra}")
        named = [o for o in options if o.label]
        found = match_choice(inbound.text, [o.label or "" for o in named])
        return named[found] if found is not None else None

    def numbered(self, inbound: Inbound) -> str | None:
        """The id of the offered choice a number ("2", "el 2") or a tap names."""
        if inbound.payload and inbound.payload in self.conv.options:
            return inbound.payload  # a tap, like its number
        index = option_number(inbound.text, len(self.conv.options))
        if index is None or names_a_day(inbound.text):  # "sábado 5": a date, not option 5
            return None
        return self.conv.options[index]

    def pick_time(self, options: list[Option], text: str) -> Option | None:
        """A time written instead of a number: exactly that time if it is free; a part of
        the day ("a la tarde") narrows the times offered."""
        when = read_when(text, today(self.view), bare_number_is_time=True)
        if when.days and self.back_to_day_question():  # "mejor el viernes (a las 10)"
            self.answer_date(self.state, text)
            return None
        if when.time is None and when.part:
            self.conv.draft.part = when.part
            self.ask_again()
            return None
        if when.time is None:
            self.not_understood()
            return None
        found = self.free_at(when.time)
        if found is None:
            self.say("booking.time_unavailable", {"time": when.time.strftime("%H:%M")})
            self.ask_again()
        return found

    def back_to_day_question(self) -> bool:
        """Return to the question that asked for the day, as if it were being answered
        again; False if this conversation did not come through one."""
        asked = [
            sid
            for sid in self.conv.history
            if self.flow.states[sid].read and self.reading(self.flow.states[sid]).form is Form.date
        ]
        if not asked:
            return False
        while self.conv.history and self.conv.history[-1] != asked[-1]:
            self.conv.history.pop()
        self.conv.state = self.conv.history.pop()
        return True

    def free_at(self, wanted: time) -> Option | None:
        tz = self.view.clinic.rules.timezone
        return next(
            (
                o
                for o in time_options(self.view, self.conv.draft, every=True, in_part=False)
                if o.moment and o.moment.astimezone(tz).time() == wanted
            ),
            None,
        )

    def answer_date(self, state: State, text: str) -> None:
        """A day written instead of a number; a time or part of the day said with it is
        kept for the time question."""
        first, rules, draft = today(self.view), self.view.clinic.rules, self.conv.draft
        when = read_when(text, first)
        draft.part = when.part or draft.part
        draft.time = when.time.strftime("%H:%M") if when.time else draft.time
        days = [d for d in when.days if d >= first] if len(when.days) > 1 else list(when.days)
        if not days:
            if when.time or when.part:
                self.say("booking.day_first")
                self.ask_again()
            else:
                self.not_understood()
        elif when.week:
            self.offer_days(state, days, "booking.days_that_week")
        elif len(days) > 1:
            self.offer_days(state, days, "booking.which_day")
        elif days[0] < first:
            self.say("booking.date_past", {"date": days[0]})
            self.ask_again()
        elif days[0] > rules.last_day(self.view.now):
            self.say("booking.date_beyond_horizon", {"horizon_days": rules.horizon_days})
            self.ask_again()
        elif slots(self.view, draft, days[0]):
            draft.day = days[0].isoformat()
            self.enter(state.next_for(None) or self.flow.idle)
        else:
            self.say_day_full(state, days[0])

    def offer_days(self, state: State, days: list[date], template: str) -> None:
        """The days among `days` that have space, to pick by number; the nearest days with
        space when none has."""
        last = min(days[-1], self.view.clinic.rules.last_day(self.view.now))
        with_space = [d for d in days if d <= last and slots(self.view, self.conv.draft, d)]
        if not with_space:
            self.say_day_full(state, days[0])
            return
        options = tuple(Option(d.isoformat(), day=d) for d in with_space)
        self.conv.options = [o.id for o in options]
        self.say(template, self.summary(), options)

    def say_day_full(self, state: State, day: date) -> None:
        """The nearest days with space, and the state's extras (joining the waitlist of
        the full day, which is kept as the draft's day for that). A day nobody works is
        said to be closed, and has no waitlist: no time there could ever free up."""
        nearest = day_options(self.view, self.conv.draft, first_day=day)
        if not is_open(self.view, self.conv.draft, day):
            self.conv.options = [o.id for o in nearest]
            self.say("booking.day_closed", {**self.summary(), "date": day}, tuple(nearest))
            return
        extras = [Option(extra, label_key=f"labels.{extra}") for extra in state.full_also]
        if extras:
            self.conv.draft.day = day.isoformat()
        self.conv.options = [o.id for o in nearest + extras]
        template = state.when_full.say if state.when_full else None
        self.say(
            template or "booking.no_days", {**self.summary(), "date": day}, (*nearest, *extras)
        )

    def answer_day(self, state: State, text: str) -> None:
        """Any one day within the horizon, with space or not (the day to wait for)."""
        first, rules = today(self.view), self.view.clinic.rules
        when = read_when(text, first)
        day = when.day
        if day is None:
            self.not_understood()
        elif day < first:
            self.say("booking.date_past", {"date": day})
            self.ask_again()
        elif day > rules.last_day(self.view.now):
            self.say("booking.date_beyond_horizon", {"horizon_days": rules.horizon_days})
            self.ask_again()
        else:
            self.conv.draft.day = day.isoformat()
            self.conv.draft.part = when.part or self.conv.draft.part
            self.enter(state.next_for(None) or self.flow.idle)

    def answer_yes_no(self, state: State, inbound: Inbound) -> None:
        said = inbound.payload or without_manners(normalize(inbound.text))
        if said in words_any("yes") or said == "yes":
            self.act(state.yes)  # type: ignore[arg-type]
        elif said in words_any("no") or said == "no":
            self.act(state.no)  # type: ignore[arg-type]
        elif not self.take_details(state, inbound):
            self.not_understood()

    def answer_text(self, state: State, reading: Reading, inbound: Inbound) -> None:
        value = " ".join(inbound.text.split())
        if reading.also_gives is not None:  # "Juan Pérez 4.567.890": the DNI is kept too
            value, given = reading.also_gives(value)
            self.conv.draft.ahead.update(given)
        if reading.blank(value):
            value = ""
        elif not reading.valid(value) and reading.invalid:
            self.say(reading.invalid)
            self.ask_again()
            return
        elif not value or len(value) > reading.limit:
            self.not_understood()
            return
        setattr(self.conv.draft, state.keep or state.id, value or None)
        self.enter(state.next_for(None) or self.flow.idle)

    # -- details given before their question ----------------------------------------------

    def details(self, text: str, asking: State | None = None) -> Details:
        """What `text` says of the booking, read for the question `asking` (None: the
        conversation's first message)."""
        choose = asking.choose if asking else None
        return details_in(
            text,
            self.view,
            today(self.view),
            naming=choose == "professionals",
            dayless=choose in (None, "services", "professionals"),
        )

    def keep_ahead(self, details: Details) -> None:
        """Each detail kept for its question."""
        ahead = self.conv.draft.ahead
        if details.service:
            ahead["services"] = str(details.service)
        if details.professional:
            ahead["professionals"] = str(details.professional)
        elif details.anyone or details.soonest:
            ahead["professionals"] = "first_available"
        if details.when:
            ahead["days"] = details.when

    def take_ahead(self, state: State) -> bool:
        """A detail the patient gave before `state`'s question came answers it, as if
        said now; False where there is none, or it no longer fits (a professional who
        does not offer the service chosen since)."""
        given = self.conv.draft.ahead.pop(_ahead_key(state), None)
        if given is None:
            return False
        if not state.choose:
            setattr(self.conv.draft, _ahead_key(state), given or None)
            self.enter(state.next_for(None) or self.flow.idle)
            return True
        if self.reading(state).form is Form.date:
            self.answer_date(state, given)
            return True
        chosen = next((o for o in self.options(state) if o.id == given), None)
        if chosen is None:
            return False
        self.remember(state, chosen)
        self.enter(state.next_for(chosen.id) or self.flow.idle)
        return True

    def take_details(
        self, state: State, inbound: Inbound, options: list[Option] | None = None
    ) -> bool:
        """Details in an answer the question could not read: "lo antes posible" takes the
        first of the days or times offered; the detail this question asks is taken; one
        that changes an earlier answer goes back there ("no, mejor odontología"); the rest
        wait for their questions. False where the message gives none, or no booking is
        being made (an appointment being changed is read as before). `options`: the
        question's, where they were read already."""
        if inbound.payload or not self.booking(state):
            return False
        details = self.details(inbound.text, state)
        if not details:
            return False
        first_wanted = (details.anyone or details.soonest) and not (
            details.service or details.professional or details.when
        )
        if first_wanted and state.choose in SOONEST_FIRST:
            offered = self.options(state) if options is None else options
            first = next((o for o in offered if not o.label_key), None)
            if first is None:
                return False
            self.remember(state, first)
            self.enter(state.next_for(first.id) or self.flow.idle)
            return True
        self.keep_ahead(details)
        ahead = self.conv.draft.ahead
        if _ahead_key(state) in ahead:
            self.ask(state)
            return True
        states = self.flow.states
        earlier = next((s for s in self.conv.history if _ahead_key(states[s]) in ahead), None)
        if earlier is None:  # kept for its question: said so, or the menu seems deaf
            self.say("booking.noted_for_later")
            self.ask_again()
        else:
            self.change_answer(earlier)
        return True

    def booking(self, state: State) -> bool:
        """Whether a new booking is being made: its service was asked on the way here."""
        asked = (self.flow.states[s] for s in (*self.conv.history, state.id))
        return any(s.choose == "services" for s in asked)

    def change_answer(self, target: str) -> None:
        """Back to `target`'s question for the new detail. Answers given since that do not
        hang on it (who, the name, DNI, insurance) are kept, to be taken again; the
        professional, day and time are asked again."""
        history, draft = self.conv.history, self.conv.draft
        since = history[history.index(target) + 1 :]
        del history[history.index(target) :]
        for answered in (self.flow.states[s] for s in since):
            key = _ahead_key(answered)
            if answered.choose == "people":
                draft.ahead.setdefault(key, str(draft.person or "someone_else"))
            elif not answered.choose and self.reading(answered).form is Form.text:
                draft.ahead.setdefault(key, getattr(draft, key, None) or "")
        self.enter(target, remember=False)

    # -- what the questions are ---------------------------------------------------------

    def options(self, state: State) -> list[Option]:
        found = CHOICES[state.choose or ""].options(self.view, self.conv.draft)
        if not found:
            return []
        return found + [Option(extra, label_key=f"labels.{extra}") for extra in state.also]

    def remember(self, state: State, chosen: Option) -> None:
        CHOICES[state.choose or ""].remember(self.view, self.conv.draft, chosen)

    def reading(self, state: State) -> Reading:
        return READINGS.get(state.read or "", _PLAIN_TEXT)

    # -- helpers -------------------------------------------------------------------------

    def clinic_tags(self) -> dict[str, object]:
        clinic = self.view.clinic
        return {
            "clinic_name": clinic.name,
            "clinic_phone": clinic.phone or "",
            "clinic_address": clinic.address or "",
        }

    def summary(self) -> dict[str, object]:
        """The tags every booking message may use, from what is collected so far."""
        draft, view = self.conv.draft, self.view
        tags = self.clinic_tags()
        service = view.service(draft.service)
        professional = view.professional(draft.slot_professional or draft.professional)
        person = view.person(draft.person)
        tags["service"] = service.name if service else ""
        tags["professional"] = professional.name if professional else ""
        tags["patient_name"] = person.name if person else (draft.name or "")
        tags["patient_details"] = _details(draft.dni, draft.insurance) if person is None else ""
        if draft.day_date:
            tags["date"] = draft.day_date
        if draft.slot_start:
            tags["time"] = draft.slot_start.astimezone(view.clinic.rules.timezone)
        tags["horizon_days"] = view.clinic.rules.horizon_days
        tags["preferred"] = draft.preferred or ""
        tags["comment"] = draft.comment or Label("labels.no_comment")
        tags["part"] = _PART_LABEL.get(draft.part or "", Label("labels.any_time"))
        if professional is None:
            tags["professional_or_any"] = Label("labels.any_professional")
        else:
            tags["professional_or_any"] = professional.name
        if managed := self.managed():
            local = managed.starts_at.astimezone(view.clinic.rules.timezone)
            tags.update(
                service=managed.service_name,
                professional=managed.professional_name,
                code=managed.code,
                appointment_date=local.date(),
                appointment_time=local,
            )
        return tags

    def managed(self) -> AppointmentSummary | None:
        """The appointment being confirmed, cancelled or moved, if it is still upcoming."""
        wanted = self.conv.draft.appointment
        if wanted is None:
            return None
        return next((a for a in self.view.appointments.upcoming() if a.id == wanted), None)


def _mostly_in(said: str) -> str | None:
    """The language most of the words belong to, if one clearly leads."""
    tokens = said.split()
    counts = {lang: sum(t in words("common", lang) for t in tokens) for lang in LANGUAGES}
    best = max(counts, key=lambda lang: counts[lang])
    others = [n for lang, n in counts.items() if lang != best]
    return best if counts[best] >= 2 and counts[best] > max(others) else None


_PART_LABEL = {part: Label(f"labels.part_{part}") for part in PARTS}
_PLAIN_TEXT = Reading(Form.text)  # a state that reads no declared kind keeps text as said


def _ahead_key(state: State) -> str:
    """What a question asks, as details given ahead are kept: its choice, or the draft
    field its text answer goes to."""
    return state.choose or state.keep or state.id


def first_command(inbound: Inbound) -> str | None:
    """The opt-out or opt-in command the patient wrote, if any (see `FIRST_COMMANDS`)."""
    said = inbound.payload or normalize(inbound.text)
    if not said:
        return None
    return next((c for c in FIRST_COMMANDS if said in words_any(c)), None)


def read_score(inbound: Inbound) -> int | None:
    """The 1–5 score a message gives, if it gives one: a button's "score:N", the number
    alone, or a word of `words.score_N`."""
    tapped = read_score_button(inbound.payload)
    if tapped is not None:
        return tapped
    said = normalize(inbound.text)
    if said.isdigit():
        return int(said) if int(said) in SCORES else None
    return next((n for n in SCORES if said in words_any(f"score_{n}")), None)


def _could_be_action(text: str) -> bool:
    said = normalize(text)
    if option_number(said, len(ACTIONS)) is not None:
        return True
    return any(said in words_any(word) for word in (*ACTIONS, "yes"))


# What a sentence answering a campaign's question asks for, by the flow command it names.
_CAMPAIGN_INTENTS = {"reschedule_appointment": RESCHEDULE, "cancel_appointment": CANCEL}


def _campaign_action(text: str) -> str | None:
    """The action a reply to a campaign's question names: its number, a word of the
    action ("cancelar", "cambiar"), a sentence saying it ("no puedo ir ese día"), or a
    sentence with one of its words in it ("sí, quiero cambiar")."""
    said = normalize(text)
    number = option_number(said, len(CAMPAIGN_ACTIONS))
    if number is not None:
        return CAMPAIGN_ACTIONS[number]
    named = next((a for a in CAMPAIGN_ACTIONS if said in words_any(a)), None)
    intended = named or _CAMPAIGN_INTENTS.get(intent_of(text) or "")
    if intended is not None:
        return intended
    said_words = set(said.split())  # "sí, quiero cambiar": one of the action's own words
    return next((a for a in CAMPAIGN_ACTIONS if said_words & words_any(a)), None)


def _details(dni: str | None, insurance: str | None) -> Label | str:
    """The ID number and insurance a new patient just gave, as a line of the review (or
    nothing, when both were skipped)."""
    given = tuple((k, v) for k, v in (("dni", dni), ("insurance", insurance)) if v)
    if not given:
        return ""
    return Label("labels.details_" + "_".join(k for k, _ in given), given)
