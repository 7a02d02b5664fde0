"""Verify an answer and decide what happens next: accept, escalate one tier up, or stop.

The cheap validators (core/validators.py) each have a reason code; a learned verifier plugs in
later through the same ``Verification`` result (score in [0, 1], threshold per tier).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.catalog_ref import CatalogRef
from core.events import Attempt, Job, Verification
from core.validators import code_syntax, json_problem, refusal, repetition, wrong_language


class Step(Enum):
    ACCEPT = "accept"  # the answer passed: respond ok
    ESCALATE = "escalate"  # re-route one tier up
    BEST_EFFORT = "best_effort"  # stop here; respond with the best answer so far, marked
    FAIL = "fail"  # stop here; no usable answer: error response


@dataclass(frozen=True, slots=True)
class CascadeLimits:
    max_escalations: int
    catalog: CatalogRef  # the running catalog: its top tier caps an escalation (a reload applies at once)
    thresholds: tuple[float, ...] = ()  # learned-score threshold per tier (index 0 = tier 1); missing: 0

    @property
    def top_tier(self) -> int:
        return self.catalog.current.top_tier

    def threshold(self, tier: int) -> float:
        return self.thresholds[tier - 1] if 0 < tier <= len(self.thresholds) else 0.0


def verify(attempt: Attempt, job: Job | None = None, learned: float | None = None, threshold: float = 0.0
           ) -> Verification:
    """Run the cheap validators on the last attempt of a round; the first failing one is the reason.
    When they pass, ``learned`` (the verifier's P(acceptable)) below ``threshold`` fails as low_score."""
    answer = attempt.content
    req = job.request if job else None
    if attempt.status == "ok" and attempt.tool_calls:  # the model asked for its tools: the caller runs them
        return Verification(score=1.0, passed=True, reason="", checks={"provider_ok": True, "tool_calls": True})
    task = job.classification.task_type if job and job.classification else ""
    json_issue = json_problem(answer, req.response_format) if req else None
    checks = {
        "provider_ok": attempt.status == "ok",
        "not_empty": bool(answer.strip()),
        "not_truncated": attempt.finish_reason != "length",
        "not_refusal": not refusal(answer),
        "json_valid": json_issue != "json_invalid",
        "json_schema": json_issue != "json_schema",
        "code_parses": task != "code" or not code_syntax(answer),
        "same_language": req is None or not wrong_language(req.task_text(), answer),
        "not_repetitive": not repetition(answer),
    }
    reason = next((_REASONS[name] for name, ok in checks.items() if not ok), "")
    if learned is not None:
        checks["learned_score"] = reason != "" or learned >= threshold
        if not reason and learned < threshold:
            reason = "low_score"
    passed = not reason
    score = 0.0 if reason and reason != "low_score" else (learned if learned is not None else 1.0)
    return Verification(score=round(score, 4), passed=passed, reason=reason, checks=checks)


_REASONS = {"provider_ok": "provider_failed", "not_empty": "empty", "not_truncated": "truncated",
            "not_refusal": "refusal", "json_valid": "json_invalid", "json_schema": "json_schema",
            "code_parses": "code_syntax", "same_language": "wrong_language", "not_repetitive": "repetition"}


def next_step(job: Job, verification: Verification, limits: CascadeLimits, now_ms: int) -> Step:
    if verification.passed:
        return Step.ACCEPT
    deadline_ok = job.request.deadline_ms is None or now_ms < job.request.deadline_ms
    pinned = job.decision is not None and job.decision.pinned  # the request chose its model: no other answers it
    if len(job.escalations) < limits.max_escalations and deadline_ok and not pinned:
        return Step.ESCALATE  # one tier up; at the top tier, to a model of that tier not tried yet
    return Step.BEST_EFFORT if best_answer(job) is not None else Step.FAIL


def escalation_tier(job: Job, limits: CascadeLimits) -> int:
    assert job.decision is not None
    return min(job.decision.tier + 1, limits.top_tier)


def best_answer(job: Job) -> Attempt | None:
    """The most useful answer so far: a non-empty one, preferring untruncated, then higher tier."""
    usable = [a for a in job.attempts if a.status == "ok" and a.content.strip()]
    if not usable:
        return None
    return max(usable, key=lambda a: (a.finish_reason != "length", a.tier, a.attempt_no))
