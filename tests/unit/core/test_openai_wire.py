"""The gateway's pure translation: keys, rates, requests, completions, chunks and errors."""

from __future__ import annotations

import pytest

from core import openai_wire as wire

DIGEST = wire.key_hash("sk-1")


def test_keys_are_stored_hashed_and_a_raw_key_in_the_file_is_refused() -> None:
    keys = wire.parse_keys({"keys": {DIGEST: {"tenant": "acme", "rpm": 10}}}, "keys.toml")
    assert keys[DIGEST].tenant == "acme" and wire.bearer("Bearer sk-1") == "sk-1" and wire.bearer("sk-1") is None
    with pytest.raises(ValueError, match="SHA-256 of the key in hex, never the key itself"):
        wire.parse_keys({"keys": {"sk-live-abcdef": {"tenant": "acme"}}}, "keys.toml")
    with pytest.raises(ValueError, match="unknown keys \\['rmp'\\]"):
        wire.parse_keys({"keys": {DIGEST: {"tenant": "acme", "rmp": 5}}}, "keys.toml")


def test_request_and_token_rates_per_key() -> None:
    key = wire.ApiKey("acme", rpm=2, tpm=1000)
    assert key.admit(100, 0.0) == 0.0 and key.admit(100, 0.0) == 0.0
    assert key.admit(100, 0.0) == pytest.approx(30.0)  # the third request in a minute waits half a minute
    roomy = wire.ApiKey("acme", rpm=100, tpm=1000)
    assert roomy.admit(900, 0.0) == 0.0
    assert roomy.admit(900, 0.0) == pytest.approx(48.0)  # 800 tokens short at 1000 a minute
    assert roomy.admit(100, 0.0) == 0.0  # the refused one did not use up a request slot


def test_a_router_response_as_a_completion_and_as_chunks() -> None:
    response = {"request_id": "chatcmpl-1", "status": "ok", "content": "4", "model": "gpt-4o-mini",
                "provider": "openai", "tier": 1, "finish_reason": "stop", "cost_usd": 0.0001,
                "usage": {"input_tokens": 12, "output_tokens": 1, "cached_input_tokens": 8, "reasoning_tokens": 0}}
    c = wire.completion(response, 1700000000)
    assert c["choices"][0]["message"] == {"role": "assistant", "content": "4", "refusal": None}
    assert c["usage"] == {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13,
                          "prompt_tokens_details": {"cached_tokens": 8},
                          "completion_tokens_details": {"reasoning_tokens": 0}}
    chunks = wire.chunks(response, 1700000000)
    assert "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks) == "4"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["total_tokens"] == 13
    body = wire.router_request({"model": "router/auto", "stream": True, "messages": []}, "chatcmpl-1", "acme", "r")
    assert body == {"model": "router/auto", "messages": [], "request_id": "chatcmpl-1", "tenant": "acme",
                    "reply_topic": "r"}


@pytest.mark.parametrize(("code", "status", "kind"), [
    ("invalid_request", 400, "invalid_request_error"), ("budget_exhausted", 429, "insufficient_quota"),
    ("tenant_mismatch", 403, "permission_error"), ("provider_unavailable", 502, "api_error"),
    ("all_providers_down", 502, "api_error"), ("deadline_exceeded", 504, "timeout"),
    ("something_new", 500, "server_error")])
def test_router_errors_in_openai_shape(code: str, status: int, kind: str) -> None:
    got_status, body = wire.error(code, "why")
    assert (got_status, body["error"]["type"], body["error"]["code"], body["error"]["message"]) == \
        (status, kind, code, "why")
