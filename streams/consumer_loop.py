"""The worker's Kafka consumer runs on the worker's own event loop, not in a thread of its own.

Faust runs aiokafka's consumer in a dedicated thread with a second event loop (its
``ConsumerThread``): every ``getmany``, commit and position query is queued to that thread and its
answer handed back (``call_soon_threadsafe`` and a futex wake each way), and the two threads take
turns on the GIL, so the thread buys no parallelism here: the fetch responses it decodes in pure
Python hold the GIL the stages need, and a message it hands over waits until the main thread gets
the GIL back. Here that thread's service runs as a task on the worker's loop and a call "into the
thread" (``call_thread``, how Faust reaches the consumer for every fetch and commit) is a plain
``await``; start, stop and the rebalance callbacks (which go through the consumer's own method
queue) are Faust's, unchanged.

Measured 2026-12-03 (one pipeline worker, simulator answering at once, stage fetches answered at
the first byte, see ``streams/app.py``), against Faust's thread in the same hour: paced at 150
requests/s p50 48-52 ms instead of 79-114; at 250 requests/s 83-122 instead of 178-333; a burst 630-687
requests/s instead of 477-564. Faust 0.15.3 and mode 0.7.1 are pinned: this relies on mode's
``ServiceThread`` starting its ``Worker`` with ``start()``, which runs ``_serve()``, and stopping
through the service's own events (``tests/unit/streams/test_consumer_loop.py`` runs that life cycle);
whatever Faust still schedules on the "thread's" loop runs on the worker's, which is that loop now.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from mode.utils.futures import maybe_async

log = logging.getLogger(__name__)


class InLoopWorker:
    """Stands in for mode's ``WorkerThread``: runs the service's ``_serve`` as a task of the loop
    that starts it. The service's own stop ends ``_serve``; nothing needs joining."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.service._serve())
        self.task.add_done_callback(_served)

    def stop(self) -> None:
        pass

    def is_alive(self) -> bool:
        return self.task is not None and not self.task.done()


def _served(task: asyncio.Task[None]) -> None:
    # _serve has already reported a crash to Faust; reading the exception keeps asyncio from
    # warning that it was never retrieved
    if not task.cancelled() and task.exception() is not None:
        log.debug("the consumer's service ended: %r", task.exception())


class InLoop:
    """Mixed into a mode ``QueueServiceThread``: the same service, run on the loop that creates it."""

    Worker = InLoopWorker

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["thread_loop"] = kwargs.get("loop") or asyncio.get_event_loop_policy().get_event_loop()
        super().__init__(*args, **kwargs)

    async def call_thread(self, fun: Any, *args: Any, **kwargs: Any) -> Any:
        return await maybe_async(fun(*args, **kwargs))

    async def _gather_remaining_tasks(self) -> None:
        """mode cancels every task left on the thread's loop when the thread ends; that loop is the
        worker's now, whose tasks Faust stops itself."""


class InLoopConsumerThread(InLoop, AIOKafkaConsumerThread):  # type: ignore[misc]
    """Faust's aiokafka consumer thread, without the thread: same service, same consumer, on the
    worker's event loop."""
