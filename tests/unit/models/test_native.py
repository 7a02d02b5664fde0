"""The native hot path (models/native/*.c) against its definitions: the Python featuriser bit for
bit, LightGBM's own raw scores exactly, and core.pii for the personal-data pre-check."""

from __future__ import annotations

import json
import random
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from core.config import REPO_ROOT
from core.errors import ModelError
from core.pii import detect_pii
from models import _native
from models.classifier import ARTIFACTS
from models.features import N_FEATURES, featurize, featurize_batch, reference_featurize_into
from models.forest import load_forest

PROMPTS = [json.loads(line)["prompt"] for line in (REPO_ROOT / "data/demo_prompts.jsonl").open(encoding="utf-8")]
# Every branch of the layout: scripts, list and indent prefixes, markers, whitespace kinds, case
# mappings that change length (İ lowers to two code points), astral characters.
ALPHABET = "aAbZ ?？\n\t-*12.・```{}$=+漢字ひらカタ한국어Привет مرحبا İẞ\u00a0\u2003\u2028𝔘😀defreturnsolve"
EDGE = ["", "a", "ab", "abc", "İ" * 600, "x" * 5000, "   \n\n  ", "？", "- a\n* b\n1. c\n    d\n\te"]


def _random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 1400))) for _ in range(n)]


def _reference(text: str, n_messages: int = 1, has_system: bool = False) -> np.ndarray:
    row = np.empty(N_FEATURES, dtype=np.float32)
    reference_featurize_into(row, text, n_messages, has_system)
    return row


@pytest.mark.parametrize("texts", [PROMPTS, _random_texts(1500, 7), EDGE], ids=["demo", "random", "edge"])
def test_native_features_equal_the_reference_bit_for_bit(texts: list[str]) -> None:
    for i, text in enumerate(texts):
        n_messages, has_system = 1 + i % 3, bool(i % 2)
        native, ref = featurize(text, n_messages, has_system), _reference(text, n_messages, has_system)
        assert native.view(np.uint32).tobytes() == ref.view(np.uint32).tobytes(), repr(text[:80])
    batch = featurize_batch([(t, 1, False) for t in texts])
    assert np.array_equal(batch, np.stack([_reference(t) for t in texts]))


def test_native_features_reject_bad_input() -> None:
    with pytest.raises(TypeError):
        featurize(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float32"):
        _native.featurize_into(np.empty(N_FEATURES, dtype=np.float64), "x", 1, False)
    with pytest.raises(ValueError, match="differ in length"):
        _native.featurize_rows(np.empty((2, N_FEATURES), dtype=np.float32), ["a", "b"], [1], [False, False])


@pytest.mark.parametrize("head", ["task", "tier", "domain", "verifier"])
def test_forest_raw_scores_equal_lightgbm_exactly(head: str) -> None:
    path = ARTIFACTS / f"{head}.txt"
    forest, booster = load_forest(path), lgb.Booster(model_file=str(path))
    x = featurize_batch([(t, 1, False) for t in PROMPTS + _random_texts(300, 3)])
    if forest.n_features > x.shape[1]:  # the verifier adds tier and tier prior
        rng = np.random.default_rng(0)
        extra = np.column_stack([rng.integers(1, 4, len(x)), rng.random(len(x))]).astype(np.float32)
        x = np.ascontiguousarray(np.hstack([x, extra]))
    out = np.empty((len(x), forest.n_class))
    forest.raw(x, out)
    assert np.array_equal(out, booster.predict(x, raw_score=True).reshape(len(x), -1))


def test_forest_handles_a_single_leaf_tree_and_thresholds_between_floats(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((400, 3)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(int)
    x[:, 2] = 0.25  # constant: no split possible on it
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1},
                        lgb.Dataset(x, y), num_boost_round=5)
    path = tmp_path / "m.txt"
    booster.save_model(str(path))
    forest = load_forest(path)
    probe = np.vstack([x, np.nextafter(x, 2), np.nextafter(x, -1)]).astype(np.float32)
    out = np.empty((len(probe), 1))
    forest.raw(probe, out)
    assert np.array_equal(out[:, 0], booster.predict(probe, raw_score=True))
    stump = lgb.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 1000},
                      lgb.Dataset(x, y.astype(float)), num_boost_round=2)
    stump.save_model(str(path))
    one = np.empty((len(x), 1))
    load_forest(path).raw(x, one)
    assert np.array_equal(one[:, 0], stump.predict(x, raw_score=True))


def test_forest_refuses_categorical_splits_and_bad_shapes(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x = np.column_stack([rng.integers(0, 6, 600), rng.random(600)])
    y = (x[:, 0] % 2 == 0).astype(int)
    lgb.train({"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
              lgb.Dataset(x, y, categorical_feature=[0]), num_boost_round=3).save_model(str(tmp_path / "c.txt"))
    with pytest.raises(ModelError, match="categorical"):
        load_forest(tmp_path / "c.txt")
    forest = load_forest(ARTIFACTS / "tier.txt")
    with pytest.raises(ValueError, match="float32 rows"):
        forest.raw(np.zeros((2, N_FEATURES), dtype=np.float32), np.empty((1, forest.n_class)))


PII_SAMPLES = [
    "mail taro@example.co.jp", "Call +81 90-1234-5678", "携帯は09012345678です", "(555) 123-4567",
    "card 4111 1111 1111 1111", "IBAN DE89 3704 0044 0532 0130 00", "マイナンバーは 1234 5678 9018",
    "SSN 123-45-6789", "全角 ０９０１２３４５６７８", "GB82WEST12345698765432",
]


def test_pii_pre_check_never_hides_what_core_pii_finds() -> None:
    rng = random.Random(11)
    pieces = ["4111", "1111", " ", "-", "(", ")", "+", "81", "090", "@", "a", "DE", "89", "x.", "０９", "\n", "GB"]
    texts = PII_SAMPLES + PROMPTS + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
                                     for _ in range(20000)]
    found = [t for t in texts if detect_pii(t)]
    assert len(found) > 500  # the generator does produce personal data
    assert all(_native.pii_candidate(t) for t in found)
    cleared = sum(not _native.pii_candidate(p) for p in PROMPTS)
    assert cleared > 0.8 * len(PROMPTS)  # and it clears ordinary prompts, which is why it exists
