"""Every agent wired as the worker wires it, driven through Faust's test context (no broker): a request
travels classify -> route -> invoke -> verify -> sink on hand-written fakes of our own ports, and each
agent's failure path (unreadable input, a stage that raises, a replay, a bad row) answers or sets
aside without escaping the agent, and hands its batch's acks to the outbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import Any

import faust
import orjson
import pytest

from agents import SinkDeps, classify, feedback, invoke, route, sink, verify
from core.catalog import Catalog
from core.catalog_ref import CatalogRef
from core.dedup import SeenCache
from core.events import Classification
from core.ingress import Ingress
from core.invocation import Invoker, RetryPolicy
from core.messages import Out
from core.outcomes import COLUMNS, encode
from core.pipeline import Classify, Invoke, Pipeline, Route, Tuning, Verify
from core.ports import AllHealthy
from core.publisher import Publisher
from core.reply_topics import ReplyTopics
from core.request import Request
from core.routing import RoutingPolicy
from core.topics import TopicNames
from core.verification import CascadeLimits
from tests.fakes import FakeClock, FixedSpend, RecordingOutbox, ScriptedProvider, StubClassifier, ok

NAMES = TopicNames("w.")
NOW_MS = FakeClock().now_ms()


class MemoryTable:
    """A ``RowWriter`` that refuses rows missing a column, as ClickHouse would."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.rows_written: dict[str, int] = {}

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self.rows.setdefault(table, []).extend(rows)
        self.rows_written[table] = self.rows_written.get(table, 0) + len(rows)


class BoomClassifier(StubClassifier):
    """Raises on any batch holding a prompt that says "boom" (a bug in the classifier)."""

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]:
        if any("boom" in r.prompt_text() for r in requests):
            raise RuntimeError("classifier bug")
        return super().classify_batch(requests)


@pytest.fixture()
async def app() -> AsyncIterator[faust.App]:
    a = faust.App(f"wiring-{uuid.uuid4().hex[:8]}", broker="kafka://127.0.0.1:1", store="memory://")
    a.loop = asyncio.get_running_loop()  # rebind to this test's loop
    a.finalize()
    a.flow_control.resume()  # otherwise put() waits forever
    yield a


def _topic(app: faust.App, name: str) -> Any:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


def _deps(catalog: Catalog, outbox: RecordingOutbox, provider: Any = None, classifier: Any = None) -> Pipeline:
    """The pipeline as the worker builds it (streams.runtime), on fakes of our own ports."""
    ref, clock = CatalogRef(catalog), FakeClock()
    invoker = Invoker(ref, {p: provider or ScriptedProvider({}) for p in catalog.providers}, clock, RetryPolicy(1))
    ingress = Ingress(NAMES, ReplyTopics(NAMES, catalog.reply_topics, "wiring"), None)
    policy, seen = RoutingPolicy(ref), SeenCache()
    return Pipeline(
        classify=Classify(ingress, classifier or StubClassifier(), clock, seen),
        route=Route(policy, AllHealthy(), FixedSpend(0, 0), clock),
        invoke=Invoke(invoker, policy, "w"),
        verify=Verify(CascadeLimits(2, ref), policy, clock),
        clock=clock, outbox=outbox, seen=seen, publisher=Publisher(NAMES), tuning=Tuning(within_s=0.001))


def _request(rid: str, content: str = "hi") -> bytes:
    return orjson.dumps({"request_id": rid, "tenant": "t", "messages": [{"role": "user", "content": content}]})


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def _feed(agent: Any, messages: Sequence[tuple[bytes, bytes]], done: Callable[[], bool], what: str) -> None:
    async with agent.test_context() as a:
        for key, value in messages:
            await a.put(value, key=key, wait=False)
        await _until(done, what)


async def test_a_request_travels_every_stage_and_its_rows_reach_the_table(app: faust.App, catalog: Catalog) -> None:
    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox, provider=ScriptedProvider({}))
    agents = {name: mod.register(app, _topic(app, f"w.in.{name}"), deps)
              for name, mod in (("classify", classify), ("route", route), ("invoke", invoke), ("verify", verify))}
    await _feed(agents["classify"], [(b"r1", _request("r1"))], lambda: bool(outbox.on(NAMES.classified)),
                "the classified job")
    for stage, source, topic in (("route", NAMES.classified, NAMES.routed), ("invoke", NAMES.routed, NAMES.invoked),
                                 ("verify", NAMES.invoked, NAMES.responses)):
        upstream = outbox.on(source)[-1]
        await _feed(agents[stage], [(upstream.key, upstream.value)], lambda t=topic: bool(outbox.on(t)),
                    f"{stage}'s output")
    response = orjson.loads(outbox.on(NAMES.responses)[0].value)
    assert (response["request_id"], response["status"], response["content"]) == ("r1", "ok", "an answer")
    assert outbox.batches_accepted >= 3  # classify, route and verify hand their batch's acks to the outbox

    table = MemoryTable()
    sink_outbox = RecordingOutbox()
    sink_deps = SinkDeps(writer=table, clock=FakeClock(), outbox=sink_outbox, names=NAMES, within_s=0.001)
    sink_agent = sink.register(app, _topic(app, "w.in.sink"), sink_deps)
    rows = [(o.key, o.value) for o in outbox.on(NAMES.outcomes)]
    await _feed(sink_agent, rows, lambda: "requests" in table.rows, "the request row")
    assert [r["request_id"] for r in table.rows["requests"]] == ["r1"]
    assert sink_outbox.batches_accepted == 0  # the sink acks itself, after ClickHouse took the rows


async def test_classify_answers_garbage_and_a_classifier_bug_one_by_one(app: faust.App, catalog: Catalog) -> None:
    outbox = RecordingOutbox()
    agent = classify.register(app, _topic(app, "w.in"), _deps(catalog, outbox, classifier=BoomClassifier()))
    messages = [(b"ok1", _request("ok1")), (b"junk", b"\xff not json"), (b"bad", _request("bad", "boom"))]
    await _feed(agent, messages, lambda: len(outbox.on(NAMES.responses)) == 2 and bool(outbox.on(NAMES.classified)),
                "two error responses and one classified job")
    errors = {orjson.loads(o.value)["error"]["code"] for o in outbox.on(NAMES.responses)}
    assert errors == {"invalid_request", "internal_error"}
    assert [o.key for o in outbox.on(NAMES.classified)] == [b"ok1"]
    assert outbox.on(NAMES.requests_dlq)  # the garbage is kept, bounded, for a human


async def test_route_sets_aside_unreadable_jobs_and_skips_replays(app: faust.App, catalog: Catalog) -> None:
    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox)
    classified = _first(await _classified(catalog, "r7"), NAMES.classified)
    agent = route.register(app, _topic(app, "w.in"), deps)
    messages = [(b"x", b'{"request": {}}'), (classified.key, classified.value), (classified.key, classified.value)]
    await _feed(agent, messages, lambda: bool(outbox.on(NAMES.internal_dlq)) and bool(outbox.on(NAMES.routed)),
                "a dead letter and a routed job")
    assert len(outbox.on(NAMES.routed)) == 1  # the replayed copy made no second decision


async def test_invoke_answers_a_provider_bug_instead_of_escaping(app: faust.App, catalog: Catalog) -> None:
    class Exploding(ScriptedProvider):
        async def complete(self, model: Any, request: Any, timeout_s: float) -> Any:
            raise RuntimeError("adapter bug")

    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox, provider=Exploding({}))
    routed = await _routed(catalog, "r9")
    agent = invoke.register(app, _topic(app, "w.in"), deps)
    await _feed(agent, [(routed.key, routed.value)], lambda: bool(outbox.on(NAMES.responses)), "an error response")
    assert orjson.loads(outbox.on(NAMES.responses)[0].value)["error"]["code"] == "internal_error"


async def test_invoke_sets_aside_a_forged_job_and_calls_once_per_round(app: faust.App, catalog: Catalog) -> None:
    calls: list[str] = []

    class Counting(ScriptedProvider):
        async def complete(self, model: Any, request: Any, timeout_s: float) -> Any:
            calls.append(model.name)
            return await super().complete(model, request, timeout_s)

    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox, provider=Counting({}))
    routed = await _routed(catalog, "r11")
    forged = orjson.loads(routed.value)
    forged["decision"]["model"] = "gpt-9"  # a model the catalog does not have
    agent = invoke.register(app, _topic(app, "w.in"), deps)
    messages = [(b"f", orjson.dumps(forged)), (routed.key, routed.value), (routed.key, routed.value)]
    await _feed(agent, messages, lambda: bool(outbox.on(NAMES.internal_dlq)) and bool(outbox.on(NAMES.invoked)),
                "a dead letter and an invoked job")
    assert len(calls) == 1 and len(outbox.on(NAMES.invoked)) == 1  # the replayed copy made no second call


async def test_verify_sets_aside_garbage_and_answers_a_verifier_bug(app: faust.App, catalog: Catalog) -> None:
    class Broken:
        def score(self, *args: Any, **kwargs: Any) -> float:
            raise RuntimeError("verifier bug")

    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox)
    deps = replace(deps, verify=replace(deps.verify, verifier=Broken()))
    invoked = await _invoked(catalog, "r12", deps)
    agent = verify.register(app, _topic(app, "w.in"), deps)
    await _feed(agent, [(b"g", b"\x00garbage"), (invoked.key, invoked.value)],
                lambda: bool(outbox.on(NAMES.internal_dlq)) and bool(outbox.on(NAMES.responses)),
                "a dead letter and a response")
    assert orjson.loads(outbox.on(NAMES.responses)[0].value)["error"]["code"] == "internal_error"


async def test_verify_escalates_an_empty_answer(app: faust.App, catalog: Catalog) -> None:
    outbox = RecordingOutbox()
    deps = _deps(catalog, outbox, provider=ScriptedProvider({m: [ok("   ")] for m in catalog.models}))
    invoked = await _invoked(catalog, "r5", deps)
    agent = verify.register(app, _topic(app, "w.in"), deps)
    await _feed(agent, [(invoked.key, invoked.value)], lambda: bool(outbox.on(NAMES.escalations)), "an escalation")
    assert not outbox.on(NAMES.responses)


async def test_sink_sets_aside_a_bad_row_and_writes_the_rest(app: faust.App) -> None:
    table, outbox = MemoryTable(), RecordingOutbox()
    agent = sink.register(app, _topic(app, "w.in"), SinkDeps(writer=table, clock=FakeClock(), outbox=outbox,
                                                             names=NAMES, within_s=0.001))
    good = {**dict.fromkeys(COLUMNS["attempts"], 0), "request_id": "a1", "model": "m"}
    bad = {"request_id": "a2"}  # most columns missing
    messages = [(b"a1", encode("attempts", good)), (b"a2", encode("attempts", bad)), (b"z", b"\x00junk")]
    await _feed(agent, messages, lambda: len(outbox.on(NAMES.outcomes_dlq)) >= 2, "two dead letters")
    assert [r["request_id"] for r in table.rows["attempts"]] == ["a1"]


async def test_feedback_writes_valid_events_and_sets_aside_the_rest(app: faust.App) -> None:
    table, outbox = MemoryTable(), RecordingOutbox()
    agent = feedback.register(app, _topic(app, "w.in"), SinkDeps(writer=table, clock=FakeClock(), outbox=outbox,
                                                                 names=NAMES, within_s=0.001))
    messages = [(b"f1", orjson.dumps({"request_id": "f1", "score": 0.9, "source": "user"})),
                (b"f2", orjson.dumps({"request_id": "f2", "score": 7}))]
    await _feed(agent, messages, lambda: bool(outbox.on(NAMES.outcomes_dlq)) and "feedback" in table.rows,
                "a row and a dead letter")
    assert [r["request_id"] for r in table.rows["feedback"]] == ["f1"]


# --- upstream events, made by the real stage functions ---------------------------------------------


def _first(outs: Sequence[Out], topic: str) -> Out:
    return next(o for o in outs if o.topic == topic)


async def _classified(catalog: Catalog, rid: str) -> list[Out]:
    from core.messages import Incoming
    from core.stages import accept_requests

    ingress = Ingress(NAMES, ReplyTopics(NAMES, catalog.reply_topics, "wiring"), None)
    facts = accept_requests([Incoming(_request(rid), NOW_MS, NAMES.requests, 0, 0)], StubClassifier(), ingress, NOW_MS)
    return Publisher(NAMES).messages(facts)


async def _routed(catalog: Catalog, rid: str) -> Out:
    from core.events import Job
    from core.stages import route as route_step

    classified = _first(await _classified(catalog, rid), NAMES.classified)
    outs = Publisher(NAMES).messages(route_step(Job.decode(classified.value), RoutingPolicy(catalog), AllHealthy(),
                                                NOW_MS))
    return _first(outs, NAMES.routed)


async def _invoked(catalog: Catalog, rid: str, deps: Pipeline) -> Out:
    from core.events import Job
    routed = await _routed(catalog, rid)
    outs = deps.publisher.messages(await deps.invoke.step(Job.decode(routed.value)))
    return _first(outs, NAMES.invoked)

