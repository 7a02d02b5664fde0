from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np

from core.config import REPO_ROOT
from core.events import Attempt
from core.request import Request
from core.verification import verify
from models.classifier import ARTIFACTS
from models.features import featurize
from models.verifier import LgbmVerifier
from tests.fakes import job
from training.verifier import binary_reliability, roc_auc


def test_scores_are_probabilities_and_stronger_tiers_score_higher() -> None:
    v = LgbmVerifier()
    prompts = [json.loads(line)["prompt"] for line in (REPO_ROOT / "data/demo_prompts.jsonl").open()][:60]
    by_tier = {t: [v.score(Request("r", "t", [{"role": "user", "content": p}]), t) for p in prompts] for t in (1, 2, 3)}
    assert all(0 <= s <= 1 for scores in by_tier.values() for s in scores)
    assert np.mean(by_tier[1]) < np.mean(by_tier[2]) < np.mean(by_tier[3])


def test_low_learned_score_fails_only_after_the_validators_pass() -> None:
    a = Attempt(1, "m", "p", 1, "ok", 0, 1.0, content="A fine, varied answer.", finish_reason="stop")
    low = verify(a, job(1), learned=0.2, threshold=0.3)
    assert (low.passed, low.reason, low.score) == (False, "low_score", 0.2)
    high = verify(a, job(1), learned=0.6, threshold=0.3)
    assert (high.passed, high.score) == (True, 0.6)
    empty = verify(Attempt(1, "m", "p", 1, "ok", 0, 1.0, content=""), job(1), learned=0.9, threshold=0.3)
    assert (empty.reason, empty.score) == ("empty", 0.0)


def test_metrics() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    table = binary_reliability(np.array([0.05, 0.95]), np.array([0, 1]))
    assert [(r["bin"], r["accuracy"]) for r in table] == [("0.0-0.1", 0.0), ("0.9-1.0", 1.0)]


def test_native_score_equals_lightgbm_probability() -> None:
    v = LgbmVerifier()
    booster = lgb.Booster(model_file=str(ARTIFACTS / "verifier.txt"))
    prompts = [json.loads(line)["prompt"] for line in (REPO_ROOT / "data/demo_prompts.jsonl").open()][:40]
    for p in prompts:
        for tier in (1, 2, 3):
            row = np.concatenate([featurize(p), np.array([tier, v.priors[tier]], dtype=np.float32)])
            expected = float(booster.predict(row.reshape(1, -1))[0])
            assert abs(v.score(Request("r", "t", [{"role": "user", "content": p}]), tier) - expected) < 1e-12
