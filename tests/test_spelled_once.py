"""Each message kind is spelled in `store.message_kinds` only, and each button payload's
prefix in `bot.payloads` only: everywhere else the code names them through those modules.
What counts is a string constant in the code (docstrings and comments do not): a kind as
the whole string or quoted inside one (SQL), a prefix as the whole string or leading one
before its ":". A word that also means something else is listed with where, and how often."""

import ast
from collections import Counter
from pathlib import Path

from bot.payloads import ACTIONS, OFFER_ANSWERS, SCORE
from store.message_kinds import MessageKind
from store.models import IS_QUESTION

ROOT = Path(__file__).resolve().parent.parent
KINDS_HOME, PAYLOADS_HOME = "store.message_kinds", "bot.payloads"
PREFIXES = (*ACTIONS, *OFFER_ANSWERS, SCORE)

# (module, word) → how many times the word means something else there.
OTHER_MEANINGS = Counter(
    {
        ("store.models", "no_show"): 1,  # an appointment's status
        ("store.models", "staff"): 1,  # a staff member's role
        ("store.models", "waitlist_offer"): 1,  # the table of offers
        ("store.appointments", "no_show"): 1,  # the appointment event
        ("web.console.agenda", "no_show"): 2,  # the desk's action on an appointment
        ("web.console.agenda", "cancel"): 4,  # the desk's action on an appointment
        ("web.console.accounts", "staff"): 1,  # a role
        ("web.console.common", "staff"): 3,  # the signed-in staff member on `g`
        ("turnero.cli", "staff"): 2,  # a role
        ("store.outcomes", "score"): 1,  # the survey notification's step
        ("bench.due_notifications", "pass"): 3,  # a pass of the job, timed
        ("bench.report_history", "waitlist_offer"): 3,  # the table of offers
        ("bench.report_history", "no_show"): 2,  # an appointment's status and its event
        ("bench.report_history", "score"): 2,  # a column, and the survey notification's step
    }
)


def _sources(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0].startswith(".") or relative.parts[0] == "tests":
            continue
        if relative.as_posix().startswith("store/migrations/"):
            continue
        found[".".join(relative.with_suffix("").parts)] = path
    return found


def _strings(path: Path) -> list[str]:
    """The string constants of a file, f-strings' literal parts included, docstrings and
    other bare string statements left out."""
    tree = ast.parse(path.read_text(), str(path))
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def _spells_kind(text: str, kind: str) -> bool:
    return text == kind or f"'{kind}'" in text


def _spells_prefix(text: str, prefix: str) -> bool:
    return text == prefix or text.startswith(f"{prefix}:")


def spellings(root: Path) -> Counter[tuple[str, str]]:
    """(module, word) for each time a module other than its home spells a kind or a prefix."""
    found: Counter[tuple[str, str]] = Counter()
    for module, path in _sources(root).items():
        for text in _strings(path):
            if module != KINDS_HOME:
                found.update((module, k.value) for k in MessageKind if _spells_kind(text, k))
            if module != PAYLOADS_HOME:
                found.update((module, p) for p in PREFIXES if _spells_prefix(text, p))
    return found


def test_kinds_and_payload_prefixes_are_spelled_in_their_own_module_only() -> None:
    found = spellings(ROOT)
    assert sorted((found - OTHER_MEANINGS).elements()) == []
    assert sorted((OTHER_MEANINGS - found).elements()) == []  # no longer there: take it off


def test_the_count_sees_code_and_skips_prose(tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text(
        '"""A reminder goes out: "reminder"."""\n'
        'KIND = "reminder"\n'
        "SQL = \"SELECT 1 WHERE kind = 'survey'\"\n"
        'def tap(n):\n    """score:4"""\n    return f"score:{n}"\n'
        'LABEL = "a reminder, then a survey"\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_jobs.py").write_text('KIND = "reminder"\n')
    assert spellings(tmp_path) == Counter(
        {("jobs", "reminder"): 1, ("jobs", "survey"): 1, ("jobs", "score"): 1}
    )


def test_every_kind_has_its_row() -> None:
    assert all(isinstance(kind.business_initiated, bool) for kind in MessageKind)


def test_kinds_are_stored_as_the_same_strings() -> None:
    assert [f"{kind}" for kind in MessageKind] == [kind.value for kind in MessageKind]
    assert IS_QUESTION == (
        "kind IN ('reminder', 'waitlist_offer', 'survey',"
        " 'campaign_reschedule', 'campaign_closure')"
    )
