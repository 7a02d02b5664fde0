"""The worker's consumer is built with the fetch limits we set (Faust has no setting for them)."""

from __future__ import annotations

from typing import Any

import faust

from streams.fetching import tune_fetching


async def test_the_consumer_faust_builds_carries_our_fetch_limits() -> None:
    app = faust.App("fetch-test", broker="kafka://127.0.0.1:1", store="memory://")
    tune_fetching(app, 65536, 7)
    thread = _consumer(app)._new_consumer_thread()
    built = thread._create_worker_consumer(app.transport)
    assert (built._fetch_min_bytes, built._fetch_max_wait_ms) == (65536, 7)
    untouched = faust.App("fetch-test-2", broker="kafka://127.0.0.1:1", store="memory://")
    plain = _consumer(untouched)._new_consumer_thread()
    assert plain._create_worker_consumer(untouched.transport)._fetch_min_bytes == 1


def _consumer(app: faust.App) -> Any:
    async def nothing(*_: Any) -> None:
        return None

    return app.transport.create_consumer(callback=nothing, on_partitions_revoked=nothing,
                                         on_partitions_assigned=nothing)
