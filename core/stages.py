"""Each pipeline stage as a plain function: input message(s) in, outgoing messages out.

Agents call these and send what they return; nothing here touches Kafka. Every request ends
in exactly one response: invalid input, routing failure and exhausted cascades included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from core import outcomes
from core.breaker import Transition
from core.dedup import SeenCache, request_key
from core.drift import DriftMonitor
from core.errors import RoutingError
from core.events import Attempt, Job, Verification
from core.ingress import Ingress, RefusedRequest
from core.invocation import Invoker
from core.messages import Incoming, Out, row_out
from core.payload import dumps_within, message_budget, payload_copy
from core.ports import Classifier, HealthView, QualityView, SpendView, Verifier
from core.quality_memory import tier_prior
from core.request import Request
from core.responses import error_response, ok_response
from core.routing import RoutingPolicy
from core.topics import TopicNames
from core.verification import CascadeLimits, Step, best_answer, escalation_tier, next_step, verify


def _reply_topic(request: Request, names: TopicNames) -> str:
    return request.reply_topic or names.responses


# --- classify ----------------------------------------------------------------------------


def accept_requests(batch: Sequence[Incoming], classifier: Classifier, names: TopicNames,
                    now_ms: int, drift: DriftMonitor | None = None, store_prompts: bool = False,
                    seen: SeenCache | None = None, ingress: Ingress | None = None) -> list[Out]:
    """Validate and classify a batch; refused ones get an error response and a DLQ copy.
    A request id is answered once: a later copy, valid or not, only gets a DLQ entry.
    With a drift monitor, closed windows of classifier statistics go out as outcome rows;
    with ``store_prompts``, the redacted prompt text too (for retraining)."""
    ingress = ingress or Ingress.default(names)
    out: list[Out] = []
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
            out.extend(ingress.reject(msg, exc.payload, exc.problems, now_ms, exc.code, answer=first(rid)))
            continue
        if not first(request.request_id):
            continue  # the same request id again (a replay, or an upstream retry): answered once
        jobs.append(Job(request=request, received_at_ms=msg.timestamp_ms))
    if jobs:
        for job, c in zip(jobs, classifier.classify_batch([j.request for j in jobs]), strict=True):
            job.classification = c
            out.extend(job_out(names.classified, job, names, now_ms))
            if store_prompts:
                out.append(row_out(names, job.request_id.encode(), "request_texts", outcomes.text_row(job, now_ms)))
    if drift is not None:
        observed = [(j.classification.task_type, j.classification.tier, j.request.task_text())
                    for j in jobs if j.classification]
        for row in drift.observe(observed, now_ms):
            out.append(row_out(names, f"drift:{row['window_start']}".encode(), "classifier_drift", row))
    if seen is not None:
        for key in answered:
            seen.first(key, now_ms)
    return out


def job_out(topic: str, job: Job, names: TopicNames, now_ms: int, budget: int = message_budget()) -> list[Out]:
    """The job forwarded to ``topic``, or, when it no longer fits a Kafka message, the request
    finished with ``payload_too_large`` and a bounded copy on the internal DLQ."""
    raw = job.encode()
    if len(raw) <= budget:
        return [Out(topic, job.request_id.encode(), raw)]
    message = f"the request grew to {len(raw):,} bytes on its way to {topic}, over the {budget:,}-byte message limit"
    where = Incoming(raw, now_ms, topic, -1, 0)  # never written: its bounded copy goes to the DLQ instead
    return [*finish_error(job, "payload_too_large", message, names, now_ms),
            *dead_letter(where, "publish", "payload_too_large", message, names, now_ms, job.request_id)]


def dead_letter(msg: Incoming, stage: str, code: str, reason: str, names: TopicNames, now_ms: int,
                request_id: str = "") -> list[Out]:
    """A message set aside: a bounded copy with the reason on the internal DLQ, and a row."""
    record = {"error": {"code": code, "message": reason}, "stage": stage,
              "source": {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset},
              **payload_copy(msg.value or b"")}
    key = (request_id or f"{msg.topic}:{msg.partition}:{msg.offset}").encode()
    row = outcomes.dead_letter_row(stage, msg.topic, max(msg.partition, 0), msg.offset, request_id,
                                   f"{code}: {reason}", names.internal_dlq, now_ms)
    return [Out(names.internal_dlq, key, orjson.dumps(record)), row_out(names, key, "dead_letters", row)]


# --- route -------------------------------------------------------------------------------


def route(job: Job, policy: RoutingPolicy, health: HealthView, names: TopicNames, now_ms: int,
          spend: SpendView | None = None, quality: QualityView | None = None) -> list[Out]:
    key = job.request_id.encode()
    target = policy.target_tier(job)
    try:
        decision = policy.decide(job, health, spend, now_ms, quality)
    except RoutingError as exc:
        best = best_answer(job)
        if best is not None:  # an escalation found nowhere to go: the best answer so far stands
            return finish_ok(job, best, names, now_ms, best_effort=True)
        last = job.attempts[-1] if job.attempts else None
        if last is not None and last.error_code:
            return finish_error(job, last.error_code, last.error_message, names, now_ms)
        return finish_error(job, exc.code, str(exc), names, now_ms)
    job.decision = decision
    job.target_tier = target
    return [*job_out(names.routed, job, names, now_ms),
            row_out(names, key, "decisions", outcomes.decision_row(job, decision, target, now_ms))]


# --- invoke ------------------------------------------------------------------------------


async def invoke(job: Job, invoker: Invoker, names: TopicNames, worker: str = "") -> list[Out]:
    attempts = await invoker.run(job)
    job.attempts.extend(attempts)
    job.round_attempts = len(attempts)
    key = job.request_id.encode()
    out = job_out(names.invoked, job, names, invoker.clock.now_ms())
    out.extend(row_out(names, key, "attempts", outcomes.attempt_row(job, a)) for a in attempts)
    out.extend(control_events(invoker.board.drain_transitions(), names, invoker.clock.now_ms(), worker))
    return out


def control_events(transitions: Sequence[Transition], names: TopicNames, now_ms: int, worker: str) -> list[Out]:
    """Breaker state changes: an event on the control topic and a ClickHouse row each."""
    out = []
    for t in transitions:
        row = {"ts": now_ms, "kind": "breaker", "model": t.model, "old_state": t.old, "new_state": t.new,
               "reason": t.reason, "worker": worker, "version": now_ms}
        key = f"breaker:{t.model}".encode()
        out.append(Out(names.control, key, orjson.dumps(row)))
        out.append(row_out(names, key, "control_events", row))
    return out


# --- verify ------------------------------------------------------------------------------


def verify_answer(job: Job, limits: CascadeLimits, names: TopicNames, now_ms: int,
                  verifier: Verifier | None = None) -> list[Out]:
    last = job.attempts[-1]
    learned = verifier.score(job.request, last.tier) if verifier is not None and last.status == "ok" else None
    verification = verify(last, job, learned, limits.threshold(last.tier))
    job.verifications.append(verification)
    verdict = _verdict(job, last, verification, now_ms)
    step = next_step(job, verification, limits, now_ms)
    key = job.request_id.encode()
    learned_from = [row_out(names, key, "verdicts", verdict)] if verdict else []
    if step is Step.ACCEPT:
        return [*finish_ok(job, last, names, now_ms), *learned_from]
    if step is Step.ESCALATE:
        to_tier = escalation_tier(job, limits)
        row = outcomes.escalation_row(job, verification, to_tier, now_ms)
        job.escalations.append(verification.reason)
        job.target_tier = to_tier
        return [*job_out(names.escalations, job, names, now_ms), row_out(names, key, "escalations", row),
                *learned_from]
    best = best_answer(job)
    if step is Step.BEST_EFFORT and best is not None:
        return [*finish_ok(job, best, names, now_ms, best_effort=True), *learned_from]
    code = last.error_code or f"verification_failed_{verification.reason}"
    message = last.error_message or f"no acceptable answer: last check failed: {verification.reason}"
    return [*finish_error(job, code, message, names, now_ms), *learned_from]


def _verdict(job: Job, answer: Attempt, v: Verification, now_ms: int) -> dict[str, Any] | None:
    """The verifier's verdict on a model's answer, as a lesson for the quality memory; None when
    the provider failed (an availability problem, not a quality one) or the job has no embedding."""
    c = job.classification
    if answer.status != "ok" or c is None or not c.embedding:
        return None
    return outcomes.verdict_row(job, answer, v, tier_prior(c.tier_probs, answer.tier), now_ms)


def finish_ok(job: Job, answer: Any, names: TopicNames, now_ms: int, best_effort: bool = False) -> list[Out]:
    key = job.request_id.encode()
    body = orjson.dumps(ok_response(job, answer, now_ms, best_effort))
    if len(body) > message_budget():
        message = f"the answer's response is {len(body):,} bytes, over the {message_budget():,}-byte message limit"
        return finish_error(job, "payload_too_large", message, names, now_ms)
    row = outcomes.request_row(job, "ok", "", answer, now_ms, best_effort)
    return [Out(_reply_topic(job.request, names), key, body), row_out(names, key, "requests", row)]


def finish_error(job: Job, code: str, message: str, names: TopicNames, now_ms: int) -> list[Out]:
    key = job.request_id.encode()
    response = error_response(job, code, message, now_ms)
    body = dumps_within(response, message_budget(), ["metadata", "escalation_reasons"])
    row = outcomes.request_row(job, "error", code, None, now_ms)
    out = [row_out(names, key, "requests", row)]
    if body is not None:  # None only for a request forged past ingress; its row still records it
        out.insert(0, Out(_reply_topic(job.request, names), key, body))
    return out


def internal_error(raw: bytes | None, exc: BaseException, names: TopicNames, now_ms: int) -> list[Out]:
    """Last resort for a bug in a stage: the request still gets exactly one (error) response."""
    try:
        job = Job.decode(raw or b"")
    except Exception:  # noqa: BLE001 - even an undecodable internal event must be answered
        return []
    return finish_error(job, "internal_error", f"internal error in the pipeline ({type(exc).__name__})", names,
                        now_ms)
