"""``llm-router publish`` and ``llm-router tail``: the operator's view of the topics."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from core.config import Settings
from core.errors import InvalidRequestError
from core.request import decode_json_object, request_from_payload
from core.topics import TopicNames


def publish(rest: list[str]) -> int:
    """Send one request (a JSON file, or - for stdin) and print its response; 0 when the response is ok,
    1 when it is an error response or none came in time, 2 when the request is not valid."""
    p = argparse.ArgumentParser(prog="llm-router publish")
    p.add_argument("file", help="a JSON request, or - for standard input")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the response")
    args = p.parse_args(rest)
    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        request = request_from_payload(decode_json_object(raw))
    except InvalidRequestError as exc:
        print(f"error: not a valid request: {'; '.join(exc.problems)}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    reply = request.reply_topic or names.responses
    body = asyncio.run(_publish_and_wait(settings, names.requests, reply, request.request_id, raw, args.timeout))
    if body is None:
        print(f"no response for {request.request_id} on {reply} within {args.timeout:g} s", file=sys.stderr)
        return 1
    print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    return 0 if body.get("status") == "ok" else 1


async def _publish_and_wait(settings: Settings, topic: str, reply: str, rid: str, raw: bytes,
                            timeout_s: float) -> dict[str, Any] | None:
    kw = settings.kafka_client_kwargs()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                enable_auto_commit=False, **kw)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", **kw)
    await consumer.start()
    await producer.start()
    try:
        parts = [TopicPartition(reply, p) for p in (consumer.partitions_for_topic(reply) or set())]
        if not parts:  # not in the first metadata: aiokafka's public topics() fills another cache, so ask directly
            await consumer._client.force_metadata_update()
            parts = [TopicPartition(reply, p) for p in (consumer.partitions_for_topic(reply) or set())]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)  # only answers that come after the request
        await producer.send_and_wait(topic, raw, key=rid.encode())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for rec in records:
                    body = orjson.loads(rec.value)
                    if isinstance(body, dict) and body.get("request_id") == rid:
                        return body
        return None
    finally:
        await producer.stop()
        await consumer.stop()


_TOPICS = {"responses": "responses", "dlq": "requests_dlq", "internal-dlq": "internal_dlq",
           "outcomes-dlq": "outcomes_dlq"}


def tail(rest: list[str]) -> int:
    """Print a topic's messages as JSON lines, following new ones (``--max`` stops after N)."""
    p = argparse.ArgumentParser(prog="llm-router tail")
    p.add_argument("which", choices=sorted(_TOPICS), nargs="?", default="responses")
    p.add_argument("--from-beginning", action="store_true", help="start at the oldest retained message")
    p.add_argument("--max", type=int, default=0, help="stop after this many messages (0: follow)")
    p.add_argument("--idle-exit", type=float, default=0.0, help="stop after this many seconds without a message")
    args = p.parse_args(rest)
    settings = Settings.from_env()
    topic = getattr(TopicNames(settings.topic_prefix), _TOPICS[args.which])
    try:
        return asyncio.run(_tail(settings, topic, args.from_beginning, args.max, args.idle_exit))
    except KeyboardInterrupt:
        return 0


async def _tail(settings: Settings, topic: str, from_beginning: bool, max_n: int, idle_exit: float) -> int:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest" if from_beginning else "latest",
                                **settings.kafka_client_kwargs())
    await consumer.start()
    seen, last = 0, time.monotonic()
    try:
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for rec in records:
                    try:
                        line = orjson.dumps(orjson.loads(rec.value)).decode()
                    except orjson.JSONDecodeError:
                        line = orjson.dumps({"undecodable": True, "bytes": len(rec.value or b"")}).decode()
                    print(line, flush=True)
                    seen, last = seen + 1, time.monotonic()
                    if max_n and seen >= max_n:
                        return 0
            if idle_exit and time.monotonic() - last > idle_exit:
                return 0
    finally:
        await consumer.stop()
