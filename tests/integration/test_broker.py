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
