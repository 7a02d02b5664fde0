"""Skip work already done: a bounded, time-limited set of keys seen by this worker (pure).

At-least-once delivery replays a stage's input after a crash or a rebalance, and every replayed
message would otherwise multiply down the pipeline. Keys are ``<stage>:<request_id>:<round>``
(the round is the number of escalations so far), so a genuine escalation is never mistaken for a
replay. Work done by a process that died before committing cannot be known here; that is the
documented crash window.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class _Round(Protocol):
    @property
    def request_id(self) -> str: ...
    @property
    def escalations(self) -> list[str]: ...


def request_key(request_id: str) -> str:
    """The key that makes the classify stage answer a request id once."""
    return f"request:{request_id}"


def round_key(stage: str, job: _Round) -> str:
    """The key of one stage's work on one round of a request (the round: escalations so far)."""
    return f"{stage}:{job.request_id}:{len(job.escalations)}"


class SeenCache:
    def __init__(self, max_entries: int = 500_000, ttl_ms: int = 3_600_000) -> None:
        self.max_entries = max_entries
        self.ttl_ms = ttl_ms
        self._seen: OrderedDict[str, int] = OrderedDict()
        self.skipped = 0

    def seen(self, key: str, now_ms: int) -> bool:
        """True when ``key`` was offered within the TTL (does not record it)."""
        at = self._seen.get(key)
        return at is not None and now_ms - at < self.ttl_ms

    def first(self, key: str, now_ms: int) -> bool:
        """True the first time ``key`` is offered (within the TTL), False for a repeat."""
        at = self._seen.get(key)
        if at is not None and now_ms - at < self.ttl_ms:
            self.skipped += 1
            return False
        self._seen[key] = now_ms
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_entries or (
                self._seen and now_ms - next(iter(self._seen.values())) >= self.ttl_ms):
            self._seen.popitem(last=False)
        return True
