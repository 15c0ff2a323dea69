"""python-i18n set up over `locales/`: the vocabulary patients use and the labels they read."""

from functools import cache
from pathlib import Path

import i18n

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("es", "en", "gn")

i18n.set("file_format", "yml")
i18n.set("filename_format", "{namespace}.{locale}.{format}")
i18n.set("skip_locale_root_data", True)
i18n.set("enable_memoization", True)
i18n.set("available_locales", list(LANGUAGES))
i18n.set("fallback", "es")
if str(LOCALES_DIR) not in i18n.load_path:
    i18n.load_path.append(str(LOCALES_DIR))


def text(key: str, language: str, **tags: object) -> str:
    """A translated string, `%{tag}` placeholders filled."""
    if not tags:
        return _fixed(key, language)
    return str(i18n.t(key, locale=language, **tags))


@cache
def _fixed(key: str, language: str) -> str:
    """A string without tags: the locale files are read once, so it never changes (every
    label of every message, so looked up once)."""
    return str(i18n.t(key, locale=language))


@cache
def words(key: str, language: str, namespace: str = "words") -> tuple[str, ...]:
    """The alternatives of a `words.*` entry (or of another namespace's, such as `when.*`)
    in one language, normalized for matching."""
    from bot.text import normalize

    raw = text(f"{namespace}.{key}", language)
    if raw == f"{namespace}.{key}":
        return ()
    return tuple(w for w in (normalize(part) for part in raw.split("|")) if w)


@cache
def words_any(key: str) -> frozenset[str]:
    """A `words.*` entry in every language: patients mix them."""
    return frozenset(w for lang in LANGUAGES for w in words(key, lang))


def has_text(key: str) -> bool:
    """Whether the locale files have `key` in some language (`text` gives back the key
    itself for one they lack)."""
    return any(text(key, language) != key for language in LANGUAGES)
