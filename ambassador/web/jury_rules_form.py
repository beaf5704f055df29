"""The jury's rules form on the clerk's jury page: what it shows and how a posted one is read.

The scoring deadline and its reminder days are read on their own too (``read_schedule``), for
the form that still moves them while the jury scores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from ambassador.domain import jury
from ambassador.domain.jury import JuryRules
from ambassador.enums import Majority, ScoreVisibility
from ambassador.errors import N_
from ambassador.web.editions import local_input, parse_local
from ambassador.web.forms import Form, whole_number

TIE_BREAK_SLOTS = len(jury.TIE_BREAKS)
CHOOSE_OPTION = N_("Choose one of the offered options.")


def rules_values(rules: JuryRules) -> dict[str, Any]:
    """What the rules form shows for stored rules."""
    values: dict[str, Any] = {
        "appointment_document": rules.appointment_document,
        "score_visibility": rules.score_visibility.value,
        "min_scores": str(rules.min_scores),
        "normalise": rules.normalise,
        "vote_quorum_percent": str(rules.vote_quorum_percent),
        "majority": rules.majority.value,
        **schedule_values(rules),
    }
    for slot in range(TIE_BREAK_SLOTS):
        values[f"tie_break_{slot + 1}"] = rules.tie_break[slot] if slot < len(rules.tie_break) else ""
    return values


def schedule_values(rules: JuryRules) -> dict[str, str]:
    """What the deadline's fields show for stored rules."""
    closes_at = rules.scoring_closes_at
    return {
        "scoring_closes_at": local_input(closes_at) if closes_at else "",
        "reminder_days": str(rules.reminder_days),
    }


def read_schedule(
    form: Form, kept: dt.datetime | None
) -> tuple[dt.datetime | None, int, dict[str, str], dict[str, str]]:
    """The posted deadline (empty: none) and reminder days, the values, the form's problems.

    A deadline sent back unchanged to the minute keeps its stored value (``kept``).
    """
    values = {
        "scoring_closes_at": form.text("scoring_closes_at", 30).strip(),
        "reminder_days": form.text("reminder_days", 20).strip(),
    }
    problems: dict[str, str] = {}
    closes_at: dt.datetime | None = None
    if kept is not None and values["scoring_closes_at"] == local_input(kept):
        closes_at = kept
    elif values["scoring_closes_at"]:
        closes_at = parse_local(values["scoring_closes_at"])
        if closes_at is None:
            problems["scoring_closes_at"] = N_("Enter a date and time, or leave the field empty.")
    return closes_at, whole_number(values["reminder_days"], blank=JuryRules.reminder_days), values, problems


def read_rules(form: Form, kept: dt.datetime | None = None) -> tuple[JuryRules, dict[str, Any], dict[str, str]]:
    """The posted rules, the values to show again, and problems only the form can see."""
    values: dict[str, Any] = {
        "appointment_document": form.text("appointment_document", jury.MAX_DOCUMENT),
        "score_visibility": form.text("score_visibility", 20).strip(),
        "min_scores": form.text("min_scores", 20).strip(),
        "normalise": form.flag("normalise"),
        "vote_quorum_percent": form.text("vote_quorum_percent", 20).strip(),
        "majority": form.text("majority", 20).strip(),
    }
    for slot in range(1, TIE_BREAK_SLOTS + 1):
        values[f"tie_break_{slot}"] = form.text(f"tie_break_{slot}", 20).strip()
    problems: dict[str, str] = {}
    visibility, majority = values["score_visibility"], values["majority"]
    if visibility not in set(ScoreVisibility):
        problems["score_visibility"] = CHOOSE_OPTION
    if majority not in set(Majority):
        problems["majority"] = CHOOSE_OPTION
    chain = tuple(values[f"tie_break_{slot}"] for slot in range(1, TIE_BREAK_SLOTS + 1) if values[f"tie_break_{slot}"])
    if any(step not in jury.TIE_BREAKS for step in chain):
        problems["tie_break"] = CHOOSE_OPTION
    elif not chain:
        problems["tie_break"] = N_("Choose at least one way to break a tie.")
    rules = JuryRules(
        appointment_document=values["appointment_document"],
        score_visibility=ScoreVisibility(visibility)
        if visibility in set(ScoreVisibility)
        else JuryRules.score_visibility,
        min_scores=whole_number(values["min_scores"]),
        normalise=values["normalise"],
        tie_break=chain,
        vote_quorum_percent=whole_number(values["vote_quorum_percent"]),
        majority=Majority(majority) if majority in set(Majority) else JuryRules.majority,
    )
    closes_at, reminder_days, schedule, schedule_problems = read_schedule(form, kept)
    rules = dataclasses.replace(rules, scoring_closes_at=closes_at, reminder_days=reminder_days)
    return rules, values | schedule, problems | schedule_problems
