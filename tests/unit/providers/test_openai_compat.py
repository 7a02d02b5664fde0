"""OpenAI-compatible chat completions: exact request payloads, reply parsing and error mapping."""

from __future__ import annotations

import httpx
import orjson
import pytest

from core.catalog import Catalog
from core.errors import (
    ProviderProtocolError,
    ProviderRateLimitedError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from core.ports import CompletionRequest
from providers.openai_compat import OpenAICompatProvider
from tests.unit.providers.conftest import adapter

REQ = CompletionRequest([{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"}], 64)
REPLY = {
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
}


def _provider(catalog: Catalog, handler, env: dict[str, str] | None = None) -> OpenAICompatProvider:
    p = adapter(catalog, "openai", handler, env or {"OPENAI_API_KEY": "sk-test-123"})
    assert isinstance(p, OpenAICompatProvider)
    return p


async def test_exact_request_and_parsed_reply(catalog: Catalog) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=REPLY)

    reply = await _provider(catalog, handler).complete(catalog.model("gpt-4o-mini"), REQ, 5.0)
    req = seen[0]
    assert req.method == "POST"
    assert str(req.url) == "http://sim.test/openai/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-123"
    assert orjson.loads(req.content) == {"model": "gpt-4o-mini", "messages": REQ.messages, "max_tokens": 64}
    assert (reply.content, reply.finish_reason, reply.input_tokens, reply.output_tokens) == ("4", "stop", 12, 1)


async def test_wire_model_id_and_response_format(catalog: Catalog) -> None:
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(orjson.loads(request.content))
        return httpx.Response(200, json=REPLY)

    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    req = CompletionRequest(REQ.messages, 10, fmt)
    await _provider(catalog, handler).complete(catalog.model("gpt-4-1-mini"), req, 5.0)
    assert bodies[0]["model"] == "gpt-4.1-mini"
    assert bodies[0]["response_format"] == fmt


@pytest.mark.parametrize(
    ("status", "headers", "body", "error", "retry_after"),
    [
        (429, {"retry-after": "7"}, {"error": {"message": "slow down"}}, ProviderRateLimitedError, 7.0),
        (503, {}, {"error": {"message": "overloaded"}}, ProviderUnavailableError, None),
        (500, {}, "oops", ProviderUnavailableError, None),
        (400, {}, {"error": {"message": "context_length_exceeded"}}, ProviderRejectedError, None),
        (401, {}, {"error": {"message": "bad key"}}, ProviderRejectedError, None),
        (403, {}, {"error": {"message": "forbidden"}}, ProviderRejectedError, None),
        (404, {}, {"error": {"message": "no such model"}}, ProviderRejectedError, None),
        (408, {}, {}, ProviderTimeoutError, None),
    ],
)
async def test_http_errors_are_mapped(catalog: Catalog, status: int, headers: dict, body: object,
                                      error: type, retry_after: float | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    with pytest.raises(error) as info:
        await _provider(catalog, handler).complete(catalog.model("gpt-4o-mini"), REQ, 5.0)
    assert info.value.status == status
    assert info.value.retry_after == retry_after
    assert f"HTTP {status}" in str(info.value)


async def test_transport_errors_are_mapped(catalog: Catalog) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def cut(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection mid-body", request=request)

    model = catalog.model("gpt-4o-mini")
    with pytest.raises(ProviderUnavailableError):
        await _provider(catalog, refuse).complete(model, REQ, 5.0)
    with pytest.raises(ProviderTimeoutError):
        await _provider(catalog, slow).complete(model, REQ, 5.0)
    with pytest.raises(ProviderUnavailableError):
        await _provider(catalog, cut).complete(model, REQ, 5.0)


@pytest.mark.parametrize("body", [b"not json", b'{"choices": []}', b'{"id": "x"}'])
async def test_malformed_replies_are_protocol_errors(catalog: Catalog, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    with pytest.raises(ProviderProtocolError):
        await _provider(catalog, handler).complete(catalog.model("gpt-4o-mini"), REQ, 5.0)


async def test_secret_never_appears_in_errors(catalog: Catalog) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": "Incorrect API key provided"}})

    with pytest.raises(ProviderRejectedError) as info:
        await _provider(catalog, handler, {"OPENAI_API_KEY": "sk-secret-XYZ"}).complete(
            catalog.model("gpt-4o-mini"), REQ, 5.0)
    assert "sk-secret-XYZ" not in str(info.value) and "sk-secret-XYZ" not in repr(info.value.args)


async def test_sampling_parameters_under_their_own_names(catalog: Catalog) -> None:
    from core.openai_params import Sampling

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=REPLY)

    req = CompletionRequest(REQ.messages, 64, sampling=Sampling(temperature=1.4, top_p=0.9, stop=["END"], seed=7,
                                                                 user="u-42"))
    await _provider(catalog, handler).complete(catalog.model("gpt-4o-mini"), req, 5.0)
    assert orjson.loads(seen[0].content) == {"model": "gpt-4o-mini", "messages": REQ.messages, "max_tokens": 64,
                                             "temperature": 1.4, "top_p": 0.9, "stop": ["END"], "seed": 7,
                                             "user": "u-42"}


async def test_cached_and_reasoning_tokens_and_a_refusal_are_read() -> None:
    from providers.openai_compat import parse_reply

    body = {"choices": [{"message": {"role": "assistant", "content": None, "refusal": "I can't help with that."},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 300,
                      "prompt_tokens_details": {"cached_tokens": 800},
                      "completion_tokens_details": {"reasoning_tokens": 250}}}
    reply = parse_reply(body, "openai", "o-model")
    assert (reply.input_tokens, reply.cached_input_tokens, reply.output_tokens, reply.reasoning_tokens) == \
        (1000, 800, 300, 250)
    assert reply.refusal == "I can't help with that." and reply.content == ""


def test_image_parts_pass_through_unchanged() -> None:
    from providers.openai_compat import build_payload

    image = {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "what is it?"}, image]}]
    assert build_payload("gpt-4o", CompletionRequest(messages, 10))["messages"] == messages


def test_tools_pass_through_and_tool_calls_are_read() -> None:
    from providers.openai_compat import build_payload, parse_reply

    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    payload = build_payload("gpt-4o", CompletionRequest(REQ.messages, 10, tools=tools, tool_choice="auto",
                                                         parallel_tool_calls=False))
    assert (payload["tools"], payload["tool_choice"], payload["parallel_tool_calls"]) == (tools, "auto", False)
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    reply = parse_reply({"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [call]},
                                      "finish_reason": "tool_calls"}], "usage": {}}, "openai", "gpt-4o")
    assert reply.tool_calls == [call] and reply.finish_reason == "tool_calls" and reply.content == ""
