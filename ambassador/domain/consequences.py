"""What an irreversible step would do, as its confirmation page shows it and the step re-checks it.

Each step's domain module builds a :class:`Consequences` (nothing changed) for the page, and the
step itself builds it again inside its transaction and calls :func:`check`: a blocking error
refuses the step, unacknowledged warnings raise :class:`NotAcknowledged`; so what was shown is
what is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from ambassador.domain.editions import TransitionRefused
from ambassador.enums import EditionState
from ambassador.errors import Message, NotAcknowledged


@dataclass(frozen=True)
class Consequences:
    """What taking ``target`` now would do; each text a message id with its parameters.

    Every irreversible step's confirmation page shows one of these: the clerk's steps in ``steps``, the
    chair's in ``chair_steps``, the decision in ``decision_checks``, a withdrawal in ``laureates``
    (``target`` None: a step that does not move the edition).
    """

    target: EditionState | None
    changes: tuple[Message, ...]
    blocking: tuple[Message, ...]
    warnings: tuple[Message, ...]
    mailed: int  # how many people the step mails
    early: bool = False  # nominations close before the announced closing time

    @property
    def allowed(self) -> bool:
        return not self.blocking


def check(found: Consequences, acknowledged: bool) -> None:
    """Inside the step's transaction: refuse on the first blocking error, or unacknowledged warnings."""
    if found.blocking:
        first = found.blocking[0]
        raise TransitionRefused(str(first), **first.params)
    if found.warnings and not acknowledged:
        raise NotAcknowledged()
