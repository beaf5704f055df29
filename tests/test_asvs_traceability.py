"""docs/security.md's requirement table stays true: every requirement of the six chapters has
one row; L1 and L2 rows are met or not applicable; every test a row names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "docs" / "asvs-requirements.txt"
SECURITY = ROOT / "docs" / "security.md"
ROW = re.compile(r"^\| (\d+\.\d+\.\d+) \| (\d) \| [^|]+ \| (met|n\.a\.|not met) \| (.+) \|$", re.M)
NODE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)")


def requirement_ids() -> list[str]:
    return re.findall(r"^\| \*\*(\d+\.\d+\.\d+)\*\* \|", REQUIREMENTS.read_text(encoding="utf-8"), re.M)


def requirement_levels() -> dict[str, str]:
    """The levels the extract states (a few long rows are cut before theirs)."""
    found = re.findall(r"^\| \*\*(\d+\.\d+\.\d+)\*\* \|.*\| (\d) \|$", REQUIREMENTS.read_text(encoding="utf-8"), re.M)
    return dict(found)


def rows() -> list[tuple[str, str, str, str]]:
    return ROW.findall(SECURITY.read_text(encoding="utf-8"))


def test_every_requirement_has_exactly_one_row_with_its_level() -> None:
    """ASVS 1.x bookkeeping: the table covers the 106 requirements of V2, V3, V5, V7, V8, V16."""
    ids = requirement_ids()
    table = rows()
    assert len(ids) == len(set(ids)) == 106
    assert sorted(rid for rid, *_ in table) == sorted(ids)
    levels = requirement_levels()
    assert {rid: level for rid, level, *_ in table if rid in levels} == levels


def test_level_one_and_two_requirements_are_met_or_not_applicable_and_l3_gaps_say_why() -> None:
    table = rows()
    assert [rid for rid, level, verdict, _ in table if level in "12" and verdict == "not met"] == []
    # A requirement not met or not applicable says why in a sentence.
    assert [rid for rid, _, verdict, evidence in table if verdict != "met" and len(evidence.split()) < 3] == []


def test_every_test_a_row_names_exists() -> None:
    """A row's evidence is a test that would fail without the control: it must at least exist."""
    missing = []
    defined: dict[str, set[str]] = {}
    for path, name in NODE.findall(SECURITY.read_text(encoding="utf-8")):
        if path not in defined:
            source = ROOT / path
            tree = ast.parse(source.read_text(encoding="utf-8") if source.exists() else "")
            defined[path] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        if name not in defined[path]:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_met_row_names_a_test_or_a_document() -> None:
    documented = ("tests/", ".md", "](#")
    table = rows()
    assert [
        rid for rid, _, verdict, evidence in table if verdict == "met" and not any(d in evidence for d in documented)
    ] == []
