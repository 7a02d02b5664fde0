"""Stopping a sink while ClickHouse is down commits nothing it did not write (issue 12, item 4).

Before the fix, Faust's take_events acked the batch in a ``finally``: SIGTERM during the retry
loop exited cleanly with the offsets of the unwritten rows committed, and they were never
written after the restart.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from core.config import REPO_ROOT, Settings
from core.outcomes import COLUMNS
from core.topics import TopicNames
from devenv.kafka import free_port, terminate
from streams.topics import ensure_topics
from tests.integration.conftest import wait_until
from tooling.client import publish, run
from tooling.stack import run_settings


async def _committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        total = 0
        for p in range(partitions):
            offset = await consumer.committed(TopicPartition(topic, p))
            total += offset or 0
        return total
    finally:
        await consumer.stop()


def _live(port: int) -> httpx.Response:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5)
    except httpx.HTTPError:
        return httpx.Response(599)


def test_sigterm_while_clickhouse_is_down_commits_no_unwritten_row(bootstrap: str, tmp_path: Path) -> None:
    port = free_port()
    s = run_settings(Settings(kafka_bootstrap=bootstrap, partitions=2), "stall", tmp_path)
    names = TopicNames(s.topic_prefix)
    asyncio.run(ensure_topics(bootstrap, names, s.partitions))
    row = dict.fromkeys(COLUMNS["feedback"], 0)
    rows = [(f"r{i}".encode(), orjson.dumps({"t": "feedback", "r": {**row, "request_id": f"r{i}"}})) for i in range(40)]
    run(publish(bootstrap, names.outcomes, rows))
    log_path = tmp_path / "stalled-sink.log"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ROUTER_TOPIC_PREFIX": s.topic_prefix,
           "ROUTER_APP_ID": s.app_id, "ROUTER_DATA_DIR": str(tmp_path), "ROUTER_PARTITIONS": "2",
           "ROUTER_WEB_PORT": str(port), "ROUTER_STALL_AFTER_S": "4", "PYTHONPATH": str(REPO_ROOT)}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tests.integration.stalled_sink"], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True)
    try:
        wait_until(lambda: log_path.read_text(errors="replace").count("refused: server down") >= 3, timeout=90,
                   what="the sink to be retrying its first batch")
        time.sleep(1.5)  # past Faust's 1 s commit interval: a commit of the unacked batch would have happened
        # the stuck sink says so: lag on its partitions and no progress for ROUTER_STALL_AFTER_S
        wait_until(lambda: _live(port).status_code == 503, timeout=60, what="/health/live to report the stall")
        assert set(_live(port).json()["stalled_partitions"]) == {f"{names.outcomes}-0", f"{names.outcomes}-1"}
    finally:
        terminate(proc, 30)
    assert proc.returncode is not None
    committed = run(_committed(bootstrap, f"{s.app_id}-sink", names.outcomes, 2))
    assert committed == 0, f"{committed} offsets committed for rows that were never written"
