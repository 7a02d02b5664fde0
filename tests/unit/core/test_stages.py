from __future__ import annotations

import numpy as np
import orjson
import pytest

from core.catalog import Catalog
from core.catalog_ref import CatalogRef
from core.dedup import SeenCache
from core.events import Job
from core.ingress import Ingress
from core.invocation import Invoker
from core.messages import Incoming, Out
from core.ports import AllHealthy
from core.prompt_vector import encode_vector
from core.publisher import Publisher
from core.quality_memory import QualityMemory
from core.routing import RoutingPolicy
from core.stages import accept_requests, invoke, route, verify_answer
from core.topics import TopicNames
from core.verdicts import learn_from_outcomes
from core.verification import CascadeLimits
from tests.fakes import FakeClock, ScriptedProvider, StubClassifier, ok

NAMES = TopicNames("t.")
NOW = 1_800_000_000_000
PUB = Publisher(NAMES)  # the stages' facts as the messages they become, in order, one per outcome row


def _accept(batch: list[Incoming], classifier: StubClassifier, seen: SeenCache | None = None) -> list[Out]:
    return PUB.messages(accept_requests(batch, classifier, Ingress.default(NAMES), NOW, seen=seen))


def _in(value: bytes, offset: int = 0) -> Incoming:
    return Incoming(value, NOW - 5, "t.llm.requests.v1", 0, offset)


def _valid(rid: str, **kw: object) -> bytes:
    return orjson.dumps({"request_id": rid, "tenant": "acme", "messages": [{"role": "user", "content": "hi"}], **kw})


def test_valid_requests_are_classified_and_forwarded() -> None:
    outs = _accept([_in(_valid("a")), _in(_valid("b"))], StubClassifier())
    assert [o.topic for o in outs] == [NAMES.classified] * 2
    job = Job.decode(outs[0].value)
    assert job.classification is not None and job.received_at_ms == NOW - 5
    assert outs[0].key == b"a"


def test_a_batch_whose_classification_failed_is_answered_when_retried() -> None:
    class Broken(StubClassifier):
        def classify_batch(self, requests):  # type: ignore[no-untyped-def]
            raise RuntimeError("classifier bug")

    seen = SeenCache()
    batch = [_in(_valid("a")), _in(b"not json", 1), _in(_valid("a"), 2)]
    with pytest.raises(RuntimeError):
        _accept(batch, Broken(), seen)
    outs = _accept(batch, StubClassifier(), seen)  # the agent's retry
    assert [o.key for o in outs if o.topic == NAMES.classified] == [b"a"]  # answered, and only once
    assert len([o for o in outs if o.topic == NAMES.responses]) == 1  # the garbage, answered
    replay = _accept(batch[:1], StubClassifier(), seen)
    assert not [o for o in replay if o.topic == NAMES.classified]  # now recorded: a replay is skipped


def test_invalid_request_gets_error_response_dlq_copy_and_row() -> None:
    bad = orjson.dumps({"request_id": "x1", "tenant": "acme", "messages": "hi", "reply_topic": "acme.replies"})
    outs = _accept([_in(bad, offset=7), _in(_valid("ok1"))], StubClassifier())
    topics = [o.topic for o in outs]
    assert topics == ["acme.replies", NAMES.requests_dlq, NAMES.outcomes, NAMES.classified]
    response = orjson.loads(outs[0].value)
    assert response["status"] == "error" and response["request_id"] == "x1"
    assert response["error"]["code"] == "invalid_request"
    assert "messages: expected array, got str" in response["error"]["message"]
    dlq = orjson.loads(outs[1].value)
    assert dlq["source"]["offset"] == 7 and '"messages":"hi"' in dlq["payload"]
    row = orjson.loads(outs[2].value)
    assert row["t"] == "requests" and row["r"]["error_code"] == "invalid_request"


def test_unreadable_request_is_answered_under_a_synthetic_id() -> None:
    outs = _accept([_in(b"\xff\xfe garbage", offset=3)], StubClassifier())
    response = orjson.loads(outs[0].value)
    assert response["request_id"] == "invalid:t.llm.requests.v1:0:3"
    assert outs[0].topic == NAMES.responses


async def test_full_path_escalates_an_empty_answer(catalog: Catalog) -> None:
    clock = FakeClock(NOW)
    provider = ScriptedProvider({"llama-3-1-8b": [ok(content="")]}, clock)
    invoker = Invoker(catalog, {p: provider for p in catalog.providers}, clock)
    policy = RoutingPolicy(catalog)
    limits = CascadeLimits(2, CatalogRef(catalog))
    outs = _accept([_in(_valid("e1"))], StubClassifier(tier=1))
    job = Job.decode(outs[0].value)

    outs = PUB.messages(route(job, policy, AllHealthy(), NOW))
    assert [o.topic for o in outs] == [NAMES.routed, NAMES.outcomes]
    outs = PUB.messages(await invoke(Job.decode(outs[0].value), invoker))
    outs = PUB.messages(verify_answer(Job.decode(outs[0].value), limits, NOW))
    assert outs[0].topic == NAMES.escalations
    assert orjson.loads(outs[1].value)["r"]["reason"] == "empty"

    outs = PUB.messages(route(Job.decode(outs[0].value), policy, AllHealthy(), NOW))
    assert Job.decode(outs[0].value).decision.tier == 2
    outs = PUB.messages(await invoke(Job.decode(outs[0].value), invoker))
    outs = PUB.messages(verify_answer(Job.decode(outs[0].value), limits, NOW + 50))
    response = orjson.loads(outs[0].value)
    assert outs[0].topic == NAMES.responses
    assert (response["status"], response["tier"], response["escalations"], response["attempts"]) == ("ok", 2, 1, 2)
    assert response["latency_ms"] == 55
    row = orjson.loads(outs[1].value)["r"]
    assert (row["status"], row["final_tier"], row["escalations"]) == ("ok", 2, 1)


def test_routing_failure_is_a_final_error_response(catalog: Catalog) -> None:
    outs = _accept([_in(_valid("n1", data_policy={"allowed_providers": []}))], StubClassifier())
    outs = PUB.messages(route(Job.decode(outs[0].value), RoutingPolicy(catalog), AllHealthy(), NOW))
    response = orjson.loads(outs[0].value)
    assert response["error"]["code"] == "no_allowed_model"
    assert orjson.loads(outs[1].value)["r"]["error_code"] == "no_allowed_model"


async def test_escalation_with_nowhere_to_go_returns_the_best_answer(catalog: Catalog) -> None:
    """Both tier-3 models answer truncated: the cascade ends with the best answer, marked."""
    clock = FakeClock(NOW)
    provider = ScriptedProvider({"gpt-4o": [ok(finish="length")], "claude-sonnet-4": [ok(finish="length")]}, clock)
    invoker = Invoker(catalog, {p: provider for p in catalog.providers}, clock)
    policy, limits = RoutingPolicy(catalog), CascadeLimits(5, CatalogRef(catalog))
    outs = _accept([_in(_valid("t3", quality_floor=3))], StubClassifier(tier=3))
    for _ in range(3):
        outs = PUB.messages(route(Job.decode(outs[0].value), policy, AllHealthy(), NOW))
        if outs[0].topic != NAMES.routed:
            break
        outs = PUB.messages(await invoke(Job.decode(outs[0].value), invoker))
        outs = PUB.messages(verify_answer(Job.decode(outs[0].value), limits, NOW))
    response = orjson.loads(outs[0].value)
    assert outs[0].topic == NAMES.responses
    assert response["status"] == "ok" and response["verification"]["best_effort"] is True
    assert response["escalations"] == 2 and response["attempts"] == 2


async def test_each_verdict_is_an_outcome_row_the_memory_learns_from(catalog: Catalog) -> None:
    """An escalation gives a negative verdict for the rejected model, acceptance a positive one."""
    clock = FakeClock(NOW)
    provider = ScriptedProvider({"llama-3-1-8b": [ok(content="")]}, clock)
    invoker = Invoker(catalog, {p: provider for p in catalog.providers}, clock)
    policy, limits = RoutingPolicy(catalog), CascadeLimits(2, CatalogRef(catalog))
    job = Job.decode(_accept([_in(_valid("v1"))], StubClassifier(tier=1))[0].value)
    job.classification.embedding = encode_vector(np.ones(256) / 16)
    verdicts = []
    for _ in range(2):
        outs = PUB.messages(route(job, policy, AllHealthy(), NOW))
        invoked = PUB.messages(await invoke(Job.decode(outs[0].value), invoker))
        outs = PUB.messages(verify_answer(Job.decode(invoked[0].value), limits, NOW))
        verdicts += [orjson.loads(o.value)["r"] for o in outs if o.value.startswith(b'{"t":"verdicts"')]
        job = Job.decode(outs[0].value) if outs[0].topic == NAMES.escalations else job
    assert [(v["model"], v["accepted"], v["reason"]) for v in verdicts] == [("llama-3-1-8b", 0, "empty"),
                                                                            ("gpt-4-1-mini", 1, "")]
    memory = QualityMemory(catalog.models)
    raw = [orjson.dumps({"t": "verdicts", "r": v}) for v in verdicts]
    assert learn_from_outcomes(memory, raw) == 0 and memory.learned == 2
