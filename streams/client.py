"""What an upstream service and a downstream consumer do: publish requests, collect responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def publish(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]],
                  rate: float | None = None) -> dict[bytes, int]:
    """Send (key, value) pairs, as fast as possible or at ``rate`` per second; return each key's
    record timestamp (epoch ms, set when it was sent)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all",
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = []
        t0 = time.monotonic()
        for i, (k, v) in enumerate(messages):
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            futures.append((k, await producer.send(topic, v, key=k)))
        sent = {}
        for key, fut in futures:
            meta = await fut
            sent[key] = meta.timestamp
        return sent
    finally:
        await producer.stop()


@dataclass
class Collected:
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    timestamps_ms: dict[str, int] = field(default_factory=dict)  # broker time each response was published
    duplicates: int = 0
    unexpected: int = 0

    def missing_from(self, expected: Iterable[str]) -> list[str]:
        return [rid for rid in expected if rid not in self.responses]


async def collect(
    bootstrap: str, topic: str, expected: set[str], timeout_s: float,
    progress: Callable[[Collected], None] | None = None, settle_s: float = 1.0,
) -> Collected:
    """Read the responses topic from the start until every expected id answered (or time runs out),
    then keep reading ``settle_s`` longer so duplicates would be seen."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=5000)
    await consumer.start()
    out = Collected()
    deadline = time.monotonic() + timeout_s
    last_progress = 0.0
    done_at: float | None = None
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for rec in records:
                    body = orjson.loads(rec.value)
                    rid = body.get("request_id")
                    if rid not in expected:
                        out.unexpected += 1
                    elif rid in out.responses:
                        out.duplicates += 1
                    else:
                        out.responses[rid] = body
                        out.timestamps_ms[rid] = rec.timestamp
            now = time.monotonic()
            if progress and now - last_progress >= 1.0:
                progress(out)
                last_progress = now
            if done_at is None and len(out.responses) >= len(expected):
                done_at = now
            if done_at is not None and now - done_at >= settle_s:
                break
        if progress:
            progress(out)
        return out
    finally:
        await consumer.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)
