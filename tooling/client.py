"""What an upstream service and a downstream consumer do: publish requests, collect responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def publish(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]],
                  rate: float | None = None, max_request_size: int = 1_048_576,
                  **client_kwargs: Any) -> dict[bytes, int]:
    """Send (key, value) pairs, as fast as possible or at ``rate`` per second; return each key's
    record timestamp (epoch ms, set when it was sent). Paced, each goes at once: a record's timestamp
    is taken when it is handed to the producer, so a linger would count the load generator's own
    batching wait (up to 5 ms a message, most of them at paced rates) as the pipeline's overhead."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0 if rate else 5, acks="all",
                                max_batch_size=256 * 1024, max_request_size=max_request_size, **client_kwargs)
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
    progress: Callable[[Collected], None] | None = None, settle_s: float = 1.0, **client_kwargs: Any,
) -> Collected:
    """Read the responses topic from the start until every expected id answered (or time runs out),
    then keep reading ``settle_s`` longer so duplicates would be seen."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=5000,
                                **client_kwargs)
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


async def read_topic(bootstrap: str, topic: str, **client_kwargs: Any) -> list[tuple[bytes, bytes]]:
    """Every (key, value) on ``topic`` now, from the start of each partition to its end."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False, fetch_max_bytes=16 * 1024 * 1024,
                                max_partition_fetch_bytes=16 * 1024 * 1024, **client_kwargs)
    await consumer.start()
    out: list[tuple[bytes, bytes]] = []
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                out.extend((r.key or b"", r.value or b"") for r in records)
        return out
    finally:
        await consumer.stop()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def closed_loop(bootstrap: str, requests_topic: str, responses_topic: str,
                      messages: list[tuple[bytes, bytes]], concurrency: int, timeout_s: float = 600) -> dict[str, Any]:
    """Keep ``concurrency`` requests outstanding: send that many, then one more per response, as a
    client with that many callers would (the peer harness does the same with a semaphore).
    Latency per request is measured here: send to response read."""
    consumer = AIOKafkaConsumer(responses_topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest", enable_auto_commit=False, max_poll_records=5000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1, acks="all")
    await consumer.start()
    await producer.start()
    try:
        while not consumer.assignment():  # assigned and positioned at the end before anything is sent
            await asyncio.sleep(0.01)
        for tp in consumer.assignment():
            await consumer.position(tp)
        started: dict[str, float] = {}
        latencies: list[float] = []
        pending = iter(messages)

        async def send_next() -> None:
            item = next(pending, None)
            if item is not None:
                started[item[0].decode()] = time.monotonic()
                await producer.send(requests_topic, item[1], key=item[0])

        t0 = time.monotonic()
        for _ in range(min(concurrency, len(messages))):
            await send_next()
        deadline = t0 + timeout_s
        while len(latencies) < len(messages) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for rec in records:
                    rid = orjson.loads(rec.value).get("request_id")
                    if rid in started:
                        latencies.append(time.monotonic() - started.pop(rid))
                        await send_next()
        seconds = time.monotonic() - t0
        latencies.sort()
        return {"requests": len(messages), "answered": len(latencies), "seconds": round(seconds, 2),
                "rps": round(len(latencies) / seconds, 1),
                "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
                "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)]) if latencies else None}
    finally:
        await producer.stop()
        await consumer.stop()


async def http_closed_loop(base_url: str, api_key: str, n: int, concurrency: int,
                           prefix: str = "gw-") -> dict[str, Any]:
    """``closed_loop`` through the OpenAI-compatible gateway: ``concurrency`` callers, each sending
    its next chat completion when the last one came back; latency per request at the client. The
    callers use aiohttp, as ``bare_closed_loop`` does: an httpx client here cost 1.5 ms of CPU per
    call (2026-12-03), on the same two cores as the gateway and the pipeline it measures."""
    return await _posting(base_url.rstrip("/") + "/chat/completions", api_key, "router/auto", prefix, n,
                          concurrency)


async def bare_closed_loop(url: str, model: str, n: int, concurrency: int) -> dict[str, Any]:
    """The physical reference: ``concurrency`` callers posting chat completions straight to a
    provider with a bare aiohttp client (no router, no Kafka); latency per request at the client.
    (httpx's pool is itself the bottleneck at 1,000 connections: 30 responses/s here.)"""
    return await _posting(url, "sim", model, "bare-", n, concurrency)


async def _posting(url: str, api_key: str, model: str, prefix: str, n: int, concurrency: int) -> dict[str, Any]:
    """``n`` chat completions posted to ``url`` by ``concurrency`` aiohttp callers (see ``_callers``)."""
    import aiohttp  # noqa: PLC0415 - only the HTTP loads need it

    headers = {"Authorization": f"Bearer {api_key}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def call(i: int) -> bool:
            body = {"model": model, "messages": [{"role": "user", "content": f"Say hi #{prefix}{i}"}]}
            async with session.post(url, json=body, headers=headers) as r:
                await r.read()
                return r.status == 200

        return await _callers(n, concurrency, call)


async def _callers(n: int, concurrency: int, call: Callable[[int], Awaitable[bool]]) -> dict[str, Any]:
    """``n`` calls by ``concurrency`` callers in a closed loop: throughput and latency of the good ones."""
    latencies: list[float] = []
    errors = 0
    todo = iter(range(n))

    async def caller() -> None:
        nonlocal errors
        for i in todo:
            t = time.monotonic()
            if await call(i):
                latencies.append(time.monotonic() - t)
            else:
                errors += 1

    t0 = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.monotonic() - t0
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
    return {"requests": n, "answered": len(latencies), "errors": errors, "seconds": round(seconds, 2),
            "rps": round(len(latencies) / seconds, 1),
            "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
            "p99_ms": round(1000 * p99) if p99 is not None else None}
