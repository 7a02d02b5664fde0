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
