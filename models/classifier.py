"""The LightGBM request classifier (a ``core.ports.Classifier``): task type, tier and domain.

Loads the artifacts once, refuses a model whose feature layout differs from this code's, and
predicts a batch with one call per head (small batches use the C fast path row by row).
Probabilities are temperature-calibrated; ``low_confidence`` marks requests routing should
send one tier up (uncertain tier, or a task the model does not recognise).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from core.errors import ModelError
from core.events import Classification
from core.request import Request
from core.pii import contains_pii
from models.fastpredict import FastRowPredictor
from models.features import FEATURE_NAMES, FEATURE_VERSION, N_FEATURES, featurize_batch, featurize_into
from models.metrics import softmax

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HEADS = ("task", "tier", "domain")
FAST_PATH_MAX_ROWS = 8  # below this, per-row C calls beat one batched predict


class _Head:
    def __init__(self, directory: Path, name: str, spec: dict[str, Any]) -> None:
        self.classes: list[str] = spec["classes"]
        self.temperature = float(spec["temperature"])
        self.booster = lgb.Booster(model_file=str(directory / f"{name}.txt"))
        if self.booster.num_feature() != N_FEATURES:
            msg = f"{name}.txt expects {self.booster.num_feature()} features, this code makes {N_FEATURES}"
            raise ModelError(msg)
        self.fast = FastRowPredictor(self.booster, N_FEATURES, len(self.classes))

    def probs(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= FAST_PATH_MAX_ROWS:
            raw = np.stack([self.fast.raw(row) for row in x])
        else:
            raw = self.booster.predict(x, raw_score=True, num_threads=1)
        return softmax(raw, self.temperature)

    def probs_batch(self, x: np.ndarray) -> np.ndarray:
        """Offline evaluation: every core."""
        return softmax(self.booster.predict(x, raw_score=True), self.temperature)


class LgbmClassifier:
    def __init__(self, directory: Path = ARTIFACTS) -> None:
        manifest = load_manifest(directory)
        self.version: str = manifest["model_version"]
        self.heads = {name: _Head(directory, name, manifest["heads"][name]) for name in HEADS}
        thresholds = manifest.get("thresholds", {})
        self.low_tier = float(thresholds.get("low_confidence_tier", 0.45))
        self.unknown_task = float(thresholds.get("unknown_task", 0.4))
        self.training_distribution: dict[str, dict[str, float]] = manifest.get("training_distribution", {})
        self._row = np.empty(N_FEATURES, dtype=np.float32)

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]:
        if not requests:
            return []
        x = featurize_batch([(r.task_text(), len(r.messages), r.has_system) for r in requests])
        probs = {name: head.probs(x) for name, head in self.heads.items()}
        return [self._one(r, {n: p[i] for n, p in probs.items()}) for i, r in enumerate(requests)]

    def classify_one(self, request: Request) -> Classification:
        featurize_into(self._row, request.task_text(), len(request.messages), request.has_system)
        x = self._row.reshape(1, -1)
        return self._one(request, {name: head.probs(x)[0] for name, head in self.heads.items()})

    def _one(self, request: Request, p: dict[str, np.ndarray]) -> Classification:
        task_classes, tier_classes = self.heads["task"].classes, self.heads["tier"].classes
        t_i, r_i, d_i = int(p["task"].argmax()), int(p["tier"].argmax()), int(p["domain"].argmax())
        task_conf, tier_conf = float(p["task"][t_i]), float(p["tier"][r_i])
        task = task_classes[t_i]
        if request.task_type in task_classes:  # the caller's hint wins; the model's view stays on record
            task = request.task_type
        return Classification(
            task_type=task,
            tier=int(tier_classes[r_i]),
            confidence=round(min(task_conf, tier_conf), 4),
            task_probs={c: round(float(v), 4) for c, v in zip(task_classes, p["task"], strict=True)},
            tier_probs={c: round(float(v), 4) for c, v in zip(tier_classes, p["tier"], strict=True)},
            low_confidence=tier_conf < self.low_tier or task_conf < self.unknown_task,
            pii=contains_pii(request.prompt_text()),
            model_version=self.version,
            feature_version=FEATURE_VERSION,
            domain=self.heads["domain"].classes[d_i],
        )


def load_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: classifier manifest not found (train with: python -m models.train)"
        raise ModelError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise ModelError(msg) from None
    names_sha = hashlib.sha256("\n".join(FEATURE_NAMES).encode()).hexdigest()
    if manifest.get("feature_version") != FEATURE_VERSION or manifest.get("feature_names_sha256") != names_sha:
        msg = (f"{path}: model was trained on features {manifest.get('feature_version')!r}, this code makes "
               f"{FEATURE_VERSION!r} (or the feature names differ); retrain with python -m models.train")
        raise ModelError(msg)
    return manifest
