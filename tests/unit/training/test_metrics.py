from __future__ import annotations

import numpy as np

from training.metrics import expected_calibration_error, fit_temperature, report, softmax


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 2
    y = np.array([rng.choice(3, p=p) for p in softmax(true_logits)])
    assert abs(fit_temperature(true_logits, y) - 1.0) <= 0.15
    assert fit_temperature(true_logits * 2.5, y) > 2.0  # overconfident logits need T > 1


def test_report_counts_and_calibration() -> None:
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.7, 0.3]])
    r = report(y, probs, ["a", "b"])
    assert r["accuracy"] == 0.75
    assert r["confusion"] == [[2, 0], [1, 1]]
    assert r["per_class"]["b"] == {"precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2}
    ece, table = expected_calibration_error(probs, y)
    assert 0 <= ece <= 1 and sum(row["n"] for row in table) == 4
