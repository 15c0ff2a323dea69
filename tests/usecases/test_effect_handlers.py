"""Every effect the engine may ask for has exactly one handler in the inbound use case,
and every effect a flow may name is one the engine can build."""

from typing import get_args

from bot.effects import FROM_FLOW, Effect
from bot.flow import load_flow
from usecases.inbound import HANDLERS


def test_every_effect_has_a_handler() -> None:
    assert set(HANDLERS) == set(get_args(Effect))


def test_every_effect_the_booking_flow_names_can_be_built() -> None:
    named = {action.do for action in load_flow("booking").actions() if action.do}
    assert named and named <= set(FROM_FLOW)
