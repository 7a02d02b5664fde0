"""The public response event (design §3): exactly one per request, ok or error."""

from __future__ import annotations

from typing import Any

from core.events import Attempt, Job


def ok_response(job: Job, answer: Attempt, now_ms: int, best_effort: bool = False) -> dict[str, Any]:
    body = _common(job, now_ms)
    v = job.verifications[-1] if job.verifications else None
    body.update(
        status="ok",
        content=answer.content,
        model=answer.model,
        provider=answer.provider,
        tier=answer.tier,
        finish_reason=answer.finish_reason,
        usage={"input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens,
               "cached_input_tokens": answer.cached_input_tokens, "reasoning_tokens": answer.reasoning_tokens},
        refusal=answer.refusal or None,
        tool_calls=answer.tool_calls or None,
        verification={
            "passed": bool(v and v.passed and not best_effort),
            "score": v.score if v else None,
            "checks": v.checks if v else {},
            "best_effort": best_effort,
        },
    )
    return body


def error_response(job: Job, code: str, message: str, now_ms: int) -> dict[str, Any]:
    body = _common(job, now_ms)
    last = job.attempts[-1] if job.attempts else None
    body.update(
        status="error",
        content=None,
        model=last.model if last else None,
        provider=last.provider if last else None,
        tier=last.tier if last else None,
        error={"code": code, "message": message},
    )
    return body


def invalid_request_response(
    payload: dict[str, Any] | None, problems: list[str], now_ms: int, code: str = "invalid_request"
) -> dict[str, Any]:
    """The reply to a request that failed validation; echoes what could be read of it."""
    payload = payload or {}
    rid, tenant = payload.get("request_id"), payload.get("tenant")
    metadata = payload.get("metadata")
    return {
        "request_id": rid if isinstance(rid, str) else None,
        "tenant": tenant if isinstance(tenant, str) else None,
        "status": "error",
        "content": None,
        "cost_usd": 0.0,
        "latency_ms": 0,
        "attempts": 0,
        "escalations": 0,
        "fallbacks": 0,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "completed_at_ms": now_ms,
        "error": {"code": code, "message": "; ".join(problems), "problems": problems},
    }


def _common(job: Job, now_ms: int) -> dict[str, Any]:
    c = job.classification
    return {
        "request_id": job.request_id,
        "tenant": job.request.tenant,
        "cost_usd": round(sum(a.cost_usd for a in job.attempts), 9),
        "latency_ms": max(0, now_ms - job.received_at_ms),
        "attempts": len(job.attempts),
        "escalations": len(job.escalations),
        "escalation_reasons": job.escalations,
        "fallbacks": sum(1 for a in job.attempts if a.fallback),
        "classification": {"task_type": c.task_type, "tier": c.tier, "confidence": c.confidence} if c else None,
        "metadata": job.request.metadata,
        "completed_at_ms": now_ms,
        "id": job.request_id,
        "created": now_ms // 1000,
    }
