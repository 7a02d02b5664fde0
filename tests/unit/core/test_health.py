from __future__ import annotations

import asyncio

import pytest

from core.breaker import BreakerSettings
from core.catalog import Catalog
from core.errors import ProviderUnavailableError
from core.health import HealthBoard
from core.invocation import Invoker, RetryPolicy
from core.ports import AllHealthy
from core.routing import RoutingPolicy
from tests.fakes import FakeClock, ScriptedProvider, job, ok


async def test_saturation_and_load(catalog: Catalog) -> None:
    board = HealthBoard(catalog, FakeClock())
    limit = catalog.model("gpt-4o").max_concurrency
    for _ in range(limit - 1):
        assert await board.acquire("gpt-4o", 1.0)
    assert board.unavailable("gpt-4o") is None and board.load("gpt-4o") < 1
    assert await board.acquire("gpt-4o", 1.0)
    assert board.unavailable("gpt-4o") == "saturated"
    assert not await board.acquire("gpt-4o", 0.01)  # a burst waits for a slot, then gives up
    board.release("gpt-4o")
    assert board.unavailable("gpt-4o") is None


async def test_a_waiting_call_gets_the_next_free_slot(catalog: Catalog) -> None:
    board = HealthBoard(catalog, FakeClock())
    for _ in range(catalog.model("gpt-4o").max_concurrency):
        await board.acquire("gpt-4o", 1.0)
    waiter = asyncio.create_task(board.acquire("gpt-4o", 5.0))
    await asyncio.sleep(0)
    board.release("gpt-4o")
    assert await waiter


def _invoker(catalog: Catalog, script: dict, settings: BreakerSettings) -> tuple[Invoker, HealthBoard, FakeClock]:
    clock = FakeClock()
    board = HealthBoard(catalog, clock, settings)
    provider = ScriptedProvider(script, clock, latency_s=0.0)
    return Invoker(catalog, {p: provider for p in catalog.providers}, clock, RetryPolicy(1), board), board, clock


async def test_breaker_opens_routing_skips_it_and_a_control_transition_is_queued(catalog: Catalog) -> None:
    settings = BreakerSettings(window_s=60, min_calls=3, failure_rate=0.5, cooldown_s=10, trial_calls=1)
    inv, board, clock = _invoker(catalog, {"llama-3-1-8b": [ProviderUnavailableError("503", status=503)]}, settings)
    policy = RoutingPolicy(catalog)
    for _ in range(3):
        j = job(1)
        j.decision = policy.decide(j, board)
        await inv.run(j)
    assert board.unavailable("llama-3-1-8b") == "breaker_open"
    assert [(t.model, t.new) for t in board.drain_transitions()] == [("llama-3-1-8b", "open")]
    assert policy.decide(job(1), board).model == "qwen-2-5-7b-selfhosted"
    j = job(1)
    j.decision = policy.decide(job(1), AllHealthy())  # routed before the breaker opened
    attempts = await inv.run(j)
    assert attempts[0].error_code == "breaker_open" and attempts[0].latency_ms == 0  # no call was made
    clock.advance(10)
    assert board.unavailable("llama-3-1-8b") is None  # cooled down: a trial may go


async def test_rpm_limit_queues_calls_instead_of_failing(catalog: Catalog) -> None:
    from dataclasses import replace

    tight = replace(catalog, models={**catalog.models, "llama-3-1-8b": replace(catalog.model("llama-3-1-8b"), rpm=60)})
    inv, board, clock = _invoker(tight, {"llama-3-1-8b": [ok()]}, BreakerSettings())
    policy = RoutingPolicy(tight)
    for _ in range(61):
        j = job(1)
        j.decision = policy.decide(j, board)
        attempts = await inv.run(j)
        assert attempts[-1].status == "ok"
    assert clock.slept == pytest.approx([1.0], abs=0.05)  # the 61st call waited one second for a token


async def test_saturated_choice_starts_on_a_fallback_with_a_free_slot(catalog: Catalog) -> None:
    inv, board, _ = _invoker(catalog, {}, BreakerSettings())
    for _ in range(catalog.model("llama-3-1-8b").max_concurrency):
        await board.acquire("llama-3-1-8b", 1.0)
    j = job(1)
    j.decision = RoutingPolicy(catalog).decide(j, AllHealthy())
    assert j.decision.model == "llama-3-1-8b"
    attempts = await inv.run(j)
    assert [(a.model, a.status) for a in attempts] == [("gemini-2-0-flash-lite", "ok")]
