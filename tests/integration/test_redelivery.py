"""At-least-once under a crash: SIGKILL the pipeline worker with provider calls in flight."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest

from tests.integration.conftest import running_stack, wait_until
from tooling.client import collect, publish, run
from tooling.stack import Stack

N = 200


@pytest.fixture(scope="module")
def slow(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(bootstrap, tmp_path_factory.mktemp("redelivery"), "rd", {"default": {"latency_ms": 1500}},
                       session_timeout_s=6) as s:
        yield s


def test_killed_worker_loses_no_request(slow: Stack) -> None:
    prefix = f"kill-{uuid.uuid4().hex[:6]}-"
    ids = [f"{prefix}{i}" for i in range(N)]
    msgs = [(rid.encode(), orjson.dumps({"request_id": rid, "tenant": "it",
                                         "messages": [{"role": "user", "content": f"Say hi ({rid})"}]}))
            for rid in ids]
    run(publish(slow.settings.kafka_bootstrap, slow.names.requests, msgs))
    wait_until(lambda: sum(slow.sim_stats()["calls"].values()) >= N // 2, timeout=60,
               what="provider calls to be in flight")
    victim = slow.pipelines.pop()
    victim.kill()  # SIGKILL: no shutdown, no commit, calls in flight abandoned
    slow.start_pipeline()
    got = run(collect(slow.settings.kafka_bootstrap, slow.names.responses, set(ids), 120, settle_s=2.0))
    assert got.missing_from(ids) == []
    assert all(r["status"] == "ok" for r in got.responses.values())
    calls = sum(slow.sim_stats()["calls"].values())
    assert calls <= 2 * N  # each call repeated at most once: only the dead worker's uncommitted calls
    assert got.duplicates <= N // 10  # replays are skipped per stage; duplicates only from the crash window
    print(f"\nkill test: {N} requests, {len(got.responses)} answered, {got.duplicates} duplicate responses "
          f"(deduplicated by request_id), {calls} provider calls ({calls - N} repeated in the crash window)")
    wait_until(lambda: {r["table"]: r["ids"] for r in slow.query("request_counts", prefix=prefix)}["requests"] == N,
               what="one requests row per request")
    rows = {r["table"]: (int(r["rows"]), int(r["ids"])) for r in slow.query("request_counts", prefix=prefix)}
    assert rows["requests"] == (N, N)  # duplicates collapse under ReplacingMergeTree FINAL
    daily = slow.query("daily_requests", tenant="it")
    assert int(daily[0]["requests"]) == N  # the sink writes one row per request, so the rollup counts each once
