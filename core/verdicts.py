"""Verdict and feedback events into the quality memory: what the pipeline workers learn from (pure).

The verify stage's ``verdicts`` outcome rows (one per judged answer, carrying the prompt's embedding)
and downstream feedback on ``llm.feedback.v1`` arrive as raw Kafka values; these functions read them,
skip what is not theirs, count what is unreadable (one bad row must not stop learning), and feed
``core/quality_memory.py`` in batches per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson

from core.outcomes import is_row_of, rows_in
from core.prompt_vector import decode_vector
from core.quality_memory import QualityMemory


def learn_from_outcomes(memory: QualityMemory, values: Sequence[bytes | None]) -> int:
    """Feed the verdict rows among raw outcome messages to ``memory``, batched per model; return
    how many looked like verdicts but could not be read (skipped: one bad row must not stop it)."""
    by_model: dict[str, list[tuple[np.ndarray, float, float, int, str, bool]]] = {}
    bad = 0
    for raw in (row for value in values for row in rows_in(value)):
        if not is_row_of(raw, "verdicts"):
            continue
        try:
            row = orjson.loads(raw)["r"]
            vec = decode_vector(row["embedding"])
            if vec is None:
                continue
            model = str(row["model"])
            verdict = (vec, 1.0 if row["accepted"] else 0.0, min(max(float(row["prior"]), 0.0), 1.0),
                       int(row["judged_at"]), str(row.get("request_id", "")),
                       int(row.get("round", 0)) > 0)  # an answer asked for after a cheaper one failed
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            bad += 1
            continue
        by_model.setdefault(model, []).append(verdict)
    for model, verdicts in by_model.items():
        vecs, ys, priors, ts, rids, escalated = zip(*verdicts, strict=True)
        memory.learn(np.stack(vecs), model, ys, priors, ts, rids, escalated)
    return bad


class PendingVerdicts:
    """Outcome messages held for the memory until ``within_ms`` passed since the first or ``at_most``
    wait, then learned in one call: the memory's per-call costs (one product per learning batch
    and model, the topic update, the blend's refit) are paid a few times a second instead of for
    every fetch of every partition, which under paced traffic brings one or two verdicts each."""

    def __init__(self, within_ms: int = 250, at_most: int = 500) -> None:
        self.within_ms, self.at_most = within_ms, at_most
        self._values: list[bytes | None] = []
        self._since_ms = 0

    def add(self, values: Sequence[bytes | None], now_ms: int) -> None:
        if values and not self._values:
            self._since_ms = now_ms
        self._values.extend(values)

    def wait_ms(self, now_ms: int, longest: int) -> int:
        """How long a fetch may wait before the held messages are due (``longest`` when none are)."""
        return max(0, min(longest, self._since_ms + self.within_ms - now_ms)) if self._values else longest

    def due(self, now_ms: int) -> bool:
        return bool(self._values) and (len(self._values) >= self.at_most or now_ms - self._since_ms >= self.within_ms)

    def learn(self, memory: QualityMemory) -> int:
        """Learn what is held (now); return how many verdict rows could not be read."""
        values, self._values = self._values, []
        return learn_from_outcomes(memory, values) if values else 0


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
