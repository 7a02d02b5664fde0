"""sink: outcome rows to ClickHouse in large batches.

Each batch is acked only after its rows were written (or refused rows set aside on the
outcomes DLQ): a worker stopped while ClickHouse is down commits nothing it did not write, and
the batch is replayed, which the ReplacingMergeTree tables collapse. Request rows already
written by this sink (a pipeline replay, or a sink restart within the last minutes) are not
written again, so the daily rollup counts each request once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from agents import SinkDeps, batches, release
from core.durable_writer import DurableWriter, Source, first_copies, group_rows
from core.publisher import Publisher

log = logging.getLogger(__name__)


def register(app: Any, source: Any, deps: SinkDeps) -> Any:
    durable = DurableWriter(deps.writer, deps.clock, deps.outbox, Publisher(deps.names), deps.max_backoff_s)
    seen = deps.written_requests

    @app.agent(source, name="sink", concurrency=1)
    async def sink(stream: Any) -> None:
        async for events in batches(stream, deps.batch, deps.within_s):
            tables, sources, refused = group_rows([(e.value, _source(e)) for e in events])
            now = deps.clock.now_ms()
            for table, grouped in tables.items():
                rows = first_copies(grouped, seen, now) if table == "requests" else grouped
                if not rows:
                    continue
                failed = [replace(f, source=sources[id(f.row)]) for f in await durable.write(table, rows)]
                refused.extend(failed)
                if table == "requests":
                    not_written = {id(f.row) for f in failed}
                    for r in rows:
                        if id(r) not in not_written:
                            seen.first(str(r["request_id"]), now)
            await durable.set_aside(refused)
            release(events)()

    return sink


def _source(event: Any) -> Source:
    m = event.message
    return m.topic, m.partition, m.offset
