"""The worker's consumer is built with the fetch limits we set (Faust has no setting for them), on the
worker's loop; the spend follower's idle mode."""

from __future__ import annotations

from typing import Any

import faust

from streams.consumer_loop import InLoopConsumerThread
from streams.fetching import IDLE_AFTER, IDLE_WAIT_MS, adapt_fetches, tune_fetching


async def test_the_consumer_faust_builds_carries_our_fetch_limits() -> None:
    app = faust.App("fetch-test", broker="kafka://127.0.0.1:1", store="memory://")
    tune_fetching(app, 65536, 7)
    thread = _consumer(app)._new_consumer_thread()
    built = thread._create_worker_consumer(app.transport)
    assert (built._fetch_min_bytes, built._fetch_max_wait_ms) == (65536, 7)
    assert isinstance(thread, InLoopConsumerThread) and thread.thread_loop is thread.parent_loop
    untouched = faust.App("fetch-test-2", broker="kafka://127.0.0.1:1", store="memory://")
    plain = _consumer(untouched)._new_consumer_thread()
    assert plain._create_worker_consumer(untouched.transport)._fetch_min_bytes == 1


def _consumer(app: faust.App) -> Any:
    async def nothing(*_: Any) -> None:
        return None

    return app.transport.create_consumer(callback=nothing, on_partitions_revoked=nothing,
                                         on_partitions_assigned=nothing)


class _State:
    def __init__(self) -> None:
        self.paused = False


class _Assignment:
    """The two things ``adapt_fetches`` reads of aiokafka's assignment."""

    def __init__(self, partitions: int) -> None:
        self.tps = list(range(partitions))
        self.states = {tp: _State() for tp in self.tps}

    def state_value(self, tp: int) -> _State:
        return self.states[tp]


class _Fetcher:
    """aiokafka's fetcher as far as ``adapt_fetches`` touches it: its limits and its fetch call,
    answered from a script (True: the answer brought records)."""

    def __init__(self, answers: list[bool]) -> None:
        self._fetch_min_bytes, self._fetch_max_wait_ms = 65536, 2
        self.answers = answers
        self.sent_with: list[tuple[int, int]] = []

    async def _proc_fetch_request(self, assignment: Any, node_id: int, request: Any) -> bool:
        self.sent_with.append((self._fetch_min_bytes, self._fetch_max_wait_ms))
        return self.answers.pop(0)


async def test_an_idle_consumer_waits_at_the_broker_for_the_first_byte_and_traffic_brings_back_the_limits() -> None:
    fetcher, assignment = _Fetcher([False] * IDLE_AFTER + [False, True, False]), _Assignment(3)
    adapt_fetches(fetcher)
    for _ in range(IDLE_AFTER + 3):
        await fetcher._proc_fetch_request(assignment, 1, None)
    busy, idle = (65536, 2), (1, IDLE_WAIT_MS)
    assert fetcher.sent_with == [busy] * IDLE_AFTER + [idle, idle, busy]  # silence -> idle; a record -> busy


async def test_a_paused_partition_keeps_the_consumer_busy_so_its_resume_is_not_held_by_a_long_fetch() -> None:
    fetcher, assignment = _Fetcher([False] * (IDLE_AFTER + 2)), _Assignment(3)
    assignment.states[2].paused = True  # Faust's flow control paused it; a long fetch would delay its resume
    adapt_fetches(fetcher)
    for _ in range(IDLE_AFTER + 2):
        await fetcher._proc_fetch_request(assignment, 1, None)
    assert set(fetcher.sent_with) == {(65536, 2)}
