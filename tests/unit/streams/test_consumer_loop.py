"""The consumer's service runs on the worker's loop: mode's thread life cycle, without the thread."""

from __future__ import annotations

import asyncio
import threading

from mode.threads import QueueServiceThread

from streams.consumer_loop import InLoop, InLoopConsumerThread, InLoopWorker


class Probe(InLoop, QueueServiceThread):  # type: ignore[misc]
    """A mode service thread (the life cycle Faust's consumer thread inherits), in the loop."""

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.started_in: threading.Thread | None = None
        self.stopped_in: threading.Thread | None = None

    async def on_start(self) -> None:
        self.started_in = threading.current_thread()

    async def on_thread_stop(self) -> None:
        await super().on_thread_stop()
        self.stopped_in = threading.current_thread()


async def test_mode_starts_and_stops_the_service_on_the_calling_loop_without_a_thread() -> None:
    threads_before = threading.active_count()
    probe = Probe()
    await asyncio.wait_for(probe.start(), 10)  # mode waits for _serve to say it is running
    assert probe.started_in is threading.current_thread()
    assert threading.active_count() == threads_before
    worker = probe._thread
    assert isinstance(worker, InLoopWorker) and worker.is_alive()
    await asyncio.wait_for(probe.stop(), 10)  # mode waits for _serve to shut down
    assert probe.stopped_in is threading.current_thread()
    await asyncio.wait_for(asyncio.shield(worker.task), 5)  # type: ignore[arg-type]
    assert not worker.is_alive()
    other = asyncio.ensure_future(asyncio.sleep(30))  # the worker's other tasks are not swept
    await asyncio.sleep(0)
    assert not other.cancelled()
    other.cancel()


async def test_calls_into_the_thread_run_on_the_callers_loop() -> None:
    calls: list[tuple[str, threading.Thread]] = []

    async def coroutine_fn(x: int) -> int:
        calls.append(("async", threading.current_thread()))
        return x + 1

    def plain_fn(x: int) -> int:
        calls.append(("plain", threading.current_thread()))
        return x * 2

    thread = object.__new__(InLoopConsumerThread)  # call_thread touches nothing of the instance
    assert await thread.call_thread(coroutine_fn, 1) == 2
    assert await thread.call_thread(plain_fn, x=4) == 8
    assert calls == [("async", threading.current_thread()), ("plain", threading.current_thread())]
