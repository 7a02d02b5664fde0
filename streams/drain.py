"""How a Faust consumer hands fetched messages to the agents: at once, not one event-loop turn each.

Faust's consumer delivers every fetched message to the conductor (which decodes it and puts it in
the agent's buffer) through ``wait_first(callback(message), suspend_flow.wait())``, so that a
rebalance can abandon a delivery stuck on a full buffer. That costs four tasks, an
``asyncio.wait`` and their cancellation per message, and it delivers at most about one message
per turn of the event loop: found 2026-12-03, under paced traffic at 200 requests/s every stage
of the pipeline worker received its events one or two at a time, each already 0.3-1 s old, with
its own buffer empty; the backlog sat in the fetcher, and the worker fell behind at 78 % of a core.
``deliver_first`` runs the delivery at once instead; only when it has to wait (a full buffer) does
the rest of it race the suspension as Faust's own code does, and while flow is suspended Faust's
path is taken unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from mode.services import WaitResults


async def deliver_first(suspend_flow: asyncio.Event | Any, wait_first: Callable[..., Awaitable[Any]],
                        coros: tuple[Any, ...], timeout: Any = None) -> Any:
    """What ``Service.wait_first(*coros, timeout=timeout)`` does for a consumer, with the delivery of
    a message run at once when it does not have to wait."""
    delivery = (len(coros) == 2 and asyncio.iscoroutine(coros[0]) and asyncio.iscoroutine(coros[1])
                and coros[1].__qualname__.endswith("Event.wait"))
    if not delivery or suspend_flow.is_set():
        return await wait_first(*coros, timeout=timeout)
    callback, suspended = coros
    try:
        yielded = callback.send(None)
    except StopIteration as done:  # the usual case: decoded and put in a buffer with room
        suspended.close()
        return WaitResults([callback], [done.value], False)
    except BaseException:
        suspended.close()
        raise
    return await wait_first(asyncio.ensure_future(_resume(callback, yielded)), suspended, timeout=timeout)


async def _resume(coro: Any, yielded: Any) -> Any:
    """Go on running ``coro``, which has run up to its first suspension and yielded ``yielded`` (the
    future it waits for, or None for a bare yield), as a task would."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False  # as a task does with what a coroutine yields
                await asyncio.wait([yielded])
        except asyncio.CancelledError:  # the suspension won: stop the delivery where it waits
            try:
                coro.throw(asyncio.CancelledError())
            except (asyncio.CancelledError, StopIteration):
                pass
            finally:
                coro.close()
            raise
        try:
            yielded = coro.send(None)
        except StopIteration as done:
            return done.value
