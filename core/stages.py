"""Each pipeline stage as a plain function: input message(s) in, what happened out (``core.facts``).

Agents call these and hand the facts to the publisher (``core.publisher``), which alone decides
the messages they become; nothing here touches Kafka or chooses a topic. Every request ends in
exactly one ``Answered`` or ``Failed``: invalid input, routing failure and exhausted cascades
included.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.dedup import SeenCache, request_key
from core.drift import DriftMonitor
from core.errors import RoutingError
from core.events import Job
from core.facts import (
    Answered,
    BreakerChanged,
    Classified,
    DriftWindowClosed,
    Escalated,
    Fact,
    Failed,
    Invoked,
    Judged,
    Routed,
)
from core.ingress import Ingress, RefusedRequest
from core.invocation import Invoker
from core.memory_view import tier_prior
from core.messages import Incoming
from core.ports import Classifier, HealthView, QualityView, SpendView, Verifier
from core.routing import RoutingPolicy
from core.verification import CascadeLimits, Step, best_answer, escalation_tier, next_step, verify

# --- classify ----------------------------------------------------------------------------


def accept_requests(batch: Sequence[Incoming], classifier: Classifier, ingress: Ingress, now_ms: int,
                    drift: DriftMonitor | None = None, store_prompts: bool = False,
                    seen: SeenCache | None = None) -> list[Fact]:
    """Validate and classify a batch; a refused one is ``Refused`` (answered, copied to the DLQ).
    A request id is answered once: a later copy, valid or not, is only copied to the DLQ.
    With a drift monitor, closed windows of classifier statistics come out too;
    with ``store_prompts``, each request's redacted prompt text is kept (for retraining)."""
    facts: list[Fact] = []
    jobs: list[Job] = []
    answered: set[str] = set()  # recorded in ``seen`` only once the batch succeeded, so a retry of it answers

    def first(rid: object) -> bool:
        if not isinstance(rid, str):
            return True
        key = request_key(rid)
        if key in answered or (seen is not None and seen.seen(key, now_ms)):
            return False
        answered.add(key)
        return True

    for msg in batch:
        try:
            request = ingress.admit(msg)
        except RefusedRequest as exc:
            rid = exc.payload.get("request_id") if exc.payload else None
            facts.append(ingress.refuse(msg, exc, now_ms, answer=first(rid)))
            continue
        if not first(request.request_id):
            continue  # the same request id again (a replay, or an upstream retry): answered once
        jobs.append(Job(request=request, received_at_ms=msg.timestamp_ms))
    if jobs:
        for job, c in zip(jobs, classifier.classify_batch([j.request for j in jobs]), strict=True):
            job.classification = c
            facts.append(Classified(job, now_ms, store_prompts))
    if drift is not None:
        observed = [(j.classification.task_type, j.classification.tier, j.request.task_text())
                    for j in jobs if j.classification]
        facts.extend(DriftWindowClosed(row) for row in drift.observe(observed, now_ms))
    if seen is not None:
        for key in answered:
            seen.first(key, now_ms)
    return facts


# --- route -------------------------------------------------------------------------------


def route(job: Job, policy: RoutingPolicy, health: HealthView, now_ms: int,
          spend: SpendView | None = None, quality: QualityView | None = None) -> list[Fact]:
    target = policy.target_tier(job)
    try:
        decision = policy.decide(job, health, spend, now_ms, quality)
    except RoutingError as exc:
        best = best_answer(job)
        if best is not None:  # an escalation found nowhere to go: the best answer so far stands
            return [Answered(job, best, now_ms, best_effort=True)]
        last = job.attempts[-1] if job.attempts else None
        if last is not None and last.error_code:
            return [Failed(job, last.error_code, last.error_message, now_ms)]
        return [Failed(job, exc.code, str(exc), now_ms)]
    job.decision = decision
    job.target_tier = target
    return [Routed(job, decision, target, now_ms)]


# --- invoke ------------------------------------------------------------------------------


async def invoke(job: Job, invoker: Invoker, worker: str = "") -> list[Fact]:
    attempts = await invoker.run(job)
    job.attempts.extend(attempts)
    job.round_attempts = len(attempts)
    now = invoker.clock.now_ms()
    facts: list[Fact] = [Invoked(job, tuple(attempts), now)]
    facts.extend(BreakerChanged(t, worker, now) for t in invoker.board.drain_transitions())
    return facts


# --- verify ------------------------------------------------------------------------------


def verify_answer(job: Job, limits: CascadeLimits, now_ms: int, verifier: Verifier | None = None) -> list[Fact]:
    last = job.attempts[-1]
    learned = verifier.score(job.request, last.tier) if verifier is not None and last.status == "ok" else None
    verification = verify(last, job, learned, limits.threshold(last.tier))
    job.verifications.append(verification)
    c = job.classification
    # the verdict is a lesson for the quality memory; none when the provider failed (an availability
    # problem, not a quality one) or the job has no embedding
    rnd = len(job.escalations)
    learned_from: list[Fact] = ([Judged(job, last, verification, tier_prior(c.tier_probs, last.tier), rnd, now_ms)]
                                if last.status == "ok" and c is not None and c.embedding else [])
    step = next_step(job, verification, limits, now_ms)
    if step is Step.ACCEPT:
        return [Answered(job, last, now_ms), *learned_from]
    if step is Step.ESCALATE:
        to_tier = escalation_tier(job, limits)
        job.escalations.append(verification.reason)
        job.target_tier = to_tier
        return [Escalated(job, verification, to_tier, rnd, now_ms), *learned_from]
    best = best_answer(job)
    if step is Step.BEST_EFFORT and best is not None:
        return [Answered(job, best, now_ms, best_effort=True), *learned_from]
    code = last.error_code or f"verification_failed_{verification.reason}"
    message = last.error_message or f"no acceptable answer: last check failed: {verification.reason}"
    return [Failed(job, code, message, now_ms), *learned_from]


def internal_error(raw: bytes | None, exc: BaseException, now_ms: int) -> list[Fact]:
    """Last resort for a bug in a stage: the request still gets exactly one (error) response."""
    try:
        job = Job.decode(raw or b"")
    except Exception:  # noqa: BLE001 - even an undecodable internal event must be answered
        return []
    return [Failed(job, "internal_error", f"internal error in the pipeline ({type(exc).__name__})", now_ms)]
