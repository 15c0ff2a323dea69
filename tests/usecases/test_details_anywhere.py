"""Details a patient gives before their question comes, or after it went — the service, the
professional by name inside a sentence, "lo antes posible", the day and time, a name and DNI
on one line, a change of mind — taken when given and not asked again, through the signed
webhook. The clinic (tests.support.make_clinic): general consultation by Dra. Ana Benítez
(Mon–Fri 8–12, 14–18) and Dr. Luis Ortiz (Mon–Sat 9–13); dentistry by Ortiz only."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from tests.support import Chat

ASU = ZoneInfo("America/Asuncion")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ASU)  # a Wednesday


@pytest.fixture
def patient(app, db: Engine) -> Chat:
    return Chat(app.test_client(), db)


def local(iso_utc: str) -> datetime:
    return datetime.fromisoformat(iso_utc).astimezone(ASU)


def test_a_day_and_part_in_the_opener_are_not_asked_again(patient: Chat, clinic) -> None:
    patient.says("hola quiero un turno para mañana a la tarde")
    assert patient.asked("booking.ask_service")
    patient.says("1")
    times = patient.says("1")  # Dra. Ana Benítez
    assert patient.asked("booking.ask_time")  # the day was said: not asked
    assert patient.draft()["day"] == "2026-11-26"
    assert patient.draft()["part"] == "afternoon"
    assert "14:00" in times and "09:00" not in times


def test_everything_in_one_opener_goes_straight_to_the_patient(patient: Chat, clinic) -> None:
    patient.says("Hola! quiero un turno de odontologia con el dr ortiz para el viernes a las 10")
    draft = patient.draft()
    assert draft["service"] == clinic.services["dentistry"]
    assert draft["professional"] == clinic.professionals["luis"]
    assert local(draft["slot"]) == datetime(2026, 11, 27, 10, 0, tzinfo=ASU)
    assert patient.asked("booking.ask_name")  # nobody known on this phone yet


def test_a_professional_named_inside_a_sentence_with_a_typo(patient: Chat, clinic) -> None:
    patient.says("hola")
    patient.says("consulta general")
    assert patient.asked("booking.ask_professional")
    patient.says("con la dra benites por favor")
    assert patient.draft()["professional"] == clinic.professionals["ana"]
    assert patient.asked("booking.ask_day")


def test_the_patients_own_name_is_not_taken_for_a_professional(patient: Chat) -> None:
    patient.says("hola, soy Ana y quiero un turno")
    patient.says("1")
    assert patient.asked("booking.ask_professional")  # "Ana" was no professional


@pytest.mark.parametrize("soonest", ["el primero que haya", "lo antes posible", "cualquiera"])
def test_as_soon_as_possible_at_the_professional_question(patient: Chat, soonest: str) -> None:
    patient.says("hola")
    patient.says("1")
    patient.says(soonest)
    assert patient.draft()["first_available"] is True
    assert patient.asked("booking.ask_day")


@pytest.mark.parametrize("soonest", ["el que sea", "lo antes posible", "the earliest please"])
def test_as_soon_as_possible_at_the_time_question_takes_the_first_time(
    patient: Chat, soonest: str
) -> None:
    patient.says("hola")
    patient.says("1")
    patient.says("1")
    times = patient.says("1")
    assert patient.asked("booking.ask_time")
    first_offered = times.split("1. ")[1].split()[0]
    patient.says(soonest)
    assert f"{local(patient.draft()['slot']):%H:%M}" == first_offered
    assert patient.asked("booking.ask_name")


def test_a_change_of_mind_about_the_service_goes_back_to_it(patient: Chat, clinic) -> None:
    patient.says("hola")
    patient.says("1")  # general consultation
    patient.says("1")
    assert patient.asked("booking.ask_day")
    listed = patient.says("no perdón, es para odontología")
    assert patient.draft()["service"] == clinic.services["dentistry"]
    assert patient.asked("booking.ask_professional")
    assert "Ortiz" in listed and "Benítez" not in listed


def test_a_change_of_mind_at_the_review_keeps_the_name_dni_and_insurance(
    patient: Chat, clinic
) -> None:
    patient.says("hola")
    for answer in ("1", "1", "1", "1", "Juana Pérez", "4567890", "IPS"):
        patient.says(answer)
    assert patient.asked("booking.review")
    patient.says("no, mejor odontología")
    assert patient.asked("booking.ask_professional")
    for answer in ("1", "1", "1"):
        patient.says(answer)
    assert patient.asked("booking.review")  # name, DNI and insurance were not asked again
    draft = patient.draft()
    assert (draft["service"], draft["name"], draft["dni"], draft["insurance"]) == (
        clinic.services["dentistry"],
        "Juana Pérez",
        "4567890",
        "IPS",
    )


@pytest.mark.parametrize(
    ("line", "name", "dni"),
    [
        ("Juan Pérez 4.567.890", "Juan Pérez", "4567890"),
        ("me llamo Juan Pérez, CI 4567890", "Juan Pérez", "4567890"),
        ("Rosa Giménez cédula 1 234 567", "Rosa Giménez", "1234567"),
    ],
)
def test_a_name_and_dni_on_one_line(patient: Chat, line: str, name: str, dni: str) -> None:
    patient.says("hola")
    for answer in ("1", "1", "1", "1"):
        patient.says(answer)
    assert patient.asked("booking.ask_name")
    patient.says(line)
    assert (patient.draft()["name"], patient.draft()["dni"]) == (name, dni)
    assert patient.asked("booking.ask_insurance")  # the DNI was not asked


def test_a_detail_for_a_later_question_is_kept_for_it(patient: Chat) -> None:
    patient.says("hola")
    patient.says("para el lunes a la mañana")  # at the service question
    assert patient.asked("booking.ask_service")  # asked again, nothing lost
    patient.says("1")
    patient.says("1")
    assert patient.asked("booking.ask_time")
    assert patient.draft()["day"] == "2026-11-30"


def test_the_first_day_said_in_words_is_the_first_offered(patient: Chat) -> None:
    patient.says("hola")
    patient.says("1")
    days = patient.says("1")
    assert patient.asked("booking.ask_day")
    patient.says("el primero")
    first_offered = days.split("1. ")[1].splitlines()[0]
    assert first_offered.split()[1] == str(int(patient.draft()["day"][-2:]))  # "jueves 26 …"
    assert patient.asked("booking.ask_time")


@pytest.mark.parametrize(
    ("said", "kept"), [("tengo IPS", "IPS"), ("mi seguro es Asismed", "Asismed")]
)
def test_an_answer_is_kept_without_the_words_before_it(patient: Chat, said: str, kept: str) -> None:
    for answer in ("hola", "1", "1", "1", "1", "Juana Pérez", "saltar"):
        patient.says(answer)
    assert patient.asked("booking.ask_insurance")
    patient.says(said)
    assert patient.draft()["insurance"] == kept


def test_the_doctora_is_the_one_doctora_of_the_service(patient: Chat, clinic) -> None:
    """Dentistry is Dr. Ortiz's only; general consultation has one doctora, Dra. Benítez."""
    patient.says("hola, quiero una consulta general con la doctora")
    assert patient.draft()["professional"] == clinic.professionals["ana"]
    assert patient.asked("booking.ask_day")
