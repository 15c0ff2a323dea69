"""A flow drawn as a Mermaid state diagram, so the picture beside a flow file is made from
the file and cannot drift from it. Pure: text in, text out."""

from bot.flow import Action, Flow, State

BEGIN = "<!-- generated from the flow file by `turnero flows diagram`: do not edit below -->"
END = "<!-- end of the generated diagram -->"
COMMANDS = "any_command"  # ids of the two pseudo-states that global transitions leave from
EVENTS = "any_event"


def mermaid(flow: Flow) -> str:
    """`flow` as a `stateDiagram-v2`: each state with what it asks and reads, every way on
    labelled with what takes it (a choice, yes/no, when_empty…) and what it does on the way;
    commands and events leave from two pseudo-states, since they work in any state."""
    lines = [
        "stateDiagram-v2",
        f"    [*] --> {flow.start}: start",
        f"    [*] --> {flow.idle}: idle",
    ]
    if flow.manage:
        lines.append(f"    [*] --> {flow.manage}: manage (a code or a reminder reply)")
    for state in flow.states.values():
        lines += [f"    {state.id} : {line}" for line in _description(state)]
        lines += [f"    {state.id} --> {target}: {label}" for target, label in _edges(state)]
    for pseudo, title, actions in (
        (COMMANDS, "a command, in any state", flow.commands),
        (EVENTS, "an event, reported back", flow.events),
    ):
        if not actions:
            continue
        lines.append(f'    state "{title}" as {pseudo}')
        for name, action in actions.items():
            if action.next:
                lines.append(f"    {pseudo} --> {action.next}: {_label(name, action)}")
            else:
                lines.append(f"    {pseudo} : {_label(name, action)}")
    return "\n".join(lines) + "\n"


def _description(state: State) -> list[str]:
    """What a state's box says: its flags, its question, how it reads the answer, and the
    actions that stay in it."""
    flags = [f for f, on in (("optional", state.optional), ("greets", state.greet)) if on]
    lines = [", ".join(flags)] if flags else []
    if state.wait:
        lines.append("waits for the outcome")
    if state.ask:
        lines.append(f"asks {state.ask}")
    reads = [f"choose {state.choose}"] if state.choose else []
    reads += [f"also {extra}" for extra in state.also]
    reads += [f"after a full day also {extra}" for extra in state.full_also]
    reads += [f"read {state.read}"] if state.read else []
    if reads:
        lines.append(", ".join(reads))
    if state.keep:
        lines.append(f"keeps it in {state.keep}")
    lines += [
        _label(name, action)
        for name, action in _actions(state)
        if action is not None and not action.next
    ]
    return lines


def _edges(state: State) -> list[tuple[str, str]]:
    """Every way on from `state`: its target and the label that says what takes it."""
    edges = [(target, _answer(state, choice)) for choice, target in state.next.items()]
    edges += [
        (action.next, _label(name, action))
        for name, action in _actions(state)
        if action is not None and action.next
    ]
    return edges


def _actions(state: State) -> list[tuple[str, Action | None]]:
    return [
        ("on_enter", state.on_enter),
        ("when_unknown", state.when_unknown),
        ("when_empty", state.when_empty),
        ("when_full", state.when_full),
        ("yes", state.yes),
        ("no", state.no),
    ]


def _answer(state: State, choice: str) -> str:
    """The answer that takes a `next`: a named choice, or (default) whatever else is read."""
    if choice != "default":
        return choice
    kinds = [state.choose] if state.choose else []
    kinds += [extra for extra in state.also if extra not in state.next]
    kinds += [state.read] if state.read else []
    return " or ".join(k for k in kinds if k) or "any message"


def _label(trigger: str, action: Action) -> str:
    """`trigger / what the action does on the way, in the engine's order`, e.g.
    `no / say booking.review_declined, clear`."""
    does = [f"do {action.do}"] if action.do else []
    does += [f"say {action.say}"] if action.say else []
    does += [f"answer {action.answer}"] if action.answer else []
    does += ["clear"] if action.clear else []
    does += ["go back"] if action.back else []
    does += ["ask again"] if action.ask_again else []
    return f"{trigger} / {', '.join(does)}" if does else trigger


def with_diagram(markdown: str, flow: Flow) -> str:
    """`markdown` (a flow's .md) with the generated diagram put between its markers, the
    prose around them kept; a page without markers gets them at its end."""
    block = f"{BEGIN}\n\n```mermaid\n{mermaid(flow)}```\n\n{END}"
    before, begun, rest = markdown.partition(BEGIN)
    if not begun:
        return f"{markdown.rstrip()}\n\n{block}\n" if markdown.strip() else f"{block}\n"
    _, ended, after = rest.partition(END)
    return before + block + (after if ended else "\n")
