"""Flow files: conversation states declared as data, checked when they load."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.types import BookingDraft

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"
READ_KINDS = {"date", "day", "time", "name", "optional_text", "text", "comment", "yes_no"}
CHOICE_SOURCES = {
    "services",
    "professionals",
    "days",
    "times",
    "people",
    "appointments",
    "actions",
    "parts",
}
ACTION_KEYS = {"say", "do", "clear", "next", "back", "ask_again"}


class FlowError(ValueError):
    """A flow file that would leave a patient stuck."""


@dataclass(frozen=True)
class Action:
    """What a command, an event or an answer does: say something, have something done,
    forget the draft, then go somewhere (or back, or ask the same question again)."""

    say: str | None = None
    do: str | None = None
    clear: bool = False
    next: str | None = None
    back: bool = False
    ask_again: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "Action":
        unknown = set(raw) - ACTION_KEYS
        if unknown:
            raise FlowError(f"{where}: unknown keys {sorted(unknown)}")
        return cls(**raw)


@dataclass(frozen=True)
class State:
    id: str
    ask: str | None = None
    choose: str | None = None
    also: tuple[str, ...] = ()
    full_also: tuple[str, ...] = ()  # extra choices offered with the days around a full day
    read: str | None = None
    next: dict[str, str] = field(default_factory=dict)  # choice id or "default" → state
    when_empty: Action | None = None
    when_full: Action | None = None
    # taken instead of asking, at a clinic that books known patients only, when nobody on
    # the phone is known
    when_unknown: Action | None = None
    keep: str | None = None  # the draft field a text answer goes to (default: the state's id)
    yes: Action | None = None
    no: Action | None = None
    on_enter: Action | None = None
    greet: bool = False
    wait: bool = False

    def next_for(self, choice: str | None) -> str | None:
        return self.next.get(choice or "", self.next.get("default"))


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    idle: str
    states: dict[str, State]
    commands: dict[str, Action]
    events: dict[str, Action]
    manage: str | None = None  # where an appointment's code or a reminder reply lands

    def templates(self) -> set[str]:
        """Every template key the flow can send."""
        keys = {s.ask for s in self.states.values() if s.ask}
        for action in self._actions():
            if action.say:
                keys.add(action.say)
        return keys

    def _actions(self) -> list[Action]:
        actions = [*self.commands.values(), *self.events.values()]
        for s in self.states.values():
            actions += [a for a in _state_actions(s) if a]
        return actions


def _state(state_id: str, raw: dict[str, Any]) -> State:
    where = f"state {state_id}"
    nxt = raw.get("next")
    return State(
        id=state_id,
        ask=raw.get("ask"),
        choose=raw.get("choose"),
        also=tuple(raw.get("also", ())),
        full_also=tuple(raw.get("full_also", ())),
        read=raw.get("read"),
        next=nxt if isinstance(nxt, dict) else ({"default": nxt} if nxt else {}),
        when_empty=Action.parse(raw["when_empty"], where) if "when_empty" in raw else None,
        when_full=Action.parse(raw["when_full"], where) if "when_full" in raw else None,
        when_unknown=Action.parse(raw["when_unknown"], where) if "when_unknown" in raw else None,
        keep=raw.get("keep"),
        yes=Action.parse(raw["on_yes"], where) if "on_yes" in raw else None,
        no=Action.parse(raw["on_no"], where) if "on_no" in raw else None,
        on_enter=Action.parse(raw["on_enter"], where) if "on_enter" in raw else None,
        greet=bool(raw.get("greet")),
        wait=bool(raw.get("wait")),
    )


def parse_flow(raw: dict[str, Any], template_keys: dict[str, set[str]]) -> Flow:
    """Build a flow and check it: known kinds, existing targets, every state reachable,
    every template present in every language."""
    flow = Flow(
        name=raw["flow"],
        start=raw["start"],
        idle=raw["idle"],
        states={sid: _state(sid, body or {}) for sid, body in raw["states"].items()},
        commands={k: Action.parse(v, f"command {k}") for k, v in raw.get("commands", {}).items()},
        events={k: Action.parse(v, f"event {k}") for k, v in raw.get("events", {}).items()},
        manage=raw.get("manage"),
    )
    _check(flow, template_keys)
    return flow


def _state_actions(state: State) -> tuple[Action | None, ...]:
    return (
        state.when_empty,
        state.when_full,
        state.when_unknown,
        state.yes,
        state.no,
        state.on_enter,
    )


def _targets(flow: Flow, state: State) -> set[str]:
    found = set(state.next.values())
    for action in _state_actions(state):
        if action and action.next:
            found.add(action.next)
    return found


def _check(flow: Flow, template_keys: dict[str, set[str]]) -> None:
    problems = []
    for s in flow.states.values():
        if s.choose and s.choose not in CHOICE_SOURCES:
            problems.append(f"state {s.id}: unknown choice source {s.choose!r}")
        if s.read and s.read not in READ_KINDS:
            problems.append(f"state {s.id}: unknown answer kind {s.read!r}")
        if s.read == "yes_no" and not (s.yes and s.no):
            problems.append(f"state {s.id}: a yes/no question needs both on_yes and on_no")
        if s.keep and s.keep not in BookingDraft.__dataclass_fields__:
            problems.append(f"state {s.id}: keeps its answer in unknown field {s.keep!r}")
        if s.ask and not (s.choose or s.read):
            problems.append(f"state {s.id}: asks but reads no answer")
        if not (s.wait or _targets(flow, s)):
            problems.append(f"state {s.id}: a dead end")
    global_targets = {a.next for a in [*flow.commands.values(), *flow.events.values()] if a.next}
    for target in (
        {flow.start, flow.idle, *([flow.manage] if flow.manage else [])}
        | global_targets
        | {t for s in flow.states.values() for t in _targets(flow, s)}
    ):
        if target not in flow.states:
            problems.append(f"unknown target state {target!r}")
    entries = {flow.start, flow.idle, *([flow.manage] if flow.manage else [])}
    reachable = entries | global_targets
    frontier = list(reachable)
    while frontier:
        state = flow.states.get(frontier.pop())
        for target in _targets(flow, state) if state else ():
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    problems += [f"state {sid} cannot be reached" for sid in flow.states if sid not in reachable]
    for language, keys in template_keys.items():
        problems += [
            f"template {key!r} missing in {language}" for key in sorted(flow.templates() - keys)
        ]
    if problems:
        raise FlowError(f"flow {flow.name}: " + "; ".join(problems))


@cache
def load_flow(name: str) -> Flow:
    from bot.render import default_template_keys

    raw = yaml.safe_load((FLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return parse_flow(raw, default_template_keys())
