"""The quality memory: P(acceptable answer | prompt, model), learned online from verdicts (pure).

Design §4: the offline prior (the tier classifier) does not transfer to traffic unlike its
training data; the outcomes of similar past prompts do. For each catalog model the memory keeps
the most recent verdicts (accepted or not) with the prompt's embedding, and estimates a new
prompt's chance from its nearest neighbours among them:

- **prior**: P(the request's tier <= the model's tier) from the classifier, calibrated online per
  model in ten bins (a prior that carries no signal on this traffic flattens to the model's base
  rate; one that does keeps its ranking);
- **memory**: the similarity- and age-weighted share of accepted answers among the ``k`` nearest
  past prompts this model answered, shrunk toward the calibrated prior by how little evidence
  there is;
- **blend**: ``a * memory + (1 - a) * prior`` with ``a`` learned online per model, test then learn:
  each new verdict is first predicted by both, and ``a`` is the least-squares weight of the blend
  itself over past verdicts, ``sum (y - prior)(memory - prior) / sum (memory - prior)^2``, clipped
  to [0, 1], exponentially forgotten, a verdict counting by the evidence the memory had for it, and
  starting from 0.5. Where the memory only restates the prior, or the outcome is mostly noise, it
  stays put; where the memory explains what the prior gets wrong it moves to 1, and to 0 where
  the memory is the worse guess. (Weighing each predictor by the inverse of its own squared error
  kept ``a`` within 0.49-0.55 on both shared sets: on binary outcomes both errors are mostly
  noise.) A cold memory therefore routes on the prior.

Bounded: ``capacity`` verdicts per model in a ring buffer (1 MiB per model at the default 1,024),
whatever the number of outcomes seen; old evidence also decays with ``half_life_days``, so a model whose quality
changes is re-learned. Everything here is numpy; no I/O.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson

from core.events import Job
from core.outcomes import is_row_of, rows_in

DIM = 256
_DAY_MS = 86_400_000
_STACK_PRIOR = 1.0  # (memory - prior)^2 mass at which the blend weight leaves its starting 0.5


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    capacity: int = 1024  # verdicts kept per model (the newest; older ones have decayed anyway)
    k: int = 20  # neighbours per estimate
    half_life_days: float = 14.0
    shrink: float = 1.0  # pseudo-verdicts of the calibrated prior inside the memory estimate
    stack_forget: float = 0.999  # per verdict, for the online blend weight


@dataclass(frozen=True, slots=True)
class Estimate:
    p: float  # blended P(acceptable)
    evidence: float  # similarity- and age-weighted neighbour count behind the memory part
    prior: float  # the calibrated prior
    memory: float  # the memory part (equals the prior with no evidence)


@dataclass
class _Model:
    capacity: int
    vecs: np.ndarray = field(init=False)
    ys: np.ndarray = field(init=False)
    ts: np.ndarray = field(init=False)
    size: int = 0
    head: int = 0
    bins_n: np.ndarray = field(default_factory=lambda: np.zeros(10))
    bins_pos: np.ndarray = field(default_factory=lambda: np.zeros(10))
    stack_xy: float = 0.0  # sum f (y - prior)(memory - prior) over verdicts not yet seen when predicted
    stack_xx: float = 0.0  # sum f (memory - prior)^2

    def __post_init__(self) -> None:
        self.vecs = np.zeros((self.capacity, DIM), dtype=np.float32)  # float32: no conversion per query
        self.ys = np.zeros(self.capacity, dtype=np.float32)
        self.ts = np.zeros(self.capacity, dtype=np.int64)
        self.rids = np.zeros(self.capacity, dtype=np.int64)  # which request each verdict was on (hash)


class QualityMemory:
    def __init__(self, models: Iterable[str], config: MemoryConfig | None = None) -> None:
        self.config = config or MemoryConfig()
        self._models: dict[str, _Model] = {m: _Model(self.config.capacity) for m in models}
        self.learned = 0

    @property
    def models(self) -> list[str]:
        return list(self._models)

    def ensure(self, models: Iterable[str]) -> None:
        """Start a memory for models a catalog reload added (kept ones keep theirs)."""
        for m in models:
            self._models.setdefault(m, _Model(self.config.capacity))

    def nbytes(self) -> int:
        return sum(s.vecs.nbytes + s.ys.nbytes + s.ts.nbytes + s.rids.nbytes for s in self._models.values())

    def apply_feedback(self, request_id: str, value: float) -> int:
        """Downstream feedback overrides the verifier on the answer that was delivered (the request's
        accepted verdicts still in memory); returns how many verdicts it changed."""
        h = _rid_hash(request_id)
        changed = 0
        for s in self._models.values():
            slots = np.flatnonzero((s.rids[:s.size] == h) & (s.ys[:s.size] >= 0.5))
            s.ys[slots] = value
            changed += len(slots)
        return changed

    # --- estimates -----------------------------------------------------------------------------

    def estimate(self, vec: np.ndarray | None, model: str, prior: float, now_ms: int) -> Estimate:
        return self.estimate_batch(None if vec is None else vec.reshape(1, -1), model, [prior], now_ms)[0]

    def estimate_batch(self, vecs: np.ndarray | None, model: str, priors: Sequence[float], now_ms: int
                       ) -> list[Estimate]:
        """Estimates for one model over a batch of prompts (``vecs`` None: no embeddings, prior only)."""
        s = self._models.get(model)
        pr = np.asarray(priors, dtype=np.float64)
        if s is None:
            return [Estimate(float(p), 0.0, float(p), float(p)) for p in pr]
        bins = np.minimum((pr * 10).astype(int), 9)
        cal = (s.bins_pos[bins] + 2.0 * pr) / (s.bins_n[bins] + 2.0)
        if s.size == 0 or vecs is None:
            return [Estimate(c, 0.0, c, c) for c in cal.tolist()]
        mem, ev = self._neighbours(s, vecs, cal, now_ms)
        a = self._blend_weight(s)
        blended = a * mem + (1 - a) * cal
        return [Estimate(p, e, c, m) for p, e, c, m in zip(blended.tolist(), ev.tolist(), cal.tolist(), mem.tolist(),
                                                             strict=True)]

    def _neighbours(self, s: _Model, vecs: np.ndarray, cal: np.ndarray, now_ms: int) -> tuple[np.ndarray, np.ndarray]:
        n = s.size
        sims = np.asarray(vecs, dtype=np.float32) @ s.vecs[:n].T  # (B, n)
        k = min(self.config.k, n)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.broadcast_to(np.arange(n), (len(vecs), n))
        w = np.clip(np.take_along_axis(sims, top, axis=1), 0.0, None)
        age_days = np.maximum(now_ms - s.ts[top], 0) / _DAY_MS
        w = w * np.power(0.5, age_days / self.config.half_life_days)
        ev = w.sum(axis=1)
        mem = ((w * s.ys[top]).sum(axis=1) + self.config.shrink * cal) / (ev + self.config.shrink)
        return mem, ev

    def blend_weight(self, model: str) -> float:
        """How much the memory counts against the calibrated prior for ``model`` (0 to 1)."""
        s = self._models.get(model)
        return 0.0 if s is None else self._blend_weight(s)

    def _blend_weight(self, s: _Model) -> float:
        # least squares on past verdicts, shrunk toward 0.5 by a pseudo-mass
        return min(1.0, max(0.0, (s.stack_xy + 0.5 * _STACK_PRIOR) / (s.stack_xx + _STACK_PRIOR)))

    # --- learning ------------------------------------------------------------------------------

    def learn(self, vecs: np.ndarray, model: str, accepted: Sequence[float], priors: Sequence[float],
              times_ms: Sequence[int], request_ids: Sequence[str] = ()) -> None:
        """Verdicts for one model: test (update the blend weight and the calibration), then store."""
        s = self._models.get(model)
        if s is None or len(accepted) == 0:
            return
        n = len(accepted)
        ys = np.asarray(accepted, dtype=np.float32)
        pr = np.asarray(priors, dtype=np.float64)
        bins = np.minimum((pr * 10).astype(int), 9)
        cal = (s.bins_pos[bins] + 2.0 * pr) / (s.bins_n[bins] + 2.0)
        if s.size:  # each verdict counts by how much evidence the memory had for it
            mem, ev = self._neighbours(s, vecs, cal, int(max(times_ms)))
            f = ev / (ev + self.config.shrink)
            g = self.config.stack_forget ** len(ys)
            s.stack_xy = g * s.stack_xy + float((f * (ys - cal) * (mem - cal)).sum())
            s.stack_xx = g * s.stack_xx + float((f * (mem - cal) ** 2).sum())
        np.add.at(s.bins_n, bins, 1)
        np.add.at(s.bins_pos, bins, ys)
        rids = np.array([_rid_hash(r) for r in request_ids] if request_ids else [0] * len(ys), dtype=np.int64)
        vecs = np.asarray(vecs, dtype=np.float32)[-s.capacity:]  # more than fit: only the newest stay
        ys, ts, rids = ys[-s.capacity:], np.asarray(times_ms, dtype=np.int64)[-s.capacity:], rids[-s.capacity:]
        slots = (s.head + np.arange(len(ys))) % s.capacity
        s.vecs[slots], s.ys[slots], s.ts[slots], s.rids[slots] = vecs, ys, ts, rids
        s.head = int((s.head + len(ys)) % s.capacity)
        s.size = min(s.size + len(ys), s.capacity)
        self.learned += n


def encode_vector(vec: np.ndarray) -> str:
    """A unit vector as base64 float16: what travels on the job (512 bytes of 256 dimensions)."""
    return base64.b64encode(np.asarray(vec, dtype=np.float16).tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray | None:
    """The vector a job carries, or None when there is none or it is not a finite 256-d float16 one."""
    if not text or len(text) > 4 * DIM:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if len(raw) != DIM * 2:
        return None
    vec = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
    return vec if bool(np.all(np.isfinite(vec))) else None


class MemoryView:
    """The route stage's view of a memory: estimates for a job's candidate models (a QualityView).

    ``prepare`` estimates a whole batch of jobs with one matrix product per model; ``estimates``
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
        for m in models:
            tier = self.tiers(m)
            priors = [tier_prior(j.classification.tier_probs if j.classification else {}, tier) for j, _ in with_vec]
            for (j, _), e in zip(with_vec, self.memory.estimate_batch(vecs, m, priors, now_ms), strict=True):
                self._ready.setdefault(j.request_id, {})[m] = e

    def estimates(self, job: Job, models: Sequence[str], now_ms: int) -> dict[str, Estimate]:
        ready = self._ready.get(job.request_id, {})
        if all(m in ready for m in models):
            return {m: ready[m] for m in models}
        c = job.classification
        vec = decode_vector(c.embedding) if c else None
        probs = c.tier_probs if c else {}
        return {m: self.memory.estimate(vec, m, tier_prior(probs, self.tiers(m)), now_ms) for m in models}


def _rid_hash(request_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(request_id.encode(), digest_size=8).digest(), "little", signed=True) or 1


def feedback_value(payload: dict[str, object]) -> float | None:
    """What downstream feedback says of an answer: its score (0..1), or a recognised label."""
    score = payload.get("score")
    if isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1:
        return float(score)
    label = str(payload.get("label") or "").strip().lower()
    return 1.0 if label in _GOOD else 0.0 if label in _BAD else None


_GOOD = frozenset({"good", "positive", "accept", "accepted", "correct", "thumbs_up", "up", "1", "true", "yes"})
_BAD = frozenset({"bad", "negative", "reject", "rejected", "wrong", "incorrect", "thumbs_down", "down", "0",
                  "false", "no"})


def tier_prior(tier_probs: dict[str, float], model_tier: int) -> float:
    """P(the request needs no more than ``model_tier``): the classifier's say on this model."""
    if not tier_probs:
        return 0.5
    return float(min(1.0, sum(p for t, p in tier_probs.items() if int(t) <= model_tier)))


def learn_from_outcomes(memory: QualityMemory, values: Sequence[bytes | None]) -> int:
    """Feed the verdict rows among raw outcome messages to ``memory``, batched per model; return
    how many looked like verdicts but could not be read (skipped: one bad row must not stop it)."""
    by_model: dict[str, tuple[list[np.ndarray], list[float], list[float], list[int], list[str]]] = {}
    bad = 0
    for raw in (row for value in values for row in rows_in(value)):
        if not is_row_of(raw, "verdicts"):
            continue
        try:
            row = orjson.loads(raw)["r"]
            vec = decode_vector(row["embedding"])
            if vec is None:
                continue
            lists = by_model.setdefault(str(row["model"]), ([], [], [], [], []))
            lists[0].append(vec)
            lists[1].append(1.0 if row["accepted"] else 0.0)
            lists[2].append(min(max(float(row["prior"]), 0.0), 1.0))
            lists[3].append(int(row["judged_at"]))
            lists[4].append(str(row.get("request_id", "")))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            bad += 1
    for model, (vecs, ys, priors, ts, rids) in by_model.items():
        memory.learn(np.stack(vecs), model, ys, priors, ts, rids)
    return bad


def learn_from_feedback(memory: QualityMemory, values: Sequence[bytes | None]) -> int:
    """Apply downstream feedback events (``llm.feedback.v1``); return how many were unreadable."""
    bad = 0
    for raw in values:
        try:
            payload = orjson.loads(raw or b"")
            value = feedback_value(payload) if isinstance(payload, dict) else None
            rid = payload.get("request_id") if isinstance(payload, dict) else None
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if value is None or not isinstance(rid, str):
            bad += 1
            continue
        memory.apply_feedback(rid, value)
    return bad
