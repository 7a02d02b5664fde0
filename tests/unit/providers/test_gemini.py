"""Gemini generateContent: exact request payloads, reply parsing and error mapping."""

from __future__ import annotations

import httpx
import orjson
import pytest

from core.catalog import Catalog
from core.errors import ProviderProtocolError, ProviderRateLimitedError
from core.ports import CompletionRequest
from providers.gemini import GeminiProvider
from tests.unit.providers.conftest import adapter

REQ = CompletionRequest([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                         {"role": "assistant", "content": "hello"}, {"role": "user", "content": "2+2?"}], 100)


def _reply(finish: str = "STOP") -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": "4"}]}, "finishReason": finish}],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1, "totalTokenCount": 10}}


def _provider(catalog: Catalog, handler) -> GeminiProvider:
    p = adapter(catalog, "google", handler, {"GEMINI_API_KEY": "g-key"})
    assert isinstance(p, GeminiProvider)
    return p


async def test_exact_request_and_parsed_reply(catalog: Catalog) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_reply())

    reply = await _provider(catalog, handler).complete(catalog.model("gemini-2-0-flash-lite"), REQ, 5.0)
    req = seen[0]
    assert str(req.url) == "http://sim.test/google/v1beta/models/gemini-2.0-flash-lite:generateContent"
    assert req.headers["x-goog-api-key"] == "g-key" and "authorization" not in req.headers
    assert orjson.loads(req.content) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}, {"role": "model", "parts": [{"text": "hello"}]},
                     {"role": "user", "parts": [{"text": "2+2?"}]}],
        "generationConfig": {"maxOutputTokens": 100},
        "systemInstruction": {"parts": [{"text": "be brief"}]},
    }
    assert (reply.content, reply.finish_reason, reply.input_tokens, reply.output_tokens) == ("4", "stop", 9, 1)


async def test_json_schema_and_max_tokens(catalog: Catalog) -> None:
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(orjson.loads(request.content))
        return httpx.Response(200, json=_reply("MAX_TOKENS"))

    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    reply = await _provider(catalog, handler).complete(catalog.model("gemini-2-0-flash-lite"),
                                                       CompletionRequest(REQ.messages, 5, fmt), 5.0)
    assert bodies[0]["generationConfig"] == {"maxOutputTokens": 5, "responseMimeType": "application/json",
                                             "responseSchema": {"type": "object"}}
    assert reply.finish_reason == "length"


async def test_resource_exhausted_is_rate_limited(catalog: Catalog) -> None:
    body = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}
    with pytest.raises(ProviderRateLimitedError, match="Resource has been exhausted"):
        await _provider(catalog, lambda r: httpx.Response(429, json=body, headers={"retry-after": "2"})).complete(
            catalog.model("gemini-2-0-flash-lite"), REQ, 5.0)


async def test_blocked_prompt_without_candidates_is_a_protocol_error(catalog: Catalog) -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"}}
    with pytest.raises(ProviderProtocolError):
        await _provider(catalog, lambda r: httpx.Response(200, json=body)).complete(
            catalog.model("gemini-2-0-flash-lite"), REQ, 5.0)


async def test_sampling_parameters_in_gemini_terms(catalog: Catalog) -> None:
    from core.openai_params import Sampling

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_reply())

    req = CompletionRequest([{"role": "user", "content": "hi"}], 50,
                            sampling=Sampling(temperature=1.4, top_p=0.9, stop=["END", "STOP"], seed=7, user="u-42"))
    await _provider(catalog, handler).complete(catalog.model("gemini-2-0-flash-lite"), req, 5.0)
    assert orjson.loads(seen[0].content) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"maxOutputTokens": 50, "temperature": 1.4, "topP": 0.9, "stopSequences": ["END", "STOP"],
                             "seed": 7},
    }  # generateContent has no end-user field


def test_cached_and_thinking_tokens_are_read() -> None:
    from providers.gemini import parse_reply

    body = {**_reply(), "usageMetadata": {"promptTokenCount": 1200, "cachedContentTokenCount": 1000,
                                          "candidatesTokenCount": 40, "thoughtsTokenCount": 160}}
    reply = parse_reply(body, "google", "gemini")
    assert (reply.input_tokens, reply.cached_input_tokens, reply.output_tokens, reply.reasoning_tokens) == \
        (1200, 1000, 200, 160)


def test_images_become_inline_parts() -> None:
    from providers.gemini import build_payload

    req = CompletionRequest([{"role": "user", "content": [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}}]}], 10)
    assert build_payload(req)["contents"] == [{"role": "user", "parts": [
        {"text": "what is it?"}, {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}}]}]


def test_tools_tool_calls_and_results_in_gemini_terms() -> None:
    from providers.gemini import build_payload, parse_reply

    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    messages = [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]
    payload = build_payload(CompletionRequest(messages, 10, tools=tools,
                                              tool_choice={"type": "function", "function": {"name": "get_weather"}}))
    assert payload["tools"] == [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "object"}}]}]
    assert payload["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
    assert payload["contents"][1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"content": "18 C"}}}]}]
    reply = parse_reply({"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather",
                                                                                   "args": {"city": "Rome"}}}]},
                                         "finishReason": "STOP"}]}, "google", "g")
    assert reply.finish_reason == "tool_calls" and reply.tool_calls[0]["function"] == \
        {"name": "get_weather", "arguments": '{"city": "Rome"}'}
