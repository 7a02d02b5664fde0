from __future__ import annotations

import pytest

from core.catalog import load_catalog
from core.catalog_ref import CatalogRef
from core.config import REPO_ROOT
from core.events import Attempt, Decision
from core.verification import CascadeLimits, Step, best_answer, escalation_tier, next_step, verify
from tests.fakes import job

CATALOG = load_catalog(REPO_ROOT / "config" / "catalog.toml", {"sim": "http://sim.test"})
LIMITS = CascadeLimits(max_escalations=2, catalog=CatalogRef(CATALOG))


def attempt(content: str = "fine", finish: str = "stop", status: str = "ok", tier: int = 1, no: int = 1) -> Attempt:
    return Attempt(no, f"m{tier}", "p", tier, status, 0, 1.0, content=content, finish_reason=finish)


@pytest.mark.parametrize(
    ("a", "reason"),
    [
        (attempt(), ""),
        (attempt(content="   "), "empty"),
        (attempt(finish="length"), "truncated"),
        (attempt(status="error", content=""), "provider_failed"),
    ],
)
def test_validators(a: Attempt, reason: str) -> None:
    v = verify(a)
    assert v.reason == reason
    assert v.passed is (reason == "")


def _job_at(tier: int, escalations: int = 0, **kw: object):
    j = job(tier, **kw)
    j.decision = Decision(f"m{tier}", "p", tier, 0.0, "")
    j.escalations = ["empty"] * escalations
    return j


def test_weak_answer_escalates() -> None:
    j = _job_at(1)
    j.attempts = [attempt(content="")]
    assert next_step(j, verify(j.attempts[-1]), LIMITS, 0) is Step.ESCALATE


def test_escalation_limit_returns_best_answer() -> None:
    j = _job_at(2, escalations=2)
    j.attempts = [attempt(finish="length", tier=1), attempt(content="", tier=2, no=2)]
    assert next_step(j, verify(j.attempts[-1]), LIMITS, 0) is Step.BEST_EFFORT
    assert best_answer(j) is j.attempts[0]


def test_top_tier_failure_moves_to_another_top_tier_model() -> None:
    j = _job_at(3)
    j.attempts = [attempt(status="error", content="", tier=3)]
    assert next_step(j, verify(j.attempts[-1]), LIMITS, 0) is Step.ESCALATE
    assert escalation_tier(j, LIMITS) == 3


def test_no_escalations_left_and_no_answer_fails() -> None:
    j = _job_at(3, escalations=2)
    j.attempts = [attempt(status="error", content="", tier=3)]
    assert next_step(j, verify(j.attempts[-1]), LIMITS, 0) is Step.FAIL


def test_past_deadline_stops_the_cascade() -> None:
    j = _job_at(1, deadline_ms=100)
    j.attempts = [attempt(finish="length")]
    assert next_step(j, verify(j.attempts[-1]), LIMITS, now_ms=200) is Step.BEST_EFFORT
