"""The publisher alone turns what the stages report into messages: topics, keys, encodings, the
outcome envelope, and what happens when something would not fit a Kafka message."""

from __future__ import annotations

import orjson

from core.events import Attempt, Decision, Job, Verification
from core.facts import Answered, Escalated, Failed, Invoked, Judged, Refused, Routed
from core.messages import Incoming
from core.outcomes import rows_in
from core.payload import message_budget
from core.publisher import Publisher
from core.topics import TopicNames
from tests.fakes import job

NAMES = TopicNames("t.")
NOW = 1_800_000_000_000
PUB = Publisher(NAMES)


def _answer(content: str = "fine", tier: int = 1) -> Attempt:
    return Attempt(1, "llama-3-1-8b", "vllm", tier, "ok", NOW, 5.0, content=content, cost_usd=0.001)


def _rows(outs: list) -> list[tuple[str, dict]]:
    return [(r["t"], r["r"]) for o in outs if o.topic == NAMES.outcomes
            for r in (orjson.loads(x or b"") for x in rows_in(o.value))]


def test_a_job_that_outgrew_a_message_finishes_with_payload_too_large() -> None:
    j = job()
    huge = Attempt(1, "gpt-4o", "openai", 3, "ok", NOW, 5.0, content="z" * 1_200_000)
    j.attempts = [huge]
    outs = PUB.messages([Invoked(j, (huge,), NOW)])
    assert NAMES.invoked not in [o.topic for o in outs]
    response = orjson.loads(next(o for o in outs if o.topic == NAMES.responses).value)
    assert response["error"]["code"] == "payload_too_large"
    assert NAMES.internal_dlq in {o.topic for o in outs}
    assert [t for t, _ in _rows(outs)] == ["requests", "dead_letters", "attempts"]
    assert all(len(o.value) <= message_budget() for o in outs)


def test_an_answer_too_large_to_deliver_is_an_error_not_a_crash() -> None:
    outs = PUB.messages([Answered(job(), _answer("z" * 1_200_000), NOW)])
    response = orjson.loads(outs[0].value)
    assert response["status"] == "error" and response["error"]["code"] == "payload_too_large"
    assert [(t, r["error_code"]) for t, r in _rows(outs)] == [("requests", "payload_too_large")]


def test_every_message_is_keyed_by_its_request_and_rows_travel_packed_after_the_rest() -> None:
    a, b = job(request_id="a"), job(request_id="b", reply_topic="acme.replies")
    a.decision = Decision("llama-3-1-8b", "vllm", 1, 0.001, "cheapest", [])
    facts = [Routed(a, a.decision, 1, NOW), Answered(b, _answer(), NOW), Failed(job(request_id="c"), "x", "y", NOW)]
    outs = PUB.publish(facts)
    assert [(o.topic, o.key) for o in outs] == [(NAMES.routed, b"a"), ("acme.replies", b"b"), (NAMES.responses, b"c"),
                                                (NAMES.outcomes, b"a")]
    assert [(t, r["request_id"]) for t, r in _rows(outs)] == [("decisions", "a"), ("requests", "b"), ("requests", "c")]
    assert Job.decode(outs[0].value).request_id == "a"


def test_escalation_and_verdict_rows_record_the_round_the_stage_judged_not_the_jobs_later_state() -> None:
    j = job(request_id="e")
    j.decision = Decision("llama-3-1-8b", "vllm", 1, 0.001, "cheapest", [])
    v = Verification(0.0, False, "empty", {})
    facts = [Escalated(j, v, 2, 0, NOW), Judged(j, _answer(""), v, 0.4, 0, NOW)]
    j.escalations.append("empty")  # what the verify stage does once it decided to escalate
    outs = PUB.messages(facts)
    assert Job.decode(outs[0].value).escalations == ["empty"]  # the job goes on with its escalation
    assert [(t, r["round"]) for t, r in _rows(outs)] == [("escalations", 0), ("verdicts", 0)]


def test_a_refused_request_is_answered_on_its_reply_topic_only_when_ingress_accepted_it() -> None:
    msg = Incoming(b'{"request_id": "r", "tenant": "acme"}', NOW - 5, NAMES.requests, 2, 9)
    payload = {"request_id": "r", "tenant": "acme", "reply_topic": "acme.replies"}
    own = PUB.messages([Refused(msg, payload, ["messages: required"], "invalid_request", NOW, "acme.replies")])
    default = PUB.messages([Refused(msg, payload, ["messages: required"], "invalid_request", NOW)])
    silent = PUB.messages([Refused(msg, payload, ["messages: required"], "invalid_request", NOW, answer=False)])
    assert [o.topic for o in own] == ["acme.replies", NAMES.requests_dlq, NAMES.outcomes]
    assert [o.topic for o in default] == [NAMES.responses, NAMES.requests_dlq, NAMES.outcomes]
    assert [o.topic for o in silent] == [NAMES.requests_dlq, NAMES.outcomes]  # a later copy: set aside, not answered
    assert orjson.loads(own[1].value)["source"] == {"topic": NAMES.requests, "partition": 2, "offset": 9}
