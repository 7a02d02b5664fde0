"""The invoke stage's send buffer: finished calls go out together, each acked after its batch."""

from __future__ import annotations

import asyncio

from agents import SendBuffer
from core.messages import Out
from tests.fakes import RecordingOutbox


def _outs(i: int) -> list[Out]:
    return [Out("t.invoked", str(i).encode(), b"{}"), Out("t.outcomes", str(i).encode(), b"{}")]


def test_items_finished_together_are_sent_as_one_batch_and_acked_after_it() -> None:
    async def scenario() -> tuple[int, list[int], list[int]]:
        outbox, acked = RecordingOutbox(), []
        buffer = SendBuffer(outbox, max_outs=100, within_s=0.01)
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


def test_a_full_buffer_makes_adding_wait_and_a_cancelled_sender_acks_nothing_it_held() -> None:
    async def scenario() -> tuple[bool, list[int]]:
        acked: list[int] = []
        buffer = SendBuffer(RecordingOutbox(), max_outs=4, within_s=0.01)
        await buffer.add(_outs(0), lambda: acked.append(0))
        await buffer.add(_outs(1), lambda: acked.append(1))  # 4 messages held: full
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
