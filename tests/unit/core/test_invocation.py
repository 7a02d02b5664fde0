from __future__ import annotations

import pytest

from core.catalog import Catalog
from core.errors import (
    ProviderRateLimitedError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from core.invocation import Invoker, RetryPolicy
from core.ports import AllHealthy
from core.routing import RoutingPolicy
from tests.fakes import FakeClock, ScriptedProvider, job, ok


def _setup(catalog: Catalog, script: dict, tier: int = 1, **overrides: object):
    clock = FakeClock()
    provider = ScriptedProvider(script, clock)
    providers = {name: provider for name in catalog.providers}
    j = job(tier, **overrides)
    j.decision = RoutingPolicy(catalog).decide(j, AllHealthy())
    return Invoker(catalog, providers, clock, RetryPolicy(attempts_per_model=3)), j, provider, clock


async def test_success_first_time(catalog: Catalog) -> None:
    inv, j, _provider, _ = _setup(catalog, {})
    attempts = await inv.run(j)
    assert [(a.model, a.status) for a in attempts] == [("llama-3-1-8b", "ok")]
    assert attempts[0].cost_usd == pytest.approx(catalog.model("llama-3-1-8b").cost_usd(10, 20))
    assert attempts[0].attempt_no == 1


async def test_retries_unavailable_with_backoff_then_succeeds(catalog: Catalog) -> None:
    err = ProviderUnavailableError("503", status=503)
    inv, j, _, clock = _setup(catalog, {"llama-3-1-8b": [err, err, ok()]})
    attempts = await inv.run(j)
    assert [a.status for a in attempts] == ["error", "error", "ok"]
    assert attempts[0].error_code == "provider_unavailable" and attempts[0].http_status == 503
    assert clock.slept == pytest.approx([0.0375, 0.075])  # base 0.05 * 2^n * (0.5 + 0.5/2)


async def test_retry_after_is_honoured(catalog: Catalog) -> None:
    inv, j, _, clock = _setup(catalog, {"llama-3-1-8b": [ProviderRateLimitedError("429", retry_after=1.5), ok()]})
    await inv.run(j)
    assert clock.slept == [1.5]


async def test_rejection_is_not_retried_and_falls_back(catalog: Catalog) -> None:
    inv, j, _, clock = _setup(catalog, {"llama-3-1-8b": [ProviderRejectedError("400", status=400)]})
    attempts = await inv.run(j)
    assert [(a.model, a.status, a.fallback) for a in attempts] == [
        ("llama-3-1-8b", "error", False), ("gemini-2-0-flash-lite", "ok", True)]
    assert clock.slept == []


async def test_exhausted_chain_returns_every_attempt(catalog: Catalog) -> None:
    t = ProviderTimeoutError("slow")
    inv, j, _, _ = _setup(catalog, {"llama-3-1-8b": [t], "gemini-2-0-flash-lite": [t], "gpt-4o-mini": [t]})
    attempts = await inv.run(j)
    assert len(attempts) == 9  # three models in the chain, three tries each
    assert all(a.status == "error" and a.error_code == "provider_timeout" for a in attempts)
    assert [a.attempt_no for a in attempts] == list(range(1, 10))


async def test_deadline_bounds_the_call_timeout_and_the_waits(catalog: Catalog) -> None:
    clock_now = FakeClock().now_ms()
    err = ProviderRateLimitedError("429", retry_after=30)
    inv, j, provider, clock = _setup(catalog, {"llama-3-1-8b": [err], "gemini-2-0-flash-lite": [err],
                                               "gpt-4o-mini": [err]},
                                     deadline_ms=clock_now + 2000)
    attempts = await inv.run(j)
    assert provider.calls[0][2] <= 2.0  # the per-call timeout never exceeds the time left
    assert len(attempts) == 1  # a 30 s Retry-After does not fit in 2 s: stop, do not wait
    assert clock.slept == []


async def test_past_deadline_makes_no_call(catalog: Catalog) -> None:
    inv, j, provider, _ = _setup(catalog, {}, deadline_ms=FakeClock().now_ms() - 1)
    attempts = await inv.run(j)
    assert provider.calls == []
    assert attempts[0].error_code == "deadline_exceeded"


async def test_model_removed_by_a_reload_becomes_a_failed_attempt(catalog: Catalog) -> None:
    from dataclasses import replace

    inv, j, _provider, _ = _setup(catalog, {})
    inv.ref.swap(replace(catalog, models={k: v for k, v in catalog.models.items() if k != "llama-3-1-8b"}))
    attempts = await inv.run(j)
    assert [(a.model, a.status, a.error_code) for a in attempts] == [("llama-3-1-8b", "error", "model_removed")]
