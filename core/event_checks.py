"""What each stage checks on the internal events it reads (pure; design §2).

Internal topics are written only by the pipeline's own principal (Kafka ACLs), but a stage
still refuses an event that is malformed or impossible, e.g. a routed job whose model breaks
the job's own data policy or cost cap: such a job could only come from a bug or a forger, and
sending it on would spend money or leak data. A refused event goes to the internal DLQ with
the reason and is counted in ``llm.dead_letters``; it is not answered (its reply topic came
from the same untrusted bytes).
"""

from __future__ import annotations

import math

from core.events import Job
from core.fields import MAX_ID_LEN
from core.routing import SOFT_SKIPS, RoutingPolicy


def _request_problem(job: Job) -> str | None:
    req = job.request
    if not isinstance(req.request_id, str) or not 0 < len(req.request_id) <= MAX_ID_LEN:
        return "request_id: missing or too long"
    if not isinstance(req.tenant, str) or not 0 < len(req.tenant) <= MAX_ID_LEN:
        return "tenant: missing or too long"
    if not isinstance(req.messages, list) or not req.messages or not all(isinstance(m, dict) for m in req.messages):
        return "messages: expected a non-empty array of objects"
    if not isinstance(job.received_at_ms, int) or job.received_at_ms <= 0:
        return "received_at_ms: expected a positive integer"
    if job.classification is None:
        return "classification: missing"
    return None


def for_routing(job: Job, policy: RoutingPolicy) -> str | None:
    """A classified or escalated job, before the route stage decides on it."""
    problem = _request_problem(job)
    if problem is None and job.escalations and not job.attempts:
        problem = "escalations: an escalated job carries no attempt"
    if problem is None and job.target_tier and job.target_tier not in policy.catalog.tiers:
        problem = f"target_tier: {job.target_tier} is not a catalog tier"
    return problem


def for_invoking(job: Job, policy: RoutingPolicy) -> str | None:
    """A routed job: its decision must name a catalog model the request's own limits allow,
    and every model it lets the fallback chain use must be allowed too."""
    problem = _request_problem(job)
    if problem is not None:
        return problem
    d = job.decision
    if d is None:
        return "decision: missing"
    spec = policy.catalog.models.get(d.model)
    if spec is None:
        return f"decision.model: {d.model!r} is not in the catalog"
    if spec.provider != d.provider:
        return f"decision.provider: {d.provider!r} is not {d.model}'s provider"
    usable = [d.model, *(c.model for c in d.candidates if c.skipped is None or c.skipped in SOFT_SKIPS)]
    for name, why in policy.violations(job, list(dict.fromkeys(usable))).items():
        return f"decision: model {name!r} breaks the request's own limits ({why})"
    return None


def for_verifying(job: Job, policy: RoutingPolicy) -> str | None:
    """An invoked job: it must carry the attempts of the round just made."""
    problem = _request_problem(job)
    if problem is not None:
        return problem
    if not job.attempts or not 0 < job.round_attempts <= len(job.attempts):
        return "attempts: the invoked job carries no attempt of its round"
    for a in job.attempts:
        if a.model not in policy.catalog.models:
            return f"attempts: model {a.model!r} is not in the catalog"
        if not (math.isfinite(a.cost_usd) and a.cost_usd >= 0):
            return f"attempts: cost {a.cost_usd!r} is not a non-negative number"
    return None
