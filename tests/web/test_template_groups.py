"""The templates page in plain words: every text the bot sends has a plain name in each
console language and a group of what it is for, and a search by name or text (`?q=`)
narrows the page without JavaScript."""

from pathlib import Path

import pytest
import yaml

from bot.custom_texts import editable_keys
from bot.locale import LANGUAGES, text
from tests.console_support import Desk
from web.console.template_groups import GROUPS, group_of, matches, name_label

LOCALES = Path(__file__).resolve().parents[2] / "locales"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_has_a_plain_name_in_each_language_file(language: str):
    """Read from the file itself: a missing label would otherwise fall back to Spanish."""
    path = LOCALES / f"console.{language}.yml"
    labels = yaml.safe_load(path.read_text(encoding="utf-8"))
    nameless = [k for k in editable_keys() if not labels.get(name_label(k))]
    assert nameless == [], f"add their text_… names to {path.name}"


def test_every_text_has_a_group_and_every_group_a_name():
    assert {group_of(k) for k in editable_keys()} == set(GROUPS)
    for language in LANGUAGES:
        for group in GROUPS:
            assert text(f"console.group_{group}", language) != f"console.group_{group}"


def test_texts_go_where_they_are_for_not_where_they_are_filed():
    assert group_of("booking.ask_name") == "booking"
    assert group_of("booking.not_understood") == "help"
    assert group_of("notification.reminder") == "reminders"
    assert group_of("interactive.notification_reminder") == "reminders"
    assert group_of("notification.waitlist_offer") == "waitlist"
    assert group_of("interactive.automations_survey_score") == "after_visit"
    assert group_of("console.appointment_moved") == "desk"


def test_a_search_needs_every_word_accents_and_case_aside():
    assert matches("dia", ["Qué DÍA te queda bien"])
    assert matches("queda día", ["¿Qué día te queda bien?"])
    assert not matches("día noche", ["¿Qué día te queda bien?"])
    assert matches("", ["anything"])


def test_the_page_is_grouped_by_plain_name_and_closed_until_opened(admin: Desk):
    page = admin.open("/console/templates").text
    assert page.count('<details class="card group">') == len(GROUPS)  # a short first screen
    assert "Pregunta: nombre del paciente <code>booking.ask_name</code>" in page
    assert "Errores, ayuda y botones viejos" in page


def test_a_search_keeps_the_texts_whose_name_or_words_match(admin: Desk):
    page = admin.open("/console/templates?q=recordatorio").text
    assert "Recordatorio del turno <code>notification.reminder</code>" in page
    assert "booking.ask_name" not in page
    assert '<details class="card group" open>' in page
    # two reminders and two of an appointment already confirmed, two opt-outs, the campaign's
    assert "7 mensajes coinciden con «recordatorio»." in page
    by_text = admin.open("/console/templates?q=obra+social").text  # what the text says
    assert "booking.ask_insurance" in by_text
    by_key = admin.open("/console/templates?q=stale_tap").text
    assert "booking.stale_tap_idle" in by_key
    english = admin.open("/console/templates?q=insurance&language=en").text
    assert "booking.ask_insurance" in english
    none = admin.open("/console/templates?q=zzzz").text
    assert "Ningún mensaje coincide con «zzzz»." in none and "<details" not in none


def test_a_search_too_long_or_with_control_characters_gets_a_400(admin: Desk):
    assert admin.open("/console/templates?q=" + "a" * 101).status_code == 400
    assert admin.open("/console/templates?q=a%00b").status_code == 400
