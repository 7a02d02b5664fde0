"""sink: outcome rows to ClickHouse in large batches.

A failed insert is retried in place with capped backoff until it succeeds or the worker
stops, so the partition does not advance past rows that were not written (backpressure).
A crash before the ack replays the batch, which the ReplacingMergeTree tables collapse.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import orjson

from agents import SinkDeps
from core.errors import SinkError

log = logging.getLogger(__name__)


def group_rows(values: list[bytes]) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Rows by table, and how many messages could not be read (logged, never inserted)."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    bad = 0
    for raw in values:
        try:
            msg = orjson.loads(raw)
            tables[msg["t"]].append(msg["r"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            bad += 1
    return tables, bad


def register(app: Any, source: Any, deps: SinkDeps) -> Any:
    writer, clock = deps.writer, deps.clock

    async def write(table: str, rows: list[dict[str, Any]]) -> None:
        delay = 0.1
        while True:
            try:
                await asyncio.to_thread(writer.insert, table, rows)
                return
            except SinkError as exc:
                log.warning("%s; retrying in %.1fs", exc, delay)
            except Exception:
                log.exception("unexpected sink failure for %s; retrying", table)
            await clock.sleep(delay)
            delay = min(delay * 2, deps.max_backoff_s)

    @app.agent(source, name="sink", concurrency=1)
    async def sink(stream: Any) -> None:
        async for events in stream.take_events(deps.batch, within=deps.within_s):
            tables, bad = group_rows([e.value for e in events])
            if bad:
                log.error("sink: %d outcome messages were unreadable and skipped", bad)
            for table, rows in tables.items():
                if table in writer.rows_written:
                    await write(table, rows)
                else:
                    log.error("sink: %d rows for unknown table %r skipped", len(rows), table)

    return sink

