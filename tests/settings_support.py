"""Helpers for the settings tests: an admin at the console and the forms as a browser
sends them (every field the page shows, with its current value, then the changes)."""

import re
from html import unescape

from tests.console_support import Desk

INPUT = re.compile(r"<input ([^>]*)>")
SELECT = re.compile(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', re.S)
ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')
SELECTED = re.compile(r'<option value="([^"]*)" selected>')


def form_of(page: str, action: str) -> dict[str, str | list[str]]:
    """The fields of the form posting to `action` as a browser would send them."""
    start = page.index(f'action="{action}"')
    html = page[start : page.index("</form>", start)]
    fields: dict[str, str | list[str]] = {}
    for attrs in INPUT.findall(html):
        found = {k: unescape(v or "") for k, v in ATTR.findall(attrs)}
        name, kind = found.get("name"), found.get("type", "text")
        if not name or name == "csrf_token":
            continue
        if kind == "checkbox":
            if "checked" in found:
                value = found.get("value") or "on"
                if name == "services":
                    listed = fields.setdefault(name, [])
                    assert isinstance(listed, list)
                    listed.append(value)
                else:
                    fields[name] = value
            continue
        fields[name] = found.get("value", "")
    for name, options in SELECT.findall(html):
        chosen = SELECTED.findall(options)
        fields[name] = unescape(chosen[0]) if chosen else ""
    return fields


def save(desk: Desk, path: str, changes: dict[str, object], unset: tuple[str, ...] = ()):
    """Open `path`, change some fields (None unticks a switch) and post its form."""
    page = desk.open(path).get_data(as_text=True)
    action = path if path.split("/")[-1] != "new" else path.rsplit("/", 1)[0]
    fields = form_of(page, action)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value  # type: ignore[assignment]
    for name in unset:
        fields.pop(name, None)
    return desk.submit(action, fields)  # type: ignore[arg-type]
