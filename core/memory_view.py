"""The route stage's view of the quality memory: a batch's estimates for its candidate models (pure).

``core/quality_memory.py`` learns and estimates; this module turns a job's classification into
each model's prior (``tier_prior``) and answers the routing policy's ``QualityView`` questions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from core.events import Job
from core.prompt_vector import decode_vector
from core.quality_memory import Estimate, QualityMemory


class MemoryView:
    """The route stage's view of a memory: estimates for a job's candidate models (a QualityView).

    ``prepare`` estimates a whole batch of jobs for every model at once; ``estimates``
    then answers from that, or computes a single job on its own."""

    def __init__(self, memory: QualityMemory, tiers: Callable[[str], int]) -> None:
        self.memory = memory
        self.tiers = tiers  # model -> its catalog tier (read per call: a reload applies at once)
        self._ready: dict[str, dict[str, Estimate]] = {}

    def prepare(self, jobs: Sequence[Job], models: Sequence[str], now_ms: int) -> None:
        self._ready = {}
        with_vec = [(j, v) for j in jobs if j.classification and (v := decode_vector(j.classification.embedding))
                    is not None]
        if not with_vec:
            return
        vecs = np.stack([v for _, v in with_vec])
        probs = [j.classification.tier_probs if j.classification else {} for j, _ in with_vec]
        tiers = {m: self.tiers(m) for m in models}
        priors = {m: [tier_prior(p, tier) for p in probs] for m, tier in tiers.items()}
        for m, estimates in self.memory.estimate_models(vecs, priors, now_ms).items():
            for (j, _), e in zip(with_vec, estimates, strict=True):
                self._ready.setdefault(j.request_id, {})[m] = e

    def estimates(self, job: Job, models: Sequence[str], now_ms: int) -> dict[str, Estimate]:
        ready = self._ready.get(job.request_id, {})
        if all(m in ready for m in models):
            return {m: ready[m] for m in models}
        c = job.classification
        vec = decode_vector(c.embedding) if c else None
        probs = c.tier_probs if c else {}
        priors = {m: [tier_prior(probs, self.tiers(m))] for m in models}
        estimates = self.memory.estimate_models(None if vec is None else vec[None], priors, now_ms)
        return {m: e[0] for m, e in estimates.items()}


def tier_prior(tier_probs: dict[str, float], model_tier: int) -> float:
    """P(the request needs no more than ``model_tier``): the classifier's say on this model."""
    if not tier_probs:
        return 0.5
    return float(min(1.0, sum(p for t, p in tier_probs.items() if int(t) <= model_tier)))
