"""Flow files: conversation states declared as data, checked when they load. A clinic may
switch off the steps a flow marks `optional`; its flow is derived from the file."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.effects import FROM_FLOW
from bot.payloads import CANCEL, CONFIRM, RESCHEDULE
from bot.questions import CHOICES, READINGS, Form
from bot.types import BookingDraft

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"
ACTION_KEYS = {"say", "answer", "do", "clear", "next", "back", "ask_again", "manage", "when_idle"}
MANAGE_ACTIONS = {CONFIRM, CANCEL, RESCHEDULE}  # what `manage:` may turn to an appointment for


class FlowError(ValueError):
    """A flow file that would leave a patient stuck."""


@dataclass(frozen=True)
class Action:
    """What a command, an event or an answer does: say something, have something done,
    forget the draft, then go somewhere (or back, or ask the same question again). Or
    `manage`: turn to the patient's appointment to confirm, cancel or reschedule it (asking which
    where there are several, saying so where there is none). `answer` says the clinic's
    answer to a question (a `faq.*` text filled with its facts), or `faq.unknown` where the
    clinic has not given a fact the answer uses. `when_idle` is what it does instead when
    no question is pending."""

    say: str | None = None
    answer: str | None = None
    do: str | None = None
    clear: bool = False
    next: str | None = None
    back: bool = False
    ask_again: bool = False
    manage: str | None = None
    when_idle: "Action | None" = None

    @classmethod
    def parse(cls, raw: dict[str, Any], where: str) -> "Action":
        unknown = set(raw) - ACTION_KEYS
        if unknown:
            raise FlowError(f"{where}: unknown keys {sorted(unknown)}")
        if raw.get("manage") not in (None, *MANAGE_ACTIONS):
            raise FlowError(f"{where}: manage is one of {sorted(MANAGE_ACTIONS)}")
        idle = raw.get("when_idle")
        return cls(**{**raw, "when_idle": cls.parse(idle, f"{where} when idle") if idle else None})


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
    optional: bool = False  # a clinic may switch it off: whatever led here goes on to `next`

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
    skipped: frozenset[str] = frozenset()  # optional steps this clinic switched off

    def optional_steps(self) -> list[str]:
        """The steps a clinic may switch off, in the file's order."""
        return [s.id for s in self.states.values() if s.optional]

    def templates(self) -> set[str]:
        """Every template key the flow can send."""
        keys = {s.ask for s in self.states.values() if s.ask}
        for action in self.actions():
            if action.say:
                keys.add(action.say)
        return keys

    def actions(self) -> list[Action]:
        """Every action the flow declares: its commands', events' and states'."""
        actions = [*self.commands.values(), *self.events.values()]
        actions += [a.when_idle for a in actions if a.when_idle]
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
        optional=bool(raw.get("optional")),
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


def problems_of(flow: Flow, template_keys: dict[str, set[str]]) -> list[str]:
    """What would leave a patient stuck: unknown kinds or targets, dead ends, unreachable
    states (a switched-off step may be unreachable), templates missing in a language."""
    problems = []
    entries = {flow.start, flow.idle, *([flow.manage] if flow.manage else [])}
    for s in flow.states.values():
        if s.optional and (s.id in entries or s.wait or s.greet or _ways_on(s) != {"default"}):
            problems.append(f"state {s.id}: an optional step needs exactly one way on (next)")
        if s.choose and s.choose not in CHOICES:
            problems.append(f"state {s.id}: unknown choice source {s.choose!r}")
        if s.read and s.read not in READINGS:
            problems.append(f"state {s.id}: unknown answer kind {s.read!r}")
        if s.read == "yes_no" and not (s.yes and s.no):
            problems.append(f"state {s.id}: a yes/no question needs both on_yes and on_no")
        kept_in = s.keep or (
            s.id if s.read in READINGS and READINGS[s.read].form is Form.text else None
        )
        if kept_in and kept_in not in BookingDraft.__dataclass_fields__:
            problems.append(f"state {s.id}: keeps its answer in unknown field {kept_in!r}")
        if s.ask and not (s.choose or s.read):
            problems.append(f"state {s.id}: asks but reads no answer")
        if not (s.wait or _targets(flow, s)):
            problems.append(f"state {s.id}: a dead end")
    problems += [
        f"unknown effect {action.do!r}"
        for action in flow.actions()
        if action.do and action.do not in FROM_FLOW
    ]
    general = [*flow.commands.values(), *flow.events.values()]
    general += [a.when_idle for a in general if a.when_idle]
    global_targets = {a.next for a in general if a.next}
    for target in (
        {flow.start, flow.idle, *([flow.manage] if flow.manage else [])}
        | global_targets
        | {t for s in flow.states.values() for t in _targets(flow, s)}
    ):
        if target not in flow.states:
            problems.append(f"unknown target state {target!r}")
    reachable = entries | global_targets
    frontier = list(reachable)
    while frontier:
        state = flow.states.get(frontier.pop())
        for target in _targets(flow, state) if state else ():
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    problems += [
        f"state {sid} cannot be reached"
        for sid in flow.states
        if sid not in reachable and sid not in flow.skipped
    ]
    for language, keys in template_keys.items():
        problems += [
            f"template {key!r} missing in {language}" for key in sorted(flow.templates() - keys)
        ]
    return problems


def _ways_on(state: State) -> set[str]:
    """How a state may be left: its `next` choices and the actions that go somewhere."""
    ways = set(state.next)
    for name in ("when_empty", "when_full", "yes", "no", "on_enter"):
        if getattr(state, name) is not None:
            ways.add(name)
    return ways


def _check(flow: Flow, template_keys: dict[str, set[str]]) -> None:
    found = problems_of(flow, template_keys)
    if found:
        raise FlowError(f"flow {flow.name}: " + "; ".join(found))


@cache
def load_flow(name: str) -> Flow:
    from bot.render import default_template_keys

    raw = yaml.safe_load((FLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    return parse_flow(raw, default_template_keys())


def without_steps(flow: Flow, skipped: frozenset[str]) -> Flow:
    """`flow` with some optional steps switched off: every way into a skipped step leads
    where that step would have gone. The skipped steps stay, unreachable, so a
    conversation already asked one is still answered. Raises FlowError for a step that
    is unknown or not optional, or skips that lead nowhere."""
    refused = [
        f"state {sid}: not an optional step"
        for sid in sorted(skipped)
        if sid not in flow.states or not flow.states[sid].optional
    ]
    if refused:
        raise FlowError(f"flow {flow.name}: " + "; ".join(refused))

    def onward(target: str | None) -> str | None:
        seen: list[str] = []
        while target in skipped:
            if target in seen:
                raise FlowError(f"flow {flow.name}: skipping {', '.join(seen)} leads nowhere")
            seen.append(target)
            target = flow.states[target].next.get("default")
        return target

    return replace(
        flow,
        states={sid: _redirect_state(s, onward) for sid, s in flow.states.items()},
        commands={k: _redirect(a, onward) for k, a in flow.commands.items()},
        events={k: _redirect(a, onward) for k, a in flow.events.items()},
        skipped=skipped,
    )


Onward = Callable[[str | None], str | None]


def _redirect(action: Action, onward: Onward) -> Action:
    return replace(action, next=onward(action.next)) if action.next else action


def _redirect_state(state: State, onward: Onward) -> State:
    def maybe(action: Action | None) -> Action | None:
        return _redirect(action, onward) if action else None

    return replace(
        state,
        next={choice: onward(target) or target for choice, target in state.next.items()},
        when_empty=maybe(state.when_empty),
        when_full=maybe(state.when_full),
        yes=maybe(state.yes),
        no=maybe(state.no),
        on_enter=maybe(state.on_enter),
    )


def flow_problems(
    name: str, skipped: frozenset[str], template_keys: dict[str, set[str]]
) -> list[str]:
    """Why a clinic's choice of steps would break the flow (empty when it is fine), with
    the clinic's own texts counted in `template_keys`: checked before it is saved."""
    try:
        derived = without_steps(load_flow(name), skipped)
    except FlowError as error:
        return [str(error).partition(": ")[2]]
    return problems_of(derived, template_keys)


@lru_cache(maxsize=256)
def clinic_flow(name: str, skipped: frozenset[str] = frozenset()) -> Flow:
    """The flow a clinic runs, cached per (flow, skipped steps). A saved choice that no
    longer fits the file (a step no longer optional, a combination that breaks it) is
    ignored rather than leaving patients unanswered; saving checks it first."""
    flow = load_flow(name)
    usable = frozenset(s for s in skipped if s in flow.states and flow.states[s].optional)
    if not usable:
        return flow
    from bot.render import default_template_keys

    try:
        derived = without_steps(flow, usable)
        _check(derived, default_template_keys())
    except FlowError:
        return flow
    return derived
