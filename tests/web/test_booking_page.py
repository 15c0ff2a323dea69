"""The clinic's booking page over real HTTP (the app's test client, plain forms as a
browser without JavaScript posts them): the steps, the proof a new number gives on
WhatsApp through the real signed webhook, known numbers, and what bad input gets."""

import html
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from scheduler.waitlist import run_waitlist_pass
from store.db import transaction
from store.models import (
    Appointment,
    AppointmentRequest,
    AppointmentStatus,
    Notification,
    Patient,
    WaitlistEntry,
    WaitlistOffer,
    WebBooking,
)
from store.waitlist import join
from store.web_bookings import (
    PER_CLIENT_PER_HOUR,
    PER_PHONE_PER_DAY,
    REVIEWS_PER_CLIENT_PER_HOUR,
    expire,
)
from tests import support
from tests.booking_page_support import PAGE, Visitor, hidden_fields, links, open_page, proof_of
from tests.console_support import book_at
from tests.support import Chat, Clock, add_patient, make_app

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Tuesday 09:00 in Asunción
NEW_PHONE = "+595981444555"


@pytest.fixture
def app(db: Engine, clock: Clock, clinic: support.TestClinic) -> Flask:
    """With Twilio's credentials: the proof comes through the signed webhook."""
    return make_app(db, clock)


@pytest.fixture
def visitor(db: Engine, app: Flask, clinic: support.TestClinic) -> Visitor:
    open_page(db, clinic.id)
    return Visitor(app.test_client())


def _appointments(engine: Engine) -> list[Appointment]:
    with Session(engine) as session:
        return list(session.exec(select(Appointment).order_by(col(Appointment.id))))


def test_a_new_number_holds_the_time_until_its_own_whatsapp_message_brings_the_code(
    visitor: Visitor, db: Engine, app: Flask
) -> None:
    review = visitor.to_review("Consulta general", "Marta Giménez", "0981 444 555")
    assert "Marta Giménez" in review and "+595981444555" in review
    response = visitor.confirm(review)
    assert response.status_code == 303
    waiting = visitor.get(response.headers["Location"])
    code = proof_of(db, NEW_PHONE)
    assert "https://wa.me/595981000000?text=" in waiting and f"%23{code}" in waiting
    [held] = _appointments(db)
    assert held.status == AppointmentStatus.held and held.source_channel == "web"
    assert Chat(app.test_client(), db, phone=NEW_PHONE).says("nada que ver") != ""
    assert _appointments(db)[0].status == AppointmentStatus.held  # any other message: no

    chat = Chat(app.test_client(), db, phone=NEW_PHONE)
    chat.says(f"Hola, confirmo mi reserva #{code.lower()}")
    [booked] = _appointments(db)
    assert booked.status == AppointmentStatus.booked and booked.new_patient
    with Session(db) as session:
        planned = session.exec(
            select(Notification.kind).where(Notification.appointment_id == booked.id)
        ).all()
        patient = session.get(Patient, booked.patient_id)
    assert "confirmation" in planned and patient is not None and patient.name == "Marta Giménez"
    done = visitor.get(response.headers["Location"])
    assert booked.code in done
    assert "ya venció" not in chat.says(f"#{code}")  # the code again: done already


def test_a_time_not_proven_in_time_is_released(visitor: Visitor, db: Engine, app: Flask) -> None:
    visitor.confirm(visitor.to_review("Consulta general", "Marta Giménez", "0981444555"))
    code = proof_of(db, NEW_PHONE)
    with transaction(db) as session:
        assert expire(session, NOW + timedelta(minutes=11)) == 1
    assert _appointments(db)[0].status == AppointmentStatus.cancelled
    late = Chat(app.test_client(), db, phone=NEW_PHONE).says(f"confirmo #{code}")
    assert "ya venció" in late and _appointments(db)[0].status == AppointmentStatus.cancelled
    other = Chat(app.test_client(), db, phone="+595981777888").says(f"confirmo #{code}")
    assert "ya venció" not in other  # another phone's code is just a message


def _names_on(engine: Engine, phone: str) -> list[str | None]:
    with Session(engine) as session:
        return list(
            session.exec(select(Patient.name).where(Patient.phone == phone).order_by(Patient.id))
        )


@pytest.mark.parametrize("wrote_before", [True, False])
def test_a_form_never_proven_names_nobody_on_the_phone(
    visitor: Visitor, db: Engine, app: Flask, wrote_before: bool
) -> None:
    """A web form can name anyone's number: until the phone's own code comes, the name it
    gave is written on nobody, not even on the nameless patient of a phone that wrote
    "hola" before (whom WhatsApp would then offer it, and the console show it)."""
    if wrote_before:
        Chat(app.test_client(), db, phone=NEW_PHONE).says("hola")
    visitor.confirm(visitor.to_review("Consulta general", "Alguien Ajeno", NEW_PHONE))
    [held] = _appointments(db)
    assert held.status == AppointmentStatus.held
    assert _names_on(db, NEW_PHONE) == [None]
    with transaction(db) as session:
        assert expire(session, NOW + timedelta(minutes=11)) == 1
    assert _names_on(db, NEW_PHONE) == [None]


def test_the_time_is_held_as_long_as_the_clinic_says(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    open_page(db, clinic.id, web_hold_minutes=25)
    response = visitor.confirm(visitor.to_review("Consulta general", "Marta Giménez", NEW_PHONE))
    waiting = visitor.get(response.headers["Location"])
    assert "hasta las 09:25" in waiting  # 09:00 in Asunción, and 25 minutes
    with Session(db) as session:
        [attempt] = session.exec(
            select(WebBooking).where(col(WebBooking.appointment_id).is_not(None))
        ).all()
    [held] = _appointments(db)
    assert attempt.expires_at == held.hold_expires_at == NOW + timedelta(minutes=25)
    with transaction(db) as session:
        assert expire(session, NOW + timedelta(minutes=24)) == 0
        assert expire(session, NOW + timedelta(minutes=26)) == 1


def test_a_known_number_books_at_once_for_the_person_picked(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    mother = add_patient(db, clinic.id, NEW_PHONE, "Rosa Villalba")
    review = visitor.to_review("Consulta general", "Tomás Villalba", NEW_PHONE)
    assert "Rosa V." in review and "Rosa Villalba" not in review  # names shown masked
    assert "Otra persona: Tomás Villalba" in review
    response = visitor.confirm(review, who="new")
    assert response.status_code == 303
    [booked] = _appointments(db)
    assert booked.status == AppointmentStatus.booked and booked.patient_id != mother
    visitor.confirm(visitor.to_review("Odontología", "Tomás Villalba", NEW_PHONE), who=str(mother))
    assert _appointments(db)[1].patient_id == mother
    again = visitor.to_review("Odontología", "tomas villalba", NEW_PHONE)  # himself, now known
    assert f'value="{booked.patient_id}" checked' in again


SATURDAY = "2026-12-05"  # Dr. Ortiz alone works, 09:00-13:00
HOLIDAY = "2026-12-08"  # a Tuesday the whole clinic is blocked off


def _fill_saturday(db: Engine, clinic: support.TestClinic) -> None:
    """Every time of Dr. Ortiz's Saturday booked (09:00 to 13:00 in Asunción, UTC-3)."""
    patient = add_patient(db, clinic.id, "+595981777888", "Rosa Villalba")
    for n in range(8):
        start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC) + timedelta(minutes=30 * n)
        book_at(db, clinic, patient, start, who="luis")


def _nothing_asked(db: Engine) -> bool:
    with Session(db) as session:
        entries = session.exec(select(func.count()).select_from(WaitlistEntry)).one()
        asked = select(func.count()).select_from(WebBooking).where(WebBooking.kind != "review")
        return entries == 0 and session.exec(asked).one() == 0


def test_a_fully_booked_day_says_it_is_full_and_joins_its_waitlist(
    visitor: Visitor, db: Engine, app: Flask, clinic: support.TestClinic
) -> None:
    _fill_saturday(db, clinic)
    general, luis = clinic.services["general"], clinic.professionals["luis"]
    days = f"{PAGE}/days?service={general}&pro={luis}"
    month = visitor.get(days)
    [saturday] = [u for u in links(month, f"day={SATURDAY}")]
    assert f'href="{html.escape(saturday)}" aria-label="sábado 5 de diciembre, completo"' in month
    page = visitor.get(saturday)
    assert "Ese día ya no tiene lugar" in page and "no se atiende" not in page
    [join_link] = links(page, "kind=waitlist")
    review = visitor.details(join_link, "Marta Giménez", "0981444555")
    assert visitor.confirm(review).status_code == 303
    Chat(app.test_client(), db, phone=NEW_PHONE).says(f"#{proof_of(db, NEW_PHONE)}")
    with Session(db) as session:
        [entry] = session.exec(select(WaitlistEntry)).all()
    assert entry.phone == NEW_PHONE and str(entry.day) == SATURDAY
    assert (entry.service_id, entry.professional_id) == (general, luis)


@pytest.mark.parametrize(
    ("day", "pro", "blocked"),
    [
        ("2026-12-06", "any", None),  # a Sunday: nobody has hours
        (HOLIDAY, "any", "clinic"),  # a holiday: the whole clinic blocked off
        (SATURDAY, "luis", "luis"),  # the one professional of the day away
    ],
)
def test_a_closed_day_says_so_offers_days_with_space_and_refuses_a_waitlist(
    visitor: Visitor,
    db: Engine,
    clinic: support.TestClinic,
    day: str,
    pro: str,
    blocked: str | None,
) -> None:
    if blocked is not None:
        start = datetime.fromisoformat(f"{day}T03:00:00+00:00")  # midnight in Asunción
        away = None if blocked == "clinic" else clinic.professionals[blocked]
        support.block_off(db, clinic.id, start, start + timedelta(days=1), away)
    general = clinic.services["general"]
    pro_arg = pro if pro == "any" else str(clinic.professionals[pro])
    days = f"{PAGE}/days?service={general}&pro={pro_arg}"
    page = visitor.get(f"{days}&day={day}")
    assert "Ese día no se atiende, así que no tiene lista de espera" in page
    assert "Ese día ya no tiene lugar" not in page and links(page, "kind=waitlist") == []
    instead = page.split("Estos días tienen turnos libres:", 1)[1].split("</ul>", 1)[0]
    assert links(instead, "/days?") and all(day not in u for u in links(instead, "/days?"))
    assert links(visitor.get(days), f"day={day}") == []  # not in the calendar as "full"

    wish = {"service": str(general), "pro": pro_arg, "kind": "waitlist", "day": day}
    assert visitor.client.get(f"{PAGE}/details", query_string=wish).status_code == 400
    typed = {**wish, "name": "Marta Giménez", "phone": "0981444555"}
    assert visitor.post(f"{PAGE}/details", typed).status_code == 400
    assert _nothing_asked(db)


def test_a_day_closed_while_its_waitlist_was_reviewed_is_refused(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    _fill_saturday(db, clinic)
    page = visitor.get(f"{PAGE}/days?service=1&pro=any&day={SATURDAY}")
    review = visitor.details(links(page, "kind=waitlist")[0], "Marta Giménez", "0981444555")
    start = datetime.fromisoformat(f"{SATURDAY}T03:00:00+00:00")
    support.block_off(db, clinic.id, start, start + timedelta(days=1))  # the clinic closes
    assert visitor.confirm(review).status_code == 400  # signed as shown, but closed now
    assert _nothing_asked(db)


def test_a_clinic_of_known_patients_turns_a_new_number_into_a_request(
    visitor: Visitor, db: Engine, app: Flask, clinic: support.TestClinic
) -> None:
    open_page(db, clinic.id, only_known_patients=True)
    review = visitor.to_review("Consulta general", "Marta Giménez", "0981444555")
    assert "Enviar el pedido" in review
    visitor.confirm(review)
    assert _appointments(db) == []
    Chat(app.test_client(), db, phone=NEW_PHONE).says(f"#{proof_of(db, NEW_PHONE)}")
    with Session(db) as session:
        [request] = session.exec(select(AppointmentRequest)).all()
    assert request.phone == NEW_PHONE and request.patient_name == "Marta Giménez"
    assert request.preferred.startswith("martes 1 de diciembre, 10:00 (pedido desde la página")


def test_a_time_taken_during_the_review_is_said_with_fresh_times(
    visitor: Visitor, db: Engine, app: Flask
) -> None:
    review = visitor.to_review("Consulta general", "Marta Giménez", "0981444555")
    other = Visitor(app.test_client(), headers={"X-Forwarded-For": "10.0.0.9"})
    first = other.confirm(review)  # the same time, first
    assert first.status_code == 303 and "/a/" in first.headers["Location"]
    response = visitor.confirm(review)
    assert response.status_code == 303 and "notice=taken" in response.headers["Location"]
    again = visitor.get(response.headers["Location"])
    assert "se acaba de ocupar" in again
    slot = hidden_fields(review)["slot"]
    assert f"slot={quote(slot, safe=':')}" not in again  # the time taken is not offered again
    assert len(_appointments(db)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "A" * 5000), ("phone", "123"), ("phone", "+1 555 0100"), ("name", "🙂🙂")],
)
def test_bad_details_get_a_clear_answer_and_nothing_is_stored(
    visitor: Visitor, db: Engine, field: str, value: str
) -> None:
    start = visitor.get(f"{PAGE}/days?service=1&pro=any&day=2026-12-02")
    page = visitor.get(links(start, "/details?")[0])
    form = {**hidden_fields(page), "name": "Marta Giménez", "phone": "0981444555", field: value}
    response = visitor.post(f"{PAGE}/details", form)
    assert response.status_code == 400
    assert "Revisá los datos marcados" in response.get_data(as_text=True)
    assert _appointments(db) == []


def test_a_nul_anywhere_is_refused_before_anything_is_read(visitor: Visitor, db: Engine) -> None:
    start = visitor.get(f"{PAGE}/days?service=1&pro=any&day=2026-12-02")
    page = visitor.get(links(start, "/details?")[0])
    form = {**hidden_fields(page), "name": "Ana\x00 Pérez", "phone": "0981444555"}
    response = visitor.post(f"{PAGE}/details", form)
    assert response.status_code == 400 and "No pudimos leer" in response.get_data(as_text=True)
    assert _appointments(db) == []


def test_tampered_fields_old_days_and_strange_slugs_are_refused(
    visitor: Visitor, db: Engine
) -> None:
    review = visitor.to_review("Consulta general", "Marta Giménez", "0981444555")
    fields = hidden_fields(review)
    for key, value in [("phone", "+595981999999"), ("slot", "1|2026-12-02T12:00Z"), ("sig", "")]:
        assert visitor.post(f"{PAGE}/confirm", {**fields, key: value}).status_code == 400
    for url in [
        f"{PAGE}/days?service=1&pro=any&day=2026-11-30",  # past
        f"{PAGE}/days?service=1&pro=any&day=2027-03-01",  # beyond the horizon
        f"{PAGE}/days?service=3&pro=any",  # staff only
        f"{PAGE}/days?service=1&pro=99",
        f"{PAGE}/details?service=1&pro=any&slot=1|garbage",
    ]:
        assert visitor.client.get(url).status_code == 400, url
    assert _appointments(db) == []
    missing = visitor.client.get("/r/nadie", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert missing.status_code == 404 and "We could not find this page" in missing.get_data(
        as_text=True
    )


def test_the_page_is_off_until_the_clinic_switches_it_on(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    open_page(db, clinic.id, web_booking=False)
    assert visitor.client.get(PAGE).status_code == 404


def test_too_many_attempts_for_one_phone_are_refused(
    visitor: Visitor, db: Engine, app: Flask
) -> None:
    for n in range(PER_PHONE_PER_DAY):
        guest = from_address(app, f"10.0.1.{n}")  # the phone's limit, not an address's
        guest.confirm(guest.to_review("Consulta general", "Marta Giménez", "0981444555"))
    response = visitor.confirm(visitor.to_review("Consulta general", "Marta Giménez", "0981444555"))
    assert response.status_code == 429
    with Session(db) as session:
        asked = select(func.count()).select_from(WebBooking).where(WebBooking.kind != "review")
        assert session.exec(asked).one() == PER_PHONE_PER_DAY


def test_too_many_attempts_from_one_address_are_refused_and_others_still_book(
    visitor: Visitor, db: Engine, app: Flask
) -> None:
    here, elsewhere = (from_address(app, address) for address in ("10.0.2.1", "10.0.2.2"))
    for n in range(PER_CLIENT_PER_HOUR):  # a household's several phones fit
        review = here.to_review("Consulta general", f"Paciente {chr(65 + n)}", f"0981{444500 + n}")
        assert here.confirm(review).status_code == 303, n  # on to "write us the code"
    review = here.to_review("Consulta general", "Otra Persona", "0981999000")
    assert here.confirm(review).status_code == 429
    review = elsewhere.to_review("Consulta general", "Otra Persona", "0981999000")
    assert elsewhere.confirm(review).status_code == 303
    with Session(db) as session:
        asked = select(func.count()).select_from(WebBooking).where(WebBooking.kind != "review")
        assert session.exec(asked).one() == PER_CLIENT_PER_HOUR + 1


def from_address(app: Flask, address: str) -> Visitor:
    """A visitor whose requests come from `address` (what the limits count by)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Visitor(client)


def test_the_page_speaks_the_browser_language_and_only_lets_its_clinic_frame_it(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    open_page(db, clinic.id, booking_embed_origin="https://clinica.example")
    english = visitor.client.get(PAGE, headers={"Accept-Language": "en"})
    assert "What would you like to book?" in english.get_data(as_text=True)
    policy = english.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://clinica.example;" in policy
    guarani = visitor.get(f"{PAGE}?lang=gn")
    assert "Mba&#39;e turno piko reipota?" in guarani


def test_the_waitlist_pass_releases_a_time_not_proven_and_offers_it_to_the_day_s_waitlist(
    visitor: Visitor, db: Engine, app: Flask, clinic: support.TestClinic
) -> None:
    waiting = add_patient(db, clinic.id, "+595981777888", "Rosa Villalba")
    slot = f"{PAGE}/details?service=1&pro=2&slot=2|2026-12-02T13:00Z"  # Wednesday 10:00
    review = visitor.details(slot, "Marta Giménez", "0981444555")
    visitor.confirm(review)
    [held] = _appointments(db)
    with transaction(db) as session:
        join(
            session,
            clinic_id=clinic.id,
            patient_id=waiting,
            phone="+595981777888",
            service_id=held.service_id,
            professional_id=None,
            day=held.starts_at.date(),
            part=None,
            now=NOW,
        )
    report = run_waitlist_pass(db, NOW + timedelta(minutes=11))
    assert report.web_expired == 1 and report.offered == 1
    with Session(db) as session:
        [offer] = session.exec(select(WaitlistOffer)).all()
    assert offer.phone == "+595981777888" and offer.starts_at == held.starts_at


def test_one_address_cannot_walk_through_numbers_to_learn_who_is_a_patient(
    visitor: Visitor, db: Engine, clinic: support.TestClinic
) -> None:
    add_patient(db, clinic.id, "+595981000099", "Rosa Villalba")
    start = visitor.get(f"{PAGE}/days?service=1&pro=any&day=2026-12-02")
    form = hidden_fields(visitor.get(links(start, "/details?")[0]))
    for n in range(REVIEWS_PER_CLIENT_PER_HOUR):
        phone = f"0981{n:06d}"
        answer = visitor.post(f"{PAGE}/details", {**form, "name": "Ana Pérez", "phone": phone})
        assert answer.status_code == 200
    last = {**form, "name": "Ana Pérez", "phone": "0981000099"}
    refused = visitor.post(f"{PAGE}/details", last)
    assert refused.status_code == 429 and "Rosa" not in refused.get_data(as_text=True)
