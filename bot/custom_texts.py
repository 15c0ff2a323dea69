"""A clinic's own texts: which templates it may change, the tags each one offers, whether
a text may be saved, and the preview of a text with sample values. Pure: the store keeps
the texts, the console asks here first."""

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.locale import LANGUAGES
from bot.render import TEMPLATES_DIR, default_templates, render, template_tags
from bot.types import Label, Option, Reply

# The areas a clinic may change, in the order the console lists them ("system" texts are
# sent where no clinic is known, so they are nobody's to change).
AREAS = (
    "booking",
    "manage",
    "waitlist",
    "notification",
    "automations",
    "interactive",
    "optout",
    "requests",
    "arrival",
    "faq",
    "console",
    "campaign",
    "assistant",
)
# Every message a clinic writes is rendered with the clinic's own details.
CLINIC_TAGS = frozenset({"clinic_name", "clinic_phone", "clinic_address"})
BODY_LIMIT = 1500  # WhatsApp takes 1,600 characters; the tags' values need room
SAMPLES_FILE = TEMPLATES_DIR / "samples.yaml"
_FORMATTER = string.Formatter()


def area_of(key: str) -> str:
    return key.partition(".")[0]


@cache
def editable_keys() -> tuple[str, ...]:
    """The template keys a clinic may change, by area in `AREAS` order, then as the
    default files list them."""
    keys = [k for k in default_templates("es") if area_of(k) in AREAS]
    return tuple(sorted(keys, key=lambda k: AREAS.index(area_of(k))))


def is_editable(key: str) -> bool:
    return key in editable_keys()


@cache
def offered_tags(key: str) -> frozenset[str]:
    """The tags a template offers: those its default texts use in any language, and the
    clinic's own details, which every message is given."""
    used: set[str] = set()
    for language in LANGUAGES:
        used |= template_tags(default_templates(language).get(key, ""))
    return frozenset(used | CLINIC_TAGS)


@cache
def required_tags(key: str) -> frozenset[str]:
    """Tags a text may not drop: the numbered choices of a question that lists them."""
    every = all(
        "options" in template_tags(default_templates(language).get(key, ""))
        for language in LANGUAGES
    )
    return frozenset({"options"}) if every else frozenset()


@dataclass(frozen=True)
class Problem:
    """Why a text is refused: `kind` names a console label (`problem_<kind>`), `tags` the
    tags concerned."""

    kind: str
    tags: tuple[str, ...] = ()


def body_problems(key: str, body: str) -> list[Problem]:
    """Why `body` cannot be saved as the text of `key` (empty when it can): empty or too
    long, broken braces, a tag the template does not offer, a formatting instruction
    after a tag, or a list of choices left out."""
    if not body.strip():
        return [Problem("empty")]
    if len(body) > BODY_LIMIT:
        return [Problem("too_long")]
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in _FORMATTER.parse(body)]
    except ValueError:
        return [Problem("broken_braces")]
    problems: list[Problem] = []
    names = [name for name, _, _ in fields if name is not None]
    if "" in names:
        problems.append(Problem("empty_tag"))
    unknown = sorted({n for n in names if n} - offered_tags(key))
    if unknown:
        problems.append(Problem("unknown_tags", tuple(unknown)))
    formatted = sorted({n for n, spec, conv in fields if n and (spec or conv)})
    if formatted:
        problems.append(Problem("formatting", tuple(formatted)))
    missing = sorted(required_tags(key) - set(names))
    if missing:
        problems.append(Problem("missing_tags", tuple(missing)))
    return problems


@cache
def _samples() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(Path(SAMPLES_FILE).read_text(encoding="utf-8"))
    return loaded


def _sample(value: Any, language: str) -> Any:
    if isinstance(value, dict) and "label" in value:
        return Label(value["label"])
    if isinstance(value, dict):
        return value.get(language, value.get("es"))
    return value


def sample_tags(language: str, clinic: Mapping[str, str]) -> dict[str, object]:
    """Sample values for every tag, in `language`; the clinic's own details where it has
    them. Dates and times stay dates and times, for the renderer to write out."""
    tags: dict[str, object] = {
        name: _sample(value, language) for name, value in _samples().items() if name != "options"
    }
    tags.update({name: value for name, value in clinic.items() if value})
    return tags


def sample_options(language: str) -> tuple[Option, ...]:
    listed = _sample(_samples()["options"], language) or []
    return tuple(Option(str(n), label=str(label)) for n, label in enumerate(listed, start=1))


def preview(key: str, body: str, language: str, clinic: Mapping[str, str]) -> str:
    """`body` as a patient would read it, filled with sample values through the same
    renderer the bot uses (call `body_problems` first)."""
    options = sample_options(language) if "options" in offered_tags(key) else ()
    reply = Reply(key, sample_tags(language, clinic), options)
    return render(reply, language, {key: body}, fallback=False)
