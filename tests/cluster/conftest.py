"""The cluster test: collected only with ``AMBASSADOR_CLUSTER_TESTS=1``, which ``make test-cluster`` sets.

``make test`` (and a bare ``pytest``) never runs it: it installs nothing, but it starts
Caddy, PostgreSQL databases, app instances and mail senders, and takes minutes. Run it with
``make test-cluster`` (pytest ``--confcutdir=tests/cluster``, so the unit tests' conftest,
which points the engine at their own database, is not loaded).
"""

from __future__ import annotations

import os

import pytest

from tests.cluster.harness import RUNNING, print_logs

if os.environ.get("AMBASSADOR_CLUSTER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and RUNNING:
        for cluster in RUNNING:
            report.sections.append(("cluster services' logs", print_logs(cluster)))
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.cluster.harness import REPORT

    if not REPORT:
        return
    terminalreporter.section("cluster test figures")
    for line in REPORT:
        terminalreporter.write_line(line)
