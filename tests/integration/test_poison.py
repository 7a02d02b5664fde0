"""What a careless or hostile publisher sends, on the real broker: nothing is lost, nothing stalls.

Each test here failed before the poison-proofing (issue 12): the oversized messages lost their
batch, the reply-topic abuse stalled the stage or wrote into internal topics, the forged job was
invoked, the bad outcome row stalled the sink, and the provider's echoed key reached clients.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from core.events import Classification, Decision, Job
from core.request import DataPolicy, Request
from tests.integration.conftest import running_stack, wait_until
from tooling.client import collect, publish, read_topic, run
from tooling.stack import Stack, environment

KEYS = {"OPENAI_API_KEY": "sk-test-" + uuid.uuid4().hex, "ANTHROPIC_API_KEY": f"plain-{uuid.uuid4().hex[:12]}",
        "GEMINI_API_KEY": "AIza" + uuid.uuid4().hex + "xyz", "GROQ_API_KEY": "gsk_" + uuid.uuid4().hex}


@pytest.fixture(scope="module")
def stack(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with environment(KEYS), running_stack(bootstrap, tmp_path_factory.mktemp("poison"), "po") as s:
        yield s  # the workers inherit the keys: a key-echoing provider has real keys to leak


def _req(rid: str, content: str = "Say hello.", **kw: object) -> tuple[bytes, bytes]:
    body = {"request_id": rid, "tenant": "po", "messages": [{"role": "user", "content": content}], **kw}
    return rid.encode(), orjson.dumps(body)


def _answers(stack: Stack, msgs: list[tuple[bytes, bytes]], expected: set[str], topic: str = "",
             timeout: float = 90, **publish_kw: object) -> dict[str, dict]:
    run(publish(stack.settings.kafka_bootstrap, stack.names.requests, msgs, **publish_kw))
    got = run(collect(stack.settings.kafka_bootstrap, topic or stack.names.responses, expected, timeout))
    assert got.missing_from(expected) == []
    assert got.duplicates == 0
    return got.responses


def test_oversized_and_garbage_requests_are_answered_and_lose_no_neighbour(stack: Stack) -> None:
    p = f"big-{uuid.uuid4().hex[:6]}-"
    before = [_req(f"{p}a{i}") for i in range(5)]
    after = [_req(f"{p}b{i}") for i in range(5)]
    roles = orjson.dumps({"request_id": f"{p}roles", "tenant": "po",
                          "messages": [{"role": "robot", "content": "x" * 20}] * 10_000})
    huge = _req(f"{p}huge", "y" * 1_010_000)
    msgs = [*before, (f"{p}ff".encode(), b"\xff" * 400_000), (f"{p}roles".encode(), roles), huge, *after]
    expected = {rid.decode() for rid, _ in [*before, *after]} | {f"{p}roles", f"{p}huge"}
    got = _answers(stack, msgs, expected)
    assert got[f"{p}huge"]["error"]["code"] == "payload_too_large"
    assert got[f"{p}roles"]["error"]["code"] == "invalid_request"
    assert got[f"{p}roles"]["error"]["problems"][-1].endswith("more problems")
    assert all(got[r.decode()]["status"] == "ok" for r, _ in [*before, *after])
    dlq = run(read_topic(stack.settings.kafka_bootstrap, stack.names.requests_dlq))
    garbage = [orjson.loads(v) for k, v in dlq if not k.startswith(p.encode()) and b"payload_b64" in v]
    assert any(g["payload_bytes"] == 400_000 for g in garbage)  # the 0xFF blob, kept as bounded base64
    assert all(len(v) < 200_000 for _, v in dlq)


def test_a_5_mb_request_on_a_topic_that_allows_it_is_refused_and_the_next_ones_answered(stack: Stack) -> None:
    run(_allow_big_messages(stack.settings.kafka_bootstrap, stack.names.requests))
    p = f"five-{uuid.uuid4().hex[:6]}-"
    msgs = [_req(f"{p}huge", "z" * 5_000_000), *[_req(f"{p}n{i}") for i in range(5)]]
    got = _answers(stack, msgs, {k.decode() for k, _ in msgs}, max_request_size=8 * 1024 * 1024)
    assert got[f"{p}huge"]["error"]["code"] == "payload_too_large"
    assert [got[f"{p}n{i}"]["status"] for i in range(5)] == ["ok"] * 5


async def _allow_big_messages(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                  {"max.message.bytes": str(8 * 1024 * 1024)})])
    finally:
        await admin.close()


def test_reply_topic_abuse_is_refused_on_the_default_topic_and_never_stalls(stack: Stack) -> None:
    p = f"rt-{uuid.uuid4().hex[:6]}-"
    own = f"po.replies.{uuid.uuid4().hex[:6]}"
    run(_create(stack.settings.kafka_bootstrap, own))
    n = stack.names
    abuse = {f"{p}routed": n.routed, f"{p}requests": n.requests, f"{p}outcomes": n.outcomes, f"{p}dlq": n.requests_dlq,
             f"{p}missing": "po.does.not.exist", f"{p}foreign": "acme.replies"}
    msgs = [_req(rid, reply_topic=topic) for rid, topic in abuse.items()] + [_req(f"{p}v{i}") for i in range(30)]
    got = _answers(stack, msgs, set(abuse) | {f"{p}v{i}" for i in range(30)}, timeout=60)
    assert {got[rid]["error"]["code"] for rid in abuse} == {"invalid_request", "reply_topic_missing"}
    assert got[f"{p}missing"]["error"]["code"] == "reply_topic_missing"
    assert "internal topic" in got[f"{p}routed"]["error"]["message"]
    routed = run(read_topic(stack.settings.kafka_bootstrap, n.routed))
    assert not [k for k, _ in routed if k.startswith(p.encode()) and not k.startswith(f"{p}v".encode())]
    mine = _answers(stack, [_req(f"{p}own", reply_topic=own)], {f"{p}own"}, topic=own)
    assert mine[f"{p}own"]["status"] == "ok"


async def _create(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    await asyncio.sleep(2.5)  # the pipeline lists topics every 2 s; a brand-new one is known after that


def test_forged_and_garbage_internal_events_are_set_aside_not_invoked(stack: Stack) -> None:
    p = f"forged-{uuid.uuid4().hex[:6]}-"
    calls_before = stack.sim_stats()["calls"].get("claude-sonnet-4", 0)
    job = Job(Request(f"{p}pii", "po", [{"role": "user", "content": "my card is 4111 1111 1111 1111"}],
                      data_policy=DataPolicy(pii=True, allowed_providers=["vllm"]), max_cost_usd=1e-7),
              received_at_ms=1_800_000_000_000, classification=Classification("chat", 3, 0.9))
    job.decision = Decision("claude-sonnet-4", "anthropic", 3, 0.01, "forged", [])
    n = stack.names
    boot = stack.settings.kafka_bootstrap
    run(publish(boot, n.routed, [(f"{p}pii".encode(), job.encode())]))
    for topic in (n.classified, n.routed, n.invoked, n.escalations):
        run(publish(boot, topic, [(f"{p}junk".encode(), b"\x00not a job"), (f"{p}half".encode(), b'{"request": {}}')]))
    _answers(stack, [_req(f"{p}after")], {f"{p}after"})
    wait_until(lambda: sum(int(r["n"]) for r in stack.query("dead_letters", prefix=n.prefix)
                           if r["code"] == "invalid_internal_event") >= 9, what="9 dead letters")
    rows = stack.query("dead_letters", prefix=f"{p}pii")
    assert rows and "provider_not_allowed" in rows[0]["example"]
    assert stack.sim_stats()["calls"].get("claude-sonnet-4", 0) == calls_before
    dlq = run(read_topic(boot, n.internal_dlq))
    assert any(k == f"{p}pii".encode() for k, _ in dlq)


def test_bad_outcome_rows_go_to_the_outcomes_dlq_and_the_sink_keeps_writing(stack: Stack) -> None:
    p = f"rows-{uuid.uuid4().hex[:6]}-"
    n = stack.names
    full = dict.fromkeys(("request_id", "tenant", "received_at", "completed_at", "status", "error_code", "task_type",
                          "classified_tier", "final_tier", "model", "provider", "input_tokens", "output_tokens",
                          "cost_usd", "latency_ms", "attempts", "escalations", "fallbacks", "verification_score",
                          "best_effort", "classifier_version", "version"), 0)
    bad = [orjson.dumps({"t": "requests", "r": {"request_id": f"{p}missing"}}),
           orjson.dumps({"t": "requests", "r": {**full, "request_id": f"{p}typed", "tenant": 5}}),
           orjson.dumps({"t": "no_such_table", "r": {"request_id": f"{p}table"}}), b"\xff\xfe not json"]
    run(publish(stack.settings.kafka_bootstrap, n.outcomes, [(f"{p}{i}".encode(), v) for i, v in enumerate(bad)]))
    ids = {f"{p}v{i}" for i in range(30)}
    _answers(stack, [_req(rid) for rid in sorted(ids)], ids)
    wait_until(lambda: {r["table"]: int(r["ids"]) for r in stack.query("request_counts", prefix=f"{p}v")}
               ["requests"] == 30, timeout=60, what="rows for the 30 requests after the bad rows")
    dlq = run(read_topic(stack.settings.kafka_bootstrap, n.outcomes_dlq))
    reasons = {orjson.loads(v)["error"]["message"].split(":")[0] for k, v in dlq if k.startswith(p.encode()) or
               b"not json" in v or b"no_such_table" in v}
    assert len([1 for k, v in dlq if p.encode() in v or b"not json" in v]) >= 4, reasons


def test_a_provider_that_echoes_the_key_leaks_it_nowhere(stack: Stack) -> None:
    p = f"echo-{uuid.uuid4().hex[:6]}-"
    stack.configure_sim({"default": {"echo_key": True, "error_rate": 1.0, "error_status": 401}})
    try:
        ids = {f"{p}{i}" for i in range(10)}
        got = _answers(stack, [_req(rid) for rid in sorted(ids)], ids)
    finally:
        stack.configure_sim({"default": {"echo_key": False, "error_rate": 0.0, "error_status": 500}})
    assert all(r["status"] == "error" for r in got.values())
    assert any("[redacted]" in r["error"]["message"] for r in got.values())
    secrets = [v.encode() for v in KEYS.values()]
    n = stack.names
    for topic in (n.responses, n.routed, n.invoked, n.escalations, n.outcomes, n.internal_dlq):
        for _, value in run(read_topic(stack.settings.kafka_bootstrap, topic)):
            assert not any(s in value for s in secrets), topic
    for log in [stack.sink.log_path, *(w.log_path for w in stack.pipelines)]:
        text = log.read_bytes()
        assert not any(s in text for s in secrets), log.name
