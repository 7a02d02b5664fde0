"""Sink and dashboard speed: ``python -m tooling bench-sink --rows 10000000``.

Loads synthetic outcome rows (30 days, 50 tenants, the catalog's models, realistic shares of
errors and escalations) into a fresh embedded ClickHouse in batches, as the sink does, prints
insert rows per second, then times every named dashboard query (median of 3 runs).
"""

from __future__ import annotations

import shutil
import statistics
import time
from typing import Any

import numpy as np

from core.catalog import load_catalog
from core.config import Settings
from core.outcomes import COLUMNS, reference_rows
from streams.clickhouse import QUERY_DIR, OutcomeWriter, connect, migrate, named_queries, query_params

BATCH = 250_000
DAY_MS = 86_400_000


def _requests_columns(rng: np.random.Generator, start: int, n: int, now_ms: int, models: list[Any]) -> list[Any]:
    m = rng.integers(0, len(models), n)
    tiers = np.array([models[i].tier for i in m])
    received = now_ms - rng.integers(0, 30 * DAY_MS, n)
    latency = rng.gamma(2.0, 400.0, n).astype(np.int64) + 50
    in_tok = rng.integers(20, 4000, n)
    out_tok = rng.integers(10, 800, n)
    price_in = np.array([models[i].input_per_mtok for i in m])
    price_out = np.array([models[i].output_per_mtok for i in m])
    ok = rng.random(n) < 0.96
    esc = (rng.random(n) < np.where(tiers == 1, 0.18, 0.07)).astype(np.int64)
    tasks = np.array(["code", "math", "reasoning", "knowledge_qa", "extraction", "summarization", "writing", "chat"])
    cols = {
        "request_id": [f"bench-{i}" for i in range(start, start + n)],
        "tenant": [f"tenant-{t}" for t in rng.integers(0, 50, n)],
        "received_at": received, "completed_at": received + latency,
        "status": np.where(ok, "ok", "error").tolist(),
        "error_code": np.where(ok, "", "provider_unavailable").tolist(),
        "task_type": tasks[rng.integers(0, len(tasks), n)].tolist(),
        "classified_tier": np.maximum(1, tiers - esc), "final_tier": tiers,
        "model": [models[i].name for i in m], "provider": [models[i].provider for i in m],
        "input_tokens": in_tok, "output_tokens": out_tok,
        "cost_usd": np.round((in_tok * price_in + out_tok * price_out) / 1e6, 9).tolist(),
        "latency_ms": latency, "attempts": 1 + esc, "escalations": esc, "fallbacks": (rng.random(n) < 0.02).astype(int),
        "verification_score": rng.random(n).astype(np.float32), "best_effort": np.zeros(n, dtype=int),
        "classifier_version": ["lgbm-bench"] * n, "version": received + latency,
    }
    return [cols[c] for c in COLUMNS["requests"]]


def _attempts_columns(rng: np.random.Generator, start: int, n: int, now_ms: int, models: list[Any]) -> list[Any]:
    m = rng.integers(0, len(models), n)
    started = now_ms - rng.integers(0, 30 * DAY_MS, n)
    ok = rng.random(n) < 0.95
    cols = {
        "request_id": [f"bench-{i}" for i in range(start, start + n)], "attempt_no": np.ones(n, dtype=int),
        "started_at": started, "tenant": [f"tenant-{t}" for t in rng.integers(0, 50, n)],
        "model": [models[i].name for i in m], "provider": [models[i].provider for i in m],
        "tier": [models[i].tier for i in m], "status": np.where(ok, "ok", "error").tolist(),
        "error_code": np.where(ok, "", "provider_timeout").tolist(), "http_status": np.where(ok, 200, 504),
        "latency_ms": rng.gamma(2.0, 300.0, n).astype(np.float32), "input_tokens": rng.integers(20, 4000, n),
        "output_tokens": rng.integers(10, 800, n), "cost_usd": np.round(rng.random(n) / 500, 9).tolist(),
        "finish_reason": ["stop"] * n, "fallback": (rng.random(n) < 0.02).astype(int), "version": started,
    }
    return [cols[c] for c in COLUMNS["attempts"]]


def _load(writer: OutcomeWriter, table: str, rows: int, make: Any, now_ms: int, models: list[Any]) -> float:
    rng = np.random.default_rng(7)
    insert_s = 0.0
    for start in range(0, rows, BATCH):
        n = min(BATCH, rows - start)
        columns = [c.tolist() if isinstance(c, np.ndarray) else c for c in make(rng, start, n, now_ms, models)]
        t0 = time.perf_counter()
        writer.client.insert(f"llm.{table}", columns, column_names=list(COLUMNS[table]), column_oriented=True)
        insert_s += time.perf_counter() - t0
    return insert_s


def run_bench_sink(settings: Settings, rows: int) -> int:
    path = settings.data_dir / "bench-sink"
    shutil.rmtree(path, ignore_errors=True)
    client = connect(f"chdb://{path.resolve()}")
    migrate(client)
    writer = OutcomeWriter(client)
    catalog = load_catalog(settings.catalog_path, settings.catalog_placeholders())
    now_ms = int(time.time() * 1000)
    for table, ref in reference_rows(catalog, now_ms).items():
        writer.insert(table, ref)
    models = list(catalog.models.values())
    print(f"[bench-sink] loading {rows:,} llm.requests rows and {rows:,} llm.attempts rows "
          f"in batches of {BATCH:,} into embedded ClickHouse at {path}", flush=True)
    for table, make in (("requests", _requests_columns), ("attempts", _attempts_columns)):
        t0 = time.perf_counter()
        insert_s = _load(writer, table, rows, make, now_ms, models)
        total = time.perf_counter() - t0
        print(f"  {table:<9} {rows / insert_s:>12,.0f} rows/s inserting ({insert_s:.1f} s); "
              f"{rows / total:,.0f} rows/s including generating the columns", flush=True)
    print("dashboard queries (median of 3 runs):")
    for name, sql in named_queries(QUERY_DIR).items():
        params = query_params(sql, {"prefix": ""})
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            _, result = writer.query(sql, params)
            times.append(time.perf_counter() - t0)
        print(f"  {name:<26} {statistics.median(times) * 1000:8.0f} ms  ({len(result)} rows)", flush=True)
    return 0
