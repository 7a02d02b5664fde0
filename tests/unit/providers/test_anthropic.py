"""Anthropic Messages: system prompt placement, headers, stop reasons and usage."""

from __future__ import annotations

import httpx
import orjson
import pytest

from core.catalog import Catalog
from core.errors import ProviderProtocolError, ProviderUnavailableError
from core.ports import CompletionRequest
from providers.anthropic import AnthropicProvider
from tests.unit.providers.conftest import adapter

REQ = CompletionRequest([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                         {"role": "assistant", "content": "hello"}, {"role": "user", "content": "2+2?"}], 100)


def _reply(stop: str = "end_turn") -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": "4"}], "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 20, "output_tokens": 2}}


def _provider(catalog: Catalog, handler) -> AnthropicProvider:
    p = adapter(catalog, "anthropic", handler, {"ANTHROPIC_API_KEY": "sk-ant-test"})
    assert isinstance(p, AnthropicProvider)
    return p


async def test_exact_request_and_parsed_reply(catalog: Catalog) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_reply())

    reply = await _provider(catalog, handler).complete(catalog.model("claude-sonnet-4"), REQ, 5.0)
    req = seen[0]
    assert str(req.url) == "http://sim.test/anthropic/v1/messages"
    assert req.headers["x-api-key"] == "sk-ant-test"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers
    assert orjson.loads(req.content) == {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 100,
        "system": "be brief",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                     {"role": "user", "content": "2+2?"}],
    }
    assert (reply.content, reply.finish_reason, reply.input_tokens, reply.output_tokens) == ("4", "stop", 20, 2)


async def test_max_tokens_stop_reason_means_truncated(catalog: Catalog) -> None:
    reply = await _provider(catalog, lambda r: httpx.Response(200, json=_reply("max_tokens"))).complete(
        catalog.model("claude-sonnet-4"), REQ, 5.0)
    assert reply.finish_reason == "length"


async def test_overloaded_529_is_retryable(catalog: Catalog) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(ProviderUnavailableError, match="Overloaded"):
        await _provider(catalog, lambda r: httpx.Response(529, json=body)).complete(
            catalog.model("claude-sonnet-4"), REQ, 5.0)


async def test_reply_without_content_is_a_protocol_error(catalog: Catalog) -> None:
    with pytest.raises(ProviderProtocolError):
        await _provider(catalog, lambda r: httpx.Response(200, json={"type": "message"})).complete(
            catalog.model("claude-sonnet-4"), REQ, 5.0)


async def test_a_reply_nested_deeper_than_json_decodes_is_a_protocol_error_not_a_crash(catalog: Catalog) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000  # the decoder raises RecursionError, not ValueError
    with pytest.raises(ProviderProtocolError, match="nested too deep"):
        await _provider(catalog, lambda r: httpx.Response(200, content=deep)).complete(
            catalog.model("claude-sonnet-4"), REQ, 5.0)


async def test_sampling_parameters_in_anthropic_terms(catalog: Catalog) -> None:
    from core.openai_params import Sampling

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_reply())

    req = CompletionRequest([{"role": "user", "content": "hi"}], 50,
                            sampling=Sampling(temperature=1.4, top_p=0.9, stop=["END"], seed=7, user="u-42"))
    await _provider(catalog, handler).complete(catalog.model("claude-sonnet-4"), req, 5.0)
    assert orjson.loads(seen[0].content) == {
        "model": "claude-sonnet-4-20250514", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}],
        "temperature": 1.0, "top_p": 0.9, "stop_sequences": ["END"], "metadata": {"user_id": "u-42"},
    }  # Anthropic's temperature ends at 1; it has no seed


def test_cache_reads_and_writes_count_as_input_and_reads_as_cached() -> None:
    from providers.anthropic import parse_reply

    body = {**_reply(), "usage": {"input_tokens": 50, "cache_read_input_tokens": 900,
                                  "cache_creation_input_tokens": 100, "output_tokens": 20}}
    reply = parse_reply(body, "anthropic", "claude")
    assert (reply.input_tokens, reply.cached_input_tokens, reply.output_tokens) == (1050, 900, 20)
    refused = parse_reply({**_reply("refusal"), "content": [{"type": "text", "text": "No."}]}, "anthropic", "c")
    assert (refused.finish_reason, refused.refusal) == ("content_filter", "No.")


def test_images_become_content_blocks() -> None:
    from providers.anthropic import build_payload

    req = CompletionRequest([{"role": "user", "content": [
        {"type": "text", "text": "compare"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/b.jpg"}}]}], 10)
    assert build_payload("claude", req)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "compare"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.org/b.jpg"}}]}]


def test_tools_tool_calls_and_results_in_anthropic_terms() -> None:
    from providers.anthropic import build_payload, parse_reply

    tools = [{"type": "function", "function": {"name": "get_weather", "description": "by city",
                                               "parameters": {"type": "object", "properties": {"city": {}}}}}]
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    messages = [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C"}]
    payload = build_payload("claude", CompletionRequest(messages, 10, tools=tools, tool_choice="required",
                                                        parallel_tool_calls=False))
    assert payload["tools"] == [{"name": "get_weather", "description": "by city",
                                 "input_schema": {"type": "object", "properties": {"city": {}}}}]
    assert payload["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert payload["messages"][1:] == [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "18 C"}]}]
    reply = parse_reply({**_reply("tool_use"), "content": [{"type": "tool_use", "id": "toolu_9", "name": "get_weather",
                                                            "input": {"city": "Rome"}}]}, "anthropic", "c")
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls == [{"id": "toolu_9", "type": "function",
                                 "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}]


async def test_response_format_native_schema_or_an_instruction(catalog: Catalog) -> None:
    from dataclasses import replace

    from providers.anthropic import JSON_INSTRUCTION
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(orjson.loads(request.content))
        return httpx.Response(200, json=_reply())

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    as_schema = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    provider, sonnet = _provider(catalog, handler), catalog.model("claude-sonnet-4")
    native = replace(sonnet, capabilities=(*sonnet.capabilities, "structured_outputs"))
    await provider.complete(native, replace(REQ, response_format=as_schema), 5.0)
    await provider.complete(sonnet, replace(REQ, response_format=as_schema), 5.0)
    await provider.complete(native, replace(REQ, response_format={"type": "json_object"}), 5.0)
    await provider.complete(sonnet, replace(REQ, response_format={"type": "text"}), 5.0)
    assert bodies[0]["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert bodies[0]["system"] == "be brief"  # constrained decoding: no instruction needed
    assert "output_config" not in bodies[1]
    assert bodies[1]["system"] == (f"be brief\n\n{JSON_INSTRUCTION} It must satisfy this JSON Schema: "
                                   '{"properties": {"n": {"type": "integer"}}, "required": ["n"], "type": "object"}')
    assert bodies[2]["system"] == f"be brief\n\n{JSON_INSTRUCTION}" and "output_config" not in bodies[2]
    assert bodies[3]["system"] == "be brief" and "output_config" not in bodies[3]
