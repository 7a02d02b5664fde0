"""What a careless or hostile publisher can send, answered with a clear code and nothing lost."""

from __future__ import annotations

import base64

import orjson

from core.dedup import SeenCache
from core.ingress import Ingress
from core.messages import Incoming, Out
from core.payload import message_budget
from core.publisher import Publisher
from core.reply_topics import ReplyTopics
from core.stages import accept_requests
from core.topics import TopicNames
from tests.fakes import StubClassifier

NAMES = TopicNames("t.")
NOW = 1_800_000_000_000
EXISTING = {"acme.replies", "shared.replies"}
INGRESS = Ingress(NAMES, ReplyTopics(NAMES, {"default": ("{tenant}.*",), "globex": ("shared.*",)}),
                  topic_exists=EXISTING.__contains__)
PUB = Publisher(NAMES)


def _in(value: bytes, offset: int = 0) -> Incoming:
    return Incoming(value, NOW - 5, NAMES.requests, 0, offset)


def _req(rid: str = "r1", **kw: object) -> bytes:
    return orjson.dumps({"request_id": rid, "tenant": "acme", "messages": [{"role": "user", "content": "hi"}], **kw})


def _run(*values: bytes, seen: SeenCache | None = None) -> list[Out]:
    return PUB.messages(accept_requests([_in(v, i) for i, v in enumerate(values)], StubClassifier(), INGRESS, NOW,
                                        seen=seen))


def _response(outs: list) -> dict:
    return orjson.loads(next(o for o in outs if o.topic in (NAMES.responses, "acme.replies")).value)


def test_oversized_request_is_refused_with_payload_too_large_and_every_output_fits() -> None:
    big = _req(messages=[{"role": "user", "content": "x" * 900_000}], metadata={"blob": "y" * 90_000})
    outs = _run(big)
    response = _response(outs)
    assert response["error"]["code"] == "payload_too_large" and response["request_id"] == "r1"
    assert "900,1" in response["error"]["message"] or "bytes, over the" in response["error"]["message"]
    assert all(len(o.value) <= message_budget() for o in outs)
    dlq = orjson.loads(next(o for o in outs if o.topic == NAMES.requests_dlq).value)
    assert dlq["payload_truncated"] and dlq["payload_bytes"] == len(big)


def test_binary_garbage_is_copied_as_base64_not_tripled() -> None:
    raw = b"\xff" * 400_000
    outs = _run(raw)
    dlq = orjson.loads(next(o for o in outs if o.topic == NAMES.requests_dlq).value)
    assert base64.b64decode(dlq["payload_b64"]) == raw[: len(base64.b64decode(dlq["payload_b64"]))]
    assert all(len(o.value) < 100_000 for o in outs)


def test_ten_thousand_bad_roles_give_a_capped_error() -> None:
    outs = _run(_req(messages=[{"role": "robot", "content": "x"}] * 10_000))
    error = _response(outs)["error"]
    assert len(error["problems"]) == 21 and error["problems"][-1] == "... and 9980 more problems"
    assert len(orjson.dumps(error)) < 10_000 and all(len(o.value) < 100_000 for o in outs)


def test_deep_metadata_and_absurd_deadline_are_invalid_requests_under_their_own_id() -> None:
    deep = b'{"request_id": "deep", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}], "metadata": ' \
        + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}"  # orjson reads 300 levels but cannot write them back
    for rid, body in (("deep", deep), ("far", _req("far", deadline=1e300))):
        response = _response(_run(body))
        assert response["request_id"] == rid and response["error"]["code"] == "invalid_request"
    assert "deadline" in _response(_run(_req("far", deadline=1e300)))["error"]["message"]


def test_reply_topics_internal_foreign_and_missing_are_refused_on_the_default_topic() -> None:
    cases = {NAMES.routed: "internal topic", NAMES.requests: "internal topic", "llm.routed.v1": "internal topic",
             "globex.replies": "not allowed", "acme.nowhere": "does not exist", "bad topic!": "not a legal"}
    for topic, why in cases.items():
        outs = _run(_req(reply_topic=topic))
        assert outs[0].topic == NAMES.responses, topic
        assert why in _response(outs)["error"]["message"], topic
        assert NAMES.classified not in [o.topic for o in outs]
    assert _response(_run(_req(reply_topic="acme.nowhere")))["error"]["code"] == "reply_topic_missing"


def test_allowed_existing_reply_topic_is_accepted_and_tenant_patterns_apply() -> None:
    assert [o.topic for o in _run(_req(reply_topic="acme.replies"))] == [NAMES.classified]
    globex = orjson.dumps({"request_id": "g", "tenant": "globex", "messages": [{"role": "user", "content": "hi"}],
                           "reply_topic": "shared.replies"})
    assert [o.topic for o in _run(globex)] == [NAMES.classified]


def test_an_invalid_copy_of_an_answered_request_id_gets_no_second_response() -> None:
    seen = SeenCache()
    first = _run(_req("dup"), seen=seen)
    second = _run(orjson.dumps({"request_id": "dup", "tenant": "acme", "messages": "nope"}), seen=seen)
    assert [o.topic for o in first] == [NAMES.classified]
    assert NAMES.responses not in [o.topic for o in second]
    assert NAMES.requests_dlq in [o.topic for o in second]  # still set aside, never dropped


def test_a_tenant_topic_decides_the_tenant_and_a_forged_one_is_refused_away_from_its_reply_topic() -> None:
    from dataclasses import replace

    assert NAMES.tenant_requests("acme") == "t.llm.requests.v1.acme"
    assert NAMES.tenant_of("t.llm.requests.v1.acme") == "acme"
    assert NAMES.tenant_of(NAMES.requests) is None and NAMES.tenant_of(NAMES.requests_dlq) is None
    own = Incoming(_req("ok-1"), NOW - 5, NAMES.tenant_requests("acme"), 0, 0)
    forged = Incoming(orjson.dumps({"request_id": "f-1", "tenant": "globex", "reply_topic": "shared.replies",
                                    "messages": [{"role": "user", "content": "spend globex's budget"}]}),
                      NOW - 5, NAMES.tenant_requests("acme"), 0, 1)
    outs = PUB.messages(accept_requests([own, forged], StubClassifier(), INGRESS, NOW))
    assert [o.key for o in outs if o.topic == NAMES.classified] == [b"ok-1"]
    refusal = [orjson.loads(o.value) for o in outs if o.topic == NAMES.responses]
    assert [(r["request_id"], r["error"]["code"]) for r in refusal] == [("f-1", "tenant_mismatch")]
    assert "is tenant 'acme''s request topic; the request says 'globex'" in refusal[0]["error"]["message"]
    assert not [o for o in outs if o.topic == "shared.replies"]  # never on the other tenant's reply topic

    closed = replace(INGRESS, shared_requests=False)
    outs = PUB.messages(accept_requests([_in(_req("shared-1"))], StubClassifier(), closed, NOW))
    assert _response(outs)["error"]["code"] == "tenant_mismatch"
    assert "each tenant's own topic (t.llm.requests.v1.<tenant>)" in _response(outs)["error"]["message"]
