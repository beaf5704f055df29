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


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)
    footer: str = ""


def render(document: Document) -> bytes:
    """The document as PDF bytes (A4, tables wrap long cells)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

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
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.subtitle:
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 6, document.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in document.sections:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 7, section.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 10)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 5, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        for table in section.tables:
            _table(pdf, table)
    return bytes(pdf.output())


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
