"""The one place stage output meets the producer: every send is awaited, and none can raise.

``send_all`` returns only when the broker has accepted every message of the batch (so the
caller may ack what caused them) or has refused one for good, in which case a small,
always-fitting replacement is sent instead:

- a response the reply topic refused (deleted topic, ACL, timeout) goes to the default
  responses topic as an error response with code ``reply_topic_failed``;
- anything else (too large, unauthorised) becomes a record on the internal DLQ naming the
  topic, the reason and a bounded copy of the value.

Transient failures (broker down, leader moving) are retried with capped backoff until they
succeed or the worker stops; a stopping worker leaves the batch unacked, so it is replayed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, KafkaTimeoutError, UnknownTopicOrPartitionError

from core.messages import Out
from core.payload import dumps_within, message_budget, payload_copy
from core.topics import TopicNames

log = logging.getLogger(__name__)


class Refused(Exception):
    """A message the broker will never accept as it is."""


class TopicDirectory:
    """The topics that exist, refreshed in the background; ``exists`` answers from memory.

    Before the first successful refresh every topic counts as existing: the outbox's bounded
    send timeout still keeps a missing one from stalling the stage.
    """

    def __init__(self, bootstrap: str, client_kwargs: dict[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.client_kwargs = client_kwargs or {}
        self.known: frozenset[str] | None = None
        self._admin: AIOKafkaAdminClient | None = None

    def exists(self, topic: str) -> bool:
        return self.known is None or topic in self.known

    async def refresh(self) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self.client_kwargs)
            await admin.start()
            self._admin = admin
        self.known = frozenset(await self._admin.list_topics())

    async def close(self) -> None:
        if self._admin is not None:
            await self._admin.close()
            self._admin = None


def _permanent(exc: BaseException, internal: bool) -> bool:
    """True when sending the same message again cannot succeed."""
    if isinstance(exc, Refused):
        return True
    if isinstance(exc, (KafkaTimeoutError, asyncio.TimeoutError)):
        return not internal  # a reply topic that cannot be reached; an internal one waits for the broker
    if isinstance(exc, KafkaError):
        if exc.retriable:
            return not internal and isinstance(exc, UnknownTopicOrPartitionError)
        return not internal or type(exc).__name__ in _REFUSALS
    return not isinstance(exc, OSError)  # a bug in what we sent; a socket error is transient


_REFUSALS = {"MessageSizeTooLargeError", "RecordTooLargeError", "TopicAuthorizationFailedError",
             "InvalidTopicError", "PolicyViolationError", "CorruptRecordException", "InvalidRecordError"}


class FaustOutbox:
    """Sends through the app's producer and awaits every result (see the module docstring)."""

    def __init__(self, app: Any, names: TopicNames, budget: int = message_budget(),
                 reply_timeout_s: float = 10.0, max_backoff_s: float = 5.0, max_pending: int = 256) -> None:
        self.app = app
        self.names = names
        self.internal = frozenset(names.all())
        self.budget = budget
        self.reply_timeout_s = reply_timeout_s
        self.max_backoff_s = max_backoff_s
        self.refused = 0  # messages replaced by a refusal record since start
        self.retries = 0
        self._slots = asyncio.Semaphore(max_pending)  # batches whose results are still awaited
        self._pending: set[asyncio.Task[None]] = set()

    async def send_all(self, outs: Sequence[Out], accepted: Callable[[], None] | None = None) -> None:
        """Send ``outs``. Without ``accepted``: return once the broker took every message (or a
        refusal record). With it: return once the messages are handed to the producer, in order,
        and call ``accepted`` when the broker took them all, so a stage goes on with its next
        batch instead of waiting a round trip (at most ``max_pending`` batches are outstanding)."""
        pending = list(outs)
        futures = await self._enqueue(pending)
        if accepted is None:
            await self._settle(pending, futures)
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._settle(pending, futures, accepted))
        self._pending.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:  # a bug: its input stays unacked
            log.error("settling a batch of sends failed; its input will be replayed", exc_info=task.exception())

    async def _settle(self, pending: list[Out], futures: list[Any], accepted: Callable[[], None] | None = None
                      ) -> None:
        delay = 0.1
        while pending:
            results = await self._results(pending, futures)
            retry: list[Out] = []
            transient: BaseException | None = None
            for out, result in zip(pending, results, strict=True):
                if result is None:
                    continue
                if not _permanent(result, out.topic in self.internal):
                    transient = result
                    retry.append(out)
                elif (replacement := self._replacement(out, result)) is not None:
                    retry.append(replacement)
            if transient is not None:
                self.retries += 1
                log.warning("%d sends failed transiently (%s); retrying in %.1fs", len(retry),
                            type(transient).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
            pending = retry
            futures = await self._enqueue(pending) if pending else []
        if accepted is not None:
            accepted()

    async def _enqueue(self, outs: list[Out]) -> list[Any]:
        """Hand every message to the producer in order: a delivery future each, or the error."""
        producer = await self.app.maybe_start_producer()
        futures: list[Any] = []
        for o in outs:
            try:
                if len(o.value) + len(o.key) > self.budget:
                    raise Refused(f"{len(o.value):,} bytes, over the {self.budget:,}-byte message limit")
                send = producer.send(o.topic, o.key, o.value, None, None, None)
                if o.topic in self.internal:
                    futures.append(await send)
                else:  # a reply topic: never wait long for its metadata
                    futures.append(await asyncio.wait_for(send, self.reply_timeout_s))
            except Exception as exc:  # noqa: BLE001 - every failure is classified by _settle
                futures.append(exc)
        return futures

    async def _results(self, outs: list[Out], futures: list[Any]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        for o, f in zip(outs, futures, strict=True):
            if isinstance(f, BaseException):
                results.append(f)
                continue
            try:
                await (f if o.topic in self.internal else asyncio.wait_for(f, self.reply_timeout_s))
                results.append(None)
            except Exception as exc:  # noqa: BLE001
                results.append(exc)
        return results

    def _replacement(self, out: Out, exc: BaseException) -> Out | None:
        """What to send instead of a message the broker refused for good; None when even a
        refusal record was refused (logged: nothing else can be done with it)."""
        self.refused += 1
        reason = f"{type(exc).__name__}: {str(exc)[:200]}"
        if out.topic == self.names.internal_dlq and out.value.startswith(b'{"error":{"code":"send_refused"'):
            log.error("a refusal record for %s could not be written either (%s); dropped", out.key[:200], reason)
            return None
        if out.topic not in self.internal:
            log.warning("reply topic %r refused a response (%s); answering on %s", out.topic, reason,
                        self.names.responses)
            return Out(self.names.responses, out.key, _undeliverable(out, reason, self.budget))
        log.error("%s refused a message for good (%s); recorded on %s", out.topic, reason, self.names.internal_dlq)
        record = {"error": {"code": "send_refused", "message": reason}, "stage_topic": out.topic,
                  "key": out.key[:400].decode("utf-8", "replace"), "at_ms": int(time.time() * 1000),
                  **payload_copy(out.value)}
        return Out(self.names.internal_dlq, out.key[:400], orjson.dumps(record))


def _undeliverable(out: Out, reason: str, budget: int) -> bytes:
    try:
        original = orjson.loads(out.value)
    except orjson.JSONDecodeError:
        original = {}
    original = original if isinstance(original, dict) else {}
    body = {"request_id": original.get("request_id") or out.key.decode("utf-8", "replace"),
            "tenant": original.get("tenant"), "status": "error", "content": None,
            "metadata": original.get("metadata") or {},
            "error": {"code": "reply_topic_failed",
                      "message": f"the response could not be delivered to reply_topic {out.topic!r} ({reason}); "
                                 f"its status was {original.get('status')!r}"}}
    return dumps_within(body, budget, ["metadata"]) or b"{}"
