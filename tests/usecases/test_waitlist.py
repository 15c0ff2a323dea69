"""The waitlist on a timeline: a full day's list joined through the signed webhook, freed
slots held and offered in fair order, taken with "1", let go with "2", expiring to the
next in line, late answers, the daily cap, paused and opted-out patients, and the
calendar following it all with no staff action. The clock is moved, never waited for."""

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.types import ServiceInfo
from store.db import transaction
from store.freed_slots import BLOCK_OFF_REMOVED, record_freed
from store.models import Appointment, Clinic, OutboxMessage, Patient, WaitlistEntry
from tests.notification_support import SECRET, patient, run_pass
from tests.support import (
    CLINIC_NUMBER as CLINIC,
)
from tests.support import (
    Chat,
    Clock,
    appointments,
    make_app,
)
from tests.waitlist_support import (
    ASU,
    entries,
    fill_day,
    join,
    offers,
    set_clinic,
    staff_cancels,
    tick,
)
from usecases.inbound import ReceivedMessage, handle_inbound
from usecases.stored_availability import StoreAvailability

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # Wednesday
THURSDAY = date(2026, 11, 26)
ROSA, MARTA, JUAN = "+595981222333", "+595981444555", "+595981666777"


@pytest.fixture
def booked(db: Engine, clinic, clock: Clock) -> dict[str, int]:
    return fill_day(db, clinic, THURSDAY, clock())


@pytest.fixture
def app(db: Engine, clock: Clock, clinic):
    """The shared app, with the secret the waitlist's passes sign their offer links with."""
    return make_app(db, clock, SECRET)


def on_phone(app, db: Engine, phone: str) -> Chat:
    return Chat(app.test_client(), db, phone=phone)


def offer_texts(db: Engine, phone: str) -> list[str]:
    with Session(db) as session:
        return list(
            session.exec(
                select(OutboxMessage.body).where(
                    OutboxMessage.to_phone == phone, OutboxMessage.kind == "waitlist_offer"
                )
            )
        )


def free_at(db: Engine, clinic, clock: Clock, hour: int, minute: int = 0) -> bool:
    """Whether the calendar offers Ana's general consultation at that time on Thursday."""
    with Session(db) as session:
        found = session.get(Clinic, clinic.id)
        assert found is not None
        slots = StoreAvailability(session, found, clock()).slots(
            ServiceInfo(clinic.services["general"], "", timedelta(minutes=30)),
            [clinic.professionals["ana"]],
            THURSDAY,
        )
    wanted = datetime(2026, 11, 26, hour, minute, tzinfo=ASU)
    return any(s.starts_at == wanted for s in slots)


def thursday_at(db: Engine, hour: int, minute: int = 0) -> list[tuple[str, int]]:
    """(status, patient) of every appointment at that time on Thursday."""
    wanted = datetime(2026, 11, 26, hour, minute, tzinfo=ASU)
    with Session(db) as session:
        rows = session.exec(
            select(Appointment).where(Appointment.starts_at == wanted).order_by(col(Appointment.id))
        )
        return [(a.status, a.patient_id) for a in rows]


# -- joining through the chat ---------------------------------------------------------------


def test_a_patient_joins_a_full_days_waitlist_and_takes_the_freed_slot(
    app, db: Engine, clinic, booked, clock: Clock
):
    rosa = on_phone(app, db, ROSA)
    rosa.says("hola")
    rosa.says("1")  # general consultation
    rosa.says("3")  # first available
    reply = rosa.says("el jueves")
    assert rosa.said == ["waitlist.day_full"] and "jueves 26 de noviembre" in reply
    rosa.says("lista de espera")
    assert rosa.asked("waitlist.ask_part") and rosa.said == ["waitlist.ask_part"]
    rosa.says("a la tarde")
    assert rosa.asked("booking.ask_name")  # the booking an offer becomes is in a name
    reply = rosa.says("Rosa Giménez")
    assert rosa.asked("waitlist.review")
    assert "cualquier profesional" in reply and "a la tarde" in reply  # the wish, as read
    rosa.says("sí")
    assert rosa.said == ["waitlist.joined"]
    with Session(db) as session:
        entry = session.exec(select(WaitlistEntry)).one()
    assert (entry.day, entry.part, entry.professional_id) == (THURSDAY, "afternoon", None)

    clock.advance(minutes=10)
    staff_cancels(db, booked["ana 10:00"], clock())  # a morning: not what Rosa wants
    assert tick(db, clock()).offered == 0
    staff_cancels(db, booked["ana 15:00"], clock())
    assert tick(db, clock()).offered == 1
    [text] = offer_texts(db, ROSA)
    assert "Se liberó un lugar" in text and "15:00" in text and "hasta las 09:25" in text
    assert not free_at(db, clinic, clock, 15)  # held: nobody else can book it

    clock.advance(minutes=5)
    reply = rosa.says("1")
    assert rosa.said == ["waitlist.taken"] and "15:00" in reply
    assert appointments(db)[-1].code in reply  # the new appointment's code
    assert [s for s, _ in thursday_at(db, 15)] == ["cancelled", "booked"]
    assert entries(db) == {ROSA: "booked"}
    assert free_at(db, clinic, clock, 10)  # the morning time stayed free for anyone
    with Session(db) as session:
        taken = appointments(db)[-1]
        patient = session.get(Patient, taken.patient_id)
        assert patient is not None and patient.name == "Rosa Giménez"


def test_the_number_of_the_waitlist_choice_works_too_and_in_english(
    app, db: Engine, clinic, booked
):
    rosa = on_phone(app, db, ROSA)
    rosa.says("hello, I need an appointment please")
    rosa.says("1")
    rosa.says("1")  # Dra. Ana Benítez
    reply = rosa.says("thursday")
    assert "fully booked" in reply and "Join the waitlist for that day" in reply
    number = reply.count("\n") and reply.splitlines()[-1].split(".")[0]
    assert "What time of day" in rosa.says(number)
    assert "any professional" not in rosa.says("4")  # any time of day, with Ana
    rosa.says("Rosa Gimenez")
    assert "You're on the waitlist" in rosa.says("yes")
    assert "You were already on the waitlist" in _join_again(rosa)
    with Session(db) as session:
        entry = session.exec(select(WaitlistEntry)).one()
    assert (entry.part, entry.professional_id) == (None, clinic.professionals["ana"])


def _join_again(rosa: Chat) -> str:
    for text in ("menu", "1", "1", "thursday", "join the waitlist", "4", "1"):  # 1: Rosa
        rosa.says(text)
    return rosa.says("yes")


def test_with_no_free_day_at_all_the_patient_names_the_day_to_wait_for(
    app, db: Engine, clinic, clock: Clock
):
    set_clinic(db, clinic.id, horizon_days=1)  # today and Thursday only
    fill_day(db, clinic, THURSDAY, clock())
    fill_day(db, clinic, NOW.date(), clock() - timedelta(days=1))
    rosa = on_phone(app, db, ROSA)
    for text in ("hola", "1"):
        rosa.says(text)
    rosa.says("3")
    assert rosa.said == ["waitlist.no_days", "waitlist.ask_day"]
    rosa.says("20/11")
    assert rosa.said == ["booking.date_past", "waitlist.ask_day"]
    rosa.says("mañana")
    assert rosa.asked("waitlist.ask_part")
    rosa.says("1")
    rosa.says("Rosa")
    rosa.says("si")
    assert rosa.said == ["waitlist.joined"]
    assert entries(db) == {ROSA: "waiting"}


def test_leaving_the_list_releases_a_held_slot_for_the_next_in_line(
    app, db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, ROSA, THURSDAY, clock())
    join(db, clinic, MARTA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    rosa = on_phone(app, db, ROSA)
    rosa.says("salir de la lista")
    assert rosa.said == ["waitlist.left"]
    rosa.says("salir de la lista")
    assert rosa.said == ["waitlist.not_on"]
    tick(db, clock())
    assert entries(db) == {ROSA: "left", MARTA: "offered"}
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "withdrawn"), (MARTA, "offered")]


def test_the_offers_link_takes_the_slot_on_the_page_once(
    app, db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, ROSA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    [text] = offer_texts(db, ROSA)
    path = re.search(r"https://turnero\.example\.org(/a/\S+)", text).group(1)  # type: ignore[union-attr]
    browser = app.test_client()
    page = browser.get(path).get_data(as_text=True)
    assert "Guardado para vos" in page and "hasta las 09:15" in page
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    assert browser.post(path + "/take", data={}).status_code == 400  # not from the page
    answer = browser.post(path + "/take", data={"form_key": key}, follow_redirects=True)
    assert "¡Es tuyo!" in answer.get_data(as_text=True)
    assert [s for s, _ in thursday_at(db, 15)] == ["cancelled", "booked"]
    again = browser.post(path + "/take", data={"form_key": key}, follow_redirects=True)
    assert "ya no está disponible" in again.get_data(as_text=True)
    assert entries(db) == {ROSA: "booked"}
    with Session(db) as session:  # taken outside the chat: the booking confirmation follows
        kinds = session.exec(select(OutboxMessage.kind)).all()
    run_pass(db, clock())
    with Session(db) as session:
        assert len(session.exec(select(OutboxMessage.kind)).all()) == len(kinds) + 1


def test_where_the_clinic_sends_buttons_an_offer_has_take_and_let_go_that_work_later_too(
    app, db: Engine, clinic, booked, clock: Clock
):
    set_clinic(db, clinic.id, interactive_messages=True)
    join(db, clinic, ROSA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    with transaction(db) as session:
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")
        ).one()
        sent.twilio_sid = "SM" + "0" * 32  # as the dispatcher records it
        choices = json.loads(sent.options or "{}")["choices"]
    assert [c["id"].split(":")[0] for c in choices] == ["take", "pass"]
    assert "Tocá una opción" in json.loads(sent.options or "{}")["body"]
    rosa = on_phone(app, db, ROSA)
    rosa.says("hola")  # the bot answers after the offer: the offer's buttons still stand
    rosa.taps(choices[0]["id"], replied_to="SM" + "0" * 32, text="Lo tomo")
    assert rosa.said == ["waitlist.taken"]
    rosa.taps(choices[1]["id"], replied_to="SM" + "0" * 32, text="Dejarlo a otro")
    assert rosa.said == ["waitlist.gone"]


# -- the line: expiry, refusal, late answers ------------------------------------------------


def test_an_expired_offer_goes_to_the_next_in_line_and_a_late_yes_hears_already_taken(
    app, db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, ROSA, THURSDAY, clock())
    clock.advance(minutes=1)
    join(db, clinic, MARTA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "offered")]

    clock.advance(minutes=14, seconds=59)
    assert tick(db, clock()).expired == 0  # still held for Rosa
    clock.advance(seconds=1)
    report = tick(db, clock())
    assert (report.expired, report.offered) == (1, 1)
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "expired"), (MARTA, "offered")]
    assert offer_texts(db, MARTA)

    rosa = on_phone(app, db, ROSA)
    rosa.says("1")
    assert rosa.said == ["waitlist.gone"]
    assert entries(db) == {ROSA: "waiting", MARTA: "offered"}  # Rosa stays on the list
    marta = on_phone(app, db, MARTA)
    marta.says("1")
    assert marta.said == ["waitlist.taken"]
    assert entries(db) == {ROSA: "waiting", MARTA: "booked"}
    marta_id = patient(db, clinic.id, MARTA)
    assert [a for a in thursday_at(db, 15) if a[0] != "cancelled"] == [("booked", marta_id)]


def test_a_yes_after_the_hold_ran_out_but_before_the_pass_is_too_late(
    app, db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, ROSA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    clock.advance(minutes=15)
    rosa = on_phone(app, db, ROSA)
    rosa.says("sí")
    assert rosa.said == ["waitlist.gone"]
    tick(db, clock())
    assert entries(db) == {ROSA: "waiting"}
    assert free_at(db, clinic, clock, 15)  # nobody else waits: free for anyone again


def test_a_refusal_goes_to_the_next_in_line_and_the_refused_time_is_not_offered_again(
    app, db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, ROSA, THURSDAY, clock())
    join(db, clinic, MARTA, THURSDAY, clock() + timedelta(seconds=1))
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    rosa = on_phone(app, db, ROSA)
    rosa.says("2")
    assert rosa.said == ["waitlist.declined"]
    tick(db, clock())
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "declined"), (MARTA, "offered")]
    marta = on_phone(app, db, MARTA)
    marta.says("no")
    assert marta.said == ["waitlist.declined"]
    tick(db, clock())
    # Marta let it go too (a "no" is a refusal): nobody left who has not refused it
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "declined"), (MARTA, "declined")]
    assert free_at(db, clinic, clock, 15)


def test_the_fair_order_is_who_joined_first_and_the_slot_must_fit_the_wish(
    db: Engine, clinic, booked, clock: Clock
):
    join(db, clinic, JUAN, THURSDAY, clock(), professional="luis")  # first, but wants Luis
    join(db, clinic, MARTA, THURSDAY, clock() + timedelta(seconds=1), part="morning")
    join(db, clinic, ROSA, THURSDAY, clock() + timedelta(seconds=2))
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    assert [(p, s) for p, s, _ in offers(db)] == [(ROSA, "offered")]


def test_a_freed_time_too_short_for_the_service_is_not_offered(
    db: Engine, clinic, booked, clock: Clock
):
    with transaction(db) as session:  # dentistry takes 45 minutes; only Luis does it
        patient_id = patient(db, clinic.id, ROSA)
        from store import waitlist

        waitlist.join(
            session,
            clinic_id=clinic.id,
            patient_id=patient_id,
            phone=ROSA,
            service_id=clinic.services["dentistry"],
            professional_id=None,
            day=THURSDAY,
            part=None,
            now=clock(),
        )
    staff_cancels(db, booked["luis 10:00"], clock())  # 30 minutes between two bookings
    assert tick(db, clock()).offered == 0
    staff_cancels(db, booked["luis 10:30"], clock())  # now an hour
    assert tick(db, clock()).offered == 1
    assert [s for _, s, _ in offers(db)] == ["offered"]


# -- limits: the day passing, the daily cap, paused and opted-out patients --------------------


def test_entries_end_when_their_day_passes(db: Engine, clinic, booked, clock: Clock):
    join(db, clinic, ROSA, THURSDAY, clock())
    clock.now = datetime(2026, 11, 26, 23, 59, tzinfo=ASU).astimezone(UTC)
    assert tick(db, clock()).ended == 0
    clock.advance(minutes=1)  # Friday in Asunción
    assert tick(db, clock()).ended == 1
    assert entries(db) == {ROSA: "expired"}


def test_a_patient_is_offered_at_most_the_clinics_daily_number(
    app, db: Engine, clinic, booked, clock: Clock
):
    set_clinic(db, clinic.id, waitlist_offers_per_day=2)
    join(db, clinic, ROSA, THURSDAY, clock())
    join(db, clinic, MARTA, THURSDAY, clock() + timedelta(seconds=1))
    rosa = on_phone(app, db, ROSA)
    for slot in ("ana 15:00", "ana 16:00", "ana 17:00"):
        clock.advance(minutes=1)
        staff_cancels(db, booked[slot], clock())
        tick(db, clock())
        rosa.says("2")
    offered = [(p, s, t.astimezone(ASU).hour) for p, s, t in offers(db)]
    assert [o for o in offered if o[0] == ROSA] == [(ROSA, "declined", 15), (ROSA, "declined", 16)]
    # Rosa's third time (17:00) is not offered: two a day; Marta holds the 15:00 she was
    # offered after Rosa let it go, so she is not waiting for another one
    assert offered[1] == (MARTA, "offered", 15) and len(offered) == 3
    clock.now = datetime(2026, 11, 26, 0, 5, tzinfo=ASU).astimezone(UTC)  # a new day
    staff_cancels(db, booked["ana 14:00"], clock())
    tick(db, clock())
    assert offers(db)[-1][:2] == (ROSA, "offered")


@pytest.mark.parametrize("flag", ["opted_out", "bot_paused"])
def test_paused_and_opted_out_patients_are_skipped(
    db: Engine, clinic, booked, clock: Clock, flag: str
):
    join(db, clinic, ROSA, THURSDAY, clock(), **{flag: True})
    join(db, clinic, MARTA, THURSDAY, clock() + timedelta(seconds=1))
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    assert [(p, s) for p, s, _ in offers(db)] == [(MARTA, "offered")]
    assert entries(db)[ROSA] == "waiting"


def test_a_moved_appointment_and_a_removed_block_off_free_time_too(
    app, db: Engine, clinic, booked, clock: Clock
):
    from store.appointments import reschedule
    from tests.notification_support import STAFF

    join(db, clinic, ROSA, THURSDAY, clock(), part="afternoon")
    with transaction(db) as session:
        moved = session.get(Appointment, booked["ana 16:00"])
        assert moved is not None
        reschedule(
            session,
            moved,
            starts_at=datetime(2026, 12, 1, 10, 0, tzinfo=ASU),
            professional_id=clinic.professionals["ana"],
            actor=STAFF,
            now=clock(),
        )
    tick(db, clock())
    assert [(p, s, t.astimezone(ASU).hour) for p, s, t in offers(db)] == [(ROSA, "offered", 16)]
    on_phone(app, db, ROSA).says("1")
    join(db, clinic, MARTA, THURSDAY, clock())
    staff_cancels(db, booked["ana 17:00"], clock())  # the console removing a block-off
    with transaction(db) as session:
        record_freed(
            session,
            clinic_id=clinic.id,
            professional_id=None,
            starts_at=datetime(2026, 11, 26, 8, tzinfo=ASU),
            ends_at=datetime(2026, 11, 26, 9, tzinfo=ASU),
            why=BLOCK_OFF_REMOVED,
            now=clock(),
        )
    assert tick(db, clock()).offered == 1  # one slot, one offer: the other waits its turn


# -- races (PostgreSQL) ------------------------------------------------------------------------


def test_two_waitlisted_patients_answering_at_once_make_exactly_one_appointment(
    on_postgres: Engine, clinic, booked, clock: Clock
):
    db = on_postgres
    join(db, clinic, ROSA, THURSDAY, clock())
    join(db, clinic, MARTA, THURSDAY, clock() + timedelta(seconds=1))
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    clock.advance(minutes=15)  # Rosa's hold runs out; the pass offers the time to Marta
    tick(db, clock())
    barrier = threading.Barrier(2)

    def answer(phone: str) -> None:
        message = ReceivedMessage(
            message_sid=f"SM{phone[-6:]}race", from_phone=phone, to_phone=CLINIC, body="1"
        )
        barrier.wait()
        handle_inbound(db, message, clock(), link_for=lambda i: f"/a/{i}")

    threads = [threading.Thread(target=answer, args=(p,)) for p in (ROSA, MARTA)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    standing = [a for a in thursday_at(db, 15) if a[0] != "cancelled"]
    assert standing == [("booked", patient(db, clinic.id, MARTA))]
    assert entries(db) == {ROSA: "waiting", MARTA: "booked"}
    replies = {phone: offer_reply(db, phone) for phone in (ROSA, MARTA)}
    assert "ya no está disponible" in replies[ROSA] and "¡Es tuyo!" in replies[MARTA]


def offer_reply(db: Engine, phone: str) -> str:
    with Session(db) as session:
        return (
            session.exec(
                select(OutboxMessage.body)
                .where(OutboxMessage.to_phone == phone, OutboxMessage.kind != "waitlist_offer")
                .order_by(col(OutboxMessage.id).desc())
            ).first()
            or ""
        )


def test_two_answers_to_one_hold_at_once_book_it_once(on_postgres: Engine, clinic, booked, clock):
    from store import waitlist

    db = on_postgres
    join(db, clinic, ROSA, THURSDAY, clock())
    staff_cancels(db, booked["ana 15:00"], clock())
    tick(db, clock())
    [offer_id] = [o for o in _offer_ids(db)]
    barrier = threading.Barrier(4)
    won: list[bool] = []

    def take() -> None:
        barrier.wait()
        with transaction(db) as session:
            won.append(waitlist.take(session, offer_id, clinic.id, ROSA, clock()) is not None)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False, False, False, True]
    assert [s for s, _ in thursday_at(db, 15)] == ["cancelled", "booked"]


def _offer_ids(db: Engine) -> list[int]:
    from store.models import WaitlistOffer

    with Session(db) as session:
        return [i for i in session.exec(select(WaitlistOffer.id)) if i is not None]
