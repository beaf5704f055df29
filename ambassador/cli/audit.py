"""``audit verify`` and ``audit anchor``: one line of result each, exit 2 when broken (docs/audit.md)."""

from __future__ import annotations

import argparse
import sys

from ambassador.cli.output import fail, quiet_security_log, say


async def verify(_: argparse.Namespace) -> int:
    """The chain with the keys, then the newest valid anchor: exit 0 intact, 2 broken (one line each)."""
    from ambassador.domain import audit_verify

    quiet_security_log()
    report = await audit_verify.verify_chain()
    if not report.chain_ok:
        return fail(
            f"audit chain BROKEN at entry {report.broken_at}: {report.reason} "
            f"({report.checked} entries before it verified)",
            code=2,
        )
    anchor = report.anchor
    assert anchor is not None  # verify_chain checks the anchor unless told not to
    for line in anchor.bad_lines:
        sys.stderr.write(f"audit anchor BROKEN: {line}\n")
    if anchor.problem:
        sys.stderr.write(f"audit anchor BROKEN: {anchor.problem}\n")
    if not anchor.ok:
        return 2
    if anchor.anchor is None:
        where = f"no anchor in {anchor.path} yet: deleting the newest entries would go unnoticed"
    else:
        where = f"entry {anchor.anchor.entry_id} matches the anchor of {anchor.anchor.at}"
    say(f"audit chain intact: {report.checked} entries verified; {where}")
    return 0


async def anchor(_: argparse.Namespace) -> int:
    """Append the head to the signed anchor file (and mail it to the admins once a day if asked)."""
    from ambassador.domain import audit, audit_anchors

    quiet_security_log()
    try:
        run = await audit_anchors.anchor_now()
    except audit_anchors.AnchorRefused as exc:
        return fail(f"audit anchor REFUSED: {exc}", code=2)
    path = audit.config().anchor_file
    if run.written is not None:
        say(f"anchored entry {run.written.entry_id} in {path}")
    elif run.newest is not None:
        say(f"the head has not moved since the anchor of entry {run.newest.entry_id} in {path}")
    else:
        say("the audit log is empty: nothing to anchor")
    if run.mailed:
        say(f"anchor mailed to {run.mailed} admins")
    return 0
