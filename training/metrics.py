"""Classification metrics for the evaluation report (numpy only; ``softmax`` is the runtime model's)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from models.classifier import softmax


def fit_temperature(raw: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising negative log-likelihood on held-out rows (grid search)."""
    best_t, best = 1.0, float("inf")
    for t in np.concatenate([np.linspace(0.5, 3.0, 51), [4.0, 5.0]]):
        p = softmax(raw, float(t))
        nll = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if nll < best:
            best_t, best = float(t), nll
    return round(best_t, 3)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> tuple[float, list[dict]]:
    """Top-label ECE and the reliability table (confidence vs accuracy per bin)."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = (pred == y).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    table, ece = [], 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi)
        if not mask.any():
            continue
        acc, mean_conf = float(correct[mask].mean()), float(conf[mask].mean())
        ece += mask.mean() * abs(acc - mean_conf)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(mask.sum()), "confidence": round(mean_conf, 3),
                      "accuracy": round(acc, 3)})
    return round(float(ece), 4), table


def report(y: np.ndarray, probs: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    pred = probs.argmax(axis=1)
    k = len(classes)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per_class, f1s = {}, []
    for i, c in enumerate(classes):
        tp = cm[i, i]
        precision = tp / cm[:, i].sum() if cm[:, i].sum() else 0.0
        recall = tp / cm[i, :].sum() if cm[i, :].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if cm[i, :].sum():
            f1s.append(f1)
        per_class[c] = {"precision": round(float(precision), 3), "recall": round(float(recall), 3),
                        "f1": round(float(f1), 3), "support": int(cm[i, :].sum())}
    ece, reliability = expected_calibration_error(probs, y)
    return {
        "n": len(y),
        "accuracy": round(float((pred == y).mean()), 4) if len(y) else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "ece": ece,
        "per_class": per_class,
        "confusion": cm.tolist(),
        "reliability": reliability,
    }
