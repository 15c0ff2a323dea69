"""Reading the settings forms: what the browser sent becomes the plain values the store
checks (numbers as int, switches as bool, empty as None), so the console and the admin
API go through the same checks; and the other way, settings as the text a form shows."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from flask import request

from store.rules import RuleError
from store.settings_values import Invalid, hh_mm

DIGITS = re.compile(r"-?\d{1,9}")
FORM_LIMIT = 500  # longer than any setting: the store says "too long", never a 500


@dataclass
class Form:
    """A form as shown: its values as text and its problems (field → reason)."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def raw(name: str) -> str:
    return request.form.get(name, "")[:FORM_LIMIT].strip()


def number(name: str, optional: bool = False) -> Any:
    """An int when the field holds one; None when empty and optional; otherwise the text
    as sent, which the store's check refuses as `not_a_number`."""
    text = raw(name)
    if not text and optional:
        return None
    return int(text) if DIGITS.fullmatch(text) else text


def switch(name: str) -> bool:
    return name in request.form


def text(name: str) -> str | None:
    return raw(name) or None


def form_values(values: Mapping[str, Any]) -> dict[str, str]:
    """Settings as a form shows them: switches "on" or "", times "HH:MM", None empty."""
    shown: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            shown[name] = "on" if value else ""
        elif isinstance(value, time):
            shown[name] = hh_mm(value) or ""
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def sent(names: Iterable[str], switches: Iterable[str] = ()) -> dict[str, str]:
    """The form as sent, to show it again with its problems."""
    return {
        **{n: raw(n) for n in names},
        **{n: "on" if switch(n) else "" for n in switches},
    }


def problems(exc: RuleError) -> dict[str, str]:
    """Field → reason of a refused change (every field for `Invalid`)."""
    if isinstance(exc, Invalid):
        return exc.problems
    return {exc.field or "form": exc.reason}
