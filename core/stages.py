"""Each pipeline stage as a plain function: input message(s) in, outgoing messages out.

Agents call these and send what they return; nothing here touches Kafka. Every request ends
in exactly one response: invalid input, routing failure and exhausted cascades included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from core import outcomes
from core.breaker import Transition
from core.dedup import SeenCache
from core.drift import DriftMonitor
from core.errors import InvalidRequestError, RoutingError
from core.events import Job
from core.request import Request, decode_json_object, request_from_payload
from core.invocation import Invoker
from core.ports import Classifier, HealthView, SpendView, Verifier
from core.responses import error_response, invalid_request_response, ok_response
from core.routing import RoutingPolicy
from core.topics import TopicNames
from core.verification import CascadeLimits, Step, best_answer, escalation_tier, next_step, verify


@dataclass(frozen=True, slots=True)
class Out:
    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Incoming:
    """A raw request as read from Kafka, with where it came from."""

    value: bytes | None
    timestamp_ms: int
    topic: str
    partition: int
    offset: int


def _reply_topic(request: Request, names: TopicNames) -> str:
    return request.reply_topic or names.responses


def _row(names: TopicNames, key: bytes, table: str, row: dict[str, Any]) -> Out:
    return Out(names.outcomes, key, outcomes.encode(table, row))


# --- classify ----------------------------------------------------------------------------


def accept_requests(batch: Sequence[Incoming], classifier: Classifier, names: TopicNames,
                    now_ms: int, drift: DriftMonitor | None = None, store_prompts: bool = False,
                    seen: SeenCache | None = None) -> list[Out]:
    """Validate and classify a batch; invalid ones get an error response and a DLQ copy.
    With a drift monitor, closed windows of classifier statistics go out as outcome rows;
    with ``store_prompts``, the redacted prompt text too (for retraining)."""
    out: list[Out] = []
    jobs: list[Job] = []
    for msg in batch:
        payload: dict[str, Any] | None = None
        try:
            payload = decode_json_object(msg.value or b"")
            request = request_from_payload(payload)
        except InvalidRequestError as exc:
            out.extend(reject(msg, payload, exc.problems, names, now_ms))
            continue
        if seen is not None and not seen.first(f"request:{request.request_id}", now_ms):
            continue  # the same request id again (a replay, or an upstream retry): answered once
        jobs.append(Job(request=request, received_at_ms=msg.timestamp_ms))
    if jobs:
        for job, c in zip(jobs, classifier.classify_batch([j.request for j in jobs]), strict=True):
            job.classification = c
            out.append(Out(names.classified, job.request_id.encode(), job.encode()))
            if store_prompts:
                out.append(_row(names, job.request_id.encode(), "request_texts", outcomes.text_row(job, now_ms)))
    if drift is not None:
        seen = [(j.classification.task_type, j.classification.tier, j.request.task_text())
                for j in jobs if j.classification]
        for row in drift.observe(seen, now_ms):
            out.append(_row(names, f"drift:{row['window_start']}".encode(), "classifier_drift", row))
    return out


def reject(msg: Incoming, payload: dict[str, Any] | None, problems: list[str], names: TopicNames,
           now_ms: int, code: str = "invalid_request") -> list[Out]:
    response = invalid_request_response(payload, problems, now_ms, code)
    rid = response["request_id"] or f"invalid:{msg.topic}:{msg.partition}:{msg.offset}"
    tenant = response["tenant"] or ""
    response["request_id"] = rid
    reply = payload.get("reply_topic") if payload else None
    key = rid.encode()
    dlq = orjson.dumps({"error": response["error"], "source": {"topic": msg.topic, "partition": msg.partition,
                        "offset": msg.offset}, "payload": (msg.value or b"").decode("utf-8", "replace")})
    return [
        Out(reply if isinstance(reply, str) and reply else names.responses, key, orjson.dumps(response)),
        Out(names.requests_dlq, key, dlq),
        _row(names, key, "requests", outcomes.invalid_request_row(rid, tenant, msg.timestamp_ms, now_ms, code)),
    ]


# --- route -------------------------------------------------------------------------------


def route(job: Job, policy: RoutingPolicy, health: HealthView, names: TopicNames, now_ms: int,
          spend: SpendView | None = None) -> list[Out]:
    key = job.request_id.encode()
    target = policy.target_tier(job)
    try:
        decision = policy.decide(job, health, spend, now_ms)
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
    return [Out(names.routed, key, job.encode()),
            _row(names, key, "decisions", outcomes.decision_row(job, decision, target, now_ms))]


# --- invoke ------------------------------------------------------------------------------


async def invoke(job: Job, invoker: Invoker, names: TopicNames, worker: str = "") -> list[Out]:
    attempts = await invoker.run(job)
    job.attempts.extend(attempts)
    job.round_attempts = len(attempts)
    key = job.request_id.encode()
    out = [Out(names.invoked, key, job.encode())]
    out.extend(_row(names, key, "attempts", outcomes.attempt_row(job, a)) for a in attempts)
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
        out.append(_row(names, key, "control_events", row))
    return out


# --- verify ------------------------------------------------------------------------------


def verify_answer(job: Job, limits: CascadeLimits, names: TopicNames, now_ms: int,
                  verifier: Verifier | None = None) -> list[Out]:
    last = job.attempts[-1]
    learned = verifier.score(job.request, last.tier) if verifier is not None and last.status == "ok" else None
    verification = verify(last, job, learned, limits.threshold(last.tier))
    job.verifications.append(verification)
    step = next_step(job, verification, limits, now_ms)
    if step is Step.ACCEPT:
        return finish_ok(job, last, names, now_ms)
    if step is Step.ESCALATE:
        to_tier = escalation_tier(job, limits)
        key = job.request_id.encode()
        row = outcomes.escalation_row(job, verification, to_tier, now_ms)
        job.escalations.append(verification.reason)
        job.target_tier = to_tier
        return [Out(names.escalations, key, job.encode()), _row(names, key, "escalations", row)]
    best = best_answer(job)
    if step is Step.BEST_EFFORT and best is not None:
        return finish_ok(job, best, names, now_ms, best_effort=True)
    code = last.error_code or f"verification_failed_{verification.reason}"
    message = last.error_message or f"no acceptable answer: last check failed: {verification.reason}"
    return finish_error(job, code, message, names, now_ms)


def finish_ok(job: Job, answer: Any, names: TopicNames, now_ms: int, best_effort: bool = False) -> list[Out]:
    key = job.request_id.encode()
    response = ok_response(job, answer, now_ms, best_effort)
    row = outcomes.request_row(job, "ok", "", answer, now_ms, best_effort)
    return [Out(_reply_topic(job.request, names), key, orjson.dumps(response)), _row(names, key, "requests", row)]


def finish_error(job: Job, code: str, message: str, names: TopicNames, now_ms: int) -> list[Out]:
    key = job.request_id.encode()
    response = error_response(job, code, message, now_ms)
    row = outcomes.request_row(job, "error", code, None, now_ms)
    return [Out(_reply_topic(job.request, names), key, orjson.dumps(response)), _row(names, key, "requests", row)]


def internal_error(raw: bytes | None, exc: BaseException, names: TopicNames, now_ms: int) -> list[Out]:
    """Last resort for a bug in a stage: the request still gets exactly one (error) response."""
    try:
        job = Job.decode(raw or b"")
    except Exception:  # noqa: BLE001 - even an undecodable internal event must be answered
        return []
    return finish_error(job, "internal_error", f"internal error in the pipeline ({type(exc).__name__})", names,
                        now_ms)
