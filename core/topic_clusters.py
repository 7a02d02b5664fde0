"""Topic clusters: online spherical k-means over prompt embeddings, shared by every model's memory (pure).

The nearest neighbours of a prompt are a small, noisy sample; a whole topic (a task, a subject) has
many verdicts behind it. Each level keeps ``n`` unit centroids: the first prompts that are not near
an existing centroid found them, then each batch moves every centroid toward the mean of the prompts
assigned to it, with a step of at least ``1 / max_weight`` so that the topics follow the traffic.
The quality memory counts accepted answers per model and cluster at each level; how much each level
counts against the neighbours is learned (``core/quality_memory.py``). Bounded: ``n`` vectors per
level, whatever the traffic. Deterministic: the same verdicts in the same order give the same
centroids, so every worker rebuilding from the outcome stream agrees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_NEW_TOPIC = 0.9  # a prompt less similar than this to every centroid founds one while there is room


class TopicClusters:
    def __init__(self, sizes: Sequence[int], dim: int, max_weight: float = 1000.0) -> None:
        self.sizes = tuple(sizes)
        self.max_weight = max_weight
        self._centroids = [np.zeros((n, dim), dtype=np.float32) for n in self.sizes]
        self._weights = [np.zeros(n) for n in self.sizes]
        self._used = [0] * len(self.sizes)

    @property
    def levels(self) -> int:
        return len(self.sizes)

    def nbytes(self) -> int:
        return sum(c.nbytes + w.nbytes for c, w in zip(self._centroids, self._weights, strict=True))

    def assign(self, vecs: np.ndarray) -> np.ndarray:
        """The nearest centroid of each prompt at each level, (B, levels); -1 where a level is empty."""
        out = np.full((len(vecs), self.levels), -1, dtype=np.int64)
        for i, used in enumerate(self._used):
            if used:
                out[:, i] = np.argmax(vecs @ self._centroids[i][:used].T, axis=1)
        return out

    def update(self, vecs: np.ndarray) -> None:
        """Learn from a batch of prompt vectors (unit length)."""
        vecs = np.asarray(vecs, dtype=np.float32)
        for i in range(self.levels):
            self._update_level(i, vecs)

    def _update_level(self, i: int, vecs: np.ndarray) -> None:
        cents, weights, n = self._centroids[i], self._weights[i], self.sizes[i]
        rest = vecs
        while self._used[i] < n and len(rest):  # found new topics with prompts far from every centroid
            used = self._used[i]
            far = np.ones(len(rest), dtype=bool) if not used else (rest @ cents[:used].T).max(axis=1) < _NEW_TOPIC
            if not far.any():
                break
            first = int(np.argmax(far))
            cents[used], weights[used] = rest[first], 1.0
            self._used[i] = used + 1
            rest = np.delete(rest, first, axis=0)
        used = self._used[i]
        if not used or not len(rest):
            return
        nearest = np.argmax(rest @ cents[:used].T, axis=1)
        members = np.zeros((used, len(rest)), dtype=np.float32)
        members[nearest, np.arange(len(rest))] = 1.0
        sums = members @ rest  # (used, dim)
        counts = members.sum(axis=1).astype(np.float64)
        hit = counts > 0
        w = weights[:used]
        moved = (w[hit, None] * cents[:used][hit] + sums[hit]) / (w[hit] + counts[hit])[:, None]
        norms = np.linalg.norm(moved, axis=1, keepdims=True)
        cents[:used][hit] = (moved / np.maximum(norms, 1e-9)).astype(np.float32)
        w[hit] = np.minimum(w[hit] + counts[hit], self.max_weight)
