"""Twilio's error codes in words for the failed-messages panel, in the reader's language
(`locales/errors.*.yml`, one key per code, a generic fallback)."""

from bot.locale import text


def error_words(code: str | int | None, language: str) -> str:
    """What `code` means and what happens next, for clinic staff."""
    if code is None or not str(code).strip().isdigit():
        return text("errors.none", language)
    code = str(code).strip()
    key = f"errors.{code}"
    words = text(key, language)
    return text("errors.generic", language, code=code) if words == key else words
