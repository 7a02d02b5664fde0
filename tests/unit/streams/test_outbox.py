"""The outbox awaits every send; a refused message is replaced, a transient failure retried."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, TopicAuthorizationFailedError

from core.messages import Out
from core.topics import TopicNames
from streams.outbox import FaustOutbox

NAMES = TopicNames("t.")


class ScriptedProducer:
    """Delivers unless the topic has failures scripted; records what was delivered."""

    def __init__(self, failures: dict[str, list[Exception]]) -> None:
        self.failures = failures
        self.delivered: list[Out] = []

    async def send(self, topic: str, key: bytes, value: bytes, *rest: Any) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self.failures.get(topic) or []
        if queue:
            fut.set_exception(queue.pop(0))
        else:
            self.delivered.append(Out(topic, key, value))
            fut.set_result(None)
        return fut


class FakeApp:
    def __init__(self, producer: ScriptedProducer) -> None:
        self.producer = producer

    async def maybe_start_producer(self) -> ScriptedProducer:
        return self.producer


def _outbox(failures: dict[str, list[Exception]]) -> tuple[FaustOutbox, ScriptedProducer]:
    producer = ScriptedProducer(failures)
    return FaustOutbox(FakeApp(producer), NAMES, max_backoff_s=0.01), producer


async def test_a_transient_failure_is_retried_and_nothing_else_is_sent_twice() -> None:
    outbox, producer = _outbox({NAMES.routed: [KafkaConnectionError(), KafkaConnectionError()]})
    await outbox.send_all([Out(NAMES.routed, b"a", b"1"), Out(NAMES.outcomes, b"a", b"2")])
    assert sorted(o.topic for o in producer.delivered) == [NAMES.outcomes, NAMES.routed]
    assert outbox.retries == 2


async def test_a_refused_reply_topic_answers_on_the_default_topic() -> None:
    response = orjson.dumps({"request_id": "r1", "tenant": "acme", "status": "ok", "content": "hi"})
    outbox, producer = _outbox({"acme.replies": [TopicAuthorizationFailedError()]})
    await outbox.send_all([Out("acme.replies", b"r1", response)])
    [out] = producer.delivered
    body = orjson.loads(out.value)
    assert out.topic == NAMES.responses and body["error"]["code"] == "reply_topic_failed"
    assert body["request_id"] == "r1" and "'ok'" in body["error"]["message"]


async def test_an_oversized_or_refused_internal_message_becomes_a_dlq_record() -> None:
    outbox, producer = _outbox({NAMES.invoked: [MessageSizeTooLargeError()]})
    await outbox.send_all([Out(NAMES.outcomes, b"k", b"x" * 2_000_000), Out(NAMES.invoked, b"k", b"{}")])
    assert [o.topic for o in producer.delivered] == [NAMES.internal_dlq, NAMES.internal_dlq]
    records = [orjson.loads(o.value) for o in producer.delivered]
    assert {r["stage_topic"] for r in records} == {NAMES.outcomes, NAMES.invoked}
    assert all(len(o.value) < 100_000 for o in producer.delivered)
    assert outbox.refused == 2


async def test_a_refusal_record_that_is_refused_too_is_dropped_not_looped() -> None:
    outbox, producer = _outbox({NAMES.invoked: [MessageSizeTooLargeError()],
                                NAMES.internal_dlq: [TopicAuthorizationFailedError()]})
    await asyncio.wait_for(outbox.send_all([Out(NAMES.invoked, b"k", b"{}")]), 5)
    assert producer.delivered == []
