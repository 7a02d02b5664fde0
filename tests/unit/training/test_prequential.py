"""Prequential evaluation on a small labelled set where the weak model fails one kind of prompt."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from training import prequential

MODELS = ["weak", "strong"]


def _rows(path: Path) -> Path:
    lines = []
    for i in range(120):
        if i % 2:
            text, weak = f"Compute the integral of x^{i % 7 + 2} sin(x) from 0 to pi and prove it step by step.", 0.0
        else:
            text, weak = f"Say hello to my friend number {i} in a cheerful way.", 1.0
        lines.append(json.dumps({"id": f"q{i}", "messages": [{"role": "user", "content": text}],
                                 "outcomes": {"weak": {"score": weak}, "strong": {"score": 1.0}}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_memory_learns_which_prompts_the_weak_model_fails(tmp_path: Path) -> None:
    prices = [0.05, 0.08, 2.5, 10.0]
    rows = prequential.load(_rows(tmp_path / "rows.jsonl"), MODELS, True, prequential.ARTIFACTS, prices)
    for feedback, explore in (("full", 0.05), ("bandit", 0.3)):  # 84 rows: bandit learns only by exploring
        table = prequential.run(rows, MODELS, prices, feedback, seed=1, explore=explore,
                                decisions_path=tmp_path / f"{feedback}.jsonl")
        late = table[-1]
        assert late["seen_share"] == 0.7
        # half the prompts need the strong model: a perfect router's APGR is 0.75, random's 0.5
        assert late["memory"]["apgr"] > 0.72, (feedback, late["memory"])
        assert late["memory"]["apgr"] > late["prior_alone"]["apgr"] + 0.2
        assert late["memory"]["cost_saved_at_95pct"] > 30
    decisions = [json.loads(line) for line in (tmp_path / "bandit.jsonl").read_text().splitlines()]
    assert len(decisions) == 120 and set(decisions[0]["estimates"]) == set(MODELS)
    assert all(d["revealed"][0] == d["chosen"] for d in decisions)  # bandit: the chosen model's outcome first


def test_cross_fitting_folds_split_prompts_evenly_and_apart_from_the_train_test_split() -> None:
    from training.train import fold_of, parse_fold, split_of

    texts = [f"prompt number {i}" for i in range(5000)]
    folds = [fold_of(t, 5) for t in texts]
    assert all(900 < folds.count(f) < 1100 for f in range(5))
    held_out = [f for t, f in zip(texts, folds, strict=True) if split_of(t) == "test"]
    assert len(set(held_out)) == 5  # each fold holds some of the test split: the two hashes are independent
    assert parse_fold("2/5") == (2, 5)
    for bad in ("5/5", "x", "1/2/3", "-1/4"):
        with pytest.raises(argparse.ArgumentTypeError, match="--fold"):
            parse_fold(bad)


def test_dial_settings_follow_the_estimates_so_the_curve_is_sampled_finely() -> None:
    from core.quality_memory import Estimate

    view = prequential.FrozenView()
    for i in range(200):  # every gap between 0.30 and 0.40: the fixed grid alone samples it at one point
        gap = 0.30 + 0.1 * i / 199
        view.by_id[f"r{i}"] = {"weak": Estimate(0.6 - gap, 1, 0.5, 0.5), "strong": Estimate(0.6, 1, 0.5, 0.5)}
    targets = prequential.dial_settings(view, list(view.by_id))
    inside = [t for t in targets if 0.60 <= t <= 0.70]
    assert len(inside) >= 30
    assert set(prequential.TARGETS) <= set(targets) and targets == sorted(targets)
