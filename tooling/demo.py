"""``make demo``: start what is missing, send a mixed workload, check every request got exactly
one response and one ClickHouse row, print the report, stop everything."""

from __future__ import annotations

import shutil
import sys
import time

from analytics.report import render, write_report
from core.catalog import load_catalog
from core.config import Settings
from core.routing import RoutingPolicy
from models.classifier import LgbmClassifier
from tooling import demo_learning, workload
from tooling.client import Collected, collect, publish, run
from tooling.stack import Stack, run_settings

RATE = 120.0  # requests per second: steady upstream traffic, below the pipeline's capacity


def _say(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def wait_rows(stack: Stack, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        count = stack.rows_written()["requests"]
        if count >= expected:
            break
        time.sleep(0.5)
    return count


def run_demo(settings: Settings, n: int) -> int:
    run_dir = settings.data_dir / "demo"
    shutil.rmtree(run_dir, ignore_errors=True)
    s = run_settings(settings, "demo", run_dir)
    prefix = "demo-"
    items = workload.build(n, prefix)
    catalog = load_catalog(s.catalog_path, s.catalog_placeholders())
    profile = workload.sim_profile(catalog)
    run_dir.mkdir(parents=True, exist_ok=True)
    profile["replay"] = str(demo_learning.replay_file(run_dir, workload.REPLAY, demo_learning.QUESTIONS))
    _say(f"run dir {run_dir}; topics prefixed {s.topic_prefix!r}")
    t_start = time.monotonic()
    with Stack(s, run_dir, sim_config=profile).start(_say) as stack:
        n_invalid = sum(1 for i in items if not i.valid)
        _say(f"publishing {n} requests at {RATE} req/s ({n - n_invalid} valid, {n_invalid} malformed on purpose)")
        t0 = time.monotonic()
        run(publish(stack.settings.kafka_bootstrap, stack.names.requests,
                    [(i.request_id.encode(), i.payload) for i in items], rate=RATE))
        # malformed requests whose id cannot be read are answered under a synthetic id
        expected = {i.request_id for i in items if i.valid or b'"request_id"' in i.payload}
        synthetic = n - len(expected)

        def progress(c: Collected) -> None:
            ok = sum(1 for r in c.responses.values() if r["status"] == "ok")
            _say(f"responses {len(c.responses) + c.unexpected}/{n}  ok {ok}  "
                 f"error {len(c.responses) - ok + c.unexpected}  ({time.monotonic() - t0:.1f}s)")

        got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, expected, 180, progress))
        missing = got.missing_from(expected)
        elapsed = time.monotonic() - t0
        _say(f"{len(got.responses)} responses by request id + {got.unexpected} under synthetic ids "
             f"(expected {synthetic}); duplicates {got.duplicates}; missing {len(missing)}; {elapsed:.1f}s")
        rows = wait_rows(stack, n, 60)
        _say(f"ClickHouse llm.requests rows written: {rows}/{n}")
        learning = []
        if stack.settings.quality_memory:
            _say("learning phase: 400 held-out MMLU-Pro questions in 4 waves; the simulator replays their real "
                 "per-tier outcomes")
            learning = demo_learning.run_phase(stack, RoutingPolicy(catalog), LgbmClassifier().classify_batch, _say)
        print()
        print(render(stack.query, prefix=""), flush=True)
        text, page = write_report(stack.query, run_dir / "report")
        print(text, flush=True)
        if learning:
            print(demo_learning.table(learning), flush=True)
            demo_learning.chart(learning, run_dir / "report" / "learning_phase.png")
        _say(f"charts and HTML report: {page}")
        ok = not missing and got.duplicates == 0 and got.unexpected == synthetic and rows >= n
        _say("stopping workers, simulator and broker")
    _say(f"done in {time.monotonic() - t_start:.0f}s: " + ("every request answered exactly once" if ok else "FAILED"))
    if not ok:
        print(f"demo failed: missing={missing[:5]} duplicates={got.duplicates} rows={rows}", file=sys.stderr)
    return 0 if ok else 1
