"""Flow files are checked when they load, and every text exists in es, en and gn."""

import re
from pathlib import Path

import pytest
import yaml

from bot.flow import FLOWS_DIR, FlowError, load_flow, parse_flow
from bot.locale import LANGUAGES, LOCALES_DIR
from bot.render import default_template_keys, default_templates, template_tags
from bot.vocabulary import VOCABULARY_DIR

KEYS = default_template_keys()


def booking_raw() -> dict:
    return yaml.safe_load((FLOWS_DIR / "booking.yaml").read_text(encoding="utf-8"))


def test_the_booking_flow_loads():
    flow = load_flow("booking")
    assert flow.start == "service" and "review" in flow.states


def test_an_unknown_target_is_refused():
    raw = booking_raw()
    raw["states"]["service"]["next"] = "nowhere"
    with pytest.raises(FlowError, match="nowhere"):
        parse_flow(raw, KEYS)


def test_an_unreachable_state_is_refused():
    raw = booking_raw()
    raw["states"]["orphan"] = {"ask": "booking.ask_name", "read": "name", "next": "done"}
    with pytest.raises(FlowError, match="orphan cannot be reached"):
        parse_flow(raw, KEYS)


def test_a_dead_end_is_refused():
    raw = booking_raw()
    del raw["states"]["dni"]["next"]
    with pytest.raises(FlowError, match="dni: a dead end"):
        parse_flow(raw, KEYS)


def test_a_text_answer_with_nowhere_to_be_kept_is_refused():
    """A name asked in a state named otherwise than a draft field, without `keep:`, was
    read and then lost: the waitlist's booking came out nameless."""
    raw = booking_raw()
    del raw["states"]["waitlist_name"]["keep"]
    with pytest.raises(FlowError, match="waitlist_name: keeps its answer in unknown field"):
        parse_flow(raw, KEYS)


@pytest.mark.parametrize(
    ("state", "key", "kind", "refusal"),
    [
        ("service", "choose", "colours", "unknown choice source 'colours'"),
        ("dni", "read", "poem", "unknown answer kind 'poem'"),
    ],
)
def test_an_unknown_question_kind_is_refused(state, key, kind, refusal):
    raw = booking_raw()
    raw["states"][state][key] = kind
    with pytest.raises(FlowError, match=refusal):
        parse_flow(raw, KEYS)


def test_an_unknown_effect_is_refused():
    raw = booking_raw()
    raw["states"]["review"]["on_yes"]["do"] = "book_twice"
    with pytest.raises(FlowError, match="unknown effect 'book_twice'"):
        parse_flow(raw, KEYS)


def test_a_prompt_without_a_template_in_some_language_is_refused():
    keys = {lang: set(keys) for lang, keys in KEYS.items()}
    keys["gn"].discard("booking.ask_dni")
    with pytest.raises(FlowError, match=r"booking\.ask_dni' missing in gn"):
        parse_flow(booking_raw(), keys)


def test_every_template_exists_in_every_language_with_the_same_tags():
    spanish = default_templates("es")
    for language in LANGUAGES:
        templates = default_templates(language)
        assert set(templates) == set(spanish), language
        for key, body in templates.items():
            assert template_tags(body) == template_tags(spanish[key]), (language, key)


def _locale_files(language: str, directory: Path = LOCALES_DIR) -> dict[str, dict]:
    return {
        path.name.split(".")[0]: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in Path(directory).glob(f"*.{language}.yml")
    }


@pytest.mark.parametrize("directory", [LOCALES_DIR, VOCABULARY_DIR])
def test_every_locale_key_exists_in_every_language_with_the_same_placeholders(directory: Path):
    spanish = _locale_files("es", directory)
    assert spanish
    for language in LANGUAGES:
        files = _locale_files(language, directory)
        assert set(files) == set(spanish)
        for namespace, entries in spanish.items():
            assert set(files[namespace]) == set(entries), (language, namespace)
            for key, value in entries.items():
                placeholders = set(re.findall(r"%\{(\w+)\}", str(value)))
                assert placeholders == set(re.findall(r"%\{(\w+)\}", str(files[namespace][key])))


def test_the_words_for_days_and_months_name_only_cldrs_days_and_months():
    """No hand-written list of names: the vocabulary only adds spellings to CLDR's names,
    each under the name it means."""
    for language in LANGUAGES:
        when = _locale_files(language, VOCABULARY_DIR)["when"]
        assert "weekdays" not in when and "months" not in when
        for key in ("weekday_variants", "month_variants"):
            assert isinstance(when.get(key, {}), dict)


def test_a_service_is_never_named_after_a_kind_of_visit():
    """'Tu consulta de Consulta clínica': the service's own name says what it is."""
    for language in LANGUAGES:
        for key, body in default_templates(language).items():
            said = body.lower()
            assert "consulta de {service}" not in said, (language, key)
            assert "consulta {service}" not in said, (language, key)
