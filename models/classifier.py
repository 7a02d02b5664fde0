"""The LightGBM request classifier (a ``core.ports.Classifier``): task type, tier and domain.

Loads the artifacts once, refuses a model whose feature layout differs from this code's, and
predicts a batch with one native call for the features and one per head (``models/forest.py``:
the same raw scores as LightGBM, several times faster). Personal data is checked by ``core.pii``
behind a native pre-check that rules out most prompts in well under a microsecond.
Probabilities are temperature-calibrated; ``low_confidence`` marks requests routing should
send one tier up (uncertain tier, or a task the model does not recognise).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelError
from core.events import Classification
from core.lexical import word_buckets
from core.pii import contains_pii
from core.prompt_vector import encode_vector
from core.request import Request
from models import _native
from models.embedding import PromptEmbedder
from models.features import FEATURE_NAMES, FEATURE_VERSION, N_FEATURES, featurize_into, featurize_rows
from models.forest import load_forest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HEADS = ("task", "tier", "domain")
CHUNK = 64  # rows featurised and scored together (measured: larger batches fall out of cache)


class _Head:
    def __init__(self, directory: Path, name: str, spec: dict[str, Any]) -> None:
        self.classes: list[str] = spec["classes"]
        self.temperature = float(spec["temperature"])
        self.forest = load_forest(directory / f"{name}.txt")
        if self.forest.n_features != N_FEATURES or self.forest.n_class != len(self.classes):
            msg = (f"{name}.txt expects {self.forest.n_features} features and has {self.forest.n_class} classes; "
                   f"this code makes {N_FEATURES} features and the manifest names {len(self.classes)} classes")
            raise ModelError(msg)

    def probs(self, x: np.ndarray) -> np.ndarray:
        raw = np.empty((len(x), len(self.classes)), dtype=np.float64)
        self.forest.raw(x, raw)
        return softmax(raw, self.temperature)


def softmax(raw: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = raw / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class LgbmClassifier:
    def __init__(self, directory: Path = ARTIFACTS, embedder: PromptEmbedder | None = None) -> None:
        self.embedder = embedder  # with one, each classification carries the prompt's embedding
        manifest = load_manifest(directory)
        self.version: str = manifest["model_version"]
        self.heads = {name: _Head(directory, name, manifest["heads"][name]) for name in HEADS}
        thresholds = manifest.get("thresholds", {})
        self.low_tier = float(thresholds.get("low_confidence_tier", 0.45))
        self.unknown_task = float(thresholds.get("unknown_task", 0.4))
        self.training_distribution: dict[str, dict[str, float]] = manifest.get("training_distribution", {})
        self._row = np.empty(N_FEATURES, dtype=np.float32)

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]:
        out: list[Classification] = []
        for i in range(0, len(requests), CHUNK):  # a chunk's feature rows stay in cache for all heads
            chunk = requests[i:i + CHUNK]
            x = featurize_rows([r.task_text() for r in chunk], [len(r.messages) for r in chunk],
                               [r.has_system for r in chunk])
            out += self._label(chunk, x)
        return out

    def classify_one(self, request: Request) -> Classification:
        featurize_into(self._row, request.task_text(), len(request.messages), request.has_system)
        return self._label((request,), self._row.reshape(1, -1))[0]

    def _label(self, requests: Sequence[Request], x: np.ndarray) -> list[Classification]:
        task_h, tier_h, domain_h = (self.heads[n] for n in HEADS)
        p_task, p_tier = task_h.probs(x), tier_h.probs(x)
        t_idx, r_idx = p_task.argmax(axis=1), p_tier.argmax(axis=1)
        t_conf, r_conf = p_task[np.arange(len(x)), t_idx], p_tier[np.arange(len(x)), r_idx]
        d_idx = domain_h.probs(x).argmax(axis=1).tolist()
        low = ((r_conf < self.low_tier) | (t_conf < self.unknown_task)).tolist()
        conf = np.round(np.minimum(t_conf, r_conf), 4).tolist()
        task_rows, tier_rows = np.round(p_task, 4).tolist(), np.round(p_tier, 4).tolist()
        tasks, tiers, domains = task_h.classes, tier_h.classes, domain_h.classes
        if self.embedder is not None:
            texts = [r.task_text() for r in requests]
            vecs = [encode_vector(v, word_buckets(t)) for v, t in zip(self.embedder.embed(texts), texts, strict=True)]
        else:
            vecs = [""] * len(requests)
        out = []
        for i, r in enumerate(requests):
            task = r.task_type if r.task_type in tasks else tasks[t_idx[i]]  # the caller's hint wins
            prompt = r.prompt_text()
            out.append(Classification(
                task_type=task,
                tier=int(tiers[r_idx[i]]),
                confidence=conf[i],
                task_probs=dict(zip(tasks, task_rows[i], strict=True)),
                tier_probs=dict(zip(tiers, tier_rows[i], strict=True)),
                low_confidence=low[i],
                pii=_native.pii_candidate(prompt) and contains_pii(prompt),
                model_version=self.version,
                feature_version=FEATURE_VERSION,
                domain=domains[d_idx[i]],
                embedding=vecs[i],
            ))
        return out


def load_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: classifier manifest not found (train with: python -m training.train)"
        raise ModelError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON ({exc})"
        raise ModelError(msg) from None
    names_sha = hashlib.sha256("\n".join(FEATURE_NAMES).encode()).hexdigest()
    if manifest.get("feature_version") != FEATURE_VERSION or manifest.get("feature_names_sha256") != names_sha:
        msg = (f"{path}: model was trained on features {manifest.get('feature_version')!r}, this code makes "
               f"{FEATURE_VERSION!r} (or the feature names differ); retrain with python -m training.train")
        raise ModelError(msg)
    return manifest
