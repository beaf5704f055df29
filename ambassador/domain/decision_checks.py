"""What recording the approving body's decision does, and whether its document carries its number.

The clerk attaches the signed decision as a PDF and types its number. The document's text is
read (pypdf) and the number looked for in it, with spaces, letter case and the slash's look-alikes
folded. A number not found is a warning the clerk acknowledges, never a blocking error: a
decision cites other acts (the resolution it amends, the statute it rests on), so "the text
holds another number" cannot tell a wrong document from a right one that cites others, and a
scan has no text at all. The clerk is told which it is ("not found" or "could not read") and
checks the document; the acknowledgement is recorded with the decision.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import TYPE_CHECKING

from ambassador.domain.consequences import Consequences
from ambassador.enums import EditionState
from ambassador.errors import N_, Message
from ambassador.vocabulary import DISTINCTIONS

if TYPE_CHECKING:
    from ambassador.domain.approval import DecisionData, Recommended
    from ambassador.domain.editions import EditionView

MAX_PAGES = 50  # a decision is a few pages; its annexes need not be read
# The slash as typed or as a PDF may carry it, and the dashes, folded to one character each.
_FOLD = str.maketrans({"\\": "/", "\u2215": "/", "\u2044": "/", "\uff0f": "/", "\u2013": "-", "\u2014": "-"})
_PREFIX = re.compile(r"^(nr|no|№)\.?\s*")


def document_text(data: bytes) -> str | None:
    """The PDF's text (its first pages), or None when there is none to read (a scan, a broken file)."""
    # Imported here, not with the app: pypdf costs each worker about 28 MB, and only the rare
    # recording of a decision reads a PDF.
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PAGES])
    except Exception:  # noqa: BLE001 - pypdf raises many kinds for a damaged file: all mean "unreadable"
        return None
    return text if text.strip() else None


def folded(text: str) -> str:
    """Text compared without regard to case, spacing or the slash's look-alikes."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()
    text = re.sub(r"\s*([/-])\s*", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def carries(text: str, number: str) -> bool:
    """Whether ``text`` holds ``number`` as a whole ("XLV/1234/23" is not found in "XLV/1234/230")."""
    wanted = _PREFIX.sub("", folded(number))
    if not wanted:
        return False
    return re.search(rf"(?<![\w/-]){re.escape(wanted)}(?![\w/-])", folded(text)) is not None


def number_warning(data: bytes, number: str) -> Message | None:
    """The warning about the document's number, or None when the document carries it."""
    text = document_text(data)
    if text is None:
        return Message(
            N_(
                "The document's text could not be read (a scan?), so its number could not be checked: "
                "check yourself that it is decision %(number)s."
            ),
            number=number,
        )
    if not carries(text, number):
        return Message(
            N_("The number %(number)s does not appear in the document's text: check that it is the signed decision."),
            number=number,
        )
    return None


def consequences(edition: EditionView, data: DecisionData, listed: list[Recommended]) -> Consequences:
    """What recording this decision does: each recommended nomination's outcome, the warnings."""
    target = EditionState.APPROVED
    if edition.state != EditionState.RECOMMENDED:
        refused = Message(N_("A decision is recorded once the jury's recommendation is signed."))
        return Consequences(target, (), (refused,), (), 0)
    changes = [
        Message(
            N_("Decision %(number)s of %(date)s is recorded with its document; it cannot be changed afterwards."),
            number=data.number,
            date=data.decided_on.isoformat() if data.decided_on else "",
        )
    ]
    for item in listed:
        outcome = data.outcomes.get(item.nomination_id)
        decided = outcome.distinction if outcome else None
        changes.append(
            Message(
                N_("%(reference)s %(name)s: recommended %(recommended)s, decided: %(decided)s."),
                reference=item.reference,
                name=item.nominee_name,
                recommended=Message(DISTINCTIONS[item.distinction]),
                decided=Message(DISTINCTIONS[decided] if decided else N_("not approved")),
            )
        )
    changes.append(
        Message(N_("The laureates' records are made; nothing is public before the publication, and nobody is mailed."))
    )
    warning = number_warning(data.document.data, data.number) if data.document else None
    return Consequences(target, tuple(changes), (), (warning,) if warning else (), 0)
