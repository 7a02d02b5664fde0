"""How eagerly a worker's Faust consumer fetches: ``fetch_min_bytes`` and ``fetch_max_wait_ms``.

Faust builds its aiokafka consumer with ``fetch_min_bytes=1`` (the broker answers a fetch as soon
as one byte is there) and offers no setting for it; ``tune_fetching`` sets both limits. History,
because the right answer changed twice:

- Session 7 (2026-12-02): with Faust's consumer thread and its one-message-per-loop-turn delivery,
  one-byte fetches cost a round trip and a cross-thread hand-over per message; asking the broker to
  wait up to 2 ms for 64 KiB removed the stall at half load (p50 889 ms and growing -> 70 ms flat).
  The price, an idle consumer asking 500 times a second, was paid back by an idle mode
  (``adapt_fetches``): after about 100 ms of empty answers the fetch waits for the first byte.
- Session 11 (2026-12-03): once fetched messages are delivered at once (``streams/drain.py``) and
  the consumer runs on the worker's loop (``streams/consumer_loop.py``), the 2 ms wait is only
  latency: the stages now fetch at the first byte again, waiting up to 250 ms at the broker when
  nothing comes (so idle costs four fetches a second and needs no idle mode). Same hour, one
  worker: paced at 250 requests/s p50 83-122 ms instead of 178-333, a burst 630-687 requests/s
  instead of 477-564, and the broker's CPU per request in the burst 0.17-0.22 ms instead of
  0.61-0.76 (the consumer asks again only when it has taken what it fetched).

The sink (which writes every half second anyway) and the spend and verdict follower
(``streams/ledger.py``) still wait for company, the follower with the idle mode.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

from streams.consumer_loop import InLoopConsumerThread
from streams.drain import deliver_first

IDLE_AFTER = 50  # answers in a row without a record (about 100 ms of silence) before a consumer counts as idle
IDLE_WAIT_MS = 250  # how long an idle consumer's fetch waits at the broker for its first byte


def tune_fetching(app: faust.App, min_bytes: int, max_wait_ms: int) -> None:
    """Make ``app``'s consumer (built later, when the worker starts) run on the worker's loop, fetch
    with these limits and deliver what it fetched at once."""

    class _Thread(InLoopConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_min_bytes = min_bytes  # read by AIOKafkaConsumer.start() for its Fetcher
            consumer._fetch_max_wait_ms = max_wait_ms
            return consumer

    class _Consumer(Consumer):
        def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
            return _Thread(self, loop=self.loop, beacon=self.beacon)

        async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:  # each fetched message, at once
            return await deliver_first(self.suspend_flow, super().wait_first, coros, timeout)

    app.transport.Consumer = _Consumer  # type: ignore[misc]  # this app's transport only, not the class


def adapt_fetches(fetcher: Any) -> None:
    """While traffic flows, fetch with the limits the fetcher was built with; once ``IDLE_AFTER``
    answers in a row brought nothing, ask for the first byte with a long wait instead.

    A busy-mode fetch (wait up to a few ms for many KiB) bounds the fetches per second under load,
    but an idle consumer then asks the broker hundreds of times a second for nothing: measured
    2026-12-02, an idle pipeline worker and the broker spent 22 % and 42 % of a core on it (1.5 %
    and 9.7 % in idle mode). In idle mode the fetch waits at the broker until a message arrives
    (answered at once) or ``IDLE_WAIT_MS`` passes; the answer that brings a record switches back to
    the busy limits. Idle mode needs a real silence: switching after three empty answers (6 ms) made
    moderate traffic alternate between the modes, half its fetches carried one message each, and at
    75 % of the burst rate a queue built. Nor while Faust has paused a partition (flow control): a
    long fetch in flight would hold back that partition's first fetch after the resume. aiokafka
    builds each fetch from ``_fetch_min_bytes`` and ``_fetch_max_wait_ms`` when it sends it, so
    setting them after an answer shapes the next one.
    """
    busy = (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)
    send = fetcher._proc_fetch_request
    empty = 0

    async def adaptive(assignment: Any, node_id: int, request: Any) -> bool:
        nonlocal empty
        got = bool(await send(assignment, node_id, request))
        empty = 0 if got else empty + 1
        idle = empty >= IDLE_AFTER and not any(assignment.state_value(tp).paused for tp in assignment.tps)
        fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = (1, IDLE_WAIT_MS) if idle else busy
        return got

    fetcher._proc_fetch_request = adaptive
