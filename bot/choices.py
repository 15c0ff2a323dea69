"""The choices a turn ends with, for buttons or a list picker: the message's text without
the numbered list (the buttons carry it) and each choice's id and label in the patient's
language. Pure: whoever sends decides whether they go as buttons, a list or plain text."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.render import default_templates, option_label, render
from bot.types import Reply

_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Offer:
    """What a message offers: `body` to show above the buttons, the `button` that opens
    a list picker, and the choices as (id, label) pairs, ids as the engine reads them."""

    body: str
    button: str
    choices: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "body": self.body,
            "button": self.button,
            "choices": [{"id": i, "label": label} for i, label in self.choices],
        }


def tap_template(template: str, language: str) -> str:
    """The wording of a question for tapping (`interactive.<area>_<name>`) where its
    numbered wording would not fit ("reply with the number"), else the question itself."""
    variant = "interactive." + template.replace(".", "_")
    return variant if variant in default_templates(language) else template


def offer(
    replies: list[Reply], language: str, overrides: Mapping[str, str] | None = None
) -> Offer | None:
    """The offer of a turn whose last reply lists options; None if it lists none. The
    clinic's own texts (`overrides`, for this language) win, as in `render`."""
    if not replies or not replies[-1].options:
        return None
    last = replies[-1]
    texts = [render(r, language, overrides) for r in replies[:-1]]
    tapped = Reply(tap_template(last.template, language), last.tags)
    texts.append(render(tapped, language, overrides))
    body = _BLANK_LINES.sub("\n\n", "\n\n".join(texts)).strip()
    button = render(Reply("interactive.list_button", last.tags), language, overrides)
    return Offer(body, button, tuple((o.id, option_label(o, language)) for o in last.options))
