"""The tally of the property tests: every input tried and its outcome, by class.

``RELIABILITY_TALLY=FILE`` writes the counts the issue's closing note asks for to FILE (JSON) at
the end of the session; ``RELIABILITY_EXAMPLES=N`` tries N inputs per class instead of the fast
suite's few; ``RELIABILITY_RECORD_ONLY=1`` records failures without failing (to measure old code).
"""
from __future__ import annotations

import collections
import json
import os

import pytest

OUTCOMES: collections.Counter = collections.Counter()
BY_CLASS: dict = collections.defaultdict(collections.Counter)
EXAMPLES: dict = collections.defaultdict(list)


def record(cls: str, outcome: str, detail: str):
    """Count one input; fail the test unless it was refused cleanly or ran right (or only recording)."""
    from tests.reliability.generators import GOOD

    OUTCOMES[outcome] += 1
    BY_CLASS[cls][outcome] += 1
    if outcome not in ("refused", "ran right") and len(EXAMPLES[(cls, outcome)]) < 3:
        EXAMPLES[(cls, outcome)].append(detail)
    if outcome not in GOOD and not os.environ.get("RELIABILITY_RECORD_ONLY"):
        pytest.fail(f"{cls}: {outcome}: {detail}")


def pytest_sessionfinish(session):
    target = os.environ.get("RELIABILITY_TALLY")
    if not target or not OUTCOMES:
        return
    summary = {
        "inputs": sum(OUTCOMES.values()), "classes": len(BY_CLASS), "outcomes": dict(OUTCOMES),
        "by_class": {c: dict(v) for c, v in sorted(BY_CLASS.items())},
        "examples": {f"{c}: {o}": v for (c, o), v in sorted(EXAMPLES.items())},
    }
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
