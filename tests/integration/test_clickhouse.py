"""Migrations on the real embedded engine: applied in order, recorded, safe to run twice;
replayed rows collapse under ReplacingMergeTree. (chDB allows one data path per process, so
this is the only test in the suite that opens the engine in-process.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import outcomes
from core.events import Attempt
from streams.clickhouse import OutcomeWriter, connect, migrate, migrations
from tests.fakes import job
from tests.fakes import request as make_request
from training.train import outcome_rows


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chDB allows one data path per process: every in-process test shares this one."""
    return tmp_path_factory.mktemp("chdb")


def test_migrations_idempotent_and_replays_collapse(chdb_path: Path) -> None:
    client = connect(f"chdb://{chdb_path}")
    migrate(client)
    recorded = [r[0] for r in client.query("SELECT name FROM llm.schema_migrations FINAL ORDER BY version").result_rows]
    assert recorded == [name for _, name, _ in migrations()]
    assert migrate(client) == []  # a second run applies nothing
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


def test_retraining_rows_join_texts_with_accepted_tiers(chdb_path: Path) -> None:
    """training.train --from-clickhouse reads exactly the accepted, non-best-effort requests."""
    client = connect(f"chdb://{chdb_path}")
    migrate(client)
    writer = OutcomeWriter(client)
    rows = []
    for rid, hint, status, tier, best_effort in [("rt-1", "code", "ok", 2, 0), ("rt-2", "", "ok", 1, 0),
                                                 ("rt-3", "math", "error", 0, 0), ("rt-4", "chat", "ok", 3, 1)]:
        j = job(tier or 1)
        j.request = make_request(request_id=rid, task_type=hint or None,
                                 messages=[{"role": "user", "content": f"prompt {rid} mail me at a@b.co"}])
        a = Attempt(1, "m", "p", tier, "ok", 1_800_000_000_000, 1.0, content="x")
        j.attempts.append(a)
        writer.insert("request_texts", [outcomes.text_row(j, 1_800_000_000_001)])
        rows.append(outcomes.request_row(j, status, "", a if status == "ok" else None, 1_800_000_000_002,
                                         best_effort=bool(best_effort)))
    writer.insert("requests", rows)
    got = sorted((r.text, r.task, r.tier) for r in outcome_rows(client))
    assert got == [("prompt rt-1 mail me at [EMAIL]", "code", 2), ("prompt rt-2 mail me at [EMAIL]", None, 1)]


def test_verifier_feedback_rows_join_texts_outcomes_and_feedback(chdb_path: Path) -> None:
    from training.verifier import feedback_rows

    client = connect(f"chdb://{chdb_path}")
    migrate(client)
    writer = OutcomeWriter(client)
    j = job(2)
    j.request = make_request(request_id="vf-1", messages=[{"role": "user", "content": "verifier feedback prompt"}])
    a = Attempt(1, "m", "p", 2, "ok", 1_800_000_000_000, 1.0, content="x")
    j.attempts.append(a)
    writer.insert("request_texts", [outcomes.text_row(j, 1_800_000_000_001)])
    writer.insert("requests", [outcomes.request_row(j, "ok", "", a, 1_800_000_000_002)])
    writer.insert("feedback",
                  [outcomes.feedback_row({"request_id": "vf-1", "score": 0.2, "source": "t"}, 1_800_000_000_003)])
    assert ("verifier feedback prompt", 2, 0) in feedback_rows(client)


def test_llm_router_migrate_applies_once_then_reports_up_to_date(tmp_path: Path) -> None:
    """The console command in its own process (its own chDB path), as an operator runs it."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTER_", "CLICKHOUSE_"))}
    env["CLICKHOUSE_URL"] = f"chdb://{tmp_path / 'chdb'}"
    cmd = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main(['migrate']))"]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"applied {len(migrations())} migrations: 001_requests")
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert (again.returncode, again.stdout.strip()) == (0, "applied 0 migrations (up to date)")
    bad = subprocess.run([*cmd[:-1], "import sys, cli; sys.exit(cli.main(['migrate', 'now']))"], capture_output=True,
                         text=True, env=env, timeout=60, check=False)
    assert bad.returncode == 2 and "usage: llm-router migrate" in bad.stderr
