"""OpenAI's HTTP shapes for the gateway (pure): API keys to tenants, a chat completion request to a
router request, a router response to a chat completion (whole or as stream chunks), errors.

The gateway is a translator in front of the Kafka contract, not a second router: the request it
publishes is parsed by the same ingress as any other, so what is honoured or refused is the same.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

from core.breaker import TokenBucket
from core.tokens import estimate_tokens

# router error code -> (HTTP status, OpenAI error type)
_STATUS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "payload_too_large": (413, "invalid_request_error"),
    "tenant_mismatch": (403, "permission_error"),
    "reply_topic_missing": (400, "invalid_request_error"),
    "context_too_long": (400, "invalid_request_error"),
    "over_budget": (400, "invalid_request_error"),
    "no_allowed_model": (400, "invalid_request_error"),
    "no_capable_model": (400, "invalid_request_error"),
    "no_realtime_model": (400, "invalid_request_error"),
    "budget_exhausted": (429, "insufficient_quota"),
    "model_not_found": (404, "invalid_request_error"),
    "pinned_model_unavailable": (400, "invalid_request_error"),
    "deadline_exceeded": (504, "timeout"),
    "provider_timeout": (504, "timeout"),
    "internal_error": (500, "server_error"),
}


def key_hash(key: str) -> str:
    """How keys are stored: the SHA-256 of the key, hex (the key itself is never kept)."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class ApiKey:
    tenant: str
    rpm: int = 0  # requests per minute (0: no limit)
    tpm: int = 0  # tokens per minute, estimated from the prompt and the output limit (0: no limit)
    _requests: TokenBucket | None = None
    _tokens: TokenBucket | None = None

    def admit(self, tokens: int, now: float) -> float:
        """0.0 when the request may go now, else the seconds until it could (nothing is taken then)."""
        if self.rpm and self._requests is None:
            self._requests = TokenBucket(self.rpm, now)
        if self.tpm and self._tokens is None:
            self._tokens = TokenBucket(self.tpm, now)
        wait = self._requests.wait_time(1, now) if self._requests else 0.0
        if wait > 0:
            return wait
        wait = self._tokens.wait_time(tokens, now) if self._tokens else 0.0
        if wait > 0 and self._requests is not None:
            self._requests.tokens += 1  # give the request slot back: it was not let through
        return wait


def parse_keys(data: dict[str, Any], source: str) -> dict[str, ApiKey]:
    """``[keys.<sha256 hex>]`` tables with ``tenant`` and optional ``rpm`` / ``tpm``."""
    keys = data.get("keys")
    if not isinstance(keys, dict) or not keys:
        msg = f"{source}: expected [keys.<sha256 of the key>] tables"
        raise ValueError(msg)
    out = {}
    for digest, spec in keys.items():
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            msg = f"{source}: keys.{digest[:12]}...: expected the SHA-256 of the key in hex, never the key itself"
            raise ValueError(msg)
        if not isinstance(spec, dict) or not isinstance(spec.get("tenant"), str) or not spec["tenant"]:
            msg = f"{source}: keys.{digest[:12]}...: a tenant is required"
            raise ValueError(msg)
        extra = set(spec) - {"tenant", "rpm", "tpm"}
        if extra:
            msg = f"{source}: keys.{digest[:12]}...: unknown keys {sorted(extra)}"
            raise ValueError(msg)
        out[digest] = ApiKey(spec["tenant"], int(spec.get("rpm", 0)), int(spec.get("tpm", 0)))
    return out


def bearer(header: str | None) -> str | None:
    if not header or not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ").strip() or None


def estimated_tokens(body: dict[str, Any]) -> int:
    messages: list[Any] = body["messages"] if isinstance(body.get("messages"), list) else []
    text = "".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
    limit = body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens") or 512
    return estimate_tokens(text) + (limit if isinstance(limit, int) else 512)


def router_request(body: dict[str, Any], request_id: str, tenant: str, reply_topic: str) -> dict[str, Any]:
    """The Kafka request for an OpenAI chat completion body: the router's fields set by the gateway
    (``stream`` is the gateway's own business: answers are streamed once accepted)."""
    out = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    out.update(request_id=request_id, tenant=tenant, reply_topic=reply_topic)
    return out


def completion(response: dict[str, Any], created: int) -> dict[str, Any]:
    usage = response.get("usage") or {}
    prompt, completion_tokens = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return {
        "id": response["request_id"], "object": "chat.completion", "created": created,
        "model": response.get("model") or "router/auto",
        "choices": [{"index": 0, "message": _message(response),
                     "finish_reason": _finish(response.get("finish_reason")), "logprobs": None}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                  "total_tokens": prompt + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": int(usage.get("cached_input_tokens") or 0)},
                  "completion_tokens_details": {"reasoning_tokens": int(usage.get("reasoning_tokens") or 0)}},
        "system_fingerprint": None,
        "router": {"provider": response.get("provider"), "tier": response.get("tier"),
                   "cost_usd": response.get("cost_usd"), "escalations": response.get("escalations"),
                   "verification": response.get("verification")},
    }


def _message(response: dict[str, Any]) -> dict[str, Any]:
    calls = response.get("tool_calls") or None
    message = {"role": "assistant", "content": (response.get("content") or None) if calls else response.get("content"),
               "refusal": response.get("refusal")}
    if calls:
        message["tool_calls"] = calls
    return message


def chunks(response: dict[str, Any], created: int) -> list[dict[str, Any]]:
    """A verified answer as OpenAI stream chunks: the role, the content, then the finish reason and
    usage (the answer is streamed once verification accepted it, never token by token)."""
    base = {"id": response["request_id"], "object": "chat.completion.chunk", "created": created,
            "model": response.get("model") or "router/auto", "system_fingerprint": None}
    whole = completion(response, created)
    calls = response.get("tool_calls") or []
    if calls:
        delta = {"tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]}
        return [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": whole["usage"]},
        ]
    return [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"content": response.get("content") or ""},
                              "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": _finish(response.get("finish_reason"))}],
         "usage": whole["usage"]},
    ]


def _finish(reason: Any) -> str:
    return reason if reason in ("stop", "length", "content_filter", "tool_calls") else "stop"


def error(code: str, message: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and OpenAI's error body for a router error code (``code`` keeps the router's)."""
    upstream = code.startswith(("provider_", "all_", "breaker", "saturated"))  # the providers', not ours
    status, kind = _STATUS.get(code, (502, "api_error") if upstream else (500, "server_error"))
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
