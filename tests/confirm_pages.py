"""Reading an irreversible step's confirmation page (templates/_confirm.html) in tests."""

from __future__ import annotations

import re
from html import unescape

from fpdf import FPDF


def items(html: str, section: str) -> list[str]:
    """The texts listed in the page's section ``changes``, ``blocking`` or ``warnings``."""
    match = re.search(rf'<section aria-labelledby="{section}"[^>]*>(.*?)</section>', html, re.S)
    return [] if match is None else [unescape(i) for i in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def mails(html: str) -> str:
    """The line under the changes: how many mails the step sends."""
    match = re.search(r'<section aria-labelledby="changes">.*?</ul>\s*<p>(.*?)</p>', html, re.S)
    return "" if match is None else unescape(match.group(1)).strip()


def decision_pdf(*lines: str) -> bytes:
    """A real one-page PDF with these lines of text (a decision document as a council signs it)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
