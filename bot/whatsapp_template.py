"""A clinic's message text as a WhatsApp template: each `{tag}` becomes a numbered variable
`{{1}}`, `{{2}}`… with a sample value (WhatsApp's approval needs one), and the shapes
WhatsApp rejects are named before anything is submitted. Pure: no I/O."""

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

BODY_LIMIT = 1024  # WhatsApp's limit on a template's body
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Numbered:
    """The template's body, its variables' tags ({"1": "patient_name"}), their sample
    values ({"1": "María González"}), and what WhatsApp would refuse in it."""

    body: str
    variables: dict[str, str]
    samples: dict[str, str]
    problems: tuple[str, ...]


def numbered(text: str, samples: Mapping[str, str]) -> Numbered:
    """`text` (Python's format syntax, as the bot renders it) with every tag numbered in
    order; a tag used twice gets two numbers. `samples` gives each tag's sample text.
    Problems: `starts_with_variable`, `ends_with_variable`, `adjacent_variables` (WhatsApp
    rejects those) and `too_long`."""
    pieces: list[str] = []
    variables: dict[str, str] = {}
    problems: list[str] = []
    literal_since_last = ""
    for literal, tag, _, _ in string.Formatter().parse(text):
        pieces.append(literal)
        literal_since_last += literal
        if tag is None:
            continue
        if variables and not literal_since_last.strip():
            problems.append("adjacent_variables")
        if not variables and not "".join(pieces).strip():
            problems.append("starts_with_variable")
        number = str(len(variables) + 1)
        variables[number] = tag
        pieces.append("{{" + number + "}}")
        literal_since_last = ""
    if variables and not literal_since_last.strip():
        problems.append("ends_with_variable")
    body = "".join(pieces).strip()
    if len(body) > BODY_LIMIT:
        problems.append("too_long")
    filled = {n: _one_line(samples.get(tag, "")) or tag for n, tag in variables.items()}
    return Numbered(body, variables, filled, tuple(dict.fromkeys(problems)))


def _one_line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()
