"""Internal topics are written only by the pipeline's principal, and each tenant only its own request topic.

A broker with SASL/PLAIN and KRaft's StandardAuthorizer; the router runs as its own principal
with the ACLs of devenv/acls.py, and a tenant's principal may publish requests on its own topic
(``llm.requests.v1.<tenant>``) and read its own reply topic, but is refused on every internal topic,
on the shared requests topic and on another tenant's topic; a payload naming another tenant is
refused by the pipeline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAuthorizationFailedError

from core.config import Settings
from core.topics import TopicNames
from devenv.acls import apply_acls, router_acls, tenant_acls
from devenv.kafka import LocalBroker, start_broker
from tooling.client import collect, publish, run
from tooling.stack import Stack, run_settings

USERS = {"admin": uuid.uuid4().hex, "router": uuid.uuid4().hex, "tenant-po": uuid.uuid4().hex,
         "tenant-acme": uuid.uuid4().hex}


def _sasl(user: str) -> dict[str, str]:
    return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_plain_username": user,
            "sasl_plain_password": USERS[user]}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBroker, Stack]]:
    run_dir = tmp_path_factory.mktemp("acl")
    broker = start_broker(run_dir / "kafka", users=USERS)
    try:
        s = run_settings(Settings(kafka_bootstrap=broker.bootstrap, kafka_security_protocol="SASL_PLAINTEXT",
                                  kafka_username="router", kafka_password=USERS["router"],
                                  tenant_topics=("po", "acme")), "acl", run_dir)
        names = TopicNames(s.topic_prefix)
        apply_acls(broker.libs, broker.bootstrap, USERS["admin"],
                   router_acls("router", names, s.app_id) + tenant_acls("tenant-po", "po", names, own_topic=True)
                   + tenant_acls("tenant-acme", "acme", names, own_topic=True), run_dir)
        run(_create(broker.bootstrap, "po.replies"))
        with Stack(s, run_dir, sim_config={"default": {"latency_ms": 0}}).start(lambda m: None) as stack:
            yield broker, stack
    finally:
        broker.stop()


async def _create(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **_sasl("admin"))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()


async def _refused_topics(bootstrap: str, topics: list[str]) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=10000, **_sasl("tenant-po"))
    await producer.start()
    refused = []
    try:
        for topic in topics:
            try:
                await asyncio.wait_for(producer.send_and_wait(topic, b'{"forged": true}', key=b"x"), 15)
            except TopicAuthorizationFailedError:
                refused.append(topic)
    finally:
        await producer.stop()
    return refused


def test_a_tenant_is_refused_on_every_internal_topic_and_on_other_tenants_request_topics(
        secured: tuple[LocalBroker, Stack]) -> None:
    broker, stack = secured
    n = stack.names
    others = [t for t in n.all() if t != n.feedback] + [n.tenant_requests("acme")]  # the shared topic too
    assert run(_refused_topics(broker.bootstrap, others)) == others
    assert run(_refused_topics(broker.bootstrap, [n.tenant_requests("po")])) == []


def test_the_pipeline_runs_as_its_own_principal_and_the_tenant_reads_its_reply_topic(
        secured: tuple[LocalBroker, Stack]) -> None:
    broker, stack = secured
    rid = f"acl-{uuid.uuid4().hex[:6]}"
    body = orjson.dumps({"request_id": rid, "tenant": "po", "reply_topic": "po.replies",
                         "messages": [{"role": "user", "content": "Say hello."}]})
    run(publish(broker.bootstrap, stack.names.tenant_requests("po"), [(rid.encode(), body)], **_sasl("tenant-po")))
    got = run(collect(broker.bootstrap, "po.replies", {rid}, 90, **_sasl("tenant-po")))
    assert got.responses[rid]["status"] == "ok"


def test_a_request_naming_another_tenant_on_a_tenants_own_topic_is_refused(
        secured: tuple[LocalBroker, Stack]) -> None:
    """po may write only its own topic, and a payload there claiming acme (to spend acme's budget, or to
    answer into acme's reply topic) is refused as tenant_mismatch on the router's responses topic."""
    broker, stack = secured
    rid = f"forged-{uuid.uuid4().hex[:6]}"
    body = orjson.dumps({"request_id": rid, "tenant": "acme", "reply_topic": "acme.replies",
                         "messages": [{"role": "user", "content": "Spend acme's budget."}]})
    run(publish(broker.bootstrap, stack.names.tenant_requests("po"), [(rid.encode(), body)], **_sasl("tenant-po")))
    got = run(collect(broker.bootstrap, stack.names.responses, {rid}, 90, **_sasl("router")))
    assert got.responses[rid]["error"]["code"] == "tenant_mismatch"
