"""The Kafka client's floor for the pipeline's shape, printed by ``make bench`` beside the pipeline.

A bare aiokafka relay in this process: one consumer on four topics, one producer, every record
forwarded to the next topic (t0 -> t1 -> t2 -> t3 -> t4) in batches, as the four stages forward a
request, with no stage work at all. Its CPU per request (the load and the reader included, all in
this process) is what crossing Kafka four times costs with this client on this machine; the pipeline
worker's CPU per request above it is stage work, Faust and the HTTP call. Paced (``rate``), it also
gives the latency floor at that load: each record carries its send time, and the last topic's
broker timestamp minus it is measured as the pipeline's overhead is (``tooling/bench.py``).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
import uuid
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tooling.latency import percentile

HOPS = 4
WARM_UP = b"warm-up"  # the key of the records that make the new topics' leaders serve (not counted)
WARM_UP_S = 1.0  # paced runs: how long the relay runs before it is measured


def relay_floor(bootstrap: str, n: int = 20_000, value_bytes: int = 2_000, partitions: int = 6,
                rate: float | None = None) -> dict[str, float]:
    """Requests/s, ms of CPU per request and p50/p90/p99 ms end to end for ``n`` records relayed through
    ``HOPS`` topics, all at once or paced at ``rate`` records/s."""
    return asyncio.run(_relay_floor(bootstrap, n, value_bytes, partitions, rate))


async def _relay_floor(bootstrap: str, n: int, value_bytes: int, partitions: int, rate: float | None
                       ) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    topics = [f"floor-{run}-t{i}" for i in range(HOPS + 1)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, partitions, 1) for t in topics])
    finally:
        await admin.close()
    try:
        return await _measure(bootstrap, topics, n, value_bytes, partitions, run, rate)
    finally:
        await _delete(bootstrap, topics)  # a broker of the user's (KAFKA_BOOTSTRAP_SERVERS) keeps none of them


async def _measure(bootstrap: str, topics: list[str], n: int, value_bytes: int, partitions: int, run: str,
                   rate: float | None) -> dict[str, float]:
    # lingering only in a burst, as tooling.client.publish: paced, a linger would be counted as latency
    load = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0 if rate else 5, acks="all",
                            max_batch_size=256 * 1024)
    reader = AIOKafkaConsumer(topics[-1], bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    stop = asyncio.Event()
    ready = asyncio.Event()
    relay: asyncio.Task[None] | None = None
    await load.start()
    try:
        await _leaders_ready(load, topics, partitions)  # else the consumers log errors for the new topics
        relay = asyncio.create_task(_relay(bootstrap, topics, f"floor-{run}", stop, ready))
        await reader.start()
        await asyncio.wait_for(ready.wait(), 60)
        if rate:  # a second of paced records first, not counted: the new topics' first fetches are slow.
            # Not everything: after a burst run on the same broker, some paced runs still had one window of
            # about a second, early on, where hops took 100-400 ms (5-20 otherwise), so read its p50
            await _paced(load, topics[0], int(rate * WARM_UP_S), rate, value_bytes, lambda i: WARM_UP)
        before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        await _paced(load, topics[0], n, rate, value_bytes, lambda i: str(i).encode())
        await load.flush()
        took: list[int] = []
        while len(took) < n:
            batches = await reader.getmany(timeout_ms=1000)
            took += [r.timestamp - int(r.value.split(b" ", 1)[0]) for records in batches.values() for r in records
                     if r.key != WARM_UP and r.value is not None]
        after, t1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    finally:
        stop.set()
        if relay is not None:
            await relay
        await load.stop()
        await reader.stop()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"rps": round(n / (t1 - t0), 1), "cpu_ms_per_request": round(1000 * cpu / n, 3),
            **{f"p{q}_ms": percentile(took, q / 100) for q in (50, 90, 99)}}


async def _paced(load: AIOKafkaProducer, topic: str, n: int, rate: float | None, value_bytes: int,
                 key: Callable[[int], bytes]) -> None:
    """``n`` records, at ``rate`` per second or all at once, each value starting with its send time."""
    t0 = time.monotonic()
    for i in range(n):
        if rate:
            await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
        sent_ms = str(int(time.time() * 1000)).encode()
        await load.send(topic, sent_ms.ljust(value_bytes, b" "), key=key(i))


async def _delete(bootstrap: str, topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(topics)
    finally:
        await admin.close()


async def _leaders_ready(producer: AIOKafkaProducer, topics: list[str], partitions: int) -> None:
    """One acked record on every partition of the new topics: their leaders serve before any consumer
    asks. The producer retries until they do; its warning per retry is only that election, so quiet."""
    sender = logging.getLogger("aiokafka.producer.sender")
    level = sender.level
    sender.setLevel(logging.ERROR)
    try:
        acks = [await producer.send(t, b"", key=WARM_UP, partition=p) for t in topics for p in range(partitions)]
        await asyncio.gather(*acks)
    finally:
        sender.setLevel(level)


async def _relay(bootstrap: str, topics: list[str], group: str, stop: asyncio.Event, ready: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(*topics[:-1], bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", fetch_min_bytes=1, fetch_max_wait_ms=250)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks="all")
    await consumer.start()
    await producer.start()
    nxt = {t: topics[i + 1] for i, t in enumerate(topics[:-1])}
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            if consumer.assignment():
                ready.set()
            sent = [await producer.send(nxt[tp.topic], r.value, key=r.key) for tp, records in batches.items()
                    for r in records]
            if sent:
                await asyncio.gather(*sent)
    finally:
        await consumer.stop()
        await producer.stop()
