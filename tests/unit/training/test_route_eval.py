from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from training.route_eval import _summary, evaluate


def test_summary_metrics_on_a_known_curve() -> None:
    q_weak, q_strong = np.array([0.0, 0.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0, 0.0])
    curve = [{"threshold": 1, "strong_share": 0.0, "quality": 0.5, "cost_usd": 1.0},
             {"threshold": 0.5, "strong_share": 0.5, "quality": 0.75, "cost_usd": 3.0},
             {"threshold": 0, "strong_share": 1.0, "quality": 0.75, "cost_usd": 5.0}]
    s = _summary(curve, q_weak, q_strong, 5.0, "w", "s", 4)
    assert (s["all_weak"], s["all_strong"]) == (0.5, 0.75)
    assert s["oracle"] == {"quality": 1.0, "strong_share": 0.5}
    assert s["cpt50"] == 0.5 and s["cpt80"] == 0.5
    assert s["apgr"] == pytest.approx(0.75)  # PGR 0 -> 1 over the first half, then 1
    assert s["at_95pct_quality"] == {"strong_share": 0.5, "quality": 0.75, "cost_saved_pct": 40.0}


def test_evaluate_runs_the_real_classifier_and_router(tmp_path: Path) -> None:
    rows = []
    for i in range(400):  # enough rows that some fall in the held-out hash split
        hard = i % 2 == 0
        text = f"Prove rigorously that the integral of x^{i} has the stated form. Case {i}." if hard else f"hi {i}"
        rows.append({"messages": [{"role": "user", "content": text}],
                     "outcomes": {"w": {"score": 0.0 if hard else 1.0}, "s": {"score": 1.0}}})
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = evaluate(path, "w", "s", (0.1, 0.1, 1.0, 1.0))
    shares = [p["strong_share"] for p in result["curve"]]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and result["rows"] > 10
    assert 0.0 <= result["apgr"] <= 1.0
