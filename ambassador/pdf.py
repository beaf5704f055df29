"""A plain document (title, sections of paragraphs and tables) rendered to PDF with fpdf2.

The font (DejaVu Sans, shipped in static/fonts) covers Polish and Ukrainian, so the same
document prints in every language the app speaks. A leaf module: it knows nothing of the
jury; ``Document`` is filled by the domain and also rendered as HTML by a template.

fpdf2 (with fontTools and Pillow) is imported when a PDF is first made, not with the app:
it is about a tenth of a worker's memory, and most workers never print anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ambassador.resources import FONT_DIR

if TYPE_CHECKING:
    from fpdf import FPDF

FONT = "DejaVu"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    new_page: bool = False  # starts on a new page (a dossier in the jury's pack)
    links: tuple[str, ...] = ()  # web addresses, printed in full after the paragraphs
    level: int = 1  # 2: a subsection (a smaller heading)


@dataclass(frozen=True)
class Signatures:
    """Lines to sign by hand at the end: each person's name and role, a line, the date."""

    heading: str
    people: tuple[tuple[str, str], ...]  # (name, role)
    signature_label: str  # "signature"
    date_label: str  # "date"


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)
    footer: str = ""
    signatures: Signatures | None = None
    # A cover page of its own: the title, the subtitle and these lines, then the sections.
    cover: tuple[str, ...] = ()


def render(document: Document) -> bytes:
    """The document as PDF bytes (A4, tables wrap long cells)."""
    from fpdf import FPDF

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FONT, size=8)
            self.cell(0, 6, f"{document.footer}  {self.page_no()}/{{nb}}", align="C")

    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(document.title)
    pdf.set_creator("ambassador")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    if document.cover:
        pdf.ln(60)
    # Left-aligned: multi_cell justifies by default, which stretched a title's short last line.
    _text(pdf, document.title, size=14, height=7, bold=True)
    if document.subtitle:
        pdf.ln(1)
        _text(pdf, document.subtitle, size=11, height=6)
    for line in document.cover:
        pdf.ln(2)
        _text(pdf, line, size=11, height=6)
    for number, section in enumerate(document.sections):
        if section.new_page or (document.cover and number == 0):
            pdf.add_page()
        else:
            pdf.ln(3)
        _text(pdf, section.heading, size=12 if section.level == 1 else 10, height=7, bold=True)
        for paragraph in section.paragraphs:
            _text(pdf, paragraph, size=10, height=5)
            pdf.ln(1)
        for link in section.links:
            _text(pdf, link, size=9, height=5)
        for table in section.tables:
            _table(pdf, table)
    if document.signatures is not None:
        _signatures(pdf, document.signatures)
    return bytes(pdf.output())


def _text(pdf: FPDF, text: str, *, size: int, height: float, bold: bool = False) -> None:
    from fpdf.enums import XPos, YPos

    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _signatures(pdf: FPDF, block: Signatures) -> None:
    """Each person on a line of their own: the name and role, a line to sign on, a line for the date."""
    pdf.ln(4)
    # Kept together: a block split by a page end would leave a name without its line.
    if pdf.will_page_break(12 + 16 * len(block.people)):
        pdf.add_page()
    _text(pdf, block.heading, size=12, height=7, bold=True)
    width = pdf.epw
    for name, role in block.people:
        pdf.ln(8)
        _text(pdf, f"{name} ({role})" if role else name, size=10, height=5)
        y = pdf.get_y() + 6
        left = pdf.l_margin
        pdf.line(left, y, left + width * 0.55, y)
        pdf.line(left + width * 0.65, y, left + width, y)
        pdf.set_xy(left, y + 0.5)
        pdf.set_font(FONT, "", 7)
        pdf.cell(width * 0.55, 4, block.signature_label)
        pdf.set_x(left + width * 0.65)
        pdf.cell(width * 0.35, 4, block.date_label)
        pdf.set_xy(left, y + 4)


def _table(pdf: FPDF, table: Table) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font(FONT, "", 9)
    headings = FontFace(emphasis="BOLD", fill_color=(230, 233, 238))
    with pdf.table(headings_style=headings, line_height=5, text_align="LEFT") as grid:
        heading = grid.row()
        for cell in table.header:
            heading.cell(cell)
        for values in table.rows:
            row = grid.row()
            for value in values:
                row.cell(value)
    pdf.ln(2)
