"""One inbound WhatsApp message, one transaction: keep it (once), lock the conversation,
step the engine, apply what it decided, queue the replies, commit."""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.choices import offer
from bot.engine import first_command, step
from bot.payloads import read_action
from bot.render import render_all
from bot.types import ClinicView, ConversationState, Effect, Inbound, Reply, Turn
from store.advance import Advanced, advance, conversation_and_people
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
from store.models import Appointment, Clinic, Service
from store.outbox import insert_rows, outbox_rows
from store.prompts import LastAsked
from store.requests import NewRequest
from store.requests import create as create_request
from store.surveys import LOW_SCORE, record_comment, record_score
from store.takeover import resume_if_quiet
from store.taps import tap_is_stale
from usecases.clinic_view import Catalog, CatalogCache, build_view
from usecases.waitlist_effects import WAITLIST_EFFECTS, apply_waitlist

log = logging.getLogger(__name__)

LinkMaker = Callable[[int], str]
CHANGES = {"confirm_appointment", "cancel_appointment", "reschedule_appointment"}


class Outcome(StrEnum):
    handled = "handled"
    duplicate = "duplicate"
    unknown_clinic = "unknown_clinic"
    for_staff = "for_staff"  # the bot is paused for this patient: staff will read it
    failed = "failed"  # the bot broke on it: kept and flagged for staff


@dataclass(frozen=True)
class InboundMessage:
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
    message: InboundMessage,
    now: datetime,
    *,
    link_for: LinkMaker,
    catalogs: CatalogCache | None = None,
) -> Outcome:
    """`link_for(appointment_id)` gives an appointment's self-service link."""
    catalogs = catalogs or CatalogCache(seconds=0)
    try:
        moved = _move_along(engine, message, now, catalogs)
        if moved is not None:
            return moved
        with transaction(engine) as session:
            return _handle(session, message, now, catalogs, link_for)
    except Exception:
        log.exception("inbound %s could not be processed; kept for staff", message.message_sid)
        return _keep_for_staff(engine, message, now)


def _move_along(
    engine: Engine, message: InboundMessage, now: datetime, catalogs: CatalogCache
) -> Outcome | None:
    """Most messages only move their conversation along: the engine decides no booking,
    change, pause or opt-out. Such a message is decided on what is committed, outside
    any transaction (so on SQLite beside the one writer), then kept with its reply and
    the new state at once, on condition that the conversation still stands as read
    (`store.advance`). None: the message needs the full path (a new phone, a paused
    bot, an effect, another message of the phone meanwhile)."""
    with raw(engine) as db, reading(engine) as session:
        catalog = catalogs.get(session, message.to_phone)
        if catalog is None:
            return None
        conversation, people, last_asked = conversation_and_people(
            db, catalog.info.id, message.from_phone
        )
        if conversation is None or not people or any(p.bot_paused for p in people):
            return None
        turn, _ = _turn(session, catalog, message, conversation, people, now, db, last_asked)
        if turn.effects:
            return None
        advanced = advance(
            db,
            inbound=_inbound_row(message, catalog.clinic, now),
            was=conversation,
            state=json.dumps(turn.state.to_dict()),
            replies=_reply_rows(catalog, message, turn.replies, turn.state, None, now),
            now=now,
        )
    if advanced is Advanced.moved:
        return None
    return Outcome.duplicate if advanced is Advanced.duplicate else Outcome.handled


def _handle(
    session: Session,
    message: InboundMessage,
    now: datetime,
    catalogs: CatalogCache,
    link_for: LinkMaker,
) -> Outcome:
    catalog = catalogs.get(session, message.to_phone)
    clinic = catalog.clinic if catalog else None
    inbound_id = _record(session, message, clinic, now)
    if inbound_id is None:
        return Outcome.duplicate
    if catalog is None or clinic is None:
        return Outcome.unknown_clinic
    conversation = lock_conversation(session, clinic.id or 0, message.from_phone, now)
    people = people_on_phone(session, clinic.id or 0, message.from_phone, now)
    if any(p.bot_paused for p in people) and resume_if_quiet(
        session, clinic, message.from_phone, conversation.taken_over_at, now
    ):
        people = [replace(p, bot_paused=False) for p in people]
    # A paused bot leaves the message to staff, except an opt-out or opt-in, which is
    # honoured (and confirmed) at once. An opted-out patient who writes is answered as
    # usual: a reply is not business-initiated.
    if any(p.bot_paused for p in people) and first_command(_inbound(message)) is None:
        mark_not_handled(session, inbound_id)
        save_conversation(
            session, conversation.id, state=conversation.state, needs_staff=True, now=now
        )
        return Outcome.for_staff
    turn, view = _turn(session, catalog, message, conversation, people, now)
    opted_out = any(p.opted_out for p in people)
    replies, state, appointment, paused = _apply(
        session, clinic, message.from_phone, turn, view, link_for, opted_out
    )
    insert_rows(session, _reply_rows(catalog, message, replies, state, appointment, now))
    save_conversation(
        session,
        conversation.id,
        state=json.dumps(state.to_dict()),
        needs_staff=conversation.needs_staff or paused,
        now=now,
    )
    return Outcome.handled


def _inbound(message: InboundMessage) -> Inbound:
    return Inbound(text=message.body, payload=message.payload, media_count=message.num_media)


def _turn(
    session: Session,
    catalog: Catalog,
    message: InboundMessage,
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


def _stale_tap(session: Session, clinic: Clinic, message: InboundMessage) -> bool:
    """Whether a tap answers a message that no longer stands (read only for taps)."""
    if message.replied_sid is None or message.payload is None:
        return False
    return tap_is_stale(
        session,
        clinic_id=clinic.id or 0,
        phone=message.from_phone,
        replied_sid=message.replied_sid,
        appointment_id=read_action(message.payload)[1],
    )


def _record(
    db: Db, message: InboundMessage, clinic: Clinic | None, now: datetime
) -> int | None:
    return record_inbound(db, _inbound_row(message, clinic, now))


def _inbound_row(message: InboundMessage, clinic: Clinic | None, now: datetime) -> dict[str, Any]:
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
    link_for: LinkMaker,
    opted_out: bool = False,
) -> tuple[list[Reply], ConversationState, Appointment | None, bool]:
    """Carry out the turn's effects; what came of a booking or a change goes back to the
    engine as an event, so what the patient hears about it comes from the flow too. Also
    says whether staff should look (the bot was paused, or a visit got a low score)."""
    replies, state, appointment, paused = list(turn.replies), turn.state, None, False
    for effect in turn.effects:
        event: Inbound | None = None
        if effect.kind == "set_language":
            remember_language(
                session,
                clinic.id or 0,
                phone,
                effect.data["language"],
                chosen=effect.data.get("chosen", False),
            )
        elif effect.kind == "pause_bot":
            pause_bot(session, clinic.id or 0, phone, view.now)
            paused = True
        elif effect.kind == "book":
            appointment = _book(session, clinic, phone, effect, view)
            event = (
                Inbound(
                    event="booked",
                    data={"code": appointment.code, "link": link_for(appointment.id or 0)},
                )
                if appointment
                else Inbound(event="slot_taken")
            )
        elif effect.kind in ("opt_out", "opt_in"):
            event = _opt(session, clinic, phone, effect.kind == "opt_out", opted_out, view.now)
        elif effect.kind in CHANGES:
            event = _change(session, clinic, phone, effect, view)
        elif effect.kind in WAITLIST_EFFECTS:
            event, taken = apply_waitlist(session, clinic, phone, effect, view.now, link_for)
            appointment = taken or appointment
        elif effect.kind == "survey_score":
            low = _score(session, clinic, effect, view.now)
            paused = paused or low
            event = Inbound(event="survey_scored_low" if low else "survey_scored")
        elif effect.kind == "save_survey_comment":
            record_comment(
                session,
                clinic.id or 0,
                effect.data["appointment_id"],
                effect.data.get("comment"),
                view.now,
            )
            event = Inbound(event="survey_commented")
        elif effect.kind == "request_appointment":
            event = _request(session, clinic, phone, effect, view)
        if event is not None:
            follow = step(state, event, view)
            replies += follow.replies
            state = follow.state
    return replies, state, appointment, paused


def _request(
    session: Session, clinic: Clinic, phone: str, effect: Effect, view: ClinicView
) -> Inbound:
    """Keep an appointment request for staff (one insert; an open one from the phone is
    replaced). A service the clinic stopped offering meanwhile is asked again."""
    data = effect.data
    if view.service(data["service_id"]) is None:
        return Inbound(event="request_service_gone")
    replaced = create_request(
        session,
        clinic.id or 0,
        NewRequest(
            phone=phone,
            patient_name=data["name"],
            service_id=data["service_id"],
            preferred=data["preferred"],
            comment=data.get("comment"),
            language=data.get("language"),
        ),
        view.now,
    )
    return Inbound(event="request_replaced" if replaced else "request_saved")


def _score(session: Session, clinic: Clinic, effect: Effect, now: datetime) -> bool:
    """Keep a survey score; whether it is low enough for staff to call the patient."""
    score = int(effect.data["score"])
    record_score(session, clinic.id or 0, effect.data["appointment_id"], score, now)
    return score <= LOW_SCORE


def _opt(
    session: Session, clinic: Clinic, phone: str, out: bool, was_out: bool, now: datetime
) -> Inbound:
    """Opt everyone on the phone out of business-initiated messages, or back in; "start"
    from a phone that never opted out is just the menu."""
    if not out and not was_out:
        return Inbound(event="already_opted_in")
    set_opted_out(session, clinic.id or 0, phone, out, now)
    return Inbound(event="opted_out" if out else "opted_in")


def _change(
    session: Session, clinic: Clinic, phone: str, effect: Effect, view: ClinicView
) -> Inbound:
    """Confirm, cancel or move one of the phone's own appointments; the event says how
    it went."""
    found = own_appointment(session, clinic.id or 0, phone, effect.data["appointment_id"])
    if found is None:
        return Inbound(event="appointment_gone")
    actor = Actor("patient", "whatsapp")
    try:
        if effect.kind == "confirm_appointment":
            changed = confirm(session, found, actor, view.now)
            return Inbound(
                event="appointment_confirmed" if changed else "appointment_already_confirmed"
            )
        if effect.kind == "cancel_appointment":
            cancel(session, found, actor, view.now)
            return Inbound(event="appointment_cancelled")
        starts_at = datetime.fromisoformat(effect.data["starts_at"])
        professional_id = int(effect.data["professional_id"])
        if not _offered(view, found.service_id, professional_id, starts_at):
            return Inbound(event="move_slot_taken")
        reschedule(
            session,
            found,
            starts_at=starts_at,
            professional_id=professional_id,
            actor=actor,
            now=view.now,
        )
        return Inbound(event="appointment_moved")
    except NotChangeable:
        return Inbound(event="appointment_unchangeable")
    except SlotTaken:
        return Inbound(event="move_slot_taken")


def _offered(view: ClinicView, service_id: int, professional_id: int, starts_at: datetime) -> bool:
    """Whether the time is one the availability engine offers now (never trust the
    conversation's copy: it may be minutes old)."""
    service = view.service(service_id)
    return service is not None and view.availability.is_free(service, professional_id, starts_at)


def _book(
    session: Session, clinic: Clinic, phone: str, effect: Effect, view: ClinicView
) -> Appointment | None:
    data = effect.data
    service = session.get(Service, data["service_id"])
    starts_at = datetime.fromisoformat(data["starts_at"])
    professional_id = int(data["professional_id"])
    if service is None or service.clinic_id != clinic.id:
        return None
    if not _offered(view, service.id or 0, professional_id, starts_at):
        return None
    new = (
        None
        if data["patient_id"]
        else NewPatient(data["name"], data["dni"], data["insurance"], data["language"])
    )
    patient = resolve_patient(session, clinic.id or 0, phone, data["patient_id"], new)
    try:
        appointment = book(
            session,
            clinic_id=clinic.id or 0,
            patient=patient,
            service=service,
            professional_id=professional_id,
            starts_at=starts_at,
            source_channel="whatsapp",
            now=view.now,
        )
    except SlotTaken:
        return None
    booked(session, clinic, appointment, Actor("patient", "whatsapp"), view.now)
    return appointment


def _reply_rows(
    catalog: Catalog,
    message: InboundMessage,
    replies: list[Reply],
    state: ConversationState,
    appointment: Appointment | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The turn's replies rendered as one message, as the outbox rows that queue it."""
    if not replies:
        return []
    clinic = catalog.clinic
    language = state.language or clinic.default_language
    own = catalog.own_texts(language)
    body = render_all(replies, language, own)
    offered = offer(replies, language, own) if clinic.interactive_messages else None
    kind = MessageKind.reply
    key = f"{kind}:{message.message_sid}"
    if appointment is not None:
        kind = MessageKind.booking_confirmation
        key = f"appointment:{appointment.id}:{kind}"
    return outbox_rows(
        clinic_id=clinic.id or 0,
        idempotency_key=key,
        from_phone=clinic.whatsapp_number,
        to_phone=message.from_phone,
        body=body,
        kind=kind,
        appointment_id=appointment.id if appointment else None,
        now=now,
        language=language,
        options=json.dumps(offered.to_json(), ensure_ascii=False) if offered else None,
    )


def _keep_for_staff(engine: Engine, message: InboundMessage, now: datetime) -> Outcome:
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
