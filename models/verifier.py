"""The learned verifier at run time: P(an answer is acceptable | request features, answering tier),
scored by the native forest from the artifacts ``python -m training.verifier`` writes (no LightGBM)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from core.errors import ModelError
from core.request import Request
from models.classifier import ARTIFACTS
from models.features import FEATURE_VERSION, N_FEATURES, featurize_into
from models.forest import load_forest

EXTRA = ("tier", "tier_prior")  # the features after the request's: the answering tier and its prior strength


class LgbmVerifier:
    """Scores (request, tier) pairs with the trained verifier; a ``core.ports.Verifier``."""

    def __init__(self, directory: Path = ARTIFACTS) -> None:
        try:
            manifest = json.loads((directory / "verifier.json").read_text())
        except FileNotFoundError:
            msg = f"{directory}/verifier.json not found (train with: python -m training.verifier)"
            raise ModelError(msg) from None
        if manifest["feature_version"] != FEATURE_VERSION:
            msg = f"verifier trained on features {manifest['feature_version']!r}, code makes {FEATURE_VERSION!r}"
            raise ModelError(msg)
        self.version = manifest["verifier_version"]
        self.priors = {int(k): v for k, v in manifest["tier_priors"].items()}
        if "\nobjective=binary sigmoid:1\n" not in (directory / "verifier.txt").read_text(encoding="utf-8")[:4096]:
            raise ModelError(
                f"{directory}/verifier.txt: expected a binary model with sigmoid 1 (score = logistic(raw))")
        self.forest = load_forest(directory / "verifier.txt")
        if self.forest.n_features != N_FEATURES + len(EXTRA):
            raise ModelError(
                f"verifier.txt expects {self.forest.n_features} features, code makes {N_FEATURES + len(EXTRA)}")
        self._row = np.empty(N_FEATURES + len(EXTRA), dtype=np.float32)
        self._raw = np.empty(1, dtype=np.float64)

    def score(self, request: Request, tier: int) -> float:
        featurize_into(self._row[:N_FEATURES], request.task_text(), len(request.messages), request.has_system)
        self._row[N_FEATURES:] = (tier, self.priors.get(tier, 0.5))
        self.forest.raw(self._row, self._raw)
        return 1.0 / (1.0 + math.exp(-float(self._raw[0])))
