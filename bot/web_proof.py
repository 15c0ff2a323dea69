"""The code the booking page asks a new number to send on WhatsApp, read back from the
message: `#` and six letters or digits (`store.web_bookings.PROOF_ALPHABET`), anywhere in
the text, so the patient may write around it. Pure."""

import re

PROOF = re.compile(r"#([A-HJ-NP-Z2-9]{6})(?![A-Za-z0-9])", re.IGNORECASE)


def proof_in(body: str) -> str | None:
    """The code the message brings, upper-cased; None without one (the usual message)."""
    if "#" not in body:
        return None
    found = PROOF.search(body)
    return found.group(1).upper() if found else None
