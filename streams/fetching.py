"""How eagerly a worker's Faust consumer fetches: ``fetch_min_bytes`` and ``fetch_max_wait_ms``.

Faust builds its aiokafka consumer with ``fetch_min_bytes=1`` (the broker answers a fetch as soon
as one byte is there) and offers no setting for it. Under paced traffic that means one fetch
round trip per message, each decoding a response for every assigned partition in pure Python on
the consumer thread and handing it to the event loop across threads: measured on 2026-12-02 at
46 requests/s, the pipeline worker spent 16 ms of CPU per request (6.5 ms in a burst), a third of
it on the consumer thread. Asking the broker to wait until ``min_bytes`` are there or
``max_wait_ms`` has passed bounds the fetches per second whatever the rate, at the cost of at
most ``max_wait_ms`` per hop when traffic is thin. With 2 ms for the stages and 250 ms for the sink
(``make bench``, same day): the paced run at 50 % of the burst rate went from a p50 of 889 ms and
growing (the stall) to 70 ms and flat, at 75 % from 9.2 s to 0.3 s; the sink's CPU per request
fell from 1.6 to 0.5 ms in the burst.

The price of a 2 ms wait is paid when nothing comes: an idle consumer then asks 500 times a second.
So after about 100 ms of empty answers a consumer switches to idle mode (``adapt_fetches``): its
fetch waits at the broker for the first byte, and the answer that brings one switches back.

The rest of the stall near capacity was how the consumer hands fetched messages on, one per turn of
the event loop; the consumer built here delivers them at once (``streams/drain.py``).
"""

from __future__ import annotations

from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

from streams.drain import deliver_first

IDLE_AFTER = 50  # answers in a row without a record (about 100 ms of silence) before a consumer counts as idle
IDLE_WAIT_MS = 250  # how long an idle consumer's fetch waits at the broker for its first byte


def tune_fetching(app: faust.App, min_bytes: int, max_wait_ms: int, idle: bool = False) -> None:
    """Make ``app``'s consumer (built later, when the worker starts) fetch with these limits; with
    ``idle``, an idle consumer's fetch waits for the first byte instead (see ``adapt_fetches``)."""

    class _Thread(AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_min_bytes = min_bytes  # read by AIOKafkaConsumer.start() for its Fetcher
            consumer._fetch_max_wait_ms = max_wait_ms
            if idle:
                consumer.__class__ = _adaptive(type(consumer))
            return consumer

    class _Consumer(Consumer):
        def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
            return _Thread(self, loop=self.loop, beacon=self.beacon)

        async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:  # each fetched message, at once
            return await deliver_first(self.suspend_flow, super().wait_first, coros, timeout)

    app.transport.Consumer = _Consumer  # type: ignore[misc]  # this app's transport only, not the class


def _adaptive(base: type[AIOKafkaConsumer]) -> type[AIOKafkaConsumer]:
    class Adaptive(base):
        async def start(self) -> None:
            await super().start()
            adapt_fetches(self._fetcher)

    return Adaptive


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
