"""A clinic's own texts and its choice of steps, on plain data: which texts may be saved,
the preview with sample values, the clinic's text winning when a reply is written, and a
flow with optional steps switched off (still checked, still answering a patient who was
asked a step just switched off)."""

from dataclasses import replace

import pytest
import yaml

from bot.choices import offer
from bot.custom_texts import (
    AREAS,
    CLINIC_TAGS,
    Problem,
    body_problems,
    editable_keys,
    offered_tags,
    preview,
    required_tags,
    sample_tags,
)
from bot.effects import Book
from bot.engine import step
from bot.flow import (
    FLOWS_DIR,
    FlowError,
    clinic_flow,
    flow_problems,
    load_flow,
    parse_flow,
    without_steps,
)
from bot.locale import LANGUAGES
from bot.render import default_template_keys, default_templates, render
from bot.types import ConversationState, Inbound, Option, Reply
from tests.bot.test_engine import Chat, view

KEYS = default_template_keys()
CLINIC = {"clinic_name": "Clínica Demo", "clinic_phone": "", "clinic_address": ""}


# -- which texts may be saved --------------------------------------------------------------


def test_every_template_but_the_systems_own_may_be_changed_and_is_grouped_by_area():
    keys = editable_keys()
    assert "booking.ask_dni" in keys and "notification.reminder" in keys
    assert "system.unknown_clinic" not in keys  # sent where no clinic is known
    areas = [key.partition(".")[0] for key in keys]
    assert areas == sorted(areas, key=AREAS.index)  # grouped, in the console's order
    assert set(keys) == {k for k in default_templates("es") if not k.startswith("system.")}


def test_the_tags_a_text_offers_are_its_defaults_and_the_clinics_details():
    assert offered_tags("notification.waitlist_offer") >= {"hold_until", "link", "date"}
    assert offered_tags("booking.ask_name") == CLINIC_TAGS
    assert "hold_until" not in offered_tags("notification.reminder")
    assert required_tags("booking.ask_service") == {"options"}
    assert required_tags("interactive.booking_ask_service") == frozenset()


@pytest.mark.parametrize(
    ("key", "body", "problems"),
    [
        ("notification.reminder", "Hola {patient_name}, te esperamos el {date}.", []),
        ("notification.reminder", "Precio: {{100}} guaraníes, {clinic_name}", []),
        ("notification.reminder", "   \n ", [Problem("empty")]),
        ("notification.reminder", "Hola {patient_name", [Problem("broken_braces")]),
        ("notification.reminder", "Hola patient_name}", [Problem("broken_braces")]),
        ("notification.reminder", "Hola {}", [Problem("empty_tag")]),
        (
            "notification.reminder",
            "Hola {nombre}, tu turno es el {date} {hold_until}",
            [Problem("unknown_tags", ("hold_until", "nombre"))],
        ),
        (
            "notification.reminder",
            "Hola {patient_name!r}",
            [Problem("formatting", ("patient_name",))],
        ),
        ("notification.reminder", "El {date:>20}", [Problem("formatting", ("date",))]),
        (
            "notification.reminder",
            "{patient_name.upper}",
            [Problem("unknown_tags", ("patient_name.upper",))],
        ),
        ("booking.ask_service", "¿Qué servicio?", [Problem("missing_tags", ("options",))]),
        ("booking.ask_service", "¿Qué servicio?\n{options}", []),
        ("booking.ask_dni", "x" * 1501, [Problem("too_long")]),
    ],
)
def test_a_broken_text_or_an_unknown_tag_is_refused(key, body, problems):
    assert body_problems(key, body) == problems


def test_every_default_text_passes_its_own_check():
    for language in LANGUAGES:
        for key in editable_keys():
            assert body_problems(key, default_templates(language)[key]) == [], (language, key)


def test_the_preview_fills_the_text_with_samples_written_in_its_language():
    text = preview(
        "notification.reminder", "Hola {patient_name}: {date} a las {time}.", "es", CLINIC
    )
    assert text == "Hola María González: martes 15 de diciembre a las 10:30."
    english = preview("notification.reminder", "{service} on {date}", "en", CLINIC)
    assert english == "General consultation on Tuesday 15 December"
    assert preview("booking.ask_name", "En {clinic_name}", "gn", CLINIC) == "En Clínica Demo"
    listed = preview("booking.ask_service", "Elegí:\n{options}", "es", CLINIC)
    assert listed == "Elegí:\n1. Consulta general\n2. Odontología\n3. Laboratorio"


def test_every_tag_has_a_sample_in_every_language():
    every_tag = set().union(*(offered_tags(k) for k in editable_keys()))
    for language in LANGUAGES:
        samples = sample_tags(language, {})
        assert every_tag - {"options"} <= set(samples), language
        assert all(value not in (None, "") for value in samples.values())


def test_every_tag_has_a_label_for_staff():
    every_tag = set().union(*(offered_tags(k) for k in editable_keys()))
    for language in LANGUAGES:
        labels = yaml.safe_load(
            (FLOWS_DIR.parent / "locales" / f"console.{language}.yml").read_text("utf-8")
        )
        assert {f"tag_{t}" for t in every_tag} <= set(labels), language


# -- the clinic's text wins wherever a reply is written -------------------------------------


def test_the_clinics_text_wins_and_a_text_that_no_longer_fits_gives_way_to_the_default():
    reply = Reply("booking.ask_name", {"clinic_name": "Demo"})
    assert render(reply, "es", {"booking.ask_name": "¿Nombre completo? ({clinic_name})"}) == (
        "¿Nombre completo? (Demo)"
    )
    assert render(reply, "es", {"booking.ask_name": "roto {"}) == render(reply, "es")
    assert render(reply, "es", {"booking.ask_name": "{a.b}"}) == render(reply, "es")


def test_the_clinics_texts_reach_buttons_and_the_list_button():
    options = (Option("1", label="Consulta"),)
    own = {
        "interactive.booking_ask_service": "Tocá tu servicio en {clinic_name}",
        "interactive.list_button": "Elegir",
    }
    offered = offer([Reply("booking.ask_service", {"clinic_name": "Demo"}, options)], "es", own)
    assert offered is not None
    assert (offered.body, offered.button) == ("Tocá tu servicio en Demo", "Elegir")


# -- the clinic's flow ------------------------------------------------------------------------


def test_the_booking_flow_marks_its_optional_steps():
    assert load_flow("booking").optional_steps() == ["professional", "dni", "insurance"]


def test_a_skipped_step_is_passed_over_and_stays_for_conversations_already_in_it():
    flow = clinic_flow("booking", frozenset({"dni", "insurance"}))
    assert flow.states["name"].next == {"default": "review"}
    assert flow.states["dni"].next == {"default": "review"}  # answered, then on
    assert "dni" in flow.states and flow.skipped == {"dni", "insurance"}
    assert clinic_flow("booking", frozenset({"dni", "insurance"})) is flow  # cached
    assert clinic_flow("booking") is load_flow("booking")
    no_professional = clinic_flow("booking", frozenset({"professional"}))
    assert no_professional.states["service"].next == {"default": "day"}


def test_only_optional_steps_may_be_skipped_and_the_result_is_checked():
    assert flow_problems("booking", frozenset({"dni"}), KEYS) == []
    assert flow_problems("booking", frozenset({"review"}), KEYS) == [
        "state review: not an optional step"
    ]
    assert flow_problems("booking", frozenset({"nowhere"}), KEYS) == [
        "state nowhere: not an optional step"
    ]
    keys = {language: set(found) for language, found in KEYS.items()}
    keys["gn"].discard("booking.ask_insurance")
    assert flow_problems("booking", frozenset({"dni"}), keys) == [
        "template 'booking.ask_insurance' missing in gn"
    ]


def test_skips_that_lead_nowhere_are_refused():
    raw = yaml.safe_load((FLOWS_DIR / "booking.yaml").read_text(encoding="utf-8"))
    raw["states"]["dni"]["next"] = "insurance"
    raw["states"]["insurance"]["next"] = "dni"  # a loop only the skips expose
    raw["states"]["name"]["next"] = "review"
    raw["states"]["review"]["on_no"]["next"] = "dni"
    flow = parse_flow(raw, KEYS)
    with pytest.raises(FlowError, match="leads nowhere"):
        without_steps(flow, frozenset({"dni", "insurance"}))


def test_an_optional_step_needs_exactly_one_way_on():
    raw = yaml.safe_load((FLOWS_DIR / "booking.yaml").read_text(encoding="utf-8"))
    raw["states"]["review"]["optional"] = True
    with pytest.raises(FlowError, match="review: an optional step needs exactly one way on"):
        parse_flow(raw, KEYS)


def test_a_saved_choice_that_no_longer_fits_the_file_is_ignored():
    assert clinic_flow("booking", frozenset({"review"})) is load_flow("booking")


def clinic_without(*steps: str):
    clinic_view = view()
    info = replace(clinic_view.clinic, skipped_steps={"booking": frozenset(steps)})
    return replace(clinic_view, clinic=info)


def test_without_asking_for_the_dni_a_new_patient_goes_from_name_to_insurance():
    chat = Chat(clinic_without("dni"))
    for answer in ["hola", "1", "1", "1", "1"]:
        chat.says(answer)
    assert chat.asked("name")
    assert "obra social" in chat.says("Rosa Giménez")
    assert chat.asked("insurance")
    assert "¿Confirmo el turno?" in chat.says("IPS")
    chat.says("sí")
    [booking] = [e for e in chat.effects if isinstance(e, Book)]
    assert (booking.dni, booking.insurance) == (None, "IPS")


def test_without_asking_for_the_professional_the_first_available_is_offered():
    chat = Chat(clinic_without("professional"))
    chat.says("hola")
    assert "¿Qué día te queda bien?" in chat.says("1")
    assert chat.asked("day")


def test_a_patient_asked_for_the_dni_just_before_it_was_switched_off_is_answered():
    chat = Chat(view())
    for answer in ["hola", "1", "1", "1", "1", "Rosa Giménez"]:
        chat.says(answer)
    assert chat.asked("dni")
    chat.view = clinic_without("dni", "insurance")
    assert "¿Confirmo el turno?" in chat.says("1234567")  # kept, then on to the review
    assert chat.state.draft.dni == "1234567"


def test_the_engine_steps_through_the_clinics_flow():
    state = ConversationState(state="name", language="es")
    turn = step(state, Inbound(text="Rosa Giménez"), clinic_without("dni", "insurance"))
    assert turn.state.state == "review"
