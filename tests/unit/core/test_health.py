from __future__ import annotations

from core.catalog import Catalog
from core.health import HealthBoard
from core.invocation import Invoker
from core.ports import AllHealthy
from core.routing import RoutingPolicy
from tests.fakes import FakeClock, ScriptedProvider, job


def test_saturation_and_load(catalog: Catalog) -> None:
    board = HealthBoard(catalog)
    limit = catalog.model("gpt-4o").max_concurrency
    for _ in range(limit - 1):
        board.started("gpt-4o")
    assert board.unavailable("gpt-4o") is None and board.load("gpt-4o") < 1
    board.started("gpt-4o")
    assert board.unavailable("gpt-4o") == "saturated"
    board.finished("gpt-4o")
    assert board.unavailable("gpt-4o") is None


async def test_invoker_counts_calls_in_flight(catalog: Catalog) -> None:
    board = HealthBoard(catalog)
    seen: list[int] = []

    class Watching(ScriptedProvider):
        async def complete(self, model, request, timeout_s):  # type: ignore[no-untyped-def]
            seen.append(board.in_flight[model.name])
            return await super().complete(model, request, timeout_s)

    clock = FakeClock()
    inv = Invoker(catalog, {p: Watching({}, clock) for p in catalog.providers}, clock, board=board)
    j = job(1)
    j.decision = RoutingPolicy(catalog).decide(j, AllHealthy())
    await inv.run(j)
    assert seen == [1] and board.in_flight["llama-3-1-8b"] == 0
