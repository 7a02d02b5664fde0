"""Side by side against a peer gateway: ``python -m tooling peer-bench`` (``make bench-peer``).

LiteLLM's Router is installed from PyPI into its own venv (var/peer-venv, benchmark only) and driven
by tooling/litellm_harness.py against the same provider simulator this pipeline uses. Printed for
each: sustained requests per second and p50/p99 latency with the simulator answering at once, and p99
with it answering in 1 s under 1,000 concurrent requests; then the ratios. Note the difference in
what is measured: LiteLLM is a library call inside the client process; this pipeline's figure is
Kafka publish to Kafka response, through four stages, with every outcome written to ClickHouse.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT, Settings
from tooling.bench import _phase, _requests
from tooling.client import bare_closed_loop, closed_loop, http_closed_loop, run
from tooling.stack import Stack, run_settings

LITELLM = "litellm==1.106.2"  # 1.109 needs a certifi release the registry lacks
VENV = REPO_ROOT / "var" / "peer-venv"


def ensure_peer_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import litellm"], capture_output=True, check=False)
    if probe.returncode != 0:
        print(f"[peer] installing {LITELLM} into {VENV} (benchmark only)", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", LITELLM], check=True)
    return python


def litellm_run(python: Path, api_base: str, n: int, concurrency: int) -> dict[str, Any]:
    out = subprocess.run([str(python), str(REPO_ROOT / "tooling" / "litellm_harness.py"), "--api-base", api_base,
                          "--requests", str(n), "--concurrency", str(concurrency)],
                         capture_output=True, text=True, check=True, timeout=1800)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _pipeline_fast(st: Stack, n: int, label: str) -> dict[str, Any]:
    _phase(st, f"warm-{label}-", 500, None)
    procs = st.processes()
    cpu0 = {k: p.cpu_seconds() for k, p in procs.items()}
    burst = _phase(st, f"burst-{label}-", n, None)
    per_1000 = {k: round(1000 * (p.cpu_seconds() - cpu0[k]) / max(1, burst["answered"]), 2) for k, p in procs.items()}
    rate = max(50.0, round(burst["rps"] * 0.4, -1))  # below saturation: overhead, not queueing
    paced = _phase(st, f"paced-{label}-", min(n, int(rate * 10)), rate)
    return {"rps": burst["rps"], "p50_ms": paced["p50_ms"], "p99_ms": paced["p99_ms"], "paced_rate": rate,
            "cpu_s_per_1000": per_1000}


def projection(per_1000: dict[str, float], workers: int) -> tuple[float, str]:
    """Requests/s with ``workers`` pipeline workers, every process on one core of its own (the sink,
    the broker and the simulator one each), from CPU seconds per 1,000 requests: the process that
    runs out of its core first sets the figure."""
    pipeline = sum(v for k, v in per_1000.items() if k.startswith("pipeline")) or 1e-9
    limits = {"pipeline workers": workers * 1000 / pipeline}
    limits.update({k: 1000 / v for k, v in per_1000.items() if not k.startswith("pipeline") and v > 0})
    first = min(limits, key=lambda k: limits[k])
    return round(limits[first], 1), first


def _gateway(st: Stack, run_dir: Path, n: int, concurrency: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same closed loop of ``concurrency`` callers through the HTTP gateway and straight on Kafka:
    what the gateway adds is the difference."""
    key = "sk-peer-bench"
    keys = run_dir / "gateway-keys.toml"
    keys.write_text(f'[keys.{hashlib.sha256(key.encode()).hexdigest()}]\ntenant = "bench"\n')
    proc = st.start_gateway(keys)
    base = proc.health_url.removesuffix("/health/") + "/v1"
    print(f"[peer] gateway: {n} chat completions, {concurrency} callers, between two halves of the same on Kafka "
          "directly (so neither side gets the quieter machine)", flush=True)

    def direct(label: str) -> dict[str, Any]:
        return run(closed_loop(st.settings.kafka_bootstrap, st.names.requests, st.names.responses,
                               _requests(f"direct-{label}-", n // 2), concurrency))

    before = direct("a")
    via_http = run(http_closed_loop(base, key, n, concurrency))
    after = direct("b")
    both = {k: round((before[k] + after[k]) / 2, 1) for k in ("rps", "p50_ms", "p99_ms")}
    return via_http, {**both, "halves": [before, after]}


def _peak_rss(st: Stack) -> dict[str, int]:
    return {name: round(p.rss_mb()) for name, p in st.processes().items() if name != "simulator"}


def run_peer_bench(settings: Settings, n: int) -> int:
    python = ensure_peer_venv()
    run_dir = settings.data_dir / "peer-bench"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    s = run_settings(settings, "peer", run_dir)
    # LiteLLM has no per-model concurrency caps; lift ours too, so 1,000 concurrent calls can be in flight.
    catalog = run_dir / "catalog.toml"
    catalog.write_text(re.sub(r"(?m)^max_concurrency = \d+$", "max_concurrency = 0", s.catalog_path.read_text()))
    s = s.with_(catalog_path=catalog)
    r: dict[str, Any] = {}
    with Stack(s, run_dir, sim_config={"default": {"latency_ms": 0}}).start(lambda m: print(f"[peer] {m}")) as st:
        api = st.settings.sim_url + "/openai/v1"
        print("[peer] simulator answering at once", flush=True)
        r["litellm_fast"] = litellm_run(python, api, n, 200)
        r["pipeline_fast"] = _pipeline_fast(st, n, "1w")
        r["gateway"], r["kafka_direct"] = _gateway(st, run_dir, min(n, 2000), concurrency=20)
        print("[peer] simulator answering in 1 s, 1,000 concurrent requests", flush=True)
        st.configure_sim({"default": {"latency_ms": 1000}})
        r["litellm_slow"] = litellm_run(python, api, 4000, 1000)
        msgs = _requests("slow-", 4000)
        r["pipeline_slow"] = run(closed_loop(st.settings.kafka_bootstrap, st.names.requests, st.names.responses,
                                             msgs, 1000))
        print("[peer] the physical reference: a bare HTTP client, same simulator, same concurrency", flush=True)
        r["bare_slow"] = run(bare_closed_loop(api + "/chat/completions", "gpt-4o-mini", 4000, 1000))
        print("[peer] simulator answering at once, second pipeline worker", flush=True)
        st.configure_sim({"default": {"latency_ms": 0}})
        st.start_pipeline()
        r["pipeline_fast_2w"] = _pipeline_fast(st, n, "2w")
        print("[peer] simulator answering in 1 s, 1,000 concurrent requests, two pipeline workers", flush=True)
        st.configure_sim({"default": {"latency_ms": 1000}})
        r["pipeline_slow_2w"] = run(closed_loop(st.settings.kafka_bootstrap, st.names.requests, st.names.responses,
                                                _requests("slow2w-", 4000), 1000))
        r["pipeline_rss_mb"] = _peak_rss(st)
    _print(r)
    (run_dir / "result.json").write_text(json.dumps(r, indent=2))
    return 0


def _print(r: dict[str, Any]) -> None:
    lf, pf, ls, ps, p2, ps2 = (r[k] for k in ("litellm_fast", "pipeline_fast", "litellm_slow", "pipeline_slow",
                                              "pipeline_fast_2w", "pipeline_slow_2w"))
    print()
    print(f"Measured {time.strftime('%Y-%m-%d')} on this machine, one run, the same simulator.")
    print("| | requests/s (sim answers at once) | p50 ms | p99 ms | p99 ms (sim 1 s, 1,000 concurrent) "
          "| requests/s there | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    print(f"| LiteLLM Router {LITELLM.split('==')[1]} (1 process) | {lf['rps']} | {lf['p50_ms']} | {lf['p99_ms']} | "
          f"{ls['p99_ms']} | {ls['rps']} | {lf['peak_rss_mb']} (client + router) |")
    rss = r["pipeline_rss_mb"]
    print(f"| this pipeline, 1 worker | {pf['rps']} | {pf['p50_ms']} | {pf['p99_ms']} | {ps['p99_ms']} | {ps['rps']} | "
          + ", ".join(f"{k} {v}" for k, v in rss.items()) + " |")
    print(f"| this pipeline, 2 workers | {p2['rps']} | {p2['p50_ms']} | {p2['p99_ms']} | {ps2['p99_ms']} | "
          f"{ps2['rps']} | |")
    print(f"ratios pipeline/LiteLLM: throughput {pf['rps'] / lf['rps']:.2f}x (1 worker), {p2['rps'] / lf['rps']:.2f}x "
          f"(2 workers); p99 at once {pf['p99_ms'] / lf['p99_ms']:.2f}x; p99 at 1 s x 1,000 concurrent "
          f"{ps['p99_ms'] / ls['p99_ms']:.2f}x (below 1 is better)")
    gw, kd = r["gateway"], r["kafka_direct"]
    print(f"gateway (HTTP, OpenAI format) vs Kafka directly, 20 callers closed loop: {gw['rps']} vs {kd['rps']} "
          f"requests/s; p50 {gw['p50_ms']} vs {kd['p50_ms']} ms (added {gw['p50_ms'] - kd['p50_ms']} ms), "
          f"p99 {gw['p99_ms']} vs {kd['p99_ms']} ms (added {gw['p99_ms'] - kd['p99_ms']} ms); "
          f"{gw['errors']} HTTP errors")
    print("Pipeline p50/p99 at once are measured paced at 40% of its burst rate (overhead, not queueing); "
          "LiteLLM's at 200 concurrent callers.")
    bare = r["bare_slow"]
    print(f"physical reference at 1 s x 1,000 concurrent: a bare HTTP client {bare['rps']} responses/s, p99 "
          f"{bare['p99_ms']} ms; the pipeline reaches {ps['rps'] / bare['rps']:.0%} of it "
          f"({ps2['rps'] / bare['rps']:.0%} with two workers), LiteLLM "
          f"{ls['rps'] / bare['rps']:.0%}")
    per_1000 = pf["cpu_s_per_1000"]
    print("CPU seconds per 1,000 requests during the 1-worker burst: "
          + ", ".join(f"{k} {v}" for k, v in per_1000.items()))
    for workers in (1, 2, 4, 8):
        rps, first = projection(per_1000, workers)
        print(f"  projected with {workers} pipeline worker(s), every process on one core of its own: {rps} req/s "
              f"({first} run out first)")
