"""Classifier speed on one core: p50/p99 per request including features, single-row and batched.

    python -m models.bench [--n 4000]

Prompts are the demo workload (real dataset prompts of every length, several languages).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from core.config import REPO_ROOT
from core.request import Request
from models.classifier import LgbmClassifier


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.bench")
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as promised
    clf = LgbmClassifier()
    with (REPO_ROOT / "data" / "demo_prompts.jsonl").open(encoding="utf-8") as f:
        prompts = [json.loads(line)["prompt"] for line in f if line.strip()]
    reqs = [Request(f"r{i}", "t", [{"role": "user", "content": prompts[i % len(prompts)]}]) for i in range(args.n)]
    for r in reqs[:300]:
        clf.classify_one(r)
    single = []
    for r in reqs:
        t0 = time.perf_counter_ns()
        clf.classify_one(r)
        single.append((time.perf_counter_ns() - t0) / 1000)
    print(f"single row (features + 3 heads + PII): p50 {_pct(single, .5):.0f} us, p99 {_pct(single, .99):.0f} us, "
          f"mean {statistics.fmean(single):.0f} us over {len(single)} requests on one core")
    for size in (64, 512):
        batches = [reqs[i:i + size] for i in range(0, len(reqs) - size + 1, size)]
        t0 = time.perf_counter()
        for b in batches:
            clf.classify_batch(b)
        elapsed = time.perf_counter() - t0
        n = sum(len(b) for b in batches)
        print(f"batched x{size}: {n / elapsed:,.0f} requests/s ({elapsed / n * 1e6:.1f} us per request)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
