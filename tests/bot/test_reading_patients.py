"""What patients write: choices and numbers (days and times: test_when_corpus.py)."""

from datetime import date

from bot.text import match_choice, normalize, option_number

TODAY = date(2026, 11, 25)  # a Wednesday


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
