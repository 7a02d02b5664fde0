"""Outcome rows for ClickHouse: one per request, attempt, routing decision and escalation.

Each stage emits rows as ``{"t": table, "r": row}``; the publisher packs a batch's rows into
outcome messages of newline-separated rows (``rows_in`` splits one; a one-row message is the
same format), and the sink inserts them in batches. ``COLUMNS`` is the single list of columns per table, checked against
``sql/`` by the tests. Times are epoch milliseconds here and become DateTime64 in the sink.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import orjson

from core.catalog import Catalog
from core.errors import InvalidRequestError
from core.events import Attempt, Decision, Job, Verification
from core.pii import redact

COLUMNS: dict[str, tuple[str, ...]] = {
    "requests": (
        "request_id", "tenant", "received_at", "completed_at", "status", "error_code", "task_type",
        "classified_tier", "final_tier", "model", "provider", "input_tokens", "output_tokens",
        "cost_usd", "latency_ms", "attempts", "escalations", "fallbacks", "verification_score",
        "best_effort", "classifier_version", "version",
    ),
    "attempts": (
        "request_id", "attempt_no", "started_at", "tenant", "model", "provider", "tier", "status",
        "error_code", "http_status", "latency_ms", "input_tokens", "output_tokens", "cost_usd",
        "finish_reason", "fallback", "version",
    ),
    "decisions": (
        "request_id", "round", "decided_at", "tenant", "task_type", "classifier_confidence",
        "target_tier", "model", "tier", "expected_cost_usd", "reason", "candidate_models",
        "candidate_tiers", "candidate_costs", "candidate_skips", "version", "classified_tier", "low_confidence",
        "pii", "candidate_quality", "candidate_evidence", "explored",
    ),
    "verdicts": ("request_id", "round", "judged_at", "tenant", "model", "tier", "accepted", "score", "reason",
                 "source", "prior", "version"),
    "escalations": (
        "request_id", "round", "escalated_at", "tenant", "from_model", "from_tier", "to_tier",
        "reason", "score", "version",
    ),
    "dead_letters": ("ts", "stage", "source_topic", "partition", "offset", "request_id", "reason", "dlq_topic",
                     "version"),
    "control_events": ("ts", "kind", "model", "old_state", "new_state", "reason", "worker", "version"),
    "model_prices": ("model", "provider", "tier", "input_per_mtok", "output_per_mtok", "version"),
    "tenant_budgets": ("tenant", "daily_usd", "monthly_usd", "version"),
    "feedback": ("request_id", "received_at", "score", "label", "source", "version"),
    "request_texts": ("request_id", "tenant", "received_at", "task_hint", "text", "version"),
    "classifier_drift": (
        "window_start", "model_version", "worker", "dimension", "bucket", "count", "expected_share", "version",
    ),
}


def encode(table: str, row: dict[str, Any]) -> bytes:
    return orjson.dumps({"t": table, "r": row})


def rows_in(value: bytes | None) -> list[bytes | None]:
    """The rows one outcome message carries (orjson escapes newlines inside strings, so a raw
    newline only ever separates rows)."""
    if not value:
        return [value]
    return list(value.split(b"\n"))


def pack(rows: list[bytes], budget: int) -> list[bytes]:
    """Encoded rows joined into as few messages as fit ``budget`` bytes each, in order; a row
    over the budget on its own stays alone (the publisher refuses it like any oversized message)."""
    packed: list[bytes] = []
    chunk: list[bytes] = []
    size = 0
    for row in rows:
        if chunk and size + 1 + len(row) > budget:
            packed.append(b"\n".join(chunk))
            chunk, size = [], 0
        chunk.append(row)
        size += len(row) + (1 if len(chunk) > 1 else 0)
    if chunk:
        packed.append(b"\n".join(chunk))
    return packed


def is_row_of(value: bytes | None, table: str) -> TypeGuard[bytes]:
    """Whether an outcome row (one of ``rows_in``) is a ``table`` row, judged without decoding it (followers of the
    outcomes topic skip most messages this way); relies on ``encode`` writing the table first."""
    return value is not None and value.startswith(b'{"t":"' + table.encode() + b'"')


def request_row(job: Job, status: str, error_code: str, answer: Attempt | None, now_ms: int,
                best_effort: bool = False) -> dict[str, Any]:
    c = job.classification
    v = job.verifications[-1] if job.verifications else None
    last = answer or (job.attempts[-1] if job.attempts else None)
    return {
        "request_id": job.request_id,
        "tenant": job.request.tenant,
        "received_at": job.received_at_ms,
        "completed_at": now_ms,
        "status": status,
        "error_code": error_code,
        "task_type": c.task_type if c else "",
        "classified_tier": c.tier if c else 0,
        "final_tier": last.tier if last else 0,
        "model": last.model if last else "",
        "provider": last.provider if last else "",
        "input_tokens": sum(a.input_tokens for a in job.attempts),
        "output_tokens": sum(a.output_tokens for a in job.attempts),
        "cost_usd": round(sum(a.cost_usd for a in job.attempts), 9),
        "latency_ms": max(0, now_ms - job.received_at_ms),
        "attempts": len(job.attempts),
        "escalations": len(job.escalations),
        "fallbacks": sum(1 for a in job.attempts if a.fallback),
        "verification_score": v.score if v else 0.0,
        "best_effort": int(best_effort),
        "classifier_version": c.model_version if c else "",
        "version": now_ms,
    }


def invalid_request_row(request_id: str, tenant: str, received_ms: int, now_ms: int,
                        code: str = "invalid_request") -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS["requests"], 0)
    row.update(request_id=request_id, tenant=tenant, received_at=received_ms, completed_at=now_ms,
               status="error", error_code=code, task_type="", model="", provider="",
               classifier_version="", latency_ms=max(0, now_ms - received_ms), version=now_ms)
    return row


def dead_letter_row(stage: str, source_topic: str, partition: int, offset: int, request_id: str, reason: str,
                    dlq_topic: str, now_ms: int) -> dict[str, Any]:
    return {"ts": now_ms, "stage": stage, "source_topic": source_topic, "partition": partition, "offset": offset,
            "request_id": request_id[:200], "reason": reason[:1000], "dlq_topic": dlq_topic, "version": now_ms}


def text_row(job: Job, now_ms: int) -> dict[str, Any]:
    """The prompt as the classifier saw it, PII redacted (stored only when enabled)."""
    return {"request_id": job.request_id, "tenant": job.request.tenant, "received_at": job.received_at_ms,
            "task_hint": job.request.task_type or "", "text": redact(job.request.task_text()), "version": now_ms}


def attempt_row(job: Job, a: Attempt) -> dict[str, Any]:
    return {
        "request_id": job.request_id, "attempt_no": a.attempt_no, "started_at": a.started_at_ms,
        "tenant": job.request.tenant, "model": a.model, "provider": a.provider, "tier": a.tier,
        "status": a.status, "error_code": a.error_code, "http_status": a.http_status,
        "latency_ms": a.latency_ms, "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
        "cost_usd": a.cost_usd, "finish_reason": a.finish_reason, "fallback": int(a.fallback),
        "version": a.started_at_ms,
    }


def decision_row(job: Job, d: Decision, target_tier: int, now_ms: int) -> dict[str, Any]:
    c = job.classification
    return {
        "request_id": job.request_id, "round": len(job.escalations), "decided_at": now_ms,
        "tenant": job.request.tenant, "task_type": c.task_type if c else "",
        "classifier_confidence": c.confidence if c else 0.0, "target_tier": target_tier,
        "model": d.model, "tier": d.tier, "expected_cost_usd": d.expected_cost_usd, "reason": d.reason,
        "candidate_models": [x.model for x in d.candidates],
        "candidate_tiers": [x.tier for x in d.candidates],
        "candidate_costs": [x.expected_cost_usd for x in d.candidates],
        "candidate_skips": [x.skipped or "" for x in d.candidates],
        "version": now_ms,
        "classified_tier": c.tier if c else 0,
        "low_confidence": int(bool(c and c.low_confidence)),
        "pii": int(bool(c and c.pii) or bool(job.request.data_policy.pii)),
        "candidate_quality": [-1.0 if x.quality is None else x.quality for x in d.candidates],
        "candidate_evidence": [x.evidence for x in d.candidates],
        "explored": int(d.explored),
    }


def verdict_row(job: Job, answer: Attempt, v: Verification, prior: float, round_: int, now_ms: int
                ) -> dict[str, Any]:
    """One verdict on one model's answer, for the quality memory. ``embedding`` is not a column: it
    travels to the pipeline workers that learn from this row, not to ClickHouse."""
    c = job.classification
    return {"request_id": job.request_id, "round": round_, "judged_at": now_ms,
            "tenant": job.request.tenant, "model": answer.model, "tier": answer.tier,
            "accepted": int(v.passed), "score": v.score, "reason": v.reason, "source": "verifier",
            "prior": round(prior, 4), "version": now_ms, "embedding": c.embedding if c else ""}


def escalation_row(job: Job, v: Verification, to_tier: int, round_: int, now_ms: int) -> dict[str, Any]:
    assert job.decision is not None
    return {
        "request_id": job.request_id, "round": round_, "escalated_at": now_ms,
        "tenant": job.request.tenant, "from_model": job.decision.model, "from_tier": job.decision.tier,
        "to_tier": to_tier, "reason": v.reason, "score": v.score, "version": now_ms,
    }


def reference_rows(catalog: Catalog, now_ms: int) -> dict[str, list[dict[str, Any]]]:
    """Catalog prices and budgets for the dashboards (savings, burn-down)."""
    return {
        "model_prices": [{"model": m.name, "provider": m.provider, "tier": m.tier, "input_per_mtok": m.input_per_mtok,
                          "output_per_mtok": m.output_per_mtok, "version": now_ms} for m in catalog.models.values()],
        "tenant_budgets": [{"tenant": t, "daily_usd": b.daily_usd, "monthly_usd": b.monthly_usd, "version": now_ms}
                           for t, b in catalog.budgets.items()],
    }


def feedback_row(payload: dict[str, Any], received_ms: int) -> dict[str, Any]:
    """A feedback event (request_id, score in [0, 1] or label, source) as a row; InvalidRequestError
    names what is wrong."""
    problems = []
    rid, score, label, source = (payload.get(k) for k in ("request_id", "score", "label", "source"))
    if not isinstance(rid, str) or not rid:
        problems.append("request_id: required string")
    if score is None and label is None:
        problems.append("score or label: one is required")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1):
        problems.append(f"score: expected a number from 0 to 1, got {score!r}")
    if label is not None and not isinstance(label, str):
        problems.append("label: expected string")
    if source is not None and not isinstance(source, str):
        problems.append("source: expected string")
    if problems:
        raise InvalidRequestError(problems)
    return {"request_id": rid, "received_at": received_ms, "score": None if score is None else float(score),
            "label": label or "", "source": source or "unknown", "version": received_ms}
