"""The invoke stage's send buffer: finished calls go out together, each acked after its batch."""

from __future__ import annotations

import asyncio

from agents import SendBuffer
from core.facts import Fact, Invoked
from core.publisher import Publisher
from core.topics import TopicNames
from tests.fakes import RecordingOutbox, job

NAMES = TopicNames("t.")


def _outs(i: int) -> list[Fact]:
    return [Invoked(job(request_id=f"r{i}"), (), 0), Invoked(job(request_id=f"q{i}"), (), 0)]


def test_items_finished_together_are_sent_as_one_batch_and_acked_after_it() -> None:
    async def scenario() -> tuple[int, list[int], list[int]]:
        outbox, acked = RecordingOutbox(), []
        buffer = SendBuffer(outbox, Publisher(NAMES), max_facts=100, within_s=0.01)
        sender = buffer.start()
        for i in range(5):
            await buffer.add(_outs(i), lambda i=i: acked.append(i))
        before = list(acked)
        while len(acked) < 5:
            await asyncio.sleep(0.001)
        sender.cancel()
        return outbox.batches_accepted, before, acked

    batches, before, acked = asyncio.run(scenario())
    assert batches == 1 and before == [] and acked == [0, 1, 2, 3, 4]


def test_what_the_calls_caused_is_published_as_one_batch() -> None:
    async def scenario() -> RecordingOutbox:
        outbox = RecordingOutbox()
        buffer = SendBuffer(outbox, Publisher(NAMES), max_facts=100, within_s=0.01)
        sender = buffer.start()
        for i in range(3):
            await buffer.add(_outs(i), lambda: None)
        while not outbox.outs:
            await asyncio.sleep(0.001)
        sender.cancel()
        return outbox

    outbox = asyncio.run(scenario())
    assert [o.key for o in outbox.on(NAMES.invoked)] == [b"r0", b"q0", b"r1", b"q1", b"r2", b"q2"]


def test_a_full_buffer_makes_adding_wait_and_a_cancelled_sender_acks_nothing_it_held() -> None:
    async def scenario() -> tuple[bool, list[int]]:
        acked: list[int] = []
        buffer = SendBuffer(RecordingOutbox(), Publisher(NAMES), max_facts=4, within_s=0.01)
        await buffer.add(_outs(0), lambda: acked.append(0))
        await buffer.add(_outs(1), lambda: acked.append(1))  # 4 facts held: full
        third = asyncio.create_task(buffer.add(_outs(2), lambda: acked.append(2)))
        await asyncio.sleep(0.02)
        waited = not third.done()
        sender = buffer.start()  # sends the first two at once (full), which lets the third in
        await third
        sender.cancel()
        await asyncio.sleep(0)
        return waited, acked

    waited, acked = asyncio.run(scenario())
    assert waited and acked == [0, 1]  # the third was held when the sender stopped: never acked, so replayed


def test_a_lone_item_after_a_lone_batch_is_sent_without_the_wait() -> None:
    async def scenario() -> int:
        outbox = RecordingOutbox()
        buffer = SendBuffer(outbox, Publisher(NAMES), max_facts=100, within_s=0.01)
        sender = buffer.start()
        await buffer.add(_outs(0), lambda: None)  # the first batch waits within_s (company assumed)
        while outbox.batches_accepted < 1:
            await asyncio.sleep(0.001)
        buffer.within_s = 3600.0  # from here a wait would outlast the test's timeout
        await buffer.add(_outs(1), lambda: None)
        await asyncio.wait_for(_sent(outbox, 2), 10)
        sender.cancel()
        return outbox.batches_accepted

    assert asyncio.run(scenario()) == 2


async def _sent(outbox: RecordingOutbox, batches: int) -> None:
    while outbox.batches_accepted < batches:
        await asyncio.sleep(0.001)
