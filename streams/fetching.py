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
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer


def tune_fetching(app: faust.App, min_bytes: int, max_wait_ms: int) -> None:
    """Make ``app``'s consumer (built later, when the worker starts) fetch with these limits."""

    class _Thread(AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_min_bytes = min_bytes  # read by AIOKafkaConsumer.start() for its Fetcher
            consumer._fetch_max_wait_ms = max_wait_ms
            return consumer

    class _Consumer(Consumer):
        def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
            return _Thread(self, loop=self.loop, beacon=self.beacon)

    app.transport.Consumer = _Consumer  # type: ignore[misc]  # this app's transport only, not the class
