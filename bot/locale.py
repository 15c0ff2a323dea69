"""The texts people read, through python-i18n over `locales/` (`%{name}` placeholders;
a number shown with a noun is passed as `count`, which picks the `one` or `many` form).
Nothing is set up on import: whatever starts a process that shows texts calls
`configure()` first."""

from functools import cache
from pathlib import Path

import i18n

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("es", "en", "gn")


def configure() -> None:
    """Point python-i18n at `locales/` with our settings; a second call changes nothing."""
    if str(LOCALES_DIR) in i18n.load_path:
        return
    i18n.set("file_format", "yml")
    i18n.set("filename_format", "{namespace}.{locale}.{format}")
    i18n.set("skip_locale_root_data", True)
    i18n.set("enable_memoization", True)
    i18n.set("available_locales", list(LANGUAGES))
    i18n.set("fallback", "es")
    i18n.load_path.append(str(LOCALES_DIR))


def text(key: str, language: str, **tags: object) -> str:
    """A translated string, `%{tag}` placeholders filled (`count` also picks the plural
    form); the key itself when no language has it."""
    if not tags:
        return _fixed(key, language)
    return _checked(key, i18n.t(key, locale=language, **tags))


@cache
def _fixed(key: str, language: str) -> str:
    """A string without tags: the locale files are read once, so it never changes (every
    label of every message, so looked up once)."""
    return _checked(key, i18n.t(key, locale=language))


def _checked(key: str, found: object) -> str:
    """What python-i18n found; its answer to a key it lacks is the key, which before
    `configure()` is every key: that is a mistake of the caller, said at once."""
    if found == key and str(LOCALES_DIR) not in i18n.load_path:
        raise RuntimeError(f"{key}: texts are read before bot.locale.configure()")
    return str(found)


def has_text(key: str) -> bool:
    """Whether the locale files have `key` in some language (`text` gives back the key
    itself for one they lack)."""
    return any(text(key, language) != key for language in LANGUAGES)
