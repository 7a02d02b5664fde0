"""Classifier speed on one core: p50/p99 per request including features, single-row and batched.

    python -m tooling.bench_classifier [--n 4000]

Prompts are the demo workload (real dataset prompts of every length, several languages). Prints the
whole classify call (features, three heads, calibration, PII check, the event's fields), then where
the time goes, each part beside its peer measured in the same run: the Python reference featuriser
and LightGBM's own ``Booster.predict`` on the same rows.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import lightgbm as lgb
import numpy as np

from core import lexical
from core.config import REPO_ROOT
from core.lexical import word_buckets
from core.pii import contains_pii
from core.request import Request
from models import _native
from models.classifier import ARTIFACTS, HEADS, LgbmClassifier
from models.embedding import PromptEmbedder
from models.features import N_FEATURES, featurize_rows, reference_featurize_into
from tooling.latency import percentile


def _per_item_us(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) / n * 1e6


def _parts(clf: LgbmClassifier, texts: list[str]) -> None:
    n = len(texts)
    row = np.empty(N_FEATURES, dtype=np.float32)
    ones, falses = [1] * n, [False] * n

    def reference() -> None:
        for t in texts:
            reference_featurize_into(row, t, 1, False)

    native_batch = _per_item_us(lambda: featurize_rows(texts, ones, falses), n)
    python = _per_item_us(reference, n)
    print(f"  features, batched: native {native_batch:.1f} us/request; Python reference {python:.1f} us "
          f"({python / native_batch:.1f}x)")
    x = featurize_rows(texts, ones, falses)
    for name in HEADS:
        head = clf.heads[name]
        out = np.empty((n, len(head.classes)))
        booster = lgb.Booster(model_file=str(ARTIFACTS / f"{name}.txt"))
        ours = _per_item_us(partial(head.forest.raw, x, out), n)
        theirs = _per_item_us(partial(booster.predict, x, raw_score=True, num_threads=1), n)
        print(f"  {name} head ({head.forest.n_trees} trees), batched: native {ours:.1f} us/request; "
              f"LightGBM predict {theirs:.1f} us ({theirs / ours:.1f}x)")
    pre = _per_item_us(lambda: [_native.pii_candidate(t) and contains_pii(t) for t in texts], n)
    full = _per_item_us(lambda: [contains_pii(t) for t in texts], n)
    print(f"  PII check: with the native pre-check {pre:.1f} us/request; regexes alone {full:.1f} us "
          f"({full / pre:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.bench_classifier")
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as promised
    with (REPO_ROOT / "data" / "demo_prompts.jsonl").open(encoding="utf-8") as f:
        prompts = [json.loads(line)["prompt"] for line in f if line.strip()]
    reqs = [Request(f"r{i}", "t", [{"role": "user", "content": prompts[i % len(prompts)]}]) for i in range(args.n)]
    plain, embedding = LgbmClassifier(), LgbmClassifier(embedder=PromptEmbedder())
    for label, clf in (("without the prompt embedding", plain), ("with the prompt embedding (as the pipeline runs)",
                                                                embedding)):
        print(f"{label}:")
        _speed(clf, reqs)
    print("where the time goes (same rows, same run):")
    _parts(plain, [r.task_text() for r in reqs])
    texts = [r.task_text() for r in reqs]
    batch = _per_item_us(lambda: embedding.embedder.embed(texts[:512]), 512)  # type: ignore[union-attr]
    one = _per_item_us(lambda: [embedding.embedder.embed([t]) for t in texts[:200]], 200)  # type: ignore[union-attr]
    embedder = embedding.embedder
    assert embedder is not None

    def cold(t: str) -> None:
        embedder._words.clear()  # every word a miss: the worst case, a prompt sharing no word with the past
        embedder.embed([t])

    def cold_all() -> None:
        for t in texts[:200]:
            cold(t)

    worst = _per_item_us(cold_all, 200)
    print(f"  prompt embedding (WordLlama 256-d): batched {batch:.1f} us/request, single {one:.1f} us "
          f"(word cache warm), {worst:.1f} us with every word new")
    warm = _per_item_us(lambda: [word_buckets(t) for t in texts[:512]], 512)

    def words_cold() -> None:
        for t in texts[:200]:
            lexical._cache.clear()
            word_buckets(t)

    print(f"  word buckets (core/lexical.py): {warm:.1f} us/request with the cache warm, "
          f"{_per_item_us(words_cold, 200):.1f} us with every word new")
    return 0


def _speed(clf: LgbmClassifier, reqs: list[Request]) -> None:
    for r in reqs[:300]:  # warm-up: first calls pay for allocator arenas and caches
        clf.classify_one(r)
    clf.classify_batch(reqs[:1000])
    gc.freeze()  # as the worker does after start-up: collections skip the long-lived heap
    single = []
    for r in reqs:
        t0_ns = time.perf_counter_ns()
        clf.classify_one(r)
        single.append((time.perf_counter_ns() - t0_ns) / 1000)
    print(f"  single row: p50 {percentile(single, .5):.0f} us, p99 {percentile(single, .99):.0f} us, "
          f"mean {statistics.fmean(single):.0f} us over {len(single)} requests on one core")
    for size in (64, 512):
        batches = [reqs[i:i + size] for i in range(0, len(reqs) - size + 1, size)]
        t0 = time.perf_counter()
        for b in batches:
            clf.classify_batch(b)
        elapsed = time.perf_counter() - t0
        n = sum(len(b) for b in batches)
        print(f"  batched x{size}: {n / elapsed:,.0f} requests/s ({elapsed / n * 1e6:.1f} us per request)")


if __name__ == "__main__":
    raise SystemExit(main())
