"""sink: outcome rows to ClickHouse in large batches.

Each batch is acked only after its rows were written (or refused rows set aside on the
outcomes DLQ): a worker stopped while ClickHouse is down commits nothing it did not write, and
the batch is replayed, which the ReplacingMergeTree tables collapse. Request rows already
written by this sink (a pipeline replay, or a sink restart within the last minutes) are not
written again, so the daily rollup counts each request once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import orjson

from agents import SinkDeps, batches
from core.durable_writer import DurableWriter, Refusal, row_problem, unreadable
from core.dedup import SeenCache

log = logging.getLogger(__name__)


def group_rows(values: list[bytes | None]) -> tuple[dict[str, list[dict[str, Any]]], list[Refusal]]:
    """Rows by table, and the messages that cannot be written whatever ClickHouse says."""
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    bad: list[Refusal] = []
    for raw in values:
        try:
            msg = orjson.loads(raw or b"")
            table, row = msg["t"], msg["r"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            bad.append(unreadable(raw, f"unreadable outcome message ({type(exc).__name__})"))
            continue
        problem = row_problem(table, row) if isinstance(table, str) else "table name is not a string"
        if problem is None:
            tables[table].append(row)
        else:
            bad.append(Refusal(str(table)[:100], row, problem))
    return tables, bad


def first_copies(rows: list[dict[str, Any]], seen: SeenCache, now_ms: int) -> list[dict[str, Any]]:
    """One row per request id, leaving out ids this sink has written lately."""
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        rid = str(r["request_id"])
        if rid not in fresh and not seen.seen(rid, now_ms):
            fresh[rid] = r
    return list(fresh.values())


def register(app: Any, source: Any, deps: SinkDeps) -> Any:
    durable = DurableWriter(deps.writer, deps.clock, deps.outbox, deps.names, deps.max_backoff_s)
    seen = deps.written_requests

    @app.agent(source, name="sink", concurrency=1)
    async def sink(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            tables, refused = group_rows([e.value for e in events])
            now = deps.clock.now_ms()
            for table, rows in tables.items():
                if table == "requests":
                    rows = first_copies(rows, seen, now)
                    if not rows:
                        continue
                failed = await durable.write(table, rows)
                refused.extend(failed)
                if table == "requests":
                    not_written = {id(f.row) for f in failed}
                    for r in rows:
                        if id(r) not in not_written:
                            seen.first(str(r["request_id"]), now)
            await durable.set_aside(refused)

    return sink
