"""The example Rasa project names what the action server offers: its actions, the slots
they read and set, and the form they validate."""

from pathlib import Path

import yaml

from rasa_actions.actions import FIELDS
from rasa_actions.tracker import FORM, SLOTS
from tests.rasa.support import DOMAIN, EXAMPLE
from tests.rasa.test_command import ACTIONS
from turnero.cli import RASA_PORT


def test_the_domain_lists_every_action_of_the_server_and_no_other():
    assert set(DOMAIN["actions"]) == ACTIONS


def test_every_slot_the_actions_use_is_in_the_domain_and_the_form_is_validated_whole():
    assert set(SLOTS.values()) <= set(DOMAIN["slots"])
    assert set(DOMAIN["forms"][FORM]["required_slots"]) == set(FIELDS)


def test_the_training_data_names_only_what_the_domain_declares():
    intents, actions = set(DOMAIN["intents"]), ACTIONS | set(DOMAIN["responses"])
    actions |= {FORM}
    for name in ("nlu.yml", "rules.yml", "stories.yml"):
        data = yaml.safe_load((EXAMPLE / "data" / name).read_text(encoding="utf-8"))
        for item in data.get("nlu", []):
            assert "intent" not in item or item["intent"] in intents, item
        for flow in data.get("rules", []) + data.get("stories", []):
            for step in flow["steps"]:
                assert "intent" not in step or step["intent"] in intents, step
                assert "action" not in step or step["action"] in actions, step


def test_the_endpoint_is_where_turnero_actions_listens_by_default():
    endpoints = yaml.safe_load(Path(EXAMPLE / "endpoints.yml").read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"]["url"] == f"http://localhost:{RASA_PORT}/webhook"
