"""python-i18n is set up by whatever starts a process, never by an import."""

import subprocess
import sys
from pathlib import Path

import i18n

from bot.locale import LOCALES_DIR, configure

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
