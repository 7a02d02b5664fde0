"""Latency versus load, and where a request's time goes between the four stages.

``load_table`` paces requests at fractions of the measured burst rate and reports p50/p99
overhead and whether every tenth of each run stayed within 2x of its median (a run that jumps
to seconds and stays there fails that). ``hops`` splits the overhead by stage from the broker
timestamps of each request's messages on the stage topics; ``kafka_hop`` is the physical
reference in the same run: one produce-to-consume hop with a bare aiokafka client on the same
broker, paced, nothing else in its way.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

FRACTIONS = (0.10, 0.25, 0.50, 0.75)


def percentile(values: Sequence[float], q: float) -> float:
    """The value at quantile ``q`` (0..1) of ``values`` (nearest rank, no interpolation)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_table(phase: Callable[[str, int, float], dict[str, Any]], burst_rps: float,
               seconds: float = 8.0) -> list[dict[str, Any]]:
    rows = []
    for frac in FRACTIONS:
        rate = max(5.0, round(burst_rps * frac, 1))
        result = phase(f"load{int(frac * 100)}-", max(50, int(rate * seconds)), rate)
        tenths, median = result["p50_by_tenth_ms"], max(result["p50_ms"], 1)
        rows.append({"fraction": frac, "rate": rate, **result,
                     "steady": bool(tenths) and all(median / 2 <= t <= 2 * median for t in tenths)})
    return rows


def print_load_table(rows: list[dict[str, Any]]) -> None:
    print("latency versus load (paced; overhead = response's broker timestamp minus the request's):")
    print("  | share of burst | req/s | answered | p50 ms | p99 ms | p50 by tenth (ms) | each tenth within 2x "
          "| CPU ms per request | cores kept busy |")
    print("  |---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cpu = r.get("cpu_ms", {})
        print(f"  | {r['fraction']:.0%} | {r['rate']:g} | {r['answered']}/{r['requests']} | {r['p50_ms']} | "
              f"{r['p99_ms']} | {r['p50_by_tenth_ms']} | {'yes' if r['steady'] else 'NO'} | "
              + ", ".join(f"{k} {v}" for k, v in cpu.items())
              + f" | {sum(cpu.values()) * r['rate'] / 1000:.2f} |")


async def _first_stamps(bootstrap: str, topics: list[str], prefix: bytes) -> dict[str, dict[bytes, int]]:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    out: dict[str, dict[bytes, int]] = {t: {} for t in topics}
    try:
        idle = 0
        while idle < 2:
            got = await consumer.getmany(timeout_ms=1000)
            idle = 0 if got else idle + 1
            for tp, records in got.items():
                for r in records:
                    if r.key is not None and r.key.startswith(prefix):
                        out[tp.topic].setdefault(r.key, r.timestamp)
    finally:
        await consumer.stop()
    return out


def hops(bootstrap: str, topics: list[str], prefix: str) -> list[tuple[str, int, int]]:
    """(from -> to, p50 ms, p90 ms) between consecutive topics, for the requests whose key starts
    with ``prefix``."""
    stamps = asyncio.run(_first_stamps(bootstrap, topics, prefix.encode()))
    out = []
    for a, b in itertools.pairwise(topics):
        gaps = sorted(stamps[b][k] - t for k, t in stamps[a].items() if k in stamps[b])
        if gaps:
            out.append((f"{_stage(a)} -> {_stage(b)}", gaps[len(gaps) // 2], gaps[int(len(gaps) * 0.9)]))
    return out


def _stage(topic: str) -> str:
    """"x.llm.routed.v1" -> "routed"."""
    parts = topic.split(".")
    return parts[-2] if len(parts) >= 2 else topic


async def _kafka_hop(bootstrap: str, n: int, interval_s: float, linger_ms: int) -> list[float]:
    topic = f"hop-reference-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=-1, linger_ms=linger_ms)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    gaps: list[float] = []
    try:
        await producer.send_and_wait(topic, b"warm")
        await consumer.getone()

        async def read() -> None:
            while len(gaps) < n:
                m = await consumer.getone()
                gaps.append(time.time() * 1000 - m.timestamp)

        reader = asyncio.create_task(read())
        for _ in range(n):
            await producer.send(topic, b"x")
            await asyncio.sleep(interval_s)
        await asyncio.wait_for(reader, 30)
    finally:
        await producer.stop()
        await consumer.stop()
    return sorted(gaps)


def kafka_hop(bootstrap: str, linger_ms: int, n: int = 200, interval_s: float = 0.03) -> tuple[float, float]:
    """p50 and p90 ms of one bare produce-to-consume hop on this broker."""
    gaps = asyncio.run(_kafka_hop(bootstrap, n, interval_s, linger_ms))
    return round(gaps[len(gaps) // 2], 1), round(gaps[int(len(gaps) * 0.9)], 1)
