"""The booking page's sheet for the desk as an A4 PDF (`fpdf2`): the clinic's name, "book
your appointment", the page's QR code and its address, a line on how to use it, and the
QR code of a WhatsApp chat. Pure: words and addresses in, the file's bytes out."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from web.qr_codes import png

# A font with Guarani's letters (g̃, ỹ…); Debian's fonts-dejavu-core. Without it, the PDF's
# own Helvetica, which writes only Latin-1 (others become "?").
FONTS = Path("/usr/share/fonts/truetype/dejavu")
WIDTH = 210  # A4, millimetres
PAGE_QR = 120
CHAT_QR = 40


@dataclass(frozen=True)
class Sheet:
    """What the sheet says: `heading` and `chat_line` in the clinic's language, the
    instructions in the language of whoever prints it."""

    clinic_name: str
    heading: str
    address: str
    instructions: str
    chat_link: str
    chat_line: str


def desk_sheet(sheet: Sheet) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(f"{sheet.heading} · {sheet.clinic_name}")
    pdf.set_auto_page_break(auto=False)
    family, fit = _font(pdf)
    pdf.add_page()
    pdf.set_y(20)
    _line(pdf, family, "B", 22, fit(sheet.clinic_name))
    _line(pdf, family, "B", 40, fit(sheet.heading))
    pdf.image(io.BytesIO(png(sheet.address)), x=(WIDTH - PAGE_QR) / 2, w=PAGE_QR, h=PAGE_QR)
    _line(pdf, family, "", 18, fit(sheet.address))
    _line(pdf, family, "", 14, fit(sheet.instructions))
    top = pdf.get_y() + 8
    pdf.image(io.BytesIO(png(sheet.chat_link)), x=20, y=top, w=CHAT_QR, h=CHAT_QR)
    pdf.set_xy(20 + CHAT_QR + 6, top + 8)
    pdf.set_font(family, "", 14)
    pdf.multi_cell(WIDTH - 20 - (20 + CHAT_QR + 6), 7, fit(sheet.chat_line))
    return bytes(pdf.output())


def _line(pdf: FPDF, family: str, style: str, size: int, words: str) -> None:
    """A centred paragraph across the page, wrapped where it does not fit."""
    pdf.set_font(family, style, size)
    pdf.set_x(15)
    pdf.multi_cell(WIDTH - 30, size * 0.5, words, align="C")
    pdf.ln(4)


def _font(pdf: FPDF) -> tuple[str, Callable[[str], str]]:
    """The family to write with, and what a text becomes to fit it."""
    regular, bold = FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        return "DejaVu", _as_is
    return "Helvetica", _latin1


def _as_is(words: str) -> str:
    return words


def _latin1(words: str) -> str:
    return words.encode("latin-1", "replace").decode("latin-1")
