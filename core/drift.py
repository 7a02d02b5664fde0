"""Drift buckets shared by training (the reference distribution) and serving (per-window counts)."""

from __future__ import annotations

LENGTH_EDGES = (50, 200, 1000, 4000)


def length_bucket(n_chars: int) -> str:
    for edge in LENGTH_EDGES:
        if n_chars < edge:
            return f"<{edge}"
    return f">={LENGTH_EDGES[-1]}"


def script_bucket(text: str) -> str:
    sample = text[:300]
    if sample.isascii():
        return "ascii"
    for ch in sample:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            return "japanese"
        if 0xAC00 <= o <= 0xD7AF:
            return "hangul"
    if any(0x4E00 <= ord(ch) <= 0x9FFF for ch in sample):
        return "han"
    if any(0x400 <= ord(ch) <= 0x4FF for ch in sample):
        return "cyrillic"
    return "latin_ext" if all(ord(ch) < 0x250 for ch in sample) else "other"


class DriftMonitor:
    """Counts what the classifier sees per window and reports it next to the training shares.

    ``observe`` returns the rows of every window that has closed; each row carries the share the
    bucket had in training, so a query can compute the population stability index (PSI)
    without any other table. Every reference bucket is reported (zero counts included).
    """

    def __init__(self, reference: dict[str, dict[str, float]], model_version: str, worker: str,
                 window_ms: int = 60_000) -> None:
        self.reference = reference
        self.model_version = model_version
        self.worker = worker
        self.window_ms = window_ms
        self._window: int | None = None
        self._counts: dict[str, dict[str, int]] = {}

    def observe(self, items: list[tuple[str, int, str]], now_ms: int) -> list[dict[str, object]]:
        """``items``: (task, tier, text) per classified request."""
        window = now_ms - now_ms % self.window_ms
        rows: list[dict[str, object]] = []
        if self._window is not None and window != self._window:
            rows = self.flush(now_ms)
        self._window = window
        for task, tier, text in items:
            for dim, bucket in (("task", task), ("tier", str(tier)), ("length", length_bucket(len(text))),
                                ("script", script_bucket(text))):
                counts = self._counts.setdefault(dim, {})
                counts[bucket] = counts.get(bucket, 0) + 1
        return rows

    def flush(self, now_ms: int) -> list[dict[str, object]]:
        if self._window is None:
            return []
        rows = []
        for dim in sorted(set(self.reference) | set(self._counts)):
            ref, counts = self.reference.get(dim, {}), self._counts.get(dim, {})
            for bucket in sorted(set(ref) | set(counts)):
                rows.append({"window_start": self._window, "model_version": self.model_version,
                             "worker": self.worker, "dimension": dim, "bucket": bucket,
                             "count": counts.get(bucket, 0), "expected_share": ref.get(bucket, 0.0),
                             "version": now_ms})
        self._counts = {}
        self._window = None
        return rows
