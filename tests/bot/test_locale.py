"""python-i18n is set up by whatever starts a process, never by an import; a number shown
with a noun picks the noun's form through `count`; the locale files hold one placeholder
syntax."""

import re
import subprocess
import sys
from pathlib import Path

import i18n
import pytest
import yaml

from bot.locale import LANGUAGES, LOCALES_DIR, configure, text

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_importing_the_code_leaves_python_i18n_as_it_was():
    found = _run(
        "import copy, i18n\n"
        "before = copy.deepcopy(i18n.config.settings)\n"
        "import bot.locale, bot.render, bot.engine, webhook, scheduler.worker, turnero.cli\n"
        "assert i18n.config.settings == before, 'an import changed python-i18n'\n"
        "bot.locale.configure()\n"
        "assert i18n.config.settings != before\n"
        "print(bot.locale.text('console.title', 'en'))\n"
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout == "Console\n"


def test_a_text_read_before_the_set_up_is_refused_not_shown_as_its_key():
    found = _run("import bot.locale\nbot.locale.text('console.title', 'es')\n")
    assert found.returncode != 0
    assert "configure()" in found.stderr


def test_setting_up_again_changes_nothing():
    configure()
    settings, load_path = dict(i18n.config.settings), list(i18n.load_path)
    configure()
    assert dict(i18n.config.settings) == settings and list(i18n.load_path) == load_path
    assert load_path.count(str(LOCALES_DIR)) == 1


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("es", ["(1 turno)", "1 adjunto", "1 pendiente"], ["(2 turnos)", "2 adjuntos"]),
        ("en", ["(1 appointment)", "1 attachment", "1 open"], ["(2 appointments)"]),
        ("gn", ["(1 turno)", "1 mba'e oñemboja"], ["(2 turno)", "2 mba'e oñemboja"]),
    ],
)
def test_a_number_with_a_noun_takes_the_nouns_form(language: str, one: list, two: list):
    keys = ("appointments_count", "media", "badge_open")
    said = {n: [text(f"console.{key}", language, count=n) for key in keys] for n in (0, 1, 2)}
    assert set(one) <= set(said[1])
    assert set(two) <= set(said[2])
    assert said[0] == [shown.replace("2", "0") for shown in said[2]]


def _strings(entries: object) -> list[str]:
    if isinstance(entries, dict):
        return [s for value in entries.values() for s in _strings(value)]
    return [str(entries)]


# Texts that show admins the tags of `templates/`, which are written in braces.
SHOWS_TEMPLATE_TAGS = re.compile(r"\{(patient_name|\{|\}|)\}|\{\{|\}\}|[{}] (o|or|térã) [{}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_placeholder_is_written_as_python_i18n_writes_it(language: str):
    for path in LOCALES_DIR.glob(f"*.{language}.yml"):
        for string in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            rest = SHOWS_TEMPLATE_TAGS.sub("", re.sub(r"%\{\w+\}", "", string))
            assert not re.search(r"[{}]|%\(|\$\{|%s|%d", rest), (path.name, string)
