"""The OpenAI-compatible gateway, driven by the official ``openai`` SDK on the real broker.

Sync, async and streaming chat completions with a key that maps to a tenant; model listing; an
unknown key (401), a refused parameter (400 in OpenAI's error shape with the router's code), and
a key over its request rate (429 with Retry-After, which the SDK is told not to retry blindly).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator

import openai
import pytest

from tests.integration.conftest import running_stack, wait_until
from tooling.stack import Stack

KEY, SLOW_KEY = "sk-gw-test-0123456789", "sk-gw-slow-0123456789"


@pytest.fixture(scope="module")
def gateway(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    run_dir = tmp_path_factory.mktemp("gateway")
    keys = run_dir / "keys.toml"
    keys.write_text(f'[keys.{hashlib.sha256(KEY.encode()).hexdigest()}]\ntenant = "gw"\n\n'
                    f'[keys.{hashlib.sha256(SLOW_KEY.encode()).hexdigest()}]\ntenant = "gw"\nrpm = 1\n')
    with running_stack(bootstrap, run_dir, "gw") as stack:
        proc = stack.start_gateway(keys)
        yield stack, proc.health_url.removesuffix("/health/") + "/v1"


def _client(base: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=60)


def test_sync_completion_through_the_sdk(gateway: tuple[Stack, str]) -> None:
    _, base = gateway
    reply = _client(base).chat.completions.create(model="router/auto", max_tokens=50, temperature=0.2,
                                                  messages=[{"role": "user", "content": "Say hello."}])
    assert reply.id.startswith("chatcmpl-") and reply.object == "chat.completion"
    assert reply.choices[0].message.role == "assistant" and reply.choices[0].message.content
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None and reply.usage.total_tokens == reply.usage.prompt_tokens + \
        reply.usage.completion_tokens > 0
    assert reply.model != "router/auto"  # the model the router chose
    pinned = _client(base).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi."}])
    assert pinned.model == "gpt-4o-mini"
    as_json = _client(base).chat.completions.create(model="claude-3-5-haiku", response_format={"type": "json_object"},
                                                    messages=[{"role": "user", "content": "Name a colour."}])
    assert as_json.model == "claude-3-5-haiku"
    assert isinstance(json.loads(as_json.choices[0].message.content or ""), dict)
    with pytest.raises(openai.NotFoundError) as unknown:
        _client(base).chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "Hi."}])
    assert unknown.value.code == "model_not_found"


def test_an_image_is_answered_by_a_model_that_sees_it(gateway: tuple[Stack, str]) -> None:
    from core.catalog import load_catalog

    stack, base = gateway
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKm"
             "MIQAAAABJRU5ErkJggg==")
    reply = _client(base).chat.completions.create(model="router/auto", messages=[{"role": "user", "content": [
        {"type": "text", "text": "What colour is this pixel?"}, {"type": "image_url", "image_url": {"url": pixel}}]}])
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    assert reply.choices[0].message.content and "vision" in catalog.model(reply.model).capabilities


def test_a_tool_loop_through_the_sdk(gateway: tuple[Stack, str]) -> None:
    """The model asks for a tool, the client runs it and sends the result back, the model answers."""
    from core.catalog import load_catalog

    stack, base = gateway
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "weather by city",
                                               "parameters": {"type": "object",
                                                              "properties": {"city": {"type": "string"}}}}}]
    messages: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = _client(base).chat.completions.create(model="router/auto", messages=messages, tools=tools)
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    assert "tools" in catalog.model(first.model).capabilities
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and call.id
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"}]
    final = _client(base).chat.completions.create(model="router/auto", messages=messages, tools=tools)
    assert final.choices[0].finish_reason in ("stop", "length") and final.choices[0].message.content


def test_async_and_streaming(gateway: tuple[Stack, str]) -> None:
    _, base = gateway

    async def both() -> tuple[str, list[str], str | None]:
        client = openai.AsyncOpenAI(base_url=base, api_key=KEY, max_retries=0, timeout=60)
        whole = await client.chat.completions.create(model="router/auto",
                                                     messages=[{"role": "user", "content": "What is 2+2?"}])
        stream = await client.chat.completions.create(model="router/auto", stream=True,
                                                      messages=[{"role": "user", "content": "Name a colour."}])
        pieces, finish = [], None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        await client.close()
        return whole.choices[0].message.content or "", pieces, finish

    whole, pieces, finish = asyncio.run(both())
    assert whole and "".join(pieces) and finish in ("stop", "length")


def test_models_keys_refusals_and_rate_limits(gateway: tuple[Stack, str]) -> None:
    stack, base = gateway
    ids = [m.id for m in _client(base).models.list()]
    assert ids[0] == "router/auto" and {"router/cheap", "router/best", "router/fast", "gpt-4o-mini"} <= set(ids)
    fast = _client(base).chat.completions.create(model="router/fast", messages=[{"role": "user", "content": "hi"}])
    assert fast.model == "gpt-4o-mini"  # the catalog's alias pins it
    cheap = _client(base).chat.completions.create(model="router/cheap",
                                                  messages=[{"role": "user", "content": "Prove Fermat's theorem."}])
    decided: dict[str, dict] = {}

    def both_decided() -> bool:
        decided.update({r["request_id"]: r for r in stack.query("first_decisions", prefix="chatcmpl-")})
        return fast.id in decided and cheap.id in decided

    wait_until(both_decided, 60, "the decision rows in ClickHouse")
    assert decided[fast.id]["reason"] == "pinned by the request (alias router/fast)"
    assert decided[cheap.id]["reason"].startswith("alias router/cheap: ") and decided[cheap.id]["target_tier"] == 1
    with pytest.raises(openai.AuthenticationError) as no_key:
        _client(base, "sk-nobody").chat.completions.create(model="router/auto",
                                                           messages=[{"role": "user", "content": "hi"}])
    assert no_key.value.code == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as refused:
        _client(base).chat.completions.create(model="router/auto", n=3, messages=[{"role": "user", "content": "hi"}])
    assert refused.value.code == "invalid_request" and "n: one answer per request" in refused.value.message
    slow = _client(base, SLOW_KEY)
    slow.chat.completions.create(model="router/auto", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError) as limited:
        slow.chat.completions.create(model="router/auto", messages=[{"role": "user", "content": "again"}])
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["retry-after"]) >= 1
