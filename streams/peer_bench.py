"""Side by side against a peer gateway: ``python -m streams peer-bench`` (``make bench-peer``).

LiteLLM's Router is installed from PyPI into its own venv (var/peer-venv, benchmark only) and driven
by benchmarks/litellm_harness.py against the same provider simulator this pipeline uses. Printed for
each: sustained requests per second and p50/p99 latency with the simulator answering at once, and p99
with it answering in 1 s under 1,000 concurrent requests; then the ratios. Note the difference in
what is measured: LiteLLM is a library call inside the client process; this pipeline's figure is
Kafka publish to Kafka response, through four stages, with every outcome written to ClickHouse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT, Settings
from streams.bench import _phase, _slow_provider_bench
from streams.stack import Proc, Stack, run_settings

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
    out = subprocess.run([str(python), str(REPO_ROOT / "benchmarks" / "litellm_harness.py"), "--api-base", api_base,
                          "--requests", str(n), "--concurrency", str(concurrency)],
                         capture_output=True, text=True, check=True, timeout=1800)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run_peer_bench(settings: Settings, n: int) -> int:
    python = ensure_peer_venv()
    run_dir = settings.data_dir / "peer-bench"
    shutil.rmtree(run_dir, ignore_errors=True)
    s = run_settings(settings, "peer", run_dir)
    results: dict[str, Any] = {}
    with Stack(s, run_dir, sim_config={"default": {"latency_ms": 0}}).start(lambda m: print(f"[peer] {m}")) as st:
        api = st.settings.sim_url + "/openai/v1"
        results["litellm_fast"] = litellm_run(python, api, n, 200)
        _phase(st, "warm-", 500, None)
        burst = _phase(st, "burst-", n, None)
        paced = _phase(st, "paced-", min(n, int(burst["rps"] * 0.4 * 10)), max(50.0, round(burst["rps"] * 0.4, -1)))
        results["pipeline_fast"] = {"rps": burst["rps"], "p50_ms": paced["p50_ms"], "p99_ms": paced["p99_ms"],
                                    "rss_mb": {p.name: round(p.rss_mb()) for p in [*st.pipelines, st.sink] if p}}
        st.configure_sim({"default": {"latency_ms": 1000}})
        results["litellm_slow"] = litellm_run(python, api, 4000, 1000)
    print()
    lf, pf, ls = results["litellm_fast"], results["pipeline_fast"], results["litellm_slow"]
    print("| | requests/s (sim answers at once) | p50 ms | p99 ms | p99 ms, sim 1 s, 1,000 concurrent | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    print(f"| LiteLLM Router ({LITELLM.split('==')[1]}) | {lf['rps']} | {lf['p50_ms']} | {lf['p99_ms']} | "
          f"{ls['p99_ms']} | {lf['peak_rss_mb']} |")
    print(f"| this pipeline (1 worker) | {pf['rps']} | {pf['p50_ms']} | {pf['p99_ms']} | see make bench-invoke | "
          f"{pf['rss_mb']} |")
    print(f"ratio pipeline/LiteLLM throughput: {pf['rps'] / lf['rps']:.2f}x")
    (run_dir / "result.json").write_text(json.dumps(results, indent=2))
    return 0
