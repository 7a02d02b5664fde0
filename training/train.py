"""Train the classifier heads and write versioned artifacts. Offline only; never imported by the service.

    python -m training.train [--data ../shared/data] [--out models/artifacts]

Heads: task type (all rows), tier (rows whose tier comes from real per-model outcomes or MATH
levels) and domain (rows that name one). Rows split by a hash of their text (80/10/10), so the
split is the same on every run and for every head. Each head's softmax temperature is fitted on
the validation split. The manifest records data files (with sha256), row counts, feature
version, metrics on the test split, temperatures and training time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from core.config import REPO_ROOT
from core.drift import length_bucket, script_bucket
from models.classifier import ARTIFACTS
from models.features import FEATURE_NAMES, FEATURE_VERSION, featurize_batch
from training import datasets, synthetic
from training.datasets import Row
from training.metrics import fit_temperature, report, softmax

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
TIERS = ("1", "2", "3")
PARAMS: dict[str, Any] = {
    "objective": "multiclass", "learning_rate": 0.25, "num_leaves": 15, "min_data_in_leaf": 15,
    "feature_fraction": 0.8, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 2, "verbose": -1, "seed": 7, "deterministic": True, "force_row_wise": True,
}
MAX_ROUNDS = 50  # trees cost predict time: every round adds one tree per class


def split_of(text: str) -> str:
    b = zlib.crc32(text.encode()) % 100
    return "train" if b < 80 else "val" if b < 90 else "test"


def fold_of(text: str, folds: int) -> int:
    """Which of ``folds`` cross-fitting folds a prompt belongs to (independent of ``split_of``)."""
    return zlib.crc32(b"fold:" + text.encode()) % folds


def parse_fold(spec: str) -> tuple[int, int]:
    """``"F/K"`` (fold F of K, 0-based) as a pair; a clear error otherwise."""
    try:
        f, k = (int(v) for v in spec.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fold wants F/K such as 0/5, got {spec!r}") from None
    if not 0 <= f < k:
        raise argparse.ArgumentTypeError(f"--fold {spec}: F must be in 0..K-1")
    return f, k


@dataclass
class Head:
    name: str
    classes: tuple[str, ...]
    label: Any  # Row -> class name or None

    def labelled(self, rows: Sequence[Row]) -> list[int]:
        return [i for i, r in enumerate(rows) if self.label(r) is not None]


HEADS = (
    Head("task", datasets.TASKS, lambda r: r.task),
    Head("tier", TIERS, lambda r: str(r.tier) if r.tier else None),
    Head("domain", datasets.DOMAINS, lambda r: r.domain),
)


# Rows the pipeline itself labelled: the prompt (stored only with ROUTER_STORE_PROMPTS, redacted)
# joined with the tier whose answer was finally accepted; the task label is the caller's hint.
OUTCOME_SQL = """
SELECT t.text, t.task_hint, r.final_tier
FROM (SELECT request_id, text, task_hint FROM llm.request_texts FINAL WHERE text != '') AS t
INNER JOIN (SELECT request_id, final_tier FROM llm.requests FINAL
            WHERE status = 'ok' AND best_effort = 0 AND final_tier BETWEEN 1 AND 3) AS r USING (request_id)
"""


def outcome_rows(client: Any) -> list[Row]:
    """Training rows from ClickHouse (``client`` is a clickhouse-connect client)."""
    return [Row(text, "clickhouse", hint if hint in datasets.TASKS else None, tier=int(tier))
            for text, hint, tier in client.query(OUTCOME_SQL).result_rows]


def corpus(data: Path, extra: Sequence[Row] = (), leave_out: Sequence[str] = (),
           fold: tuple[int, int] | None = None) -> list[Row]:
    """Every training row; ``leave_out`` drops whole sources (and the templated rows built from
    their passages), for transfer figures on a source the prior never saw; ``fold`` (F, K) drops the
    prompts of cross-fitting fold F, so that every prompt has a prior that never saw it."""
    real = [r for r in datasets.load_all(data) + list(extra)
            if not any(r.source == s or r.source.startswith(f"{s}:") for s in leave_out)
            and (fold is None or fold_of(r.text, fold[1]) != fold[0])]
    passages = [r.text for r in real if r.source in ("vicuna_bench", "arena_hard", "mmlu_pro")
                or r.source.startswith("llmrouter:natural_qa")]
    rows = real + synthetic.generate(passages)
    return list({r.text: r for r in rows}.values())


def class_weights(y: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(y, minlength=k).astype(float)
    w = (len(y) / (k * np.maximum(counts, 1))) ** 0.5  # softened inverse frequency
    return w[y]


def train_head(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, k: int,
               rounds: int = MAX_ROUNDS) -> lgb.Booster:
    params = {**PARAMS, "num_class": k}
    train = lgb.Dataset(x, y, weight=class_weights(y, k), feature_name=list(FEATURE_NAMES), free_raw_data=False)
    val = lgb.Dataset(x_val, y_val, reference=train)
    return lgb.train(params, train, num_boost_round=rounds, valid_sets=[val],
                     callbacks=[lgb.early_stopping(25, verbose=False)])


def fit(rows: Sequence[Row], x: np.ndarray, head: Head, rounds: int = MAX_ROUNDS
        ) -> tuple[lgb.Booster, float, dict[str, np.ndarray]]:
    """Train one head; return the booster, its temperature and the row indices per split."""
    idx = np.array(head.labelled(rows))
    y_all = np.array([head.classes.index(head.label(rows[i])) for i in idx])
    splits = np.array([split_of(rows[i].text) for i in idx])
    parts = {s: np.where(splits == s)[0] for s in ("train", "val", "test")}
    k = len(head.classes)
    booster = train_head(x[idx[parts["train"]]], y_all[parts["train"]], x[idx[parts["val"]]],
                         y_all[parts["val"]], k, rounds)
    raw_val = np.asarray(booster.predict(x[idx[parts["val"]]], raw_score=True))
    temperature = fit_temperature(raw_val, y_all[parts["val"]])
    return booster, temperature, {s: idx[p] for s, p in parts.items()}


def evaluate_head(booster: lgb.Booster, temperature: float, x: np.ndarray, y: np.ndarray,
                  classes: Sequence[str]) -> dict[str, Any]:
    return report(y, softmax(np.asarray(booster.predict(x, raw_score=True)), temperature), classes)


def _redact(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_files(data: Path) -> dict[str, str]:
    names = ("gsm8k/train.jsonl", "math/train.jsonl.gz", "mbpp/mbpp.jsonl", "humaneval/HumanEval.jsonl.gz",
             "mmlu_pro/questions.jsonl.gz", "mmlu_pro/correctness_matrix.csv.gz", "llmrouter/train.json",
             "llmrouter/test.json", "vicuna_bench/question.jsonl", "arena_hard/question.jsonl")
    return {n: sha256(data / n) for n in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    parser.add_argument("--from-clickhouse", metavar="URL", default="",
                        help="also learn from the pipeline's outcomes (chdb:///path with the sink stopped, or a "
                             "server URL); needs ROUTER_STORE_PROMPTS=1 on the workers")
    parser.add_argument("--leave-out", action="append", default=[], metavar="SOURCE",
                        help="train without this source (e.g. llmrouter, mmlu_pro): a prior for transfer figures")
    parser.add_argument("--fold", type=parse_fold, default=None, metavar="F/K",
                        help="train without cross-fitting fold F of K (training.prequential --folds K)")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    extra: list[Row] = []
    if args.from_clickhouse:
        import clickhouse_connect  # noqa: PLC0415 - only this path needs it

        extra = outcome_rows(clickhouse_connect.get_client(dsn=args.from_clickhouse))
        print(f"{len(extra)} labelled rows from ClickHouse")
    rows = corpus(args.data, extra, args.leave_out, args.fold)
    x = featurize_batch([(r.text, 1, False) for r in rows])
    print(f"{len(rows)} rows featurized in {time.monotonic() - t0:.1f}s")
    args.out.mkdir(parents=True, exist_ok=True)
    heads: dict[str, Any] = {}
    for head in HEADS:
        booster, temperature, parts = fit(rows, x, head)
        test = parts["test"]
        y_test = np.array([head.classes.index(head.label(rows[i])) for i in test])
        metrics = evaluate_head(booster, temperature, x[test], y_test, head.classes)
        booster.save_model(str(args.out / f"{head.name}.txt"))
        heads[head.name] = {
            "classes": list(head.classes), "temperature": temperature, "rounds": booster.current_iteration(),
            "rows": {s: len(p) for s, p in parts.items()},
            "test": {k: metrics[k] for k in ("accuracy", "macro_f1", "ece")},
        }
        print(f"{head.name}: {booster.current_iteration()} rounds, T={temperature}, "
              f"test acc {metrics['accuracy']}, macro-F1 {metrics['macro_f1']}, ECE {metrics['ece']}")
    digest = hashlib.sha256(b"".join((args.out / f"{h.name}.txt").read_bytes() for h in HEADS)).hexdigest()[:10]
    manifest = {
        "model_version": f"lgbm-{FEATURE_VERSION}-{digest}",
        "feature_version": FEATURE_VERSION,
        "feature_names_sha256": hashlib.sha256("\n".join(FEATURE_NAMES).encode()).hexdigest(),
        "n_features": len(FEATURE_NAMES),
        "lightgbm": lgb.__version__,
        "params": PARAMS,
        "heads": heads,
        "labels_from": "public datasets in ../shared/data (see data_files) plus templated rows (training/synthetic.py)"
        + (f"; {len(extra)} pipeline outcomes from ClickHouse {_redact(args.from_clickhouse)} (tier = accepted "
           "tier, task = caller hint)" if args.from_clickhouse else ""),
        "data_files": data_files(args.data),
        "rows_by_source": dict(sorted(Counter(r.source for r in rows).items())),
        "left_out_sources": args.leave_out,
        "left_out_fold": None if args.fold is None else f"{args.fold[0]}/{args.fold[1]} (training.train.fold_of)",
        "split": "crc32(text) % 100: <80 train, <90 validation, else test",
        "training_seconds": round(time.monotonic() - t0, 1),
        "thresholds": {"low_confidence_tier": 0.45, "unknown_task": 0.4},
        "training_distribution": training_distribution(rows),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {manifest['model_version']} to {args.out} in {manifest['training_seconds']}s")
    return 0


def training_distribution(rows: Sequence[Row]) -> dict[str, Any]:
    """Reference distributions for drift monitoring: class shares and length buckets."""
    n = len(rows)
    tiers = Counter(str(r.tier) for r in rows if r.tier)
    return {
        "task": {c: round(v / n, 5) for c, v in Counter(r.task for r in rows).items()},
        "tier": {c: round(v / sum(tiers.values()), 5) for c, v in tiers.items()},
        "length": {b: round(v / n, 5) for b, v in Counter(length_bucket(len(r.text)) for r in rows).items()},
        "script": {b: round(v / n, 5) for b, v in Counter(script_bucket(r.text) for r in rows).items()},
    }


if __name__ == "__main__":
    raise SystemExit(main())
