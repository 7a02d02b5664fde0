"""One holder of the running catalog: a reload swaps it and every stage sees the new one at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from core.catalog import Catalog
from core.catalog_ref import CatalogRef
from core.events import Attempt, Job
from core.health import HealthBoard
from core.ports import AllHealthy
from core.routing import RoutingPolicy
from core.stages import verify_answer
from core.verification import CascadeLimits
from tests.fakes import FakeClock, job


def _without_tier(catalog: Catalog, tier: int) -> Catalog:
    models = {n: m for n, m in catalog.models.items() if m.tier != tier}
    return replace(catalog, models=models, tiers=tuple(sorted({m.tier for m in models.values()})))


def _failed_at(j: Job, tier: int) -> Job:
    assert j.decision is not None
    j.attempts.append(Attempt(1, j.decision.model, j.decision.provider, tier, "ok", 0, 10.0, content="  "))
    return j


def test_a_reload_that_changes_the_top_tier_is_used_by_the_next_escalation(catalog: Catalog) -> None:
    ref = CatalogRef(_without_tier(catalog, 3))
    policy, limits = RoutingPolicy(ref), CascadeLimits(max_escalations=2, catalog=ref)
    first = job(2, request_id="r1")
    first.decision = policy.decide(first, AllHealthy())
    assert first.decision.tier == 2 == limits.top_tier
    verify_answer(_failed_at(first, 2), limits, 0)  # an empty answer escalates
    assert first.target_tier == 2  # no tier 3 yet: "one up" stays at the top tier

    ref.swap(catalog)  # the reload: tier-3 models are back
    second = job(2, request_id="r2")
    second.decision = policy.decide(second, AllHealthy())
    verify_answer(_failed_at(second, 2), limits, 0)
    assert second.target_tier == 3
    second.decision = policy.decide(second, AllHealthy())  # the escalation is routed on the new catalog
    assert second.decision.tier == 3 and second.decision.model in catalog.models


def test_the_health_board_applies_a_changed_concurrency_limit(catalog: Catalog) -> None:
    model = "llama-3-1-8b"
    ref = CatalogRef(replace(catalog, models={**catalog.models, model: replace(catalog.models[model],
                                                                                  max_concurrency=1)}))
    board = HealthBoard(ref, FakeClock())

    async def scenario() -> tuple[bool, bool, bool]:
        first = await board.acquire(model, 0.01)
        blocked = await board.acquire(model, 0.01)  # the only slot is taken
        ref.swap(replace(ref.current, models={**ref.current.models, model: replace(ref.current.models[model],
                                                                                      max_concurrency=2)}))
        after = await board.acquire(model, 0.01)  # the new limit has room
        board.release(model)
        board.release(model)
        return first, blocked, after

    assert asyncio.run(scenario()) == (True, False, True)
    assert board.in_flight[model] == 0 and board.load(model) == 0.0
