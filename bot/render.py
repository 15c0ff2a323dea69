"""Replies to text: a template from `templates/` (or the clinic's own version of it), its
tags filled, dates and times written in the patient's language, options numbered."""

import string
from collections.abc import Mapping
from datetime import date, datetime, time
from functools import cache, lru_cache
from pathlib import Path

import yaml
from babel.dates import format_date, format_time

from bot.locale import LANGUAGES, text
from bot.opening_hours import OpeningHours, describe
from bot.types import Label, Option, Reply

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template that cannot be rendered: an unknown tag or broken braces."""


@cache
def default_templates(language: str) -> Mapping[str, str]:
    """Every `templates/<language>/*.yaml` file, one per area of the product, merged."""
    merged: dict[str, str] = {}
    for path in sorted((TEMPLATES_DIR / language).glob("*.yaml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


def default_template_keys() -> dict[str, set[str]]:
    return {language: set(default_templates(language)) for language in LANGUAGES}


def template_tags(body: str) -> set[str]:
    """The tags a template uses; raises TemplateError when its braces are broken."""
    try:
        return {name for _, name, _, _ in _FORMATTER.parse(body) if name}
    except ValueError as error:
        raise TemplateError(str(error)) from error


@lru_cache(maxsize=4096)  # the same days and times are written again and again
def format_day(day: date, language: str) -> str:
    return format_date(day, text("labels.date_format", language), locale=language)


def format_moment(moment: datetime, language: str) -> str:
    """A time as the clinic's clock shows it. On the night the clocks go back, the clock
    shows an hour twice: each of the two says whether it is before or after the change."""
    shown = _clock(moment.time(), language)
    if not _shown_twice(moment):
        return shown
    key = "labels.time_after_clock_change" if moment.fold else "labels.time_before_clock_change"
    return text(key, language, time=shown)


@lru_cache(maxsize=4096)  # (a time without its zone: both of a repeated hour read alike)
def _clock(wall: time, language: str) -> str:
    return format_time(wall, "HH:mm", locale="es" if language == "gn" else language)


def _shown_twice(moment: datetime) -> bool:
    """Whether the wall clock shows this time twice that night (its zone's offset falls
    across it); a time the clock skips has the offsets the other way round."""
    first, second = moment.replace(fold=0).utcoffset(), moment.replace(fold=1).utcoffset()
    return first is not None and second is not None and first > second


def option_label(option: Option, language: str) -> str:
    if option.moment is not None and option.label:  # an appointment: when, then what
        when = (
            f"{format_day(option.moment.date(), language)} {format_moment(option.moment, language)}"
        )
        return f"{when} — {option.label}"
    if option.moment is not None:
        return format_moment(option.moment, language)
    if option.day is not None:
        return format_day(option.day, language)
    if option.label_key:
        return text(option.label_key, language)
    return option.label or option.id


def _tag_value(value: object, language: str) -> str:
    if isinstance(value, Label):
        return text(value.key, language, **dict(value.tags))
    if isinstance(value, datetime):
        return format_moment(value, language)
    if isinstance(value, date):
        return format_day(value, language)
    if isinstance(value, OpeningHours):
        return describe(value, language)
    if isinstance(value, tuple):  # a list of facts, one a line
        return "\n".join(_tag_value(item, language) for item in value)
    return str(value)


def tag_texts(tags: Mapping[str, object], language: str) -> dict[str, str]:
    """Tags as the text a reader of `language` sees (dates and times written out): what an
    approved template sent in place of the message is filled with."""
    return {name: _tag_value(value, language) for name, value in tags.items()}


def render(
    reply: Reply,
    language: str,
    overrides: Mapping[str, str] | None = None,
    *,
    fallback: bool = True,
) -> str:
    """The text of one reply. A clinic's own text (`overrides`, for this language) wins
    over the default template; one that cannot be filled (it was checked when saved, so
    only a text saved under older rules) gives way to the default unless `fallback` is
    off (the console's preview shows the failure instead)."""
    tags = _Written(reply, language)
    own = overrides.get(reply.template) if overrides else None
    if own:
        try:
            return _answer(reply, _fill(own, tags), own, tags, language, overrides)
        except (ValueError, KeyError, IndexError, AttributeError):
            if not fallback:
                raise TemplateError(reply.template) from None
    body = (
        default_templates(language).get(reply.template) or default_templates("es")[reply.template]
    )
    return _answer(reply, _fill(body, tags), body, tags, language, overrides)


class _Written(dict[str, str]):
    """A reply's tags as the reader sees them, each written out (a date in words, the
    options numbered) only when the template uses it; a tag the reply lacks is blank."""

    def __init__(self, reply: Reply, language: str) -> None:
        super().__init__()
        self.reply, self.language = reply, language

    def __missing__(self, name: str) -> str:
        if name == "options":
            written = "\n".join(
                f"{n}. {option_label(o, self.language)}"
                for n, o in enumerate(self.reply.options, start=1)
            )
        elif name in self.reply.tags:
            written = _tag_value(self.reply.tags[name], self.language)
        else:
            return ""
        self[name] = written
        return written


def _answer(
    reply: Reply,
    filled: str,
    body: str,
    tags: _Written,
    language: str,
    overrides: Mapping[str, str] | None,
) -> str:
    """The filled text, or the reply's `when_unknown` where a tag it uses has no value
    (an address the clinic never gave is not answered with a blank)."""
    if reply.when_unknown and any(not tags[tag] for tag in template_tags(body)):
        return render(Reply(reply.when_unknown, reply.tags), language, overrides)
    return filled


def _fill(body: str, tags: _Written) -> str:
    return body.format_map(tags).strip()


def render_all(
    replies: list[Reply], language: str, overrides: Mapping[str, str] | None = None
) -> str:
    """A turn's replies as one message, so they arrive together and in order."""
    return "\n\n".join(render(r, language, overrides) for r in replies)
