"""``llm-router dlq replay``: put dead-lettered messages back where they came from, after a fix.

    llm-router dlq replay requests|internal|outcomes [--request-id ID ...] [--code CODE] [--limit N]
                          [--dry-run]

- ``requests``: a refused request (unknown tenant before the catalog had it, a reply topic not
  yet allowed...) goes back on the requests topic with its original bytes and key.
- ``internal``: an internal event a stage set aside goes back on the stage topic it was read
  from (only the pipeline's own stage topics; anything else is skipped and said so).
- ``outcomes``: a row the sink refused goes back on the outcomes topic as the row it was.

The copy in a DLQ record is bounded; when it was truncated the original is read from its source
offset instead (skipped, with the reason, if retention has removed it). The DLQ is read up to its
end at the start, so replaying what is refused again never loops. Note: a worker answers a request
id once within its dedup window (``core/dedup.py``), so a request refused minutes ago and replayed
with the same id is set aside again as a repeat; replay after the window, as an operator fixing
the cause naturally does.

Exit codes: 0 every selected record replayed (or listed, with ``--dry-run``); 1 some skipped; 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from core.config import Settings
from core.topics import TopicNames

KINDS = ("requests", "internal", "outcomes")


@dataclass(frozen=True)
class Replay:
    topic: str
    key: bytes
    value: bytes | None  # None: read the original at ``source``
    source: tuple[str, int, int] | None = None


def dlq_topic(kind: str, names: TopicNames) -> str:
    return {"requests": names.requests_dlq, "internal": names.internal_dlq, "outcomes": names.outcomes_dlq}[kind]


def plan(kind: str, key: bytes | None, record: dict[str, Any], names: TopicNames) -> Replay | str:
    """What to send for one DLQ record, or why it cannot be replayed (pure)."""
    if kind == "outcomes":
        table, row = record.get("table"), record.get("row")
        if not isinstance(table, str) or not table or not isinstance(row, dict):
            return "no table and row in the record (an unreadable outcome message: nothing to replay)"
        return Replay(names.outcomes, key or b"", orjson.dumps({"t": table, "r": row}))
    src: dict[str, Any] = record["source"] if isinstance(record.get("source"), dict) else {}
    topic = src.get("topic") if kind == "internal" else names.requests
    stage_topics = {names.classified, names.escalations, names.routed, names.invoked}
    if kind == "internal" and topic not in stage_topics:
        return f"its source topic {topic!r} is not a pipeline stage topic"
    source = None
    if isinstance(src.get("topic"), str) and isinstance(src.get("partition"), int) and isinstance(src.get("offset"),
                                                                                                  int):
        source = (src["topic"], src["partition"], src["offset"])
    if record.get("payload_truncated"):
        if source is None or source[1] < 0:
            return "the copy was truncated and the record names no source offset"
        return Replay(str(topic), key or b"", None, source)
    if isinstance(record.get("payload"), str):
        return Replay(str(topic), key or b"", record["payload"].encode())
    if isinstance(record.get("payload_b64"), str):
        return Replay(str(topic), key or b"", base64.b64decode(record["payload_b64"]))
    return "the record carries no payload"


def _selected(record: dict[str, Any], key: bytes | None, ids: set[str], code: str) -> bool:
    if ids and (key or b"").decode("utf-8", "replace") not in ids:
        return False
    err: dict[str, Any] = record["error"] if isinstance(record.get("error"), dict) else {}
    return not code or err.get("code") == code


def main(rest: list[str]) -> int:
    p = argparse.ArgumentParser(prog="llm-router dlq", description="dlq replay: re-publish DLQ entries after a fix")
    p.add_argument("action", choices=["replay"])
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--request-id", action="append", default=[], help="only these keys (repeatable)")
    p.add_argument("--code", default="", help="only records with this error code")
    p.add_argument("--limit", type=int, default=0, help="at most this many (0: all)")
    p.add_argument("--dry-run", action="store_true", help="list what would be replayed, send nothing")
    args = p.parse_args(rest)
    settings = Settings.from_env()
    replayed, skipped = asyncio.run(_replay(settings, args.kind, set(args.request_id), args.code, args.limit,
                                            args.dry_run))
    verb = "would replay" if args.dry_run else "replayed"
    print(f"{verb} {replayed}, skipped {skipped}", file=sys.stderr)
    return 1 if skipped else 0


async def _replay(settings: Settings, kind: str, ids: set[str], code: str, limit: int, dry_run: bool
                  ) -> tuple[int, int]:
    names = TopicNames(settings.topic_prefix)
    kw = settings.kafka_client_kwargs()
    reader = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                              **kw)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", **kw)
    await reader.start()
    await producer.start()
    replayed = skipped = 0
    try:
        for msg_key, record, where in await _records(reader, dlq_topic(kind, names)):
            if limit and replayed + skipped >= limit:
                break
            if not _selected(record, msg_key, ids, code):
                continue
            step = plan(kind, msg_key, record, names)
            if isinstance(step, Replay) and step.value is None and step.source is not None:
                original = await _read_at(reader, *step.source)
                step = Replay(step.topic, step.key, original) if original is not None else \
                    "the copy was truncated and the original is gone from its source offset"
            if isinstance(step, str):
                skipped += 1
                print(orjson.dumps({"skipped": where, "reason": step}).decode())
                continue
            replayed += 1
            print(orjson.dumps({"replay": where, "to": step.topic, "key": step.key.decode("utf-8", "replace"),
                                "bytes": len(step.value or b"")}).decode())
            if not dry_run:
                await producer.send_and_wait(step.topic, step.value, key=step.key or None)
    finally:
        await producer.stop()
        await reader.stop()
    return replayed, skipped


async def _records(reader: AIOKafkaConsumer, topic: str) -> list[tuple[bytes | None, dict[str, Any], str]]:
    """Every record on ``topic`` up to its end now (unreadable ones as an empty record)."""
    await reader._client.force_metadata_update()  # the same private call `publish` needs (see kafka_commands)
    parts = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or set())]
    if not parts:
        return []
    ends = await reader.end_offsets(parts)
    reader.assign(parts)
    await reader.seek_to_beginning(*parts)
    out: list[tuple[bytes | None, dict[str, Any], str]] = []
    remaining = {tp for tp in parts if ends[tp] > 0}
    while remaining:
        batch = await reader.getmany(*remaining, timeout_ms=2000)
        if not batch:
            break
        for tp, records in batch.items():
            for r in records:
                if r.offset >= ends[tp]:
                    remaining.discard(tp)
                    break
                try:
                    record = orjson.loads(r.value or b"")
                except orjson.JSONDecodeError:
                    record = {}
                out.append((r.key, record if isinstance(record, dict) else {}, f"{tp.topic}:{tp.partition}:{r.offset}"))
                if r.offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    return out


async def _read_at(reader: AIOKafkaConsumer, topic: str, partition: int, offset: int) -> bytes | None:
    tp = TopicPartition(topic, partition)
    reader.assign([tp])
    reader.seek(tp, offset)
    batch = await reader.getmany(tp, timeout_ms=3000, max_records=1)
    records = batch.get(tp, [])
    return records[0].value if records and records[0].offset == offset else None
