"""Every console page an admin can reach, in a real browser (Debian's chromium driven by
Playwright), checked for what makes it usable with a keyboard, a screen reader, old eyes
and a phone: a language, one heading, a name for every control, the skip link first, text
contrast of at least 4.5:1 (3:1 for large text, WCAG AA), and no sideways scrolling on a
360-pixel-wide screen."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.console_support import NOW, PASSWORD, add_staff, book_at, console_app
from tests.e2e.conftest import served
from tests.support import Chat, Clock, add_patient, make_app, make_clinic

PROBLEMS = r"""() => {
  const problems = [];
  if (!["es", "en", "gn"].includes(document.documentElement.lang)) {
    problems.push("no language");
  }
  if (document.querySelectorAll("h1").length !== 1) { problems.push("not one h1"); }
  const named = (el) => (el.labels && el.labels.length) || el.getAttribute("aria-label")
    || el.getAttribute("aria-labelledby") || el.getAttribute("title");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") { continue; }
    if (!named(el)) { problems.push("unnamed " + el.tagName + " " + (el.name || el.id)); }
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) {
      problems.push("empty " + el.tagName + " " + el.outerHTML.slice(0, 80));
    }
  }
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  const repeated = ids.filter((id, n) => ids.indexOf(id) !== n);
  if (repeated.length) { problems.push("repeated ids " + repeated.join(",")); }
  const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const color = rgb(getComputedStyle(at).backgroundColor);
      if (color.length === 3 || color[3] > 0) { return color.slice(0, 3); }
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!own || el.disabled || el.closest("[disabled], .sr-only, [hidden]")) { continue; }
    if (style.visibility === "hidden" || !el.getClientRects().length) { continue; }
    const [a, b] = [luminance(rgb(style.color)), luminance(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      const what = el.tagName + " " + el.textContent.trim().slice(0, 30);
      problems.push("contrast " + ratio.toFixed(2) + " " + what);
    }
  }
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push("scrolls sideways: " + root.scrollWidth + " > " + root.clientWidth);
  }
  return problems;
}"""


@pytest.fixture
def live_console(db: Engine, tmp_path: Any) -> Iterator[tuple[str, Any]]:
    clinic = make_clinic(db)
    app = console_app(db, tmp_path, Clock(NOW))
    app.config.update(SESSION_COOKIE_SECURE=False)
    with served(app) as url:
        yield url, clinic


def _pages(page: Any, url: str) -> list[str]:
    """The navigation's sections, and the first link into each kind of detail page."""
    links = "links => links.map(a => a.href)"
    page.goto(f"{url}/console/agenda")
    sections = page.eval_on_selector_all("header nav a", links)
    page.goto(f"{url}/console/settings")
    sections += page.eval_on_selector_all("main .sections a", links)
    details = []
    for section, detail in [
        ("/console/agenda", "/console/appointments/"),
        ("/console/patients?q=Mar", "/console/patients/"),
        ("/console/inbox", "/console/conversations/"),
        ("/console/staff", "/console/staff/"),
        ("/console/settings/services", "/console/settings/services/"),
        ("/console/settings/professionals", "/console/settings/professionals/"),
        ("/console/settings/branches", "/console/settings/branches/"),
        ("/console/settings/rules", "/console/settings/rules/"),
    ]:
        page.goto(url + section)
        found = page.locator(f'main a[href*="{detail}"]').first
        details.append(found.evaluate("a => a.href"))
    booking = f"{url}/console/appointments/new?phone=0981222333&name=Rosa&service=1&show=1"
    return sorted({*sections, *details, f"{url}/console/account", booking})


def test_every_page_has_names_a_heading_and_fits_a_phone(
    chromium: Any, live_console: tuple[str, Any], db: Engine
) -> None:
    url, clinic = live_console
    add_staff(db, clinic.id, "ana@clinica.example", role="admin")
    patient_id = add_patient(db, clinic.id, "+595981222333", "María <b>Pérez</b>")
    book_at(db, clinic, patient_id, NOW + timedelta(hours=1))
    maria = Chat(make_app(db, Clock(NOW)).test_client(), db, phone="+595981222333")
    assert maria.says("hola")  # so the inbox has a conversation
    page = chromium.new_page(viewport={"width": 360, "height": 740}, locale="es-PY")
    page.goto(f"{url}/console/login")
    page.get_by_label("Usuario").fill("ana@clinica.example")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    found = {}
    for address in _pages(page, url):
        page.goto(address)
        page.keyboard.press("Tab")
        first = page.evaluate("document.activeElement.className")
        problems = page.evaluate(PROBLEMS) + ([] if first == "skip" else ["skip link not first"])
        if problems:
            found[address.removeprefix(url)] = problems
    assert found == {}
