"""One inbound WhatsApp message, one transaction: keep it (once), lock the conversation,
step the engine, apply what it decided, queue the replies, commit."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.choices import offer
from bot.effects import (
    Book,
    CancelAppointment,
    CommentOnVisit,
    ConfirmAppointment,
    OptIn,
    OptOut,
    PauseBot,
    RequestAppointment,
    RescheduleAppointment,
    ScoreVisit,
    SetLanguage,
    Turn,
)
from bot.engine import first_command, step
from bot.payloads import reminder_appointment
from bot.render import render_all
from bot.types import ClinicView, ConversationState, Inbound, Label, Reply
from bot.web_proof import proof_in
from store.advance import Advanced, advance, conversation_and_people, start
from store.appointments import (
    Actor,
    NotChangeable,
    booked,
    cancel,
    confirm,
    own_appointment,
    reschedule,
)
from store.booking import NewPatient, SlotTaken, book, resolve_patient
from store.conversations import (
    LockedConversation,
    PersonOnPhone,
    clinic_by_number,
    inbound_row,
    lock_conversation,
    mark_not_handled,
    pause_bot,
    people_on_phone,
    record_inbound,
    remember_language,
    save_conversation,
    set_opted_out,
)
from store.db import reading, transaction
from store.driver import Db, raw
from store.message_kinds import MessageKind
from store.models import Appointment, Clinic, Service, WebBooking
from store.outbox import insert_rows, reply_key
from store.prompts import LastAsked
from store.requests import NewRequest
from store.requests import create as create_request
from store.surveys import LOW_SCORE, record_comment, record_score
from store.takeover import resume_if_quiet
from store.taps import tap_is_stale
from store.web_bookings import came_late, language_of, prove
from usecases.applying import Applied, Applying
from usecases.arrival_effects import ARRIVAL_HANDLERS
from usecases.clinic_view import Catalog, CatalogCache, build_view
from usecases.replies import OutboxSink, Outgoing, ReplySink
from usecases.waitlist_effects import WAITLIST_HANDLERS

log = logging.getLogger(__name__)

LinkMaker = Callable[[int], str]
PATIENT = Actor("patient", "whatsapp")
NEW_CONVERSATION = LockedConversation(0, "{}", needs_staff=False)  # a phone's first message


class Outcome(StrEnum):
    handled = "handled"
    duplicate = "duplicate"
    unknown_clinic = "unknown_clinic"
    for_staff = "for_staff"  # the bot is paused for this patient: staff will read it
    failed = "failed"  # the bot broke on it: kept and flagged for staff


@dataclass(frozen=True)
class ReceivedMessage:
    """A message Twilio posted, as the webhook read it from the form: what the engine reads
    of it is a `bot.types.Inbound`, the row it is kept as a `store.models.InboundMessage`."""

    message_sid: str
    from_phone: str
    to_phone: str
    body: str = ""
    num_media: int = 0
    payload: str | None = None
    replied_sid: str | None = None  # the outbound message a tap answers
    fields: dict[str, str] = field(default_factory=dict)


def handle_inbound(
    engine: Engine,
    message: ReceivedMessage,
    now: datetime,
    *,
    link_for: LinkMaker,
    catalogs: CatalogCache | None = None,
    sink: ReplySink | None = None,
) -> Outcome:
    """`link_for(appointment_id)` gives an appointment's self-service link; the replies
    go to `sink` (the outbox unless the caller gives another)."""
    catalogs = catalogs or CatalogCache(seconds=0)
    sink = sink or OutboxSink()
    try:
        moved, reply = None, None
        if proof_in(message.body) is None:  # a booking page's code takes the full path
            moved, reply = _move_along(engine, message, now, catalogs, sink)
        if moved is None:
            with transaction(engine) as session:
                moved, reply = _handle(session, message, now, catalogs, link_for, sink)
        if reply is not None:
            sink.kept(reply)
        return moved
    except Exception:
        log.exception("inbound %s could not be processed; kept for staff", message.message_sid)
        return _keep_for_staff(engine, message, now)


def _move_along(
    engine: Engine,
    message: ReceivedMessage,
    now: datetime,
    catalogs: CatalogCache,
    sink: ReplySink,
) -> tuple[Outcome | None, Outgoing | None]:
    """Most messages only move their conversation along: the engine decides no booking,
    change, pause or opt-out. Such a message is decided on what is committed, outside
    any transaction (so on SQLite beside the one writer), then kept with its reply and
    the new state at once, on condition that the conversation still stands as read
    (`store.advance`). A new phone's first message starts its conversation so, the
    language heard in it kept with the phone. None: the message needs the full path (a
    paused bot, an effect, another message of the phone meanwhile)."""
    with raw(engine) as db, reading(engine) as session:
        catalog = catalogs.get(session, message.to_phone, db)
        if catalog is None:
            return None, None
        conversation, people, last_asked = conversation_and_people(
            db, catalog.info.id, message.from_phone
        )
        new_phone = conversation is None
        if conversation is None:  # what it was asked, if anything: read if the engine asks
            conversation, asked = NEW_CONVERSATION, None
        elif not people or any(p.bot_paused for p in people):
            return None, None
        else:
            asked = last_asked
        turn, _ = _turn(session, catalog, message, conversation, people, now, db, asked)
        heard = [e.language for e in turn.effects if isinstance(e, SetLanguage)]
        if len(heard) < len(turn.effects) or (heard and not new_phone):
            return None, None
        reply = _outgoing(catalog, message, turn.replies, turn.state, None)
        inbound = _inbound_row(message, catalog.clinic, now)
        state = json.dumps(turn.state.to_dict())
        replies = sink.rows(reply, now) if reply else []
        if new_phone:
            phone, language = message.from_phone, heard[-1] if heard else None
            advanced = start(
                db,
                inbound=inbound,
                clinic_id=catalog.info.id,
                phone=phone,
                language=language,
                state=state,
                replies=replies,
                now=now,
            )
        else:
            advanced = advance(
                db, inbound=inbound, was=conversation, state=state, replies=replies, now=now
            )
    if advanced is Advanced.moved:
        return None, None
    if advanced is Advanced.duplicate:
        return Outcome.duplicate, None
    return Outcome.handled, reply


def _handle(
    session: Session,
    message: ReceivedMessage,
    now: datetime,
    catalogs: CatalogCache,
    link_for: LinkMaker,
    sink: ReplySink,
) -> tuple[Outcome, Outgoing | None]:
    catalog = catalogs.get(session, message.to_phone)
    clinic = catalog.clinic if catalog else None
    inbound_id = _record(session, message, clinic, now)
    if inbound_id is None:
        return Outcome.duplicate, None
    if catalog is None or clinic is None:
        return Outcome.unknown_clinic, None
    conversation = lock_conversation(session, clinic.id or 0, message.from_phone, now)
    people = people_on_phone(session, clinic.id or 0, message.from_phone, now)
    if any(p.bot_paused for p in people) and resume_if_quiet(
        session, clinic, message.from_phone, conversation.taken_over_at, now
    ):
        people = [replace(p, bot_paused=False) for p in people]
    proved = _proved(session, catalog, message, now, sink)
    if proved is not None:  # the phone wrote: its 24-hour window opens
        save_conversation(
            session,
            conversation.id,
            state=conversation.state,
            needs_staff=conversation.needs_staff,
            now=now,
        )
        return Outcome.handled, proved
    # A paused bot leaves the message to staff, except an opt-out or opt-in, which is
    # honoured (and confirmed) at once. An opted-out patient who writes is answered as
    # usual: a reply is not business-initiated.
    if any(p.bot_paused for p in people) and first_command(_inbound(message)) is None:
        mark_not_handled(session, inbound_id)
        save_conversation(
            session, conversation.id, state=conversation.state, needs_staff=True, now=now
        )
        return Outcome.for_staff, None
    turn, view = _turn(session, catalog, message, conversation, people, now)
    opted_out = any(p.opted_out for p in people)
    replies, state, appointment, paused = _apply(
        session,
        clinic,
        message.from_phone,
        turn,
        view,
        lambda: build_view(session, catalog, message.from_phone, people, now),
        link_for,
        opted_out,
    )
    reply = _outgoing(catalog, message, replies, state, appointment)
    if reply is not None:
        insert_rows(session, sink.rows(reply, now))
    save_conversation(
        session,
        conversation.id,
        state=json.dumps(state.to_dict()),
        needs_staff=conversation.needs_staff or paused,
        now=now,
    )
    return Outcome.handled, reply


def _proved(
    session: Session, catalog: Catalog, message: ReceivedMessage, now: datetime, sink: ReplySink
) -> Outgoing | None:
    """A message bringing the booking page's code from the phone the page was given:
    what the page asked is carried out (`store.web_bookings.prove`) and the patient told;
    a booking's own confirmation follows through the notification rules. None when the
    message proves nothing: it goes on to the bot like any other."""
    proof = proof_in(message.body)
    if proof is None:
        return None
    clinic = catalog.clinic
    done = prove(session, clinic, message.from_phone, proof, now)
    if done is not None:
        replies = _proved_replies(session, catalog, done)
    else:
        done = came_late(session, clinic.id or 0, message.from_phone, proof)
        if done is None:
            return None
        replies = [Reply("booking.web_code_expired")]
    state = ConversationState(language=language_of(done))
    reply = _outgoing(catalog, message, replies, state, None)
    if reply is not None:
        insert_rows(session, sink.rows(reply, now))
    return reply


def _proved_replies(session: Session, catalog: Catalog, done: WebBooking) -> list[Reply]:
    """What the patient hears at once: a booking's confirmation comes as every booking's
    does, a place on the waitlist or a request is said here."""
    if done.kind == "book":
        return []
    if done.kind == "request":
        return [Reply("requests.saved", {"clinic_name": catalog.clinic.name})]
    details = json.loads(done.details)
    service = session.get(Service, int(details["service_id"]))
    tags = {
        "service": service.name if service else "",
        "date": date.fromisoformat(details["day"]),
        "part": Label("labels.any_time"),
    }
    return [Reply("waitlist.joined", tags)]


def _inbound(message: ReceivedMessage) -> Inbound:
    return Inbound(text=message.body, payload=message.payload, media_count=message.num_media)


def _turn(
    session: Session,
    catalog: Catalog,
    message: ReceivedMessage,
    conversation: LockedConversation,
    people: list[PersonOnPhone],
    now: datetime,
    hot: Db | None = None,
    last_asked: LastAsked | None = None,
) -> tuple[Turn, ClinicView]:
    """What the engine makes of the message, from what the store holds now (reads only),
    and the view it was decided on (`hot`, `last_asked`: see `build_view`)."""
    state = ConversationState.from_dict(json.loads(conversation.state))
    view = build_view(session, catalog, message.from_phone, people, now, hot, last_asked)
    inbound = replace(_inbound(message), stale=_stale_tap(session, catalog.clinic, message))
    return step(state, inbound, view), view


def _stale_tap(session: Session, clinic: Clinic, message: ReceivedMessage) -> bool:
    """Whether a tap answers a message that no longer stands (read only for taps)."""
    if message.replied_sid is None or message.payload is None:
        return False
    return tap_is_stale(
        session,
        clinic_id=clinic.id or 0,
        phone=message.from_phone,
        replied_sid=message.replied_sid,
        appointment_id=reminder_appointment(message.payload),
    )


def _record(db: Db, message: ReceivedMessage, clinic: Clinic | None, now: datetime) -> int | None:
    return record_inbound(db, _inbound_row(message, clinic, now))


def _inbound_row(message: ReceivedMessage, clinic: Clinic | None, now: datetime) -> dict[str, Any]:
    return inbound_row(
        message_sid=message.message_sid,
        clinic_id=clinic.id if clinic else None,
        from_phone=message.from_phone,
        to_phone=message.to_phone,
        body=message.body,
        num_media=message.num_media,
        fields=message.fields,
        now=now,
    )


def _apply(
    session: Session,
    clinic: Clinic,
    phone: str,
    turn: Turn,
    view: ClinicView,
    read_again: Callable[[], ClinicView],
    link_for: LinkMaker,
    opted_out: bool = False,
) -> tuple[list[Reply], ConversationState, Appointment | None, bool]:
    """Carry out the turn's effects, each through its handler; what came of a booking or a
    change goes back to the engine as an event, so what the patient hears about it comes
    from the flow too. Also says whether staff should look (the bot was paused, or a visit
    got a low score). The engine hears each event on a view `read_again` after the effect:
    what was read before (a day's free time, the phone's appointments) may have changed —
    a booking lost to another committed meanwhile must not offer that time again."""
    replies, state, appointment, needs_staff = list(turn.replies), turn.state, None, False
    where = Applying(session, clinic, clinic.id or 0, phone, view, link_for, opted_out)
    for effect in turn.effects:
        applied = HANDLERS[type(effect)](where, effect)
        appointment = applied.appointment or appointment
        needs_staff = needs_staff or applied.needs_staff
        if applied.event is not None:
            follow = step(state, applied.event, read_again())
            replies += follow.replies
            state = follow.state
    return replies, state, appointment, needs_staff


def _set_language(where: Applying, effect: SetLanguage) -> Applied:
    remember_language(
        where.session, where.clinic_id, where.phone, effect.language, chosen=effect.chosen
    )
    return Applied()


def _pause_bot(where: Applying, effect: PauseBot) -> Applied:
    pause_bot(where.session, where.clinic_id, where.phone, where.view.now)
    return Applied(needs_staff=True)


def _book(where: Applying, effect: Book) -> Applied:
    appointment = _booked(where, effect)
    if appointment is None:
        return Applied(Inbound(event="slot_taken"))
    tags = {"code": appointment.code, "link": where.link_for(appointment.id or 0)}
    return Applied(Inbound(event="booked", data=tags), appointment)


def _request(where: Applying, effect: RequestAppointment) -> Applied:
    """Keep an appointment request for staff (one insert; an open one from the phone is
    replaced). A service the clinic stopped offering meanwhile is asked again."""
    service = where.view.service(effect.service_id)
    if service is None:
        return Applied(Inbound(event="request_service_gone"))
    replaced = create_request(
        where.session,
        where.clinic_id,
        NewRequest(
            phone=where.phone,
            patient_name=effect.name,
            service_id=service.id,
            preferred=effect.preferred,
            comment=effect.comment,
            language=effect.language,
        ),
        where.view.now,
    )
    return Applied(Inbound(event="request_replaced" if replaced else "request_saved"))


def _score(where: Applying, effect: ScoreVisit) -> Applied:
    """Keep a survey score; a low one asks staff to call the patient."""
    now = where.view.now
    record_score(where.session, where.clinic_id, effect.appointment_id, effect.score, now)
    low = effect.score <= LOW_SCORE
    return Applied(Inbound(event="survey_scored_low" if low else "survey_scored"), needs_staff=low)


def _comment(where: Applying, effect: CommentOnVisit) -> Applied:
    record_comment(
        where.session, where.clinic_id, effect.appointment_id, effect.comment, where.view.now
    )
    return Applied(Inbound(event="survey_commented"))


def _opt_out(where: Applying, effect: OptOut) -> Applied:
    """Opt everyone on the phone out of business-initiated messages."""
    set_opted_out(where.session, where.clinic_id, where.phone, True, where.view.now)
    return Applied(Inbound(event="opted_out"))


def _opt_in(where: Applying, effect: OptIn) -> Applied:
    """Opt the phone back in; "start" from a phone that never opted out is just the menu."""
    if not where.opted_out:
        return Applied(Inbound(event="already_opted_in"))
    set_opted_out(where.session, where.clinic_id, where.phone, False, where.view.now)
    return Applied(Inbound(event="opted_in"))


def _confirm(where: Applying, effect: ConfirmAppointment) -> Applied:
    found = _own(where, effect.appointment_id)
    if found is None:
        return Applied(Inbound(event="appointment_gone"))
    try:
        changed = confirm(where.session, found, PATIENT, where.view.now)
    except NotChangeable:
        return Applied(Inbound(event="appointment_unchangeable"))
    return Applied(
        Inbound(event="appointment_confirmed" if changed else "appointment_already_confirmed")
    )


def _cancel(where: Applying, effect: CancelAppointment) -> Applied:
    found = _own(where, effect.appointment_id)
    if found is None:
        return Applied(Inbound(event="appointment_gone"))
    try:
        cancel(where.session, found, PATIENT, where.view.now)
    except NotChangeable:
        return Applied(Inbound(event="appointment_unchangeable"))
    return Applied(Inbound(event="appointment_cancelled"))


def _reschedule(where: Applying, effect: RescheduleAppointment) -> Applied:
    found = _own(where, effect.appointment_id)
    if found is None:
        return Applied(Inbound(event="appointment_gone"))
    if not _offered(where.view, found.service_id, effect.professional_id, effect.starts_at):
        return Applied(Inbound(event="move_slot_taken"))
    try:
        reschedule(
            where.session,
            found,
            starts_at=effect.starts_at,
            professional_id=effect.professional_id,
            actor=PATIENT,
            now=where.view.now,
        )
    except NotChangeable:
        return Applied(Inbound(event="appointment_unchangeable"))
    except SlotTaken:
        return Applied(Inbound(event="move_slot_taken"))
    return Applied(Inbound(event="appointment_moved"))


def _own(where: Applying, appointment_id: int | None) -> Appointment | None:
    """One of the phone's own appointments (None: gone, or never the phone's)."""
    return own_appointment(where.session, where.clinic_id, where.phone, appointment_id)


def _offered(view: ClinicView, service_id: int, professional_id: int, starts_at: datetime) -> bool:
    """Whether the time is one the availability engine offers now (never trust the
    conversation's copy: it may be minutes old)."""
    service = view.service(service_id)
    return service is not None and view.availability.is_free(service, professional_id, starts_at)


def _booked(where: Applying, effect: Book) -> Appointment | None:
    """The appointment booked, or None when the time was taken or the service is gone."""
    session, clinic, view = where.session, where.clinic, where.view
    service = session.get(Service, effect.service_id) if effect.service_id else None
    if service is None or service.clinic_id != clinic.id:
        return None
    if not _offered(view, service.id or 0, effect.professional_id, effect.starts_at):
        return None
    new = (
        None
        if effect.patient_id
        else NewPatient(effect.name, effect.dni, effect.insurance, effect.language)
    )
    patient = resolve_patient(session, where.clinic_id, where.phone, effect.patient_id, new)
    try:
        appointment = book(
            session,
            clinic_id=where.clinic_id,
            patient=patient,
            service=service,
            professional_id=effect.professional_id,
            starts_at=effect.starts_at,
            source_channel="whatsapp",
            now=view.now,
        )
    except SlotTaken:
        return None
    booked(session, clinic, appointment, PATIENT, view.now)
    return appointment


# Each effect the engine may ask for, and what carries it out.
HANDLERS: dict[type, Callable[[Applying, Any], Applied]] = {
    SetLanguage: _set_language,
    PauseBot: _pause_bot,
    OptOut: _opt_out,
    OptIn: _opt_in,
    Book: _book,
    ConfirmAppointment: _confirm,
    CancelAppointment: _cancel,
    RescheduleAppointment: _reschedule,
    ScoreVisit: _score,
    CommentOnVisit: _comment,
    RequestAppointment: _request,
    **WAITLIST_HANDLERS,
    **ARRIVAL_HANDLERS,
}


def _outgoing(
    catalog: Catalog,
    message: ReceivedMessage,
    replies: list[Reply],
    state: ConversationState,
    appointment: Appointment | None,
) -> Outgoing | None:
    """The turn's replies rendered as one message (None: the turn says nothing)."""
    if not replies:
        return None
    clinic = catalog.clinic
    language = state.language or clinic.default_language
    own = catalog.own_texts(language)
    body = render_all(replies, language, own)
    offered = offer(replies, language, own) if clinic.interactive_messages else None
    kind = MessageKind.reply
    key = reply_key(message.message_sid)
    if appointment is not None:
        kind = MessageKind.booking_confirmation
        key = f"appointment:{appointment.id}:{kind}"
    return Outgoing(
        clinic_id=clinic.id or 0,
        from_phone=clinic.whatsapp_number,
        to_phone=message.from_phone,
        body=body,
        language=language,
        kind=kind,
        idempotency_key=key,
        appointment_id=appointment.id if appointment else None,
        options=json.dumps(offered.to_json(), ensure_ascii=False) if offered else None,
    )


def _keep_for_staff(engine: Engine, message: ReceivedMessage, now: datetime) -> Outcome:
    """The message is kept and staff are told, even when the bot failed on it."""
    with transaction(engine) as session:
        clinic = clinic_by_number(session, message.to_phone)
        inbound_id = _record(session, message, clinic, now)
        if inbound_id is None:
            return Outcome.duplicate
        mark_not_handled(session, inbound_id)
        if clinic is not None:
            conversation = lock_conversation(session, clinic.id or 0, message.from_phone, now)
            save_conversation(
                session, conversation.id, state=conversation.state, needs_staff=True, now=now
            )
    return Outcome.failed
