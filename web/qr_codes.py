"""QR codes (`segno`): the booking page's address, a WhatsApp chat with the clinic's
number with a first message written, and one with Twilio's sandbox and its join text; as
SVG for the screen and the printed page, and as PNG to download. Pure: an address in,
bytes or text out."""

import io
from urllib.parse import quote

import segno

ERROR_LEVEL = "m"  # survives a smudge on a printed sheet
TWILIO_SANDBOX_NUMBER = "+14155238886"  # Twilio's WhatsApp sandbox, the same for every account


def chat_link(number: str, said: str) -> str:
    """wa.me for the clinic's number (E.164) with `said` written, ready to send."""
    return f"https://wa.me/{number.lstrip('+')}?text={quote(said)}"


def sandbox_join_link(code: str) -> str:
    """wa.me for Twilio's WhatsApp sandbox with "join <code>" written: sending it lets the
    phone talk to the account's sandbox."""
    return chat_link(TWILIO_SANDBOX_NUMBER, f"join {code}")


def page_address(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/r/{slug}"


def svg(data: str, scale: int = 6) -> str:
    """The code as an SVG document (no XML declaration: it can be inlined in a page)."""
    out = io.BytesIO()
    segno.make(data, error=ERROR_LEVEL).save(
        out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, title=data
    )
    return out.getvalue().decode()


def png(data: str, scale: int = 12) -> bytes:
    """The code as a PNG big enough to print (12 pixels a module)."""
    out = io.BytesIO()
    segno.make(data, error=ERROR_LEVEL).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
