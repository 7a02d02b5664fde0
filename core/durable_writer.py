"""Writing outcome rows durably: the one writer loop the sink and feedback agents share.

A batch is written whole when it can be. When ClickHouse refuses it for its content, the batch
is split in halves until the rows it refuses are isolated; those go to the outcomes DLQ with
the reason (and a ``dead_letters`` row), the rest are written. When the server itself fails
(the writer says ``retryable``), the write is retried with capped backoff until it succeeds or
the worker stops; the caller acks only after ``write`` returned, so a stopped worker leaves
the batch uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import orjson

from core import outcomes
from core.clock import Clock
from core.dedup import SeenCache
from core.errors import SinkError
from core.facts import RowRefused
from core.ports import Outbox, RowWriter
from core.publisher import Publisher

log = logging.getLogger(__name__)


def row_problem(table: str, row: Any) -> str | None:
    """Why a row cannot be written to ``table`` whatever the server says (pure)."""
    cols = outcomes.COLUMNS.get(table)
    if cols is None:
        return f"unknown table {table[:100]!r}"
    if not isinstance(row, dict):
        return f"expected an object, got {type(row).__name__}"
    missing = [c for c in cols if c not in row]
    if missing:
        return f"missing columns: {', '.join(missing[:10])}"
    return None


class DurableWriter:
    def __init__(self, writer: RowWriter, clock: Clock, outbox: Outbox, publisher: Publisher,
                 max_backoff_s: float = 5.0) -> None:
        self.writer, self.clock, self.outbox, self.publisher = writer, clock, outbox, publisher
        self.max_backoff_s = max_backoff_s
        self.refused = 0

    async def write(self, table: str, rows: list[dict[str, Any]]) -> list[RowRefused]:
        """Write ``rows``; return the ones ClickHouse refused for their content."""
        delay = 0.1
        while True:
            try:
                return await self._split(table, rows)
            except SinkError as exc:  # retryable: the server, not the rows
                log.warning("%s; retrying in %.1fs", exc, delay)
            await self.clock.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _split(self, table: str, rows: list[dict[str, Any]]) -> list[RowRefused]:
        try:
            await asyncio.to_thread(self.writer.insert, table, rows)
            return []
        except SinkError as exc:
            if exc.retryable:
                raise
            if len(rows) == 1:
                return [RowRefused(table, rows[0], str(exc))]
        mid = len(rows) // 2
        return [*await self._split(table, rows[:mid]), *await self._split(table, rows[mid:])]

    async def set_aside(self, refusals: list[RowRefused]) -> None:
        """Refused rows to the outcomes DLQ, and a dead_letters row each (best effort)."""
        if not refusals:
            return
        self.refused += len(refusals)
        now = self.clock.now_ms()
        dlq = self.publisher.names.outcomes_dlq
        log.error("%d outcome rows refused and set aside on %s (first: %s)", len(refusals), dlq, refusals[0].reason)
        rows = []
        for r in refusals:
            topic, partition, offset = r.source
            rows.append(outcomes.dead_letter_row("sink", topic, partition, offset, r.request_id, r.reason, dlq, now))
        await self.outbox.send_all(self.publisher.publish(refusals))
        try:
            await asyncio.to_thread(self.writer.insert, "dead_letters", rows)
        except SinkError as exc:
            log.error("dead_letters rows not written (%s); the DLQ topic has the refused rows", exc)


def unreadable(raw: bytes | None, reason: str, source: tuple[str, int, int]) -> RowRefused:
    text = (raw or b"")[:2000].decode("utf-8", "replace")
    return RowRefused("", {"raw": text}, reason, source)


Source = tuple[str, int, int]  # topic, partition, offset


def group_rows(messages: list[tuple[bytes | None, Source]]) -> tuple[dict[str, list[dict[str, Any]]],
                                                                        dict[int, Source], list[RowRefused]]:
    """Rows by table, where each row came from, and the messages that cannot be written whatever
    ClickHouse says."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sources: dict[int, Source] = {}
    bad: list[RowRefused] = []
    for raw, source in ((row, source) for value, source in messages for row in outcomes.rows_in(value)):
        try:
            msg = orjson.loads(raw or b"")
            table, row = msg["t"], msg["r"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            bad.append(unreadable(raw, f"unreadable outcome message ({type(exc).__name__})", source))
            continue
        problem = row_problem(table, row) if isinstance(table, str) else "table name is not a string"
        if problem is None:
            tables[table].append(row)
            sources[id(row)] = source
        else:
            bad.append(RowRefused(str(table)[:100], row, problem, source))
    return tables, sources, bad


def first_copies(rows: list[dict[str, Any]], seen: SeenCache, now_ms: int) -> list[dict[str, Any]]:
    """One row per request id, leaving out ids this sink has written lately."""
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        rid = str(r["request_id"])
        if rid not in fresh and not seen.seen(rid, now_ms):
            fresh[rid] = r
    return list(fresh.values())
