"""The document libraries stay out of a worker until a document is made.

fpdf2, pypdf and XlsxWriter together cost each worker tens of megabytes (pypdf alone about 28 MB),
and most workers never print, read a decision's PDF or export a spreadsheet; so they are
imported where they are used. A module-level import slipping back in fails here.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fpdf", "pypdf", "xlsxwriter")


def test_the_app_imports_without_the_document_libraries() -> None:
    code = f"import sys, ambassador.web.app; print(','.join(name for name in {HEAVY!r} if name in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == ""
