"""A fetched message is delivered at once; a delivery that has to wait still yields to a suspension."""

from __future__ import annotations

import asyncio
from typing import Any

from streams.drain import deliver_first


class RacingWaitFirst:
    """What Faust's ``Service.wait_first`` does, reduced: the first to finish wins, the rest are cancelled."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, *coros: Any, timeout: Any = None) -> set[asyncio.Future[Any]]:
        self.calls += 1
        futures = [asyncio.ensure_future(c) for c in coros]
        done, pending = await asyncio.wait(futures, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for f in pending:
            f.cancel()
        return done


def test_a_delivery_with_room_runs_at_once_without_a_task() -> None:
    async def scenario() -> None:
        suspend, race, got = asyncio.Event(), RacingWaitFirst(), []

        async def deliver(n: int) -> int:
            got.append(n)
            return n

        loop_turns = 0

        async def count_turns() -> None:
            nonlocal loop_turns
            while True:
                await asyncio.sleep(0)
                loop_turns += 1

        counter = asyncio.ensure_future(count_turns())
        await asyncio.sleep(0)
        before = loop_turns
        for n in range(100):
            result = await deliver_first(suspend, race, (deliver(n), suspend.wait()))
            assert result.results == [n] and not result.stopped
        assert got == list(range(100)) and race.calls == 0
        assert loop_turns == before  # not one turn of the event loop for 100 messages
        counter.cancel()

    asyncio.run(scenario())


def test_a_delivery_that_waits_finishes_later_or_gives_way_to_a_suspension() -> None:
    async def scenario() -> None:
        suspend, race = asyncio.Event(), RacingWaitFirst()
        buffer: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
        await buffer.put(0)  # full

        async def deliver(n: int) -> None:
            await buffer.put(n)

        waiting = asyncio.ensure_future(deliver_first(suspend, race, (deliver(1), suspend.wait())))
        await asyncio.sleep(0.01)
        assert not waiting.done() and race.calls == 1  # it waits for room, racing the suspension
        assert buffer.get_nowait() == 0
        await asyncio.wait_for(waiting, 1)
        assert buffer.get_nowait() == 1  # room came: delivered

        await buffer.put(2)  # full again, then a rebalance suspends the flow
        stuck = asyncio.ensure_future(deliver_first(suspend, race, (deliver(3), suspend.wait())))
        await asyncio.sleep(0.01)
        suspend.set()
        await asyncio.wait_for(stuck, 1)
        assert buffer.get_nowait() == 2 and buffer.empty()  # the suspended delivery was abandoned
        await asyncio.sleep(0.01)
        assert buffer.empty()

    asyncio.run(scenario())


def test_while_flow_is_suspended_and_for_other_waits_faust_decides() -> None:
    async def scenario() -> None:
        suspend, race = asyncio.Event(), RacingWaitFirst()
        suspend.set()

        async def deliver() -> str:
            return "delivered"

        await deliver_first(suspend, race, (deliver(), suspend.wait()))
        assert race.calls == 1  # suspended: Faust's race, as it was
        other = asyncio.Event()
        other.set()
        await deliver_first(asyncio.Event(), race, (other.wait(),), timeout=1)
        assert race.calls == 2

    asyncio.run(scenario())


def test_faust_still_delivers_through_wait_first_so_the_fast_path_applies() -> None:
    """The fast path recognises Faust's delivery by its arguments; if a Faust upgrade delivers another
    way, every message silently takes Faust's slow path again (the stall of 2026-12-03): fail here."""
    import inspect

    from faust.transport.consumer import Consumer

    source = inspect.getsource(Consumer._drain_messages)
    assert "self.wait_first(" in source and "callback(message), self.suspend_flow.wait()" in source
