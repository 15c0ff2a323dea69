"""What a patient asks for inside a sentence of their own: the phrases of
`vocabulary/intents.*.yml`, found among the message's words in any language, a small typo
forgiven in a long word, and not when a negation just before takes them back ("no quiero
cancelar mi turno"). Each intent is the name of a flow command."""

import re
from functools import cache, lru_cache

from rapidfuzz import fuzz, process

from bot.locale import LANGUAGES
from bot.vocabulary import words

# In the order they win when a message says more than one ("cancelar mi turno" also says
# "mi turno"); a person wins over everything.
INTENTS = (
    "human",
    "cancel_appointment",
    "reschedule_appointment",
    "language_en",
    "language_es",
    "language_gn",
    "my_appointments",
    "price",
    "address",
    "opening_hours",
    "insurances",
    "what_to_bring",
    "goodbye",
)
# Heard even while the patient answers a question in their own words (a name, a comment).
HEARD_IN_FREE_TEXT = frozenset({"human"})
NEGATION_REACH = 2  # words before a phrase that can take it back
TYPO_FROM = 6  # letters a word needs before a typo in it is forgiven
TYPO_SCORE = 84

_WORD = re.compile(r"[\w']+")
Phrase = tuple[str, ...]


def intent_of(said: str) -> str | None:
    """The first of `INTENTS` that the normalized message `said` asks for, if any."""
    return _intent_of(tuple(_canonical(word) for word in _WORD.findall(said)))


@lru_cache(maxsize=4096)
def _intent_of(said: Phrase) -> str | None:
    """Phrases are looked up by the word they start with, so a message costs a few
    dictionary reads, whatever the size of the vocabulary."""
    found: set[str] = set()
    for start, word in enumerate(said):
        for intent, phrase in _starting_with().get(word, ()):
            if said[start : start + len(phrase)] != phrase:
                continue
            if phrase[0] in _negations() or not _negated(said, start):
                found.add(intent)
    return next((intent for intent in INTENTS if intent in found), None)


@lru_cache(maxsize=16384)
def _canonical(word: str) -> str:
    """The vocabulary's word a written word stands for: itself, or the one it misspells
    (a long word, one or two letters off)."""
    if word in _starting_with() or word in _known_words() or len(word) < TYPO_FROM:
        return word
    found = process.extractOne(word, _long_words(), scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return found[0] if found else word


def _negated(said: Phrase, start: int) -> bool:
    return any(w in _negations() for w in said[max(0, start - NEGATION_REACH) : start])


@cache
def _starting_with() -> dict[str, tuple[tuple[str, Phrase], ...]]:
    table: dict[str, list[tuple[str, Phrase]]] = {}
    for intent in INTENTS:
        for lang in LANGUAGES:
            for text in words(intent, lang, "intents"):
                phrase = tuple(_WORD.findall(text))
                if phrase and (intent, phrase) not in table.get(phrase[0], []):
                    table.setdefault(phrase[0], []).append((intent, phrase))
    return {word: tuple(found) for word, found in table.items()}


@cache
def _known_words() -> frozenset[str]:
    return frozenset(w for found in _starting_with().values() for _, p in found for w in p)


@cache
def _long_words() -> tuple[str, ...]:
    return tuple(sorted(w for w in _known_words() if len(w) >= TYPO_FROM))


@cache
def _negations() -> frozenset[str]:
    return frozenset(w for lang in LANGUAGES for w in words("negation", lang, "intents"))
