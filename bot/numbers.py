"""Numbers read from outside — a button payload, a form field, a URL: plain ASCII digits
only, within what the database's integer columns hold, so no input breaks a query."""

LARGEST_ID = 2**31 - 1  # PostgreSQL's integer, the narrowest column an id is kept in


def read_number(text: str, low: int, high: int) -> int | None:
    """A whole number written as plain digits, from `low` to `high`; None for anything
    else (a superscript or Arabic-Indic digit, a sign, a space, a number out of range)."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def read_id(text: str) -> int | None:
    """A row id, 1 to LARGEST_ID; None for anything no table could hold."""
    return read_number(text, 1, LARGEST_ID)


def read_count(text: str, most: int) -> int:
    """A count written as plain digits (spaces around allowed), capped at `most`; 0 for
    anything else."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        return 0
    found = read_number(digits, 0, most)
    return most if found is None else found  # plain digits: None means above `most`
