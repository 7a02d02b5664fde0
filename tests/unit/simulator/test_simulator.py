"""The simulator over real loopback HTTP, driven by our own adapters (aiohttp transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from core.catalog import Catalog, load_catalog
from core.config import REPO_ROOT
from core.errors import ProviderRateLimitedError, ProviderTimeoutError, ProviderUnavailableError
from core.ports import CompletionRequest
from providers.registry import build_providers
from simulator.behaviour import Behaviour, decide, stable_unit
from simulator.server import SimState, create_app

REQ = CompletionRequest([{"role": "user", "content": "What is the capital of France?"}], 256)


def test_quality_is_fixed_per_prompt() -> None:
    b = Behaviour(empty_rate=0.5)
    kinds = {decide(b, "m", "same prompt", 100, roll=0.99).kind for _ in range(20)}
    assert len(kinds) == 1
    assert 0 <= stable_unit("a", "b") < 1


def test_a_flooding_model_answers_every_prompt_with_that_many_distinct_lines() -> None:
    out = decide(Behaviour(flood_lines=1000), "m", "hi", 50, 0.9)
    lines = out.content.splitlines()
    assert (out.kind, len(lines), len(set(lines))) == ("ok", 1000, 1000)


def test_an_oversized_model_answers_every_prompt_with_that_many_bytes() -> None:
    out = decide(Behaviour(reply_bytes=5000), "m", "hi", 50, 0.9)
    assert (out.kind, len(out.content.encode())) == ("ok", 5000)


def test_small_max_tokens_truncates() -> None:
    out = decide(Behaviour(answer_tokens=100), "m", "p", max_tokens=10, roll=0.99)
    assert (out.kind, out.finish_reason, out.output_tokens) == ("truncated", "length", 10)


@pytest.fixture()
async def sim() -> AsyncIterator[tuple[SimState, Catalog]]:
    state = SimState()
    runner = web.AppRunner(create_app(state), shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state, load_catalog(REPO_ROOT / "config" / "catalog.toml", {"sim": f"http://127.0.0.1:{port}"})
    await runner.cleanup()


async def test_both_wire_formats_round_trip(sim: tuple[SimState, Catalog]) -> None:
    state, catalog = sim
    providers, endpoints = build_providers(catalog, {})
    try:
        for name in ("gpt-4o", "claude-sonnet-4", "gemini-2-0-flash-lite"):
            model = catalog.model(name)
            reply = await providers[model.provider].complete(model, REQ, 5.0)
            assert reply.finish_reason == "stop" and reply.output_tokens > 0
            assert reply.content.startswith(f"[{model.wire_model}]")
        assert state.calls == {"gpt-4o": 1, "claude-sonnet-4-20250514": 1, "gemini-2.0-flash-lite": 1}
    finally:
        for e in endpoints:
            await e.aclose()


async def test_outage_rate_limit_and_hang(sim: tuple[SimState, Catalog]) -> None:
    state, catalog = sim
    providers, endpoints = build_providers(catalog, {})
    model = catalog.model("gpt-4o-mini")
    try:
        state.configure({"models": {"gpt-4o-mini": {"down": True}}})
        with pytest.raises(ProviderUnavailableError):
            await providers["openai"].complete(model, REQ, 5.0)
        state.configure({"models": {"gpt-4o-mini": {"error_rate": 1.0, "error_status": 429, "retry_after": 2}}})
        with pytest.raises(ProviderRateLimitedError) as info:
            await providers["openai"].complete(model, REQ, 5.0)
        assert info.value.retry_after == 2.0
        state.configure({"models": {"gpt-4o-mini": {"hang": True}}})
        with pytest.raises(ProviderTimeoutError):
            await providers["openai"].complete(model, REQ, 0.3)
    finally:
        for e in endpoints:
            await e.aclose()


async def test_replayed_quality_fails_the_questions_a_tier_failed(sim: tuple[SimState, Catalog], tmp_path) -> None:
    state, catalog = sim
    replay = tmp_path / "replay.jsonl"
    replay.write_text('{"prompt": "Which is right? Options: A. x B. y", "correct_by_tier": {"1": 0, "3": 1}}\n')
    state.configure({"replay": str(replay), "model_tiers": {"gpt-4o-mini": 1, "gpt-4o": 3}})
    providers, endpoints = build_providers(catalog, {})
    req = CompletionRequest([{"role": "system", "content": "be brief"},
                             {"role": "user", "content": "Which is right? Options: A. x B. y"}], 100)
    try:
        weak = await providers["openai"].complete(catalog.model("gpt-4o-mini"), req, 5.0)
        strong = await providers["openai"].complete(catalog.model("gpt-4o"), req, 5.0)
        other = await providers["openai"].complete(catalog.model("gpt-4o-mini"), REQ, 5.0)
    finally:
        for e in endpoints:
            await e.aclose()
    assert weak.content == "" and strong.content != "" and other.content != ""
    assert state.outcomes["gpt-4o-mini"]["replay_fail"] == 1
