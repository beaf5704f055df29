"""A table written as a file a spreadsheet opens as it is meant: XLSX, or CSV for Excel.

A leaf module, like ``pdf``: the domain fills a ``Sheet`` (headers and values already
translated, text already guarded against formulas); this module only writes the bytes.
Text is always written as text (never parsed as a formula or a number); whole numbers as
numbers. The "CSV for Excel" is what Excel in a Polish (or any comma-decimal) locale opens
by a double click: UTF-8 with a BOM, semicolons, CRLF line ends.

XlsxWriter is imported when a file is first written, not with the app.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

Cell = str | int


@dataclass(frozen=True)
class Sheet:
    title: str  # the worksheet's name (at most 31 characters are kept)
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def excel_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a BOM, ``;`` between cells, CRLF line ends, every text cell quoted when needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(sheet.header)
    writer.writerows(sheet.rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx(sheet: Sheet) -> bytes:
    """One worksheet: a bold, frozen header row, text wrapped, columns of a readable width."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    name = sheet.title.translate(_SHEET_NAME_FORBIDDEN).strip("'")[:31] or "Sheet1"
    page = book.add_worksheet(name)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E6E9EE"})
    wrapped = book.add_format({"text_wrap": True, "valign": "top"})
    for column, heading in enumerate(sheet.header):
        page.write_string(0, column, heading, bold)
        longest = max([len(heading), *(len(str(row[column])) for row in sheet.rows if column < len(row))])
        page.set_column(column, column, min(max(longest, 8), 60) + 2)
    for number, values in enumerate(sheet.rows, start=1):
        for column, value in enumerate(values):
            if isinstance(value, int):
                page.write_number(number, column, value, wrapped)
            else:
                page.write_string(number, column, value, wrapped)
    page.freeze_panes(1, 0)
    if sheet.rows:
        page.autofilter(0, 0, len(sheet.rows), max(len(sheet.header) - 1, 0))
    book.close()
    return buffer.getvalue()
