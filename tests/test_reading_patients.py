"""What patients write: choices, days and times."""

from datetime import date, time

import pytest

from bot.dates import parse_day, parse_time
from bot.text import match_choice, normalize, option_number

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("hoy", TODAY),
        ("mañana", date(2026, 11, 26)),
        ("manana", date(2026, 11, 26)),
        ("Mañana!", date(2026, 11, 26)),
        ("pasado mañana", date(2026, 11, 27)),
        ("el viernes", date(2026, 11, 27)),
        ("viernes", date(2026, 11, 27)),
        ("el lunes que viene", date(2026, 11, 30)),
        ("miercoles", date(2026, 12, 2)),
        ("15/12", date(2026, 12, 15)),
        ("15-12-2026", date(2026, 12, 15)),
        ("15 de diciembre", date(2026, 12, 15)),
        ("1/1", date(2027, 1, 1)),
        ("20/11", date(2026, 11, 20)),  # just passed: pointed out, not next year
        ("tomorrow", date(2026, 11, 26)),
        ("next friday", date(2026, 11, 27)),
        ("ko'ẽrõ", date(2026, 11, 26)),
        ("koero", date(2026, 11, 26)),
        ("ko'ẽ mbove", date(2026, 11, 27)),
        ("arapo", date(2026, 11, 27)),
        ("banana", None),
        ("👍", None),
        ("2", None),
    ],
)
def test_days(said: str, meant: date | None):
    assert parse_day(said, TODAY) == meant


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        ("10:30", time(10, 30)),
        ("10.30", time(10, 30)),
        ("10hs", time(10)),
        ("a las 10", time(10)),
        ("3pm", time(15)),
        ("3 pm", time(15)),
        ("10 y media", time(10, 30)),
        ("16", time(16)),
        ("25:00", None),
        ("tarde", None),
    ],
)
def test_times(said: str, meant: time | None):
    assert parse_time(said) == meant


def test_normalize_drops_case_accents_and_emoji():
    assert normalize("  ¡Atrás! 🙏 ") == "atras"


def test_choices_by_name_with_typos_and_without_accents():
    names = ["Dra. Ana Benítez", "Dr. Luis Ortiz", "Odontología"]
    assert match_choice("ana benitez", names) == 0
    assert match_choice("Luis", names) == 1
    assert match_choice("ortis", names) == 1
    assert match_choice("odontologia", names) == 2
    assert match_choice("cardiologia", names) is None


def test_option_numbers():
    assert option_number("2", 3) == 1
    assert option_number("2.", 3) == 1
    assert option_number("opción 3", 3) == 2
    assert option_number("4", 3) is None
    assert option_number("10:30", 12) is None
