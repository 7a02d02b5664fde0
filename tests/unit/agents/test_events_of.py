"""Agents read the conductor's queue directly; stopping the agent must still end that read."""

from __future__ import annotations

import asyncio

import faust
from faust.agents.actor import AsyncIterableActor

from agents import batches, events_of


def _stream() -> faust.StreamT:
    app = faust.App("events-of-test", broker="kafka://127.0.0.1:1", store="memory://")
    return app.stream(app.topic("t", value_serializer="raw"))


async def test_stopping_the_actor_ends_a_batch_reader() -> None:
    stream = _stream()
    queue = events_of(stream)
    assert stream.channel.queue is queue  # what Faust's actor throws into on stop is the queue read

    async def read_all() -> list[list[object]]:
        return [b async for b in batches(stream, 500, 0.001)]

    reader = asyncio.create_task(read_all())
    await asyncio.sleep(0)
    AsyncIterableActor(agent=None, stream=stream, it=None).cancel()  # type: ignore[arg-type]
    assert await asyncio.wait_for(reader, 10) == []  # a guard against hanging, not a timing


async def test_a_batch_takes_what_waits_in_the_queue_up_to_its_size() -> None:
    stream = _stream()
    queue = events_of(stream)
    for i in range(7):
        queue.put_nowait(i)
    got = batches(stream, 5, 0.001)
    assert await anext(got) == [0, 1, 2, 3, 4]
    assert await anext(got) == [5, 6]


async def test_a_lone_event_after_a_lone_batch_goes_at_once_and_company_brings_the_wait_back() -> None:
    stream = _stream()
    queue = events_of(stream)
    got = batches(stream, 5, 0.05)
    queue.put_nowait("a")
    assert await asyncio.wait_for(anext(got), 10) == ["a"]  # the first batch waits (company assumed)
    queue.put_nowait("c")
    alone = asyncio.create_task(anext(got))
    for _ in range(5):  # a few loop turns, far less than the 50 ms wait
        await asyncio.sleep(0)
    assert alone.done() and alone.result() == ["c"]  # no wait: the batch before was alone
    queue.put_nowait("d")
    queue.put_nowait("e")
    assert await asyncio.wait_for(anext(got), 10) == ["d", "e"]  # two waiting: wait, take both
    queue.put_nowait("f")
    later = asyncio.create_task(anext(got))  # the batch before had company: it waits for more
    for _ in range(5):
        await asyncio.sleep(0)
    assert not later.done()
    queue.put_nowait("g")
    assert await asyncio.wait_for(later, 10) == ["f", "g"]
