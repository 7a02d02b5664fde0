"""The learned verifier: P(an answer is acceptable | request features, answering tier).

    python -m training.verifier   # train on ../shared/data, write artifacts and verifier_report.md

Labels are real per-model outcomes: MMLU-Pro correctness (0/1) and LLMRouter scores (>= 0.5) for
models mapped onto our tiers. The datasets keep no answer texts, so the learned part sees the
request and the answering model's tier and prior strength, not the answer; the cheap validators
judge the answer itself. Split by question (the classifier's hash rule), so test questions are
unseen. Reported: ROC-AUC, ECE and a reliability table, overall and per tier.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from models.features import FEATURE_NAMES, FEATURE_VERSION, N_FEATURES, featurize_batch
from models.verifier import EXTRA
from training import datasets
from training.metrics import expected_calibration_error
from training.train import ARTIFACTS, DEFAULT_DATA, PARAMS, split_of

# Dataset models by the tier they stand in for.
MMLU_TIERS = {
    1: ("Meta-Llama-3_1-8B-Instruct", "Mistral-7B-Instruct-v0.2", "Qwen1.5-7B-Chat", "Phi-3-mini-4k-instruct"),
    2: ("Meta-Llama-3_1-70B-Instruct", "gemini-1.5-flash-002", "Mixtral-8x7B-Instruct-v0.1", "Qwen1.5-72B-Chat"),
    3: ("gpt-4o-2024-05-13", "gemini-1.5-pro-002", "deepseek-chat-2024-05"),
}
LLMROUTER_TIERS = {
    1: ("qwen2.5-7b-instruct", "llama-3.1-8b-instruct", "gemma-2-9b-it", "mistral-7b-instruct-v0.3"),
    2: ("llama-3.1-nemotron-51b-instruct", "llama-3.3-nemotron-super-49b-v1"),
}
ROUNDS = 80


def rows(data: Path) -> tuple[list[str], list[int], list[int], list[str]]:
    """(question text, tier, label, source) for every (question, model) outcome."""
    texts, tiers, labels, sources = [], [], [], []
    matrix = datasets.mmlu_outcomes(data)
    for q in datasets.read_jsonl(data / "mmlu_pro/questions.jsonl.gz"):
        text = datasets.mmlu_text(q)
        outcome = matrix.get(str(q["question_id"]))
        for tier, models in MMLU_TIERS.items():
            for m in models:
                value = (outcome or {}).get(m, "")
                if value in ("0", "1"):
                    texts.append(text)
                    tiers.append(tier)
                    labels.append(int(value))
                    sources.append("mmlu_pro")
    for split in ("train.json", "test.json"):
        for r in json.loads((data / "llmrouter" / split).read_text()):
            for tier, models in LLMROUTER_TIERS.items():
                for m in models:
                    if m in r.get("scores", {}):
                        texts.append(r["question"])
                        tiers.append(tier)
                        labels.append(int(r["scores"][m] >= 0.5))
                        sources.append("llmrouter")
    return texts, tiers, labels, sources


FEEDBACK_SQL = """
SELECT t.text, r.final_tier, f.mean_score
FROM (SELECT request_id, text FROM llm.request_texts FINAL WHERE text != '') AS t
INNER JOIN (SELECT request_id, final_tier FROM llm.requests FINAL WHERE status = 'ok' AND final_tier BETWEEN 1 AND 3)
    AS r USING (request_id)
INNER JOIN (SELECT request_id, avg(score) AS mean_score FROM llm.feedback FINAL WHERE score IS NOT NULL
            GROUP BY request_id) AS f USING (request_id)
"""


def feedback_rows(client: Any) -> list[tuple[str, int, int]]:
    """(text, tier that answered, acceptable) from downstream feedback joined to outcomes."""
    return [(text, int(tier), int(score >= 0.5)) for text, tier, score in client.query(FEEDBACK_SQL).result_rows]


def _matrix(x_text: np.ndarray, tiers: np.ndarray, priors: dict[int, float]) -> np.ndarray:
    prior = np.array([priors.get(int(t), 0.5) for t in tiers], dtype=np.float32)
    return np.hstack([x_text, tiers.reshape(-1, 1).astype(np.float32), prior.reshape(-1, 1)])


def binary_reliability(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted P(acceptable) per bin against the share that was acceptable."""
    table = []
    for lo in np.linspace(0, 1, bins, endpoint=False):
        mask = (p >= lo) & (p < lo + 1 / bins)
        if mask.any():
            table.append({"bin": f"{lo:.1f}-{lo + 1 / bins:.1f}", "n": int(mask.sum()),
                          "confidence": round(float(p[mask].mean()), 3), "accuracy": round(float(y[mask].mean()), 3)})
    return table


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    order = np.argsort(p)
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def train(data: Path, out: Path, extra: list[tuple[str, int, int]] | None = None) -> dict[str, Any]:
    t0 = time.monotonic()
    texts, tiers_l, labels_l, sources = rows(data)
    for text, tier, label in extra or []:
        texts.append(text)
        tiers_l.append(tier)
        labels_l.append(label)
        sources.append("feedback")
    unique = sorted(set(texts))
    index = {t: i for i, t in enumerate(unique)}
    x_unique = featurize_batch([(t, 1, False) for t in unique])
    x_text = x_unique[[index[t] for t in texts]]
    tiers, y = np.array(tiers_l), np.array(labels_l)
    split = np.array([split_of(t) for t in texts])
    tr, va, te = (split == "train"), (split == "val"), (split == "test")
    priors = {int(t): round(float(y[tr & (tiers == t)].mean()), 4) for t in sorted(set(tiers_l))}
    x = _matrix(x_text, tiers, priors)
    params = {**PARAMS, "objective": "binary", "metric": "auc"}
    names = [*FEATURE_NAMES, *EXTRA]
    booster = lgb.train(params, lgb.Dataset(x[tr], y[tr], feature_name=names), num_boost_round=ROUNDS,
                        valid_sets=[lgb.Dataset(x[va], y[va], feature_name=names)],
                        callbacks=[lgb.early_stopping(15, verbose=False)])
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out / "verifier.txt"))
    p = np.asarray(booster.predict(x[te]))
    ece, _ = expected_calibration_error(np.stack([1 - p, p], axis=1), y[te])
    reliability = binary_reliability(p, y[te])
    def auc_on(mask: np.ndarray) -> float:
        return round(roc_auc(y[mask], np.asarray(booster.predict(x[mask]))), 4)

    by_tier = {str(t): {"n": int((te & (tiers == t)).sum()), "auc": auc_on(te & (tiers == t)),
                        "accept_rate": round(float(y[te & (tiers == t)].mean()), 3)} for t in sorted(set(tiers_l))}
    by_source = {s: auc_on(te & (np.array(sources) == s)) for s in sorted(set(sources))}
    manifest = {
        "verifier_version": "verifier-" + hashlib.sha256((out / "verifier.txt").read_bytes()).hexdigest()[:10],
        "feature_version": FEATURE_VERSION, "n_features": N_FEATURES + len(EXTRA), "tier_priors": priors,
        "rows": {"train": int(tr.sum()), "val": int(va.sum()), "test": int(te.sum())},
        "labels_from": "MMLU-Pro correctness matrix and LLMRouter scores (>= 0.5) for models mapped to tiers"
        + (f"; {len(extra)} feedback-labelled pipeline outcomes (score >= 0.5)" if extra else ""),
        "tier_models": {"mmlu_pro": MMLU_TIERS, "llmrouter": LLMROUTER_TIERS},
        "test": {"roc_auc": round(roc_auc(y[te], p), 4), "ece": ece, "by_tier": by_tier, "auc_by_source": by_source,
                 "reliability": reliability},
        "training_seconds": round(time.monotonic() - t0, 1),
    }
    (out / "verifier.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "verifier_report.md").write_text(_report(manifest))
    return manifest


def _report(m: dict[str, Any]) -> str:
    t = m["test"]
    lines = [f"# Learned verifier: {m['verifier_version']}", "",
             "P(acceptable answer | request features, answering tier), on held-out questions.", "",
             f"ROC-AUC **{t['roc_auc']}**, ECE {t['ece']}; rows {m['rows']}", "",
             "| tier | test rows | ROC-AUC | share acceptable |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['n']} | {v['auc']} | {v['accept_rate']} |" for k, v in t["by_tier"].items()]
    lines += ["", "ROC-AUC by source: " + ", ".join(f"{k} {v}" for k, v in t["auc_by_source"].items()), "",
              "| predicted P(acceptable) | n | mean predicted | observed share acceptable |", "|---|---|---|---|"]
    lines += [f"| {b['bin']} | {b['n']} | {b['confidence']} | {b['accuracy']} |" for b in t["reliability"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.verifier")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    parser.add_argument("--from-clickhouse", metavar="URL", default="",
                        help="also learn from feedback on the pipeline's answers (needs ROUTER_STORE_PROMPTS=1)")
    args = parser.parse_args(argv)
    extra = None
    if args.from_clickhouse:
        import clickhouse_connect  # noqa: PLC0415

        extra = feedback_rows(clickhouse_connect.get_client(dsn=args.from_clickhouse))
        print(f"{len(extra)} feedback-labelled rows from ClickHouse")
    m = train(args.data, args.out, extra)
    print(f"{m['verifier_version']}: ROC-AUC {m['test']['roc_auc']}, ECE {m['test']['ece']}, by tier "
          + ", ".join(f"{k}: {v['auc']}" for k, v in m["test"]["by_tier"].items()) + f" ({m['training_seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
