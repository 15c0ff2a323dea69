"""The words patients write, as lists the reader matches against: `vocabulary/words.*.yml`
(answers and commands) and `vocabulary/when.*.yml` (days and times). Data, not texts
anyone reads, so read with pyyaml, each file once."""

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml

from bot.locale import LANGUAGES
from bot.text import normalize

VOCABULARY_DIR = Path(__file__).resolve().parent.parent / "vocabulary"


@cache
def vocabulary(namespace: str, language: str) -> Mapping[str, str]:
    """One file: each key with its alternatives, '|' between them, as written."""
    path = VOCABULARY_DIR / f"{namespace}.{language}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@cache
def words(key: str, language: str, namespace: str = "words") -> tuple[str, ...]:
    """The alternatives of a `words` entry (or of another namespace's, such as `when`) in
    one language, normalized for matching."""
    raw = vocabulary(namespace, language).get(key)
    if raw is None:
        return ()
    return tuple(w for w in (normalize(part) for part in str(raw).split("|")) if w)


@cache
def words_any(key: str) -> frozenset[str]:
    """A `words` entry in every language: patients mix them."""
    return frozenset(w for lang in LANGUAGES for w in words(key, lang))
