"""The patient's self-service page: what it shows, what it lets the patient change, and
what it refuses — through the real app, the real database and the app's clock."""

import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from werkzeug.test import TestResponse

from bot.links import self_service_url
from config.settings import Settings
from store.booking import SlotTaken, book
from store.db import transaction
from store.models import Appointment, AppointmentEvent, Clinic, Patient, Service
from tests import support
from tests.support import (
    AUTH_TOKEN,
    PUBLIC_URL,
    Chat,
    Clock,
    add_patient,
)
from usecases.stored_availability import StoreAvailability
from webhook import create_app

SECRET = "self-service-test-secret"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # Tuesday 09:00 in Asunción (UTC-3)
WEDNESDAY_10 = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 10:00 local, with Dra. Benítez
THURSDAY_10 = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
FORM_KEY = re.compile(r'name="form_key" value="([0-9a-f]+)"')
SLOT = re.compile(r'name="slot" value="([^"]+)"')


def book_at(
    engine: Engine, clinic: support.TestClinic, patient_id: int, start: datetime, who: str = "ana"
) -> int:
    with transaction(engine) as session:
        appointment = book(
            session,
            clinic_id=clinic.id,
            patient=session.get(Patient, patient_id),
            service=session.get(Service, clinic.services["general"]),
            professional_id=clinic.professionals[who],
            starts_at=start,
            source_channel="whatsapp",
            now=NOW - timedelta(days=2),
        )
        return appointment.id or 0


def link(appointment_id: int, secret: str = SECRET) -> str:
    """The path of the appointment's link, as the patient got it in WhatsApp."""
    return urlsplit(self_service_url(PUBLIC_URL, secret, appointment_id)).path


def stored(engine: Engine, appointment_id: int) -> Appointment:
    with Session(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment


def events(engine: Engine, appointment_id: int) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AppointmentEvent)
            .where(AppointmentEvent.appointment_id == appointment_id)
            .order_by(col(AppointmentEvent.id))
        ).all()
        return [(e.kind, e.channel) for e in rows]


class Patient_:
    """A patient on the page: opens links, presses the page's own buttons."""

    def __init__(self, client: FlaskClient, path: str) -> None:
        self.client, self.path, self.page, self.key = client, path, "", ""

    def opens(self, path: str | None = None) -> TestResponse:
        response = self.client.get(path or self.path)
        self.page = response.get_data(as_text=True)
        match = FORM_KEY.search(self.page)
        self.key = match.group(1) if match else self.key
        return response

    def form_key(self) -> str:
        """The hidden key of the last form the patient saw (pressing twice reuses it)."""
        assert self.key, "no page with a form was opened"
        return self.key

    def posts(self, action: str, **fields: str) -> TestResponse:
        data = {"form_key": self.form_key(), **fields}
        return self.client.post(f"{self.path}/{action}", data=data)

    def follows(self, response: TestResponse) -> str:
        assert response.status_code == 303, response.get_data(as_text=True)
        location = response.headers["Location"]
        self.opens(location)
        return location

    def slots(self) -> list[str]:
        return SLOT.findall(self.page)


@pytest.fixture
def client(db: Engine, clock: Clock, tmp_path) -> FlaskClient:
    settings = Settings(
        secret_key=SECRET,
        public_base_url=PUBLIC_URL,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=AUTH_TOKEN,
        instance_dir=tmp_path,
        database_url=str(db.url),
    )
    return create_app(settings, clock=clock, engine=db).test_client()


@pytest.fixture
def maria(db: Engine, clinic: support.TestClinic) -> int:
    return add_patient(db, clinic.id, "+595981222333", "María Pérez")


@pytest.fixture
def appointment_id(db: Engine, clinic: support.TestClinic, maria: int) -> int:
    return book_at(db, clinic, maria, WEDNESDAY_10)


@pytest.fixture
def patient(client: FlaskClient, appointment_id: int) -> Patient_:
    return Patient_(client, link(appointment_id))


def test_the_page_shows_the_appointment_in_the_clinics_language(patient, db, appointment_id):
    response = patient.opens()
    assert response.status_code == 200
    page = patient.page
    assert '<html lang="es">' in page
    for shown in (
        "Tu turno",
        "María Pérez",
        "Consulta general",
        "Dra. Ana Benítez",
        "miércoles 2 de diciembre",
        "10:00",  # 13:00 UTC in Asunción
        "Clínica Test",
        "Av. España 100",
        "021 555 000",
        stored(db, appointment_id).code,
        "Reservado, falta confirmar",
    ):
        assert shown in page, shown
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_the_page_speaks_the_patients_language_and_switches_on_request(db, clinic, client, maria):
    ana = add_patient(db, clinic.id, "+595981444555", "Ana Smith", language="en")
    page = Patient_(client, link(book_at(db, clinic, ana, WEDNESDAY_10)))
    page.opens()
    assert '<html lang="en">' in page.page
    assert "Your appointment" in page.page and "Wednesday 2 December" in page.page
    page.opens(page.path + "?lang=gn")
    assert '<html lang="gn">' in page.page
    assert "Nde turno" in page.page and "Ararundy 2 Jasypakõi" in page.page
    assert "?lang=gn" in page.page  # the choice stays on the page's links and forms
    page.opens(page.path + "?lang=xx")
    assert '<html lang="en">' in page.page


def test_the_link_in_the_booking_confirmation_opens_the_page(db, clinic, client):
    whatsapp = Chat(client, db)
    for text in ("hola", "1", "1", "jueves", "1", "Rosa Giménez", "saltar", "saltar"):
        whatsapp.says(text)
    done = whatsapp.says("sí")
    url = next(word for word in done.split() if word.startswith(PUBLIC_URL + "/a/"))
    page = Patient_(client, urlsplit(url).path)
    assert page.opens().status_code == 200
    assert "Rosa Giménez" in page.page and "jueves 3 de diciembre" in page.page
    page.follows(page.posts("confirm"))
    with Session(db) as session:
        assert session.exec(select(Appointment.status)).one() == "confirmed"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda path: path[:-1] + ("A" if path[-1] != "A" else "B"),  # one character changed
        lambda path: path[:5] + ("x" if path[5] != "x" else "y") + path[6:],
        lambda path: "/a/" + "garbage",
        lambda path: "/a/" + "." * 40,
        lambda path: "/a/" + "Mg." + "A" * 27,
    ],
)
def test_a_tampered_link_gets_one_generic_page(patient, db, appointment_id, tamper):
    response = patient.opens(tamper(patient.path))
    assert response.status_code == 404
    assert "Este enlace no funciona" in patient.page
    assert stored(db, appointment_id).code not in patient.page
    assert "Benítez" not in patient.page and "María" not in patient.page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_link_signed_with_another_secret_or_naming_no_appointment_is_refused(
    patient, appointment_id
):
    forged = patient.opens(link(appointment_id, secret="another-secret"))
    assert forged.status_code == 404
    unknown = patient.opens(link(appointment_id + 1000))
    assert unknown.status_code == 404
    assert forged.get_data() == unknown.get_data()
    posted = patient.client.post(link(appointment_id, "another-secret") + "/cancel", data={})
    assert posted.status_code == 404


def test_the_link_expires_when_the_appointment_ends(patient, clock, appointment_id, db):
    clock.now = WEDNESDAY_10 + timedelta(minutes=20)  # under way: shown, but no changes
    response = patient.opens()
    assert response.status_code == 200
    assert "ya empezó" in patient.page and 'action="' not in patient.page
    clock.now = WEDNESDAY_10 + timedelta(minutes=31)
    response = patient.opens()
    assert response.status_code == 410
    assert "Este enlace ya venció" in patient.page
    assert stored(db, appointment_id).code not in patient.page
    assert patient.opens(patient.path + "/calendar.ics").status_code == 410
    assert response.headers["X-Robots-Tag"].startswith("noindex")


def test_confirming_twice_is_harmless(patient, db, appointment_id):
    patient.opens()
    first = patient.posts("confirm")
    location = patient.follows(first)
    assert "notice=confirmed" in location
    assert "Tu asistencia quedó confirmada" in patient.page
    assert stored(db, appointment_id).status == "confirmed"
    second = patient.posts("confirm")
    patient.follows(second)
    assert "ya estaba confirmado" in patient.page
    assert events(db, appointment_id) == [("confirmed", "self_service")]


def test_a_post_without_the_pages_form_key_is_refused(patient, db, appointment_id):
    patient.opens()
    for data in ({}, {"form_key": "0" * 64}, {"form_key": patient.form_key()[:-1]}):
        response = patient.client.post(patient.path + "/confirm", data=data)
        assert response.status_code == 400
        assert "Algo salió mal con el formulario" in response.get_data(as_text=True)
    other = link(appointment_id + 1000)  # a key is good for its own link only
    stolen = patient.client.post(other + "/confirm", data={"form_key": patient.form_key()})
    assert stolen.status_code in (400, 404)
    assert stored(db, appointment_id).status == "booked"


def test_a_form_key_with_characters_no_key_has_is_refused_not_a_crash(patient, db, appointment_id):
    patient.opens()
    for key in ("ñ" * 64, "\x00", "😀"):
        response = patient.client.post(patient.path + "/confirm", data={"form_key": key})
        assert response.status_code == 400
    assert stored(db, appointment_id).status == "booked"


def test_cancelling_asks_first_then_cancels(patient, db, appointment_id):
    patient.opens(patient.path + "/cancel")
    assert "¿Seguro que querés cancelar tu turno?" in patient.page
    assert stored(db, appointment_id).status == "booked"  # asking changes nothing
    patient.follows(patient.posts("cancel"))
    assert "Tu turno quedó cancelado" in patient.page
    assert "Cancelado" in patient.page
    assert "/confirm" not in patient.page and "/reschedule" not in patient.page
    assert stored(db, appointment_id).status == "cancelled"
    patient.opens(patient.path + "/cancel")
    assert "ya estaba cancelado" in patient.page
    assert events(db, appointment_id) == [("cancelled", "self_service")]


def test_cancelling_after_the_start_is_refused_politely(patient, db, clock, appointment_id):
    patient.opens(patient.path + "/cancel")  # the form was open before the start
    clock.now = WEDNESDAY_10 + timedelta(minutes=5)
    response = patient.posts("cancel")
    patient.follows(response)
    assert "ya empezó" in patient.page and "llamá a la clínica" in patient.page
    assert stored(db, appointment_id).status == "booked"
    assert patient.opens(patient.path + "/cancel").status_code == 200
    assert "ya empezó" in patient.page and "¿Seguro" not in patient.page


def test_rescheduling_by_picking_a_day_and_a_time(patient, db, appointment_id, clinic, maria):
    patient.opens()
    patient.posts("confirm")
    patient.opens(patient.path + "/reschedule")
    days = re.findall(r'href="([^"]*/reschedule\?day=[^"]+)"', patient.page)
    assert days and "day=2026-12-01" in days[0]  # today still has time with her
    thursday = next(d for d in days if "day=2026-12-03" in d)
    patient.opens(thursday.replace("&amp;", "&"))
    assert "jueves 3 de diciembre" in patient.page
    ten = next(s for s in patient.slots() if s.endswith("2026-12-03T13:00Z"))
    patient.follows(patient.posts("reschedule", slot=ten))
    assert "Cambiamos tu turno" in patient.page and "jueves 3 de diciembre" in patient.page
    moved = stored(db, appointment_id)
    assert moved.starts_at == THURSDAY_10 and moved.ends_at == THURSDAY_10 + timedelta(minutes=30)
    assert moved.status == "booked"  # the new time needs its own confirmation
    assert events(db, appointment_id)[-1] == ("rescheduled", "self_service")
    book_at(db, clinic, maria, WEDNESDAY_10)  # the old time is free again


def test_rescheduling_to_any_professional(patient, db, appointment_id, clinic):
    patient.opens(patient.path + "/reschedule?day=2026-12-05")  # Saturday: she does not work
    assert patient.slots() == []
    patient.opens(patient.path + "/reschedule?day=2026-12-05&any=1")
    assert "Dr. Luis Ortiz" in patient.page
    nine = next(s for s in patient.slots() if s.endswith("2026-12-05T12:00Z"))
    patient.follows(patient.posts("reschedule", slot=nine, any="1"))
    moved = stored(db, appointment_id)
    assert moved.professional_id == clinic.professionals["luis"]
    assert moved.starts_at == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_time_taken_meanwhile_changes_nothing(patient, db, appointment_id, clinic):
    patient.opens(patient.path + "/reschedule?day=2026-12-03")
    ten = next(s for s in patient.slots() if s.endswith("2026-12-03T13:00Z"))
    other = add_patient(db, clinic.id, "+595981777888", "Pedro Gómez")
    book_at(db, clinic, other, THURSDAY_10)  # somebody else got there first
    location = patient.follows(patient.posts("reschedule", slot=ten))
    assert parse_qs(urlsplit(location).query) == {"day": ["2026-12-03"], "notice": ["taken"]}
    assert "Ese horario se acaba de ocupar" in patient.page
    assert ten not in patient.slots()
    unchanged = stored(db, appointment_id)
    assert unchanged.starts_at == WEDNESDAY_10 and unchanged.status == "booked"
    assert events(db, appointment_id) == []


@pytest.mark.parametrize(
    "slot",
    [
        "",
        "abc",
        "1|",
        "|2026-12-03T13:00Z",
        "x|2026-12-03T13:00Z",
        "1|2026-12-03T13:00",  # no zone
        "1|2026-13-03T13:00Z",
        "1|2026-12-03T13:00Z|2",
        "99999999999999999999|2026-12-03T13:00Z",
        "١|2026-12-03T13:00Z",  # a digit, but not one of ours
        "1|" + "9" * 80,
        "1|2027-06-01T13:00Z",  # beyond the horizon
        "1|2026-11-20T13:00Z",  # in the past
    ],
)
def test_bad_slots_get_a_400(patient, db, appointment_id, slot):
    patient.opens()
    response = patient.posts("reschedule", slot=slot)
    assert response.status_code == 400
    assert stored(db, appointment_id).starts_at == WEDNESDAY_10


def test_a_professional_not_offered_gets_a_400(patient, db, clinic, appointment_id):
    patient.opens()
    luis = f"{clinic.professionals['luis']}|2026-12-05T12:00Z"
    assert patient.posts("reschedule", slot=luis).status_code == 400  # "only with her"
    stranger = "4242|2026-12-03T13:00Z"
    assert patient.posts("reschedule", slot=stranger, any="1").status_code == 400
    assert stored(db, appointment_id).professional_id == clinic.professionals["ana"]


def test_a_time_that_is_no_slot_is_answered_as_taken(patient, db, appointment_id, clinic):
    patient.opens()
    odd = f"{clinic.professionals['ana']}|2026-12-03T13:07Z"
    location = patient.follows(patient.posts("reschedule", slot=odd))
    assert "notice=taken" in location
    assert stored(db, appointment_id).starts_at == WEDNESDAY_10


@pytest.mark.parametrize(
    "query",
    ["day=tomorrow", "day=2026-02-30", "day=2027-06-01", "day=2026-11-01", "from=2027-06-01"],
)
def test_days_that_are_not_offered_get_a_400(patient, query):
    assert patient.opens(f"{patient.path}/reschedule?{query}").status_code == 400
    assert "No pudimos procesar el pedido" in patient.page


def test_later_days_are_offered_a_week_at_a_time(patient):
    patient.opens(patient.path + "/reschedule")
    later = re.search(r'href="([^"]*/reschedule\?from=[^"]+)"', patient.page)
    assert later
    assert patient.opens(later.group(1).replace("&amp;", "&")).status_code == 200
    shown = re.findall(r"day=(\d{4}-\d{2}-\d{2})", patient.page)
    assert shown and min(shown) > "2026-12-08"


def test_the_calendar_file(patient, db, appointment_id, clinic):
    with transaction(db) as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None
        row.address = "Av. España 100, piso 2; consultorio 3"
    response = patient.opens(patient.path + "/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    raw = response.get_data(as_text=True)
    assert "DTSTART:20261202T130000Z" in raw and "DTEND:20261202T133000Z" in raw
    assert "DTSTAMP:20261201T120000Z" in raw
    assert r"piso 2\; consultorio 3" in raw.replace("\r\n ", "") and r"100\, piso" in raw
    assert raw.startswith("BEGIN:VCALENDAR\r\n")
    event = Calendar.from_ical(response.get_data()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"appointment-{appointment_id}@turnero.example.org"
    assert str(event["SUMMARY"]) == "Consulta general en Clínica Test"
    assert str(event["LOCATION"]) == "Clínica Test, Av. España 100, piso 2; consultorio 3"
    assert stored(db, appointment_id).code in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == WEDNESDAY_10
    assert response.headers["Cache-Control"] == "no-store"


def test_two_patients_moving_onto_one_free_time_at_once(on_postgres, clinic, client, monkeypatch):
    """Both read the time as free; the database lets exactly one of them take it."""
    db = on_postgres
    both_have_looked = threading.Barrier(2, timeout=10)

    class LookingTogether(StoreAvailability):
        def slots(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            found = super().slots(*args, **kwargs)
            both_have_looked.wait()  # neither moves before both saw the time free
            return found

    monkeypatch.setattr("web.self_service.StoreAvailability", LookingTogether)
    first = add_patient(db, clinic.id, "+595981000101", "Primera")
    second = add_patient(db, clinic.id, "+595981000102", "Segunda")
    ids = [
        book_at(db, clinic, first, WEDNESDAY_10),
        book_at(db, clinic, second, WEDNESDAY_10 + timedelta(minutes=30)),
    ]
    pages = [Patient_(client.application.test_client(), link(i)) for i in ids]
    target = f"{clinic.professionals['ana']}|2026-12-03T13:00Z"
    for page in pages:
        page.opens()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move(page: Patient_) -> None:
        barrier.wait()
        response = page.posts("reschedule", slot=target)
        outcomes.append(parse_qs(urlsplit(response.headers["Location"]).query)["notice"][0])

    threads = [threading.Thread(target=move, args=(page,)) for page in pages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["rescheduled", "taken"]
    starts = {i: stored(db, i).starts_at for i in ids}
    moved = [i for i in ids if starts[i] == THURSDAY_10]
    assert len(moved) == 1
    stayed = next(i for i in ids if i not in moved)
    assert starts[stayed] == WEDNESDAY_10 + timedelta(minutes=30 * ids.index(stayed))
    assert events(db, stayed) == []


def test_slot_taken_is_what_the_store_raises_for_an_overlap(db, clinic, maria):
    """The page relies on `reschedule` raising SlotTaken; this pins that contract."""
    from store.appointments import Actor, reschedule

    other = add_patient(db, clinic.id, "+595981777888", "Pedro Gómez")
    mine = book_at(db, clinic, maria, WEDNESDAY_10)
    book_at(db, clinic, other, THURSDAY_10)
    with pytest.raises(SlotTaken), transaction(db) as session:
        appointment = session.get(Appointment, mine)
        assert appointment is not None
        reschedule(
            session,
            appointment,
            starts_at=THURSDAY_10,
            professional_id=clinic.professionals["ana"],
            actor=Actor("patient", "self_service"),
            now=NOW,
        )
    assert stored(db, mine).starts_at == WEDNESDAY_10


def test_a_service_patients_cannot_book_cannot_be_moved_from_the_page(client, db, clinic, maria):
    """The lab test is booked by staff only; moving it is the front desk's job too."""
    with transaction(db) as session:
        lab = session.get(Service, clinic.services["lab"])
        appointment = book(
            session,
            clinic_id=clinic.id,
            patient=session.get(Patient, maria),
            service=lab,
            professional_id=clinic.professionals["ana"],
            starts_at=WEDNESDAY_10,
            source_channel="console",
            now=NOW,
        )
        appointment_id = appointment.id or 0
    page = Patient_(client, link(appointment_id))
    page.opens()
    assert "Este turno solo lo puede cambiar la clínica: por favor, llamá al 021 555 000." in (
        page.page
    )
    assert "/reschedule" not in page.page
    assert page.client.get(page.path + "/reschedule").status_code == 303
    response = page.posts("reschedule", slot=f"{clinic.professionals['ana']}|2026-12-03T13:00Z")
    assert response.status_code == 303
    assert stored(db, appointment_id).starts_at == WEDNESDAY_10
