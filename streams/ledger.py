"""Keep the tenant budget ledger and the quality memory current from the outcomes topic.

Every pipeline worker reads the whole topic (no consumer group, nothing committed) from the
start of the current month, so each has the full picture however partitions are assigned; the
ledger skips replayed rows by request id. The outcomes topic keeps 35 days for this reason. The
quality memory learns from the verdict rows on the same pass (it keeps only the newest per model).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from core.budget import Ledger
from core.clock import Clock
from core.outcomes import is_row_of, rows_in
from core.quality_memory import QualityMemory
from core.verdicts import PendingVerdicts, learn_from_feedback
from streams.fetching import adapt_fetches

log = logging.getLogger(__name__)


def month_start_ms(now_ms: int) -> int:
    d = datetime.fromtimestamp(now_ms / 1000, UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)


def apply(ledger: Ledger, value: bytes | None) -> int:
    """Add the request rows with a cost in one outcome message to the ledger; return how many
    looked like request rows but could not be read (skipped: one bad row must not stop budgets)."""
    bad = 0
    for raw in rows_in(value):
        if not is_row_of(raw, "requests"):
            continue
        try:
            row = orjson.loads(raw)["r"]
            if row.get("cost_usd"):
                ledger.add(str(row["tenant"]), int(row["completed_at"]), float(row["cost_usd"]),
                           str(row["request_id"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            bad += 1
    return bad


async def follow(bootstrap: str, topic: str, ledger: Ledger, clock: Clock, memory: QualityMemory | None = None,
                 feedback_topic: str = "", **client_kwargs: Any) -> None:
    """Run until cancelled: catch up from the month's start, then follow new outcomes."""
    # subscribed without a group: the consumer assigns itself every partition and commits nothing
    topics = [topic, feedback_topic] if memory is not None and feedback_topic else [topic]
    # a fetch waits up to 50 ms for 64 KiB instead of returning each message on its own (see
    # streams/fetching.py): spend still applies within a tenth of a second, verdicts within a third
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_poll_records=5000, fetch_min_bytes=64 * 1024, fetch_max_wait_ms=50,
                                **client_kwargs)
    await consumer.start()
    adapt_fetches(consumer._fetcher)  # idle, it asks the broker 4 times a second instead of 20
    try:
        tps = await _assignment(consumer)
        start = month_start_ms(clock.now_ms())
        offsets = await consumer.offsets_for_times(dict.fromkeys(tps, start))
        for tp in tps:
            if offsets.get(tp) is not None:
                consumer.seek(tp, offsets[tp].offset)
            else:
                await consumer.seek_to_end(tp)
        pending = PendingVerdicts()  # spend applies at once; verdicts are learned a few times a second
        while True:
            batches = await consumer.getmany(timeout_ms=pending.wait_ms(clock.now_ms(), 1000))
            for tp, records in batches.items():
                values = [rec.value for rec in records]
                if tp.topic != topic and memory is not None:  # downstream feedback overrides the verifier,
                    _learn_held(pending, memory, topic)  # so the verdicts held so far go first
                    bad = learn_from_feedback(memory, values)
                else:
                    bad = sum(apply(ledger, v) for v in values)
                    pending.add(values if memory is not None else [], clock.now_ms())
                if bad:
                    log.warning("skipped %d unreadable rows or feedback events on %s", bad, tp.topic)
            if memory is not None and pending.due(clock.now_ms()):
                _learn_held(pending, memory, topic)
            ledger.prune(clock.now_ms())
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("stopped following %s; budgets and the quality memory are stale until restart", topic)
    finally:
        await consumer.stop()


def _learn_held(pending: PendingVerdicts, memory: QualityMemory, topic: str) -> None:
    if bad := pending.learn(memory):
        log.warning("skipped %d unreadable verdict rows on %s", bad, topic)


async def _assignment(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    for _ in range(100):
        tps = sorted(consumer.assignment())
        if tps:
            return tps
        await asyncio.sleep(0.1)  # the first metadata fetch assigns the partitions
    msg = "no partitions assigned to the ledger consumer"
    raise RuntimeError(msg)
