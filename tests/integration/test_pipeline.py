"""The whole pipeline over the real broker, with the sink writing to embedded ClickHouse."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
from aiokafka import AIOKafkaConsumer

from core.catalog import load_catalog
from core.routing import stable_unit
from tests.integration.conftest import wait_until
from tooling.client import collect, publish, run
from tooling.stack import Stack


def _request(rid: str, content: str = "Say hello.", **kw: object) -> tuple[bytes, bytes]:
    body = {"request_id": rid, "tenant": "it", "messages": [{"role": "user", "content": content}], **kw}
    return rid.encode(), orjson.dumps(body)


def _send_and_collect(stack: Stack, messages: list[tuple[bytes, bytes]], expected: set[str]):
    run(publish(stack.settings.kafka_bootstrap, stack.names.requests, messages))
    return run(collect(stack.settings.kafka_bootstrap, stack.names.responses, expected, 90))


def _counts(stack: Stack, prefix: str) -> dict[str, tuple[int, int]]:
    return {r["table"]: (int(r["rows"]), int(r["ids"])) for r in stack.query("request_counts", prefix=prefix)}


def test_n_requests_give_n_responses_and_n_rows(stack: Stack) -> None:
    prefix = f"n-{uuid.uuid4().hex[:6]}-"
    n = 300
    ids = {f"{prefix}{i}" for i in range(n)}
    got = _send_and_collect(stack, [_request(rid, f"Question {rid}: what is {i}+1?") for i, rid in enumerate(ids)],
                            ids)
    assert got.missing_from(ids) == []
    assert got.duplicates == 0
    assert all(r["status"] == "ok" for r in got.responses.values())
    wait_until(lambda: _counts(stack, prefix)["requests"] == (n, n), what="one requests row per request")
    counts = _counts(stack, prefix)
    assert counts["decisions"][1] == n and counts["decisions"][0] >= n  # escalations add decisions
    assert counts["attempts"][1] == n


def test_invalid_request_gets_an_error_response_and_a_dlq_copy(stack: Stack) -> None:
    rid = f"bad-{uuid.uuid4().hex[:6]}"
    bad = orjson.dumps({"request_id": rid, "tenant": "it", "messages": [{"role": "user"}], "max_output_tokens": -1})
    got = _send_and_collect(stack, [(rid.encode(), bad)], {rid})
    response = got.responses[rid]
    assert response["status"] == "error"
    assert response["error"]["code"] == "invalid_request"
    assert "messages[0].content" in response["error"]["message"]
    assert "max_output_tokens" in response["error"]["message"]
    assert rid in asyncio.run(_dlq_ids(stack))
    wait_until(lambda: _counts(stack, rid)["requests"] == (1, 1), what="the invalid request's row")


async def _dlq_ids(stack: Stack) -> set[str]:
    consumer = AIOKafkaConsumer(stack.names.requests_dlq, bootstrap_servers=stack.settings.kafka_bootstrap,
                                group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return {r.key.decode() for recs in batches.values() for r in recs}
    finally:
        await consumer.stop()


def test_empty_answer_escalates_one_tier_end_to_end(stack: Stack) -> None:
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    # every tier-1 model answers empty, and the first pick is a tier-1 one whatever the quality memory
    # has learned from the earlier tests: quality_target 0 takes the cheapest model it knows, and the
    # request id is one whose stable draw does not explore
    tier1 = [m.wire_model for m in catalog.models.values() if m.tier == 1]
    stack.configure_sim({"models": {m: {"latency_ms": 0, "empty_rate": 1.0} for m in tier1}})
    try:
        rid = next(r for r in (f"esc-{uuid.uuid4().hex[:6]}" for _ in range(1000))
                   if stable_unit(f"{r}\x1f0") >= catalog.quality.explore_share)
        got = _send_and_collect(stack, [_request(rid, "hi", quality_target=0.0)], {rid})  # "hi": tier-1 chat
        response = got.responses[rid]
        assert response["status"] == "ok"
        assert response["escalations"] == 1 and response["escalation_reasons"] == ["empty"]
        assert response["tier"] == 2
        wait_until(lambda: _counts(stack, rid)["escalations"] == (1, 1), what="the escalation row")
    finally:
        stack.configure_sim({"models": {m: {"latency_ms": 0, "empty_rate": 0.0} for m in tier1}})


def test_all_providers_down_gives_one_error_response_each(stack: Stack) -> None:
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    models = [m.wire_model for m in catalog.models.values()]
    stack.configure_sim({"models": {m: {"latency_ms": 0, "down": True} for m in models}})
    try:
        prefix = f"down-{uuid.uuid4().hex[:6]}-"
        ids = {f"{prefix}{i}" for i in range(20)}
        got = _send_and_collect(stack, [_request(rid) for rid in ids], ids)
        assert got.missing_from(ids) == [] and got.duplicates == 0
        assert all(r["status"] == "error" for r in got.responses.values())
        codes = {r["error"]["code"] for r in got.responses.values()}
        # first calls fail with the provider's 503s; once breakers open, calls are not even tried
        assert codes <= {"provider_unavailable", "breaker_open", "all_providers_down"}
    finally:
        stack.configure_sim({"models": {m: {"latency_ms": 0, "down": False} for m in models}})
        wait_until(lambda: _probe_ok(stack), timeout=60, what="breakers to close after the outage")


def _probe_ok(stack: Stack) -> bool:
    rid = f"probe-{uuid.uuid4().hex[:6]}"
    return _send_and_collect(stack, [_request(rid)], {rid}).responses[rid]["status"] == "ok"


def test_classifier_drift_windows_reach_clickhouse(stack: Stack) -> None:
    """Drift windows (1 s here) close as traffic flows; the PSI query reads them back."""
    for round_no in range(2):  # two windows apart, so the first one closes
        rid = f"drift-{uuid.uuid4().hex[:6]}-{round_no}"
        _send_and_collect(stack, [_request(rid, "Write a haiku about autumn.")], {rid})
    wait_until(lambda: any(r["dimension"] == "task" for r in stack.query("classifier_drift")),
               what="a PSI row for the task dimension")
    rows = stack.query("classifier_drift")
    assert {r["status"] for r in rows} <= {"stable", "watch", "drift"}
    assert all(float(r["psi"]) >= 0 for r in rows)


def test_every_dashboard_query_runs_and_feedback_is_stored(stack: Stack) -> None:
    from streams.clickhouse import named_queries

    rid = f"fb-{uuid.uuid4().hex[:6]}"
    _send_and_collect(stack, [_request(rid, "What is the capital of Peru?")], {rid})
    feedback = [(rid.encode(), orjson.dumps({"request_id": rid, "score": 0.9, "source": "thumbs"})),
                (b"x", orjson.dumps({"request_id": rid, "score": 7})),  # invalid: logged, not stored
                (b"y", b"not json")]
    run(publish(stack.settings.kafka_bootstrap, stack.names.feedback, feedback))
    wait_until(lambda: _counts(stack, rid)["requests"] == (1, 1), what="the request row")
    for name in named_queries():
        rows = stack.query(name, prefix="")
        assert isinstance(rows, list), name
    savings = stack.query("savings_vs_strongest")[0]
    assert savings["baseline_model"] == "claude-sonnet-4" and float(savings["saved_usd"]) > 0
    wait_until(lambda: stack.rows_written().get("feedback", 0) == 1, what="the valid feedback row")


def test_live_and_ready_probes_answer_for_both_roles(stack: Stack) -> None:
    import httpx

    for proc in [*stack.pipelines, stack.sink]:
        assert proc is not None
        base = proc.health_url.removesuffix("/health/")
        wait_until(lambda b=base: httpx.get(f"{b}/health/ready", timeout=5).status_code == 200,
                   what=f"{proc.name} ready")
        ready = httpx.get(f"{base}/health/ready", timeout=5).json()
        assert ready["ready"] is True and ready["partitions"] > 0 and ready["producer"] is True
        live = httpx.get(f"{base}/health/live", timeout=5)
        assert live.status_code == 200 and live.json()["live"] is True, live.text
    time.sleep(stack.settings.stall_after_s * 2)  # idle past the stall limit (a non-event: nothing to wait on)
    for proc in [*stack.pipelines, stack.sink]:
        assert proc is not None
        live = httpx.get(proc.health_url.removesuffix("/health/") + "/health/live", timeout=5)
        assert live.status_code == 200, f"{proc.name} idle and caught up, yet: {live.text}"


def test_worker_logs_are_json_lines(stack: Stack) -> None:
    for proc in [*stack.pipelines, stack.sink]:
        assert proc is not None
        lines = [line for line in proc.log_path.read_text().splitlines() if line.strip()]
        assert lines, f"{proc.name} logged nothing"
        parsed = [orjson.loads(line) for line in lines]  # raises on a line that is not JSON
        assert all({"ts", "level", "logger", "message"} <= set(p) for p in parsed)


def test_llm_router_publish_and_tail_on_the_real_broker(stack: Stack, tmp_path, monkeypatch, capsys) -> None:
    import cli

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.settings.kafka_bootstrap)
    monkeypatch.setenv("ROUTER_TOPIC_PREFIX", stack.settings.topic_prefix)
    rid = f"cli-{uuid.uuid4().hex[:6]}"
    request = tmp_path / "request.json"
    request.write_bytes(_request(rid, "Say hello.")[1])
    assert cli.main(["publish", str(request), "--timeout", "60"]) == 0
    response = orjson.loads(capsys.readouterr().out)
    assert (response["request_id"], response["status"]) == (rid, "ok")
    assert cli.main(["tail", "responses", "--from-beginning", "--max", "1", "--idle-exit", "30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and orjson.loads(lines[0])["request_id"]
    request.write_bytes(b'{"request_id": "x", "messages": []}')
    assert cli.main(["publish", str(request)]) == 2
    assert "not a valid request" in capsys.readouterr().err


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url, timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _total(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


def test_metrics_count_a_known_run(stack: Stack) -> None:
    """/metrics on both workers, parsed by Prometheus' own parser, against a run we know."""
    pipeline_url = stack.pipelines[0].health_url.replace("/health/", "/metrics")
    sink_url = stack.sink.health_url.replace("/health/", "/metrics") if stack.sink else ""
    before, sink_before = _scrape(pipeline_url), _scrape(sink_url)
    prefix = f"metrics-{uuid.uuid4().hex[:6]}-"
    good = [_request(f"{prefix}{i}", f"What is {i} times 3?") for i in range(4)]
    bad = [(f"{prefix}bad".encode(), orjson.dumps({"request_id": f"{prefix}bad", "tenant": "it", "messages": []}))]
    got = _send_and_collect(stack, good + bad, {f"{prefix}{i}" for i in range(4)} | {f"{prefix}bad"})
    ok = sum(r["status"] == "ok" for r in got.responses.values())
    wait_until(lambda: _counts(stack, prefix).get("requests") == (5, 5), what="the run's rows")
    after, sink_after = _scrape(pipeline_url), _scrape(sink_url)
    delta = {status: _total(after, "llm_router_requests_total", status=status)
             - _total(before, "llm_router_requests_total", status=status) for status in ("ok", "error")}
    assert delta == {"ok": ok, "error": 5 - ok}
    assert _total(after, "llm_router_requests_total", error_code="invalid_request") - \
        _total(before, "llm_router_requests_total", error_code="invalid_request") == 1
    assert _total(after, "llm_router_request_latency_seconds_count") - \
        _total(before, "llm_router_request_latency_seconds_count") == 5
    assert _total(after, "llm_router_provider_latency_seconds_count") - \
        _total(before, "llm_router_provider_latency_seconds_count") >= ok
    assert _total(after, "llm_router_spend_usd_total", tenant="it") > _total(before, "llm_router_spend_usd_total",
                                                                              tenant="it")
    states = {dict(ls)["model"]: v for (n, ls), v in after.items() if n == "llm_router_breaker_state"}
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    assert set(states) == set(catalog.models) and set(states.values()) <= {0, 1, 2}  # other tests may open some
    assert any(n == "faust_topic_partition_end_offset" for n, _ in after)  # Faust's own sensors are there
    wait_until(lambda: any(n == "llm_router_consumer_lag" for n, _ in _scrape(pipeline_url)), what="lag per partition")
    assert _total(sink_after, "llm_router_sink_rows_written_total", table="requests") - \
        _total(sink_before, "llm_router_sink_rows_written_total", table="requests") >= 5
    assert _total(sink_after, "llm_router_sink_insert_seconds_count") > _total(sink_before,
                                                                                "llm_router_sink_insert_seconds_count")


async def _values_with_key(bootstrap: str, topic: str, key: bytes) -> list[bytes]:
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        out, todo = [], {tp for tp in parts if ends[tp] > 0}
        while todo:
            for tp, records in (await consumer.getmany(*todo, timeout_ms=2000)).items():
                out.extend(r.value for r in records if r.key == key and r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    todo.discard(tp)
        return out
    finally:
        await consumer.stop()


def test_dlq_replay_puts_a_refused_request_back_once(stack: Stack, monkeypatch, capsys) -> None:
    import cli

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.settings.kafka_bootstrap)
    monkeypatch.setenv("ROUTER_TOPIC_PREFIX", stack.settings.topic_prefix)
    boot, n = stack.settings.kafka_bootstrap, stack.names
    rid = f"replay-{uuid.uuid4().hex[:6]}"
    raw = orjson.dumps({"request_id": rid, "tenant": "it", "messages": []})
    got = _send_and_collect(stack, [(rid.encode(), raw)], {rid})
    assert got.responses[rid]["error"]["code"] == "invalid_request"
    wait_until(lambda: len(run(_values_with_key(boot, n.requests_dlq, rid.encode()))) == 1, what="the DLQ entry")

    assert cli.main(["dlq", "replay", "requests", "--request-id", rid, "--dry-run"]) == 0
    listed = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["to"], x["key"]) for x in listed] == [(n.requests, rid)]
    assert run(_values_with_key(boot, n.requests, rid.encode())) == [raw]  # a dry run sends nothing

    assert cli.main(["dlq", "replay", "requests", "--request-id", rid]) == 0
    assert run(_values_with_key(boot, n.requests, rid.encode())) == [raw, raw]  # the original bytes, once more
    # replayed inside the dedup window, the same id is a repeat: set aside again, not answered twice
    wait_until(lambda: len(run(_values_with_key(boot, n.requests_dlq, rid.encode()))) == 2, what="a second entry")
    assert run(_values_with_key(boot, n.responses, rid.encode())) != []
    assert len(run(_values_with_key(boot, n.responses, rid.encode()))) == 1
    assert cli.main(["dlq", "replay", "outcomes", "--request-id", "nothing-like-this"]) == 0
