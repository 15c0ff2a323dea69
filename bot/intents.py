"""What a patient asks for inside a sentence of their own: the phrases of
`vocabulary/intents.*.yml`, found among the message's words in any language, a small typo
forgiven in a long word, shorthand written out ("q" is "que", "xfa" is "por favor"), letters
typed again and again made one ("chauuu"), a word ending in `*` standing for any word that
starts so ("cancel*": cancelen, cancelame, cancelarlo), a `~` for a few words of the same
clause ("cambi* ~ turno": "cambiar el día de mi turno"), and not when a negation just before
takes them back ("no quiero cancelar mi turno"). Each intent is the name of a flow command."""

import re
from functools import cache, lru_cache

from rapidfuzz import fuzz, process

from bot.locale import LANGUAGES
from bot.text import MAX_READ, normalize
from bot.vocabulary import vocabulary, words

# When a message says more than one, a phrase inside a longer one found does not count
# ("mba'e órapa" inside "mba'e órapa che turno"); of the rest, the one first here wins: a
# person over everything.
INTENTS = (
    "human",
    "opt_out",
    "opt_in",
    "reschedule_appointment",  # "no puedo ir, ¿me lo pasan al viernes?" is a change
    "cancel_appointment",
    "confirm_appointment",
    "check_in",  # "ya llegué para mi turno" is an arrival, not a question about it
    "language_en",
    "language_es",
    "language_gn",
    "price",
    "insurances",
    "what_to_bring",
    "address",
    "opening_hours",
    "my_appointments",
    "goodbye",
    "thanks",
)
# Heard even while the patient answers a question in their own words (a name, a comment).
HEARD_IN_FREE_TEXT = frozenset({"human"})
# Heard only when no question is pending: "sí, gracias" answers the question.
HEARD_WHEN_IDLE = frozenset({"thanks"})
# A thanks or a goodbye is the whole of a short message; at the end of a long one ("…para
# el sábado a la mañana, gracias") it is only good manners.
SHORT_ONLY = {"thanks": 8, "goodbye": 8}
NEGATION_REACH = 3  # words before a phrase, in its clause, that can take it back
TYPO_FROM = 6  # letters a word needs before a typo in it is forgiven
TYPO_SCORE = 84
PREFIX = "*"
GAP, GAP_WORDS = "~", 4  # a few words of the same clause, at most

_WORD = re.compile(r"[\w']+")
_CLAUSE = re.compile(r"[,;.!?¡¿()\n]+")  # a negation reaches no further
_TYPED_AGAIN = re.compile(r"(\w)\1{2,}")
BOUNDARY = "|"  # between clauses: no phrase spans it
Phrase = tuple[str, ...]


@lru_cache(maxsize=4096)  # a message is asked about twice: a language, then the rest
def intent_of(text: str) -> str | None:
    """The intent the message `text` (as written) asks for, if any."""
    return _intent_of(words_of(text))


def words_of(text: str) -> Phrase:
    """The message's words as the vocabulary spells them, clause by clause."""
    found: list[str] = []
    for clause in _CLAUSE.split(text[:MAX_READ]):
        for word in _WORD.findall(normalize(clause)):
            word = _TYPED_AGAIN.sub(r"\1", word)
            found.extend(_shorthand().get(word, (word,)))
        found.append(BOUNDARY)
    return tuple(_canonical(word) for word in found[:-1])


@lru_cache(maxsize=4096)
def _intent_of(said: Phrase) -> str | None:
    """Phrases are looked up by the word they start with (or its first letters, for a
    phrase that starts with a `*` word), so a message costs a few dictionary reads,
    whatever the size of the vocabulary."""
    spans: list[tuple[int, int, str]] = []
    words = sum(w != BOUNDARY for w in said)
    for start, word in enumerate(said):
        for intent, phrase in _candidates(word):
            end = _end_of(said, start, phrase)
            if end is None or words > SHORT_ONLY.get(intent, words):
                continue
            if phrase[0] in _negations() or not _negated(said, start):
                spans.append((start, end, intent))
    found = {
        intent
        for start, end, intent in spans
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)
    }
    return next((intent for intent in INTENTS if intent in found), None)


def _candidates(word: str) -> tuple[tuple[str, Phrase], ...]:
    by_stem = _starting_with_stem()
    stems = tuple(p for n in range(3, len(word) + 1) for p in by_stem.get(word[:n], ()))
    return _starting_with().get(word, ()) + stems


def _end_of(said: Phrase, at: int, phrase: Phrase) -> int | None:
    """Where `phrase` ends if it is found from `said[at]` on; None if it is not."""
    if not phrase:
        return at
    if phrase[0] == GAP:
        for skipped in range(GAP_WORDS + 1):
            if BOUNDARY in said[at : at + skipped]:
                return None
            end = _end_of(said, at + skipped, phrase[1:])
            if end is not None:
                return end
        return None
    if at >= len(said) or not _same(said[at], phrase[0]):
        return None
    return _end_of(said, at + 1, phrase[1:])


def _same(word: str, spelled: str) -> bool:
    return word.startswith(spelled[:-1]) if spelled.endswith(PREFIX) else word == spelled


@lru_cache(maxsize=16384)
def _canonical(word: str) -> str:
    """The vocabulary's word a written word stands for: itself, or the one it misspells
    (a long word, one or two letters off)."""
    if word in _starting_with() or word in _known_words() or len(word) < TYPO_FROM:
        return word
    if any(word.startswith(stem) for stem in _starting_with_stem()):
        return word  # a word the vocabulary names by its start ("cancel*"): as written
    found = process.extractOne(word, _long_words(), scorer=fuzz.ratio, score_cutoff=TYPO_SCORE)
    return found[0] if found else word


def _negated(said: Phrase, start: int) -> bool:
    before = said[max(0, start - NEGATION_REACH) : start]
    clause = before[before.index(BOUNDARY) + 1 :] if BOUNDARY in before else before
    return any(w in _negations() for w in clause)


@cache
def _phrases() -> tuple[tuple[str, Phrase], ...]:
    found: list[tuple[str, Phrase]] = []
    for intent in INTENTS:
        for lang in LANGUAGES:
            for text in str(vocabulary("intents", lang).get(intent, "")).split("|"):
                phrase = tuple(_spelled(word) for word in text.split() if _spelled(word))
                if phrase and (intent, phrase) not in found:
                    found.append((intent, phrase))
    return tuple(found)


def _spelled(word: str) -> str:
    """A vocabulary word as messages are compared with it (a `*` kept at its end)."""
    if word == GAP:
        return GAP
    plain = "".join(_WORD.findall(normalize(word.rstrip(PREFIX))))
    return plain + PREFIX if plain and word.endswith(PREFIX) else plain


@cache
def _starting_with() -> dict[str, tuple[tuple[str, Phrase], ...]]:
    table: dict[str, list[tuple[str, Phrase]]] = {}
    for intent, phrase in _phrases():
        if not phrase[0].endswith(PREFIX):
            table.setdefault(phrase[0], []).append((intent, phrase))
    return {word: tuple(found) for word, found in table.items()}


@cache
def _starting_with_stem() -> dict[str, tuple[tuple[str, Phrase], ...]]:
    table: dict[str, list[tuple[str, Phrase]]] = {}
    for intent, phrase in _phrases():
        if phrase[0].endswith(PREFIX):
            table.setdefault(phrase[0][:-1], []).append((intent, phrase))
    return {stem: tuple(found) for stem, found in table.items()}


@cache
def _known_words() -> frozenset[str]:
    return frozenset(
        w for _, phrase in _phrases() for w in phrase if not w.endswith(PREFIX) and w != GAP
    )


@cache
def _long_words() -> tuple[str, ...]:
    return tuple(sorted(w for w in _known_words() if len(w) >= TYPO_FROM))


@cache
def _negations() -> frozenset[str]:
    return frozenset(w for lang in LANGUAGES for w in words("negation", lang, "intents"))


@cache
def _shorthand() -> dict[str, tuple[str, ...]]:
    """Shorthand as patients type it, written out: "q" → ("que",), "xfa" → ("por", "favor")."""
    table: dict[str, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        for pair in str(vocabulary("intents", lang).get("shorthand", "")).split("|"):
            short, _, meant = pair.partition("=")
            if short.strip() and meant.strip():
                table[short.strip()] = tuple(meant.split())
    return table
