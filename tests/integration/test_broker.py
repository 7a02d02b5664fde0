"""The real broker: topics are created explicitly with their partition counts; a raw round trip works."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from core.topics import TopicNames
from streams.topics import ensure_topics


async def test_topics_created_with_partitions_and_idempotently(bootstrap: str) -> None:
    names = TopicNames(f"t{uuid.uuid4().hex[:6]}.")
    created = await ensure_topics(bootstrap, names, partitions=3)
    assert sorted(created) == sorted(names.all())
    assert await ensure_topics(bootstrap, names, partitions=3) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([names.requests])
        assert len(described[0]["partitions"]) == 3
    finally:
        await admin.close()


async def test_raw_round_trip(bootstrap: str) -> None:
    topic = TopicNames(f"r{uuid.uuid4().hex[:6]}.")
    await ensure_topics(bootstrap, topic, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic.requests, b"v", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic.requests, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 20)
        assert (msg.key, msg.value) == (b"k", b"v")
    finally:
        await consumer.stop()


def test_the_kafka_floor_relays_every_record_through_four_topics_and_leaves_none(bootstrap: str) -> None:
    """``make bench``'s reference: it returns only once every record reached the last topic, and the
    topics it made are gone afterwards (a user's own broker keeps none of them)."""
    from tests.integration.conftest import wait_until
    from tooling.kafka_floor import relay_floor

    floor = relay_floor(bootstrap, n=300)
    assert floor["rps"] > 0 and floor["cpu_ms_per_request"] > 0
    paced = relay_floor(bootstrap, n=60, rate=200)  # paced: every record still relayed, at the pace asked
    assert paced["rps"] <= 200 * 1.05
    assert 0 <= paced["p50_ms"] <= paced["p90_ms"] <= paced["p99_ms"]

    async def floor_topics() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return [t for t in await admin.list_topics() if t.startswith("floor-")]
        finally:
            await admin.close()

    wait_until(lambda: asyncio.run(floor_topics()) == [], 30, "the floor's topics deleted")
