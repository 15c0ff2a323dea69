"""The details of a booking a patient gives in a sentence of their own, whatever the question
("hola, quiero un turno de odontología con la dra benites para mañana a la tarde"): the
service, the professional or "as soon as possible", and the words about when. Each is kept
for its question, which then takes it instead of asking (`bot.engine`)."""

import re
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from rapidfuzz import fuzz, process

from bot.locale import LANGUAGES
from bot.text import normalize
from bot.types import ClinicView
from bot.vocabulary import words, words_any
from bot.when import read_when

NAME_TYPO_FROM = 5  # letters a name's word needs before a typo in it is forgiven
NAME_TYPO_SCORE = 80
CALLED_TYPO_SCORE = 88  # a misspelt name patients call a service (`_called_misspelt`)
CUE_REACH = 3  # words before a professional's name where "con", "dra"… may stand
_WORD = re.compile(r"[\w']+")
_GLUED = re.compile(r"(?<=[a-z])-(?=[a-z])")


@dataclass(frozen=True)
class Details:
    """What a message says of the booking; None where it says nothing."""

    service: int | None = None
    professional: int | None = None
    anyone: bool = False  # "con quien sea", "cualquier doctora": whoever is free first
    soonest: bool = False  # "lo antes posible", "el primer turno": the first there is
    when: str | None = None  # the words that say the day (and time), read at its question

    def __bool__(self) -> bool:
        return bool(self.service or self.professional or self.anyone or self.soonest or self.when)


def details_in(
    text: str, view: ClinicView, on: date, *, naming: bool = False, dayless: bool = True
) -> Details:
    """The details `text` gives. `naming`: the question asks for a professional, so a name
    alone is one; elsewhere "con", "dra"… must come before it (a patient saying their own
    name is no professional). `dayless`: a time or part of the day without a day counts
    (the day is not asked yet)."""
    plain = _GLUED.sub(" ", normalize(text))
    said = tuple(_WORD.findall(plain))
    joined = f" {' '.join(said)} "
    service = _named_service(said, joined, view)
    anyone = _said_any(joined, "anyone")
    professional = _named_professional(said, view, service, naming)
    if professional is None and not anyone:
        professional = _titled_professional(joined, view, service)
    about_when = _about_when(plain)
    when = read_when(about_when, on)
    return Details(
        service=service or _only_service_of(professional, view),
        professional=professional,
        anyone=anyone,
        soonest=_said_any(joined, "soonest"),
        when=about_when if when.days or (dayless and (when.time or when.part)) else None,
    )


def _only_service_of(professional: int | None, view: ClinicView) -> int | None:
    """The service a named professional offers, when they offer one only ("con la dra
    Duarte" is dentistry there)."""
    found = view.professional(professional)
    offered = [s.id for s in view.services if found and s.id in found.service_ids]
    return offered[0] if len(offered) == 1 else None


def _about_when(plain: str) -> str:
    """The message as the reader of days and times should see it: a courtesy's day or part
    of the day ("buenas tardes", "hasta mañana") is not the one wanted, a question mark no
    part of a time ("a las 15?"), a Guarani postposition no part of a day ("viernes-pe")."""
    plain = _GLUED.sub(" ", plain.replace("?", " ").replace("'s ", " "))  # "tomorrow's"
    return _phrases_of("courtesy").sub(" ", f" {plain} ").strip()


def _named_service(said: tuple[str, ...], joined: str, view: ClinicView) -> int | None:
    """The one service the message names: by its whole name, by all of its own words (its
    name less the words any service or the clinic's name shares, a small typo forgiven), or
    by what patients call it (`vocabulary/services.*.yml`, "dentista" for "Odontología")."""
    names = _own_words(
        tuple((s.id, s.name) for s in view.services),
        tuple(_WORD.findall(normalize(view.clinic.name))),
    )
    heard = _heard(said, names)
    found = [
        s.id
        for s in view.services
        if f" {' '.join(_WORD.findall(normalize(s.name)))} " in joined
        or (names[s.id] and names[s.id] <= heard)
        or any(_called(word).search(joined) for word in _WORD.findall(normalize(s.name)))
    ]
    if not found:  # "consulta jeneral": what patients call it, misspelt
        found = [
            s.id
            for s in view.services
            if any(_called_misspelt(word, said) for word in _WORD.findall(normalize(s.name)))
        ]
    return found[0] if len(found) == 1 else None


def _named_professional(
    said: tuple[str, ...], view: ClinicView, service: int | None, naming: bool
) -> int | None:
    """The one professional named (one of their names, a small typo forgiven), among
    those who offer `service` if it is known. Away from the professional question a cue
    ("con", "dra"…) comes first: a patient saying their own name names no professional."""
    if not naming:
        said = tuple(w for at, w in enumerate(said) if _cued(said[max(0, at - CUE_REACH) : at]))
    offering = tuple(
        (p.id, p.name) for p in view.professionals if service is None or service in p.service_ids
    )
    names = _own_words(offering, ())
    heard = _heard(said, names)
    found = {i for i, own in names.items() if any(w in heard for w in own)}
    return found.pop() if len(found) == 1 else None


def _titled_professional(joined: str, view: ClinicView, service: int | None) -> int | None:
    """ "Con la doctora" where one doctora offers the service (one doctor, for "el
    doctor"): the title the message gives, matched with the one in the names."""
    for said_title, name_titles in (("her_title", "female_titles"), ("his_title", "male_titles")):
        if not _said_any(joined, said_title):
            continue
        titled = words_any(name_titles)
        found = [
            p.id
            for p in view.professionals
            if (service is None or service in p.service_ids)
            and _WORD.findall(normalize(p.name))[:1] in ([t] for t in titled)
        ]
        return found[0] if len(found) == 1 else None
    return None


@lru_cache(maxsize=256)
def _own_words(
    named: tuple[tuple[int, str], ...], shared: tuple[str, ...]
) -> dict[int, frozenset[str]]:
    """Each name's words that tell it apart: not a cue ("dra"), nor a word every message
    may have ("consulta"), nor one of `shared` (the clinic's name), nor under 3 letters."""
    plain = _plain_words() | _cues() | set(shared)
    return {
        i: frozenset(w for w in _WORD.findall(normalize(name)) if w not in plain and len(w) > 2)
        for i, name in named
    }


def _heard(said: tuple[str, ...], names: dict[int, frozenset[str]]) -> frozenset[str]:
    """The names' words the message has: as written, or a long one a letter or two off."""
    every = frozenset().union(*names.values()) if names else frozenset()
    heard = {w for w in said if w in every}
    long_names = [n for n in every if len(n) >= NAME_TYPO_FROM and n not in heard]
    for word in said:
        if len(word) >= NAME_TYPO_FROM and word not in every and long_names:
            found = process.extractOne(
                word, long_names, scorer=fuzz.ratio, score_cutoff=NAME_TYPO_SCORE
            )
            if found:
                heard.add(found[0])
    return frozenset(heard)


def _cued(before: tuple[str, ...]) -> bool:
    return not _cues().isdisjoint(before)


def _said_any(joined: str, key: str) -> bool:
    """Whether one of the phrases of the `words` entry `key` is among the words (`joined`:
    the words, a space around each)."""
    return _phrases_of(key).search(joined) is not None


@cache
def _phrases_of(key: str) -> re.Pattern[str]:
    return _pattern(words_any(key))


@cache
def _called(word: str) -> re.Pattern[str]:
    """What patients call a service with `word` in its name, in any language."""
    return _pattern(_calls(word))


@cache
def _calls(word: str) -> frozenset[str]:
    return frozenset(w for lang in LANGUAGES for w in words(word, lang, "services"))


def _called_misspelt(word: str, said: tuple[str, ...]) -> bool:
    """Whether the words said hold one of the names of two words or more patients call
    the service with `word` in its name, a letter or two off in one word and another
    word as written ("consulta jeneral"). One word alone is not enough: it is a letter
    from many others ("clinic", the place, and "clinico", the service)."""
    by_word = _names_by_word(word)
    for at, heard in enumerate(said):
        for name in by_word.get(heard, ()):
            size = len(name)
            for first in range(max(0, at - size + 1), min(at, len(said) - size) + 1):
                window = " ".join(said[first : first + size])
                if fuzz.ratio(window, " ".join(name)) >= CALLED_TYPO_SCORE:
                    return True
    return False


@cache
def _names_by_word(word: str) -> dict[str, tuple[tuple[str, ...], ...]]:
    """The names of two words or more patients call the service with `word` in its name,
    as words, under each of their words."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for phrase in _calls(word):
        name = tuple(_WORD.findall(phrase))
        if len(name) > 1:
            for part in set(name):
                found.setdefault(part, []).append(name)
    return {part: tuple(names) for part, names in found.items()}


def _pattern(phrases: frozenset[str]) -> re.Pattern[str]:
    """Any of `phrases` as whole words; one that never matches when there are none."""
    if not phrases:
        return re.compile(r"(?!x)x")
    alternatives = sorted((" ".join(_WORD.findall(p)) for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<=\s)(?:" + "|".join(map(re.escape, alternatives)) + r")(?=\s)")


@cache
def _cues() -> frozenset[str]:
    return words_any("professional_cue")


@cache
def _plain_words() -> frozenset[str]:
    """Words that name no service of their own ("consulta", "turno", "de")."""
    return frozenset(w for lang in LANGUAGES for p in words("common", lang) for w in p.split())
