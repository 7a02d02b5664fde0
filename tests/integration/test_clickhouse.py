"""Migrations on the real embedded engine: applied in order, recorded, safe to run twice;
replayed rows collapse under ReplacingMergeTree. (chDB allows one data path per process, so
this is the only test in the suite that opens the engine in-process.)"""

from __future__ import annotations

from pathlib import Path

from core import outcomes
from core.events import Attempt
from streams.clickhouse import OutcomeWriter, connect, migrate, migrations
from tests.fakes import job


def test_migrations_idempotent_and_replays_collapse(tmp_path_factory) -> None:
    path: Path = tmp_path_factory.mktemp("chdb")
    client = connect(f"chdb://{path}")
    applied = migrate(client)
    assert applied == [name for _, name, _ in migrations()]
    assert migrate(client) == []
    tables = {r[0] for r in client.query("SHOW TABLES FROM llm").result_rows}
    assert {"requests", "attempts", "decisions", "escalations", "schema_migrations"} <= tables

    writer = OutcomeWriter(client)
    j = job(1)
    a = Attempt(1, "gpt-4o", "openai", 3, "ok", 1_800_000_000_000, 12.0, content="x", input_tokens=5,
                output_tokens=7, cost_usd=0.0000825)
    j.attempts.append(a)
    row = outcomes.request_row(j, "ok", "", a, 1_800_000_000_100)
    writer.insert("requests", [row])
    writer.insert("requests", [row])  # a redelivered batch
    result = client.query("SELECT count(), sum(cost_usd), any(latency_ms) FROM llm.requests FINAL "
                          "WHERE request_id = 'r1'").result_rows[0]
    assert result[0] == 1
    assert float(result[1]) == 0.0000825
    assert result[2] == 100
