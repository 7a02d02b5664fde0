"""The quality memory: P(acceptable answer | prompt, model), learned online from verdicts (pure).

Design §4: the offline prior (the tier classifier) does not transfer to traffic unlike its
training data; the outcomes of similar past prompts do. For each catalog model the memory keeps
the most recent verdicts (accepted or not) with the prompt's embedding, and estimates a new
prompt's chance from its nearest neighbours among them:

- **prior**: P(the request's tier <= the model's tier) from the classifier, calibrated online per
  model in ten bins (a prior that carries no signal on this traffic flattens to the model's base
  rate; one that does keeps its ranking);
- **memory**: several views of how this model did on similar past prompts, each shrunk toward the
  calibrated prior by how little evidence it has: the similarity- and age-weighted share of accepted
  answers among the nearest ``ks`` (5 to 80) past prompts it answered, and the share accepted in the
  prompt's topic cluster at each level of ``core/topic_clusters.py`` (16 and 64 topics: many verdicts
  behind each, and they outlive the ring buffer);
- **blend**: ``prior + sum_j w_j (view_j - prior)`` with the weights ``w`` learned online per model,
  test then learn: each new verdict is first predicted by every view, and ``w`` is the non-negative
  ridge least-squares fit (coordinate descent) of ``y - prior`` on ``view_j - prior`` over past
  verdicts, exponentially forgotten, scaled down to a sum of at most 1, starting at 0.5 spread evenly
  (a cold memory routes on the prior). "Similar" is over the prompt's embedding and its words
  (``core/prompt_vector.py``). Which neighbourhood size or topic level predicts best differs by traffic; the fit
  finds out instead of a fixed ``k`` (measured on model pairs other than the ones the README reports,
  2026-12-02: LLMRouter 0.923 -> 0.938, MMLU-Pro 0.550 -> 0.564 at 30 % seen). Where the views only
  restate the prior, or the outcome is mostly noise, the weights stay near their start; where they
  explain what the prior gets wrong they grow to 1, and to 0 where they are the worse guess. The sum
  of the weights is the memory's share (``blend_weight``); ``Estimate.memory`` is the views' weighted
  mean.

Bounded: ``capacity`` verdicts per model in a ring buffer (2 MiB per model at the default 1,024) and
80 topic centroids shared by all models (160 KiB), whatever the number of outcomes seen; old evidence
also decays with ``half_life_days`` (neighbours by their age, topic counts as they are updated), so a
model whose quality changes is re-learned. Everything here is numpy; no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.prompt_vector import DIM
from core.topic_clusters import TopicClusters

_DAY_MS = 86_400_000
_RIDGE = 1.0  # pseudo-mass of (view - prior)^2 holding the blend weights at their start (0.5 in all)


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    capacity: int = 1024  # verdicts kept per model (the newest; older ones have decayed anyway)
    k: int = 20  # neighbours behind an estimate's evidence (what Thompson draws and min_evidence weigh)
    ks: tuple[int, ...] = (5, 10, 20, 40, 80)  # neighbourhood sizes the blend chooses among
    clusters: tuple[int, ...] = (16, 64)  # topic levels (``core/topic_clusters.py``); () for none
    half_life_days: float = 14.0
    shrink: float = 1.0  # pseudo-verdicts of the calibrated prior inside a neighbour view
    cluster_shrink: float = 2.0  # the same inside a topic view
    stack_forget: float = 0.999  # per verdict, for the online blend weights
    fit_at_most: int = 64  # verdicts of one learning batch (evenly spread) that also test the views:
    # a fit of a few weights needs far fewer than a busy pipeline sees, and testing costs an estimate

    def __post_init__(self) -> None:
        if not self.ks or min(self.ks) < 1 or min(self.clusters, default=1) < 1:
            raise ValueError(f"memory config: ks {self.ks} needs at least one size, and every size and topic "
                             f"level {self.clusters} must be at least 1")


@dataclass(frozen=True, slots=True)
class Estimate:
    p: float  # blended P(acceptable)
    evidence: float  # similarity- and age-weighted neighbour count behind the memory part
    prior: float  # the calibrated prior
    memory: float  # the memory's views, weighted as the blend weighs them (the prior with no evidence)


@dataclass
class _Model:
    views: int  # neighbourhood sizes + topic levels
    topics: tuple[int, ...]
    slot: int = 0  # its row in the memory's stored arrays; ``vecs``, ``ys``, ``ts``, ``rids`` are views of it
    size: int = 0
    head: int = 0
    bins_n: np.ndarray = field(default_factory=lambda: np.zeros(10))
    bins_pos: np.ndarray = field(default_factory=lambda: np.zeros(10))
    topic_t: int = 0  # when the topic counts were last decayed (ms)
    weights: np.ndarray | None = None  # the blend weights of the current fit (None: to compute)
    vecs: np.ndarray = field(init=False)
    ys: np.ndarray = field(init=False)
    ts: np.ndarray = field(init=False)
    rids: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.topic_n = [np.zeros(n) for n in self.topics]  # verdicts per topic cluster, per level
        self.topic_pos = [np.zeros(n) for n in self.topics]  # accepted among them
        # ridge fit of (y - prior) on (view - prior): sum x x' and sum x (y - prior), with the start's mass
        self.stack_xx, self.stack_xy = _start(self.views)


class QualityMemory:
    def __init__(self, models: Iterable[str], config: MemoryConfig | None = None) -> None:
        self.config = config or MemoryConfig()
        self.topics = TopicClusters(self.config.clusters, DIM)
        self._models: dict[str, _Model] = {}
        # every model's ring buffer in one array per field (models, capacity, ...), so that a batch's
        # estimates for all models are one set of array operations (float32: no conversion per query)
        self._vecs = np.zeros((0, self.config.capacity, DIM), dtype=np.float32)
        self._ys = np.zeros((0, self.config.capacity), dtype=np.float32)
        self._ts = np.zeros((0, self.config.capacity), dtype=np.int64)
        self._rids = np.zeros((0, self.config.capacity), dtype=np.int64)  # which request (hash) each was on
        self.ensure(models)
        self.learned = 0

    @property
    def models(self) -> list[str]:
        return list(self._models)

    def ensure(self, models: Iterable[str]) -> None:
        """Start a memory for models a catalog reload added (kept ones keep theirs)."""
        new = [m for m in dict.fromkeys(models) if m not in self._models]
        if not new:
            return
        for m in new:
            self._models[m] = _Model(len(self.config.ks) + self.topics.levels, self.topics.sizes)
        grown = len(self._models)
        self._vecs, self._ys, self._ts, self._rids = (
            np.concatenate([a, np.zeros((grown - len(a), *a.shape[1:]), dtype=a.dtype)])
            for a in (self._vecs, self._ys, self._ts, self._rids))
        for slot, st in enumerate(self._models.values()):
            st.slot = slot
            st.vecs, st.ys, st.ts, st.rids = self._vecs[slot], self._ys[slot], self._ts[slot], self._rids[slot]

    def nbytes(self) -> int:
        return self.topics.nbytes() + sum(
            s.vecs.nbytes + s.ys.nbytes + s.ts.nbytes + s.rids.nbytes + sum(a.nbytes for a in s.topic_n + s.topic_pos)
            for s in self._models.values())

    def apply_feedback(self, request_id: str, value: float) -> int:
        """Downstream feedback overrides the verifier on the answer that was delivered (the request's
        accepted verdicts still in memory); returns how many verdicts it changed."""
        h = _rid_hash(request_id)
        changed = 0
        for s in self._models.values():
            slots = np.flatnonzero((s.rids[:s.size] == h) & (s.ys[:s.size] >= 0.5))
            if len(slots):
                self._count_topics(s, s.vecs[slots], value - s.ys[slots], with_n=False)
            s.ys[slots] = value
            changed += len(slots)
        return changed

    # --- estimates -----------------------------------------------------------------------------

    def estimate(self, vec: np.ndarray | None, model: str, prior: float, now_ms: int) -> Estimate:
        return self.estimate_batch(None if vec is None else vec.reshape(1, -1), model, [prior], now_ms)[0]

    def estimate_batch(self, vecs: np.ndarray | None, model: str, priors: Sequence[float], now_ms: int
                       ) -> list[Estimate]:
        """Estimates for one model over a batch of prompts (``vecs`` None: no embeddings, prior only)."""
        return self.estimate_models(vecs, {model: priors}, now_ms)[model]

    def estimate_models(self, vecs: np.ndarray | None, priors: Mapping[str, Sequence[float]], now_ms: int
                        ) -> dict[str, list[Estimate]]:
        """Estimates for several models over a batch of prompts (``priors``: each model's prior per
        prompt), every model that has verdicts computed together: the per-call costs of a small
        batch are paid once, not once per model (eight models, 2026-12-03: a route batch of one 0.9
        against 1.3 ms, of four 1.9 against 2.7 ms)."""
        out: dict[str, list[Estimate]] = {}
        block: list[_Model] = []
        names: list[str] = []
        cals: list[np.ndarray] = []
        for model, prior in priors.items():
            s = self._models.get(model)
            pr = np.asarray(prior, dtype=np.float64)
            if s is None:
                out[model] = [Estimate(p, 0.0, p, p) for p in pr.tolist()]
                continue
            _, cal = _calibrated(s, pr)
            if s.size == 0 or vecs is None:
                out[model] = [Estimate(c, 0.0, c, c) for c in cal.tolist()]
            else:
                block.append(s)
                names.append(model)
                cals.append(cal)
        if block and vecs is not None:
            cal = np.stack(cals)  # (M, B)
            views, ev = self._views(block, np.asarray(vecs, dtype=np.float32), cal, now_ms)
            w = np.stack([self._weights(s) for s in block])  # (M, views)
            a = w.sum(axis=1)[:, None]
            lift = ((views - cal[..., None]) @ w[..., None])[..., 0]
            blended = np.clip(cal + lift, 0.0, 1.0)
            mem = np.where(a > 0, cal + lift / np.where(a > 0, a, 1.0), views[..., self._evidence_view()])
            for i, model in enumerate(names):
                out[model] = [Estimate(*e) for e in zip(blended[i].tolist(), ev[i].tolist(), cal[i].tolist(),
                                                        mem[i].tolist(), strict=True)]
        return out

    def _evidence_view(self) -> int:
        ks = self.config.ks
        return min(range(len(ks)), key=lambda i: abs(ks[i] - self.config.k))

    def _views(self, block: list[_Model], vecs: np.ndarray, cal: np.ndarray, now_ms: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Every view's estimate (M, B, views) for models ``block`` and prompts ``vecs``, and the
        evidence (M, B): the weighted count of the ``k`` nearest. ``cal``: the calibrated priors (M, B)."""
        ks, cap = self.config.ks, self.config.capacity
        slots = np.array([s.slot for s in block])
        # (M, capacity, B), one product per model: a model's 2 MiB of stored vectors stay in the core's
        # cache for its product, and BLAS runs the stored vectors against a few prompts about twice as
        # fast as the prompts against the stored vectors' transpose; below 4 prompts, one by one is faster
        sims = np.empty((len(block), cap, len(vecs)), dtype=np.float32)
        for i, slot in enumerate(slots.tolist()):
            if len(vecs) < 4:
                for b, vec in enumerate(vecs):
                    sims[i, :, b] = self._vecs[slot] @ vec
            else:
                np.matmul(self._vecs[slot], vecs.T, out=sims[i])
        sims = sims.transpose(0, 2, 1)  # (M, B, capacity), a view
        sizes = np.array([s.size for s in block])
        if (sizes < cap).any():  # slots not filled yet are never near
            sims = np.where(np.arange(cap) < sizes[:, None, None], sims, -np.inf)
        k = min(max(ks), cap)
        top = np.argpartition(sims, cap - k, axis=2)[..., cap - k:] if k < cap else np.broadcast_to(
            np.arange(cap), sims.shape)
        m_, b_ = np.arange(len(block))[:, None, None], np.arange(len(vecs))[None, :, None]
        near = sims[m_, b_, top]
        order = np.argsort(-near, axis=2)  # nearest first, so the first j are the j nearest
        top, near = top[m_, b_, order], near[m_, b_, order]
        rows = slots[:, None, None]
        age_days = np.maximum(now_ms - self._ts[rows, top], 0) / _DAY_MS
        w = np.clip(near, 0.0, None) * np.exp2(age_days / -self.config.half_life_days)
        cum_w, cum_y = np.cumsum(w, axis=2), np.cumsum(w * self._ys[rows, top], axis=2)
        at = [min(j, k) - 1 for j in ks]  # the cumulative sums at each neighbourhood size (empty slots add 0)
        shrink = self.config.shrink  # pseudo-verdicts at the calibrated prior
        cols = [(cum_y[..., at] + shrink * cal[..., None]) / (cum_w[..., at] + shrink)]
        if self.topics.levels:
            assigned = self.topics.assign(vecs)  # once for the batch, every model of the block
            for level in range(self.topics.levels):
                c = assigned[:, level]
                has = c >= 0
                tn = np.stack([s.topic_n[level] for s in block])[:, c]
                tp = np.stack([s.topic_pos[level] for s in block])[:, c]
                got_n, got_pos = np.where(has, tn, 0.0), np.where(has, tp, 0.0)
                view = (got_pos + self.config.cluster_shrink * cal) / (got_n + self.config.cluster_shrink)
                cols.append(view[..., None])
        ev = cum_w[..., min(self.config.k, k) - 1]
        return np.concatenate(cols, axis=2), ev

    def blend_weight(self, model: str) -> float:
        """How much the memory counts against the calibrated prior for ``model`` (0 to 1)."""
        s = self._models.get(model)
        return 0.0 if s is None else float(self._weights(s).sum())

    @staticmethod
    def _weights(s: _Model) -> np.ndarray:
        if s.weights is None:
            w = _nnls(s.stack_xx.tolist(), s.stack_xy.tolist())
            total = float(w.sum())
            s.weights = w / total if total > 1.0 else w
        return s.weights

    # --- learning ------------------------------------------------------------------------------

    def learn(self, vecs: np.ndarray, model: str, accepted: Sequence[float], priors: Sequence[float],
              times_ms: Sequence[int], request_ids: Sequence[str] = (), escalated: Sequence[bool] = ()) -> None:
        """Verdicts for one model: test (update the blend weight and the calibration), then store.

        ``escalated`` marks verdicts on answers asked for because a cheaper model's answer failed: the
        neighbours learn them, the topic counts do not (within a topic, prompts where the cheaper model
        failed are the harder ones, so counting them would make this model look worse there than it is
        on the topic's traffic; the neighbours are local enough to compare like with like)."""
        s = self._models.get(model)
        if s is None or len(accepted) == 0:
            return
        n = len(accepted)
        ys = np.asarray(accepted, dtype=np.float32)
        pr = np.asarray(priors, dtype=np.float64)
        bins, cal = _calibrated(s, pr)
        vecs = np.asarray(vecs, dtype=np.float32)
        now = int(max(times_ms))
        if s.size:  # test: how each view would have predicted these verdicts, each verdict counting
            tested = _spread(len(ys), self.config.fit_at_most)  # by how much evidence its neighbours had
            views, ev = (a[0] for a in self._views([s], vecs[tested], cal[tested][None], now))
            x, y = views - cal[tested, None], ys[tested] - cal[tested]
            f = ev / (ev + self.config.shrink)
            g = self.config.stack_forget ** len(tested)  # forget toward the start, not toward nothing
            start_xx, start_xy = _start(s.views)
            s.stack_xx = g * s.stack_xx + (1 - g) * start_xx + (x * f[:, None]).T @ x
            s.stack_xy = g * s.stack_xy + (1 - g) * start_xy + (x * f[:, None]).T @ y
            s.weights = None
        np.add.at(s.bins_n, bins, 1)
        np.add.at(s.bins_pos, bins, ys)
        self._decay_topics(s, now)
        self.topics.update(vecs)
        first = ~np.asarray(escalated, dtype=bool) if len(escalated) else np.ones(len(ys), dtype=bool)
        self._count_topics(s, vecs[first], ys[first], with_n=True)
        rids = np.array([_rid_hash(r) for r in request_ids] if request_ids else [0] * len(ys), dtype=np.int64)
        cap = self.config.capacity
        vecs = vecs[-cap:]  # more than fit: only the newest stay
        ys, ts, rids = ys[-cap:], np.asarray(times_ms, dtype=np.int64)[-cap:], rids[-cap:]
        slots = (s.head + np.arange(len(ys))) % cap
        s.vecs[slots], s.ys[slots], s.ts[slots], s.rids[slots] = vecs, ys, ts, rids
        s.head = int((s.head + len(ys)) % cap)
        s.size = min(s.size + len(ys), cap)
        self.learned += n

    def _decay_topics(self, s: _Model, now_ms: int) -> None:
        if now_ms > s.topic_t:
            f = 0.5 ** ((now_ms - s.topic_t) / _DAY_MS / self.config.half_life_days) if s.topic_t else 1.0
            for counts in s.topic_n + s.topic_pos:
                np.multiply(counts, f, out=counts)
            s.topic_t = now_ms

    def _count_topics(self, s: _Model, vecs: np.ndarray, ys: np.ndarray, with_n: bool) -> None:
        if not s.topics:
            return
        assigned = self.topics.assign(vecs)
        for level, size in enumerate(s.topics):
            c = assigned[:, level]
            if with_n:
                s.topic_n[level] += np.bincount(c, minlength=size)
            s.topic_pos[level] += np.bincount(c, weights=ys, minlength=size)


def _calibrated(s: _Model, priors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's prior for this model calibrated on its verdicts in ten bins (each bin starts
    at the prior itself, two verdicts' worth): the bins and the calibrated values."""
    bins = np.minimum((priors * 10).astype(int), 9)
    return bins, (s.bins_pos[bins] + 2.0 * priors) / (s.bins_n[bins] + 2.0)


def _nnls(xx: list[list[float]], xy: list[float], sweeps: int = 50) -> np.ndarray:
    """Non-negative least squares by coordinate descent, in plain floats: for a handful of views a
    sweep in Python costs less than the numpy calls would (0.3 against 0.6 ms for 50 sweeps of 7)."""
    m = len(xy)
    w = [0.0] * m
    for _ in range(sweeps):
        moved = False
        for i in range(m):
            row = xx[i]
            new = max(0.0, (xy[i] - sum(row[j] * w[j] for j in range(m) if j != i)) / row[i])
            if new != w[i]:
                w[i], moved = new, True
        if not moved:  # a fixed point: further sweeps would change nothing
            break
    return np.array(w)


def _spread(n: int, at_most: int) -> np.ndarray:
    """Indices of at most ``at_most`` of ``n`` items, evenly spread (all of them when they fit)."""
    return np.arange(n) if n <= at_most else np.linspace(0, n - 1, at_most).round().astype(np.int64)


def _start(views: int) -> tuple[np.ndarray, np.ndarray]:
    """The blend's starting fit: 0.5 spread evenly over the views, held as firmly as one view of mass
    ``_RIDGE`` would be (each view gets that mass: identical views then add up to one such view)."""
    return np.eye(views) * _RIDGE * views, np.full(views, 0.5 * _RIDGE)


def _rid_hash(request_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(request_id.encode(), digest_size=8).digest(), "little", signed=True) or 1
