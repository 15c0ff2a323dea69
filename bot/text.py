"""Reading what a patient wrote: normalizing it and matching it to choices and keywords."""

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

MAX_READ = 1000  # a long story is read to its request; a 2,000-character one by its start

_PUNCT = re.compile(r"[^\w\s'/:.?-]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def normalize(value: str) -> str:
    """Lowercase, no accents, no emoji or punctuation but the ones dates and times use.
    Remembered: one message is read by several rules, and choices' labels repeat."""
    value = strip_accents(value[:MAX_READ].casefold()).replace("’", "'")
    value = _SPACES.sub(" ", _PUNCT.sub(" ", value)).strip(" .,!¡¿")
    return value.strip(" ?") or value  # "hola?" is "hola"; a lone "?" asks for help


def is_one_of(value: str, alternatives: frozenset[str] | Sequence[str]) -> bool:
    return normalize(value) in alternatives


def match_choice(value: str, labels: Sequence[str], cutoff: float = 80) -> int | None:
    """Index of the label the patient meant: exact, then contained, then a small typo."""
    wanted = normalize(value)
    if not wanted:
        return None
    names = [normalize(label) for label in labels]
    if wanted in names:
        return names.index(wanted)
    containing = [i for i, name in enumerate(names) if wanted in name.split() or wanted in name]
    if len(containing) == 1 and len(wanted) >= 3:
        return containing[0]
    # a small typo in the whole name or in one of its words ("ortis" for "Dr. Luis Ortiz")
    candidates = [(i, name) for i, name in enumerate(names)]
    candidates += [
        (i, word) for i, name in enumerate(names) for word in name.split() if len(word) > 3
    ]
    scores: dict[int, float] = {}
    for index, candidate in candidates:
        score = fuzz.ratio(wanted, candidate)
        if score >= cutoff:
            scores[index] = max(scores.get(index, 0), score)
    if not scores:
        return None
    best = max(scores.values())
    winners = [i for i, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def option_number(value: str, count: int) -> int | None:
    """The zero-based index of "2", "2.", "el 2" or "opción 2", if in range."""
    found = re.fullmatch(r"(?:\D{0,12}\s)?(\d{1,2})[.)]?", normalize(value))
    if not found:
        return None
    number = int(found.group(1))
    return number - 1 if 1 <= number <= count else None
