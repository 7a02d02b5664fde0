"""Is the worker still making progress? Judged from outside its consumer (pure).

A partition is stalled when the broker holds messages past what the worker has read (lag) and what
the worker has read has not moved for ``stall_after_s``. An idle partition (no lag) is never
stalled, however long it waits. This is what ``/health/live`` reports: the broker-restart stall CI
found (aiokafka's metadata task gone, nothing fetched, nothing logged) showed up only as lag that
never shrank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(slots=True)
class _Seen:
    position: int
    since_s: float  # when the position last moved (or lag first appeared)
    lag: int


class StallWatch:
    def __init__(self, stall_after_s: float = 60.0) -> None:
        self.stall_after_s = stall_after_s
        self._seen: dict[str, _Seen] = {}

    def observe(self, now_s: float, positions: Mapping[str, int], ends: Mapping[str, int]) -> None:
        """``positions``: the next offset the worker will read, per partition it owns; ``ends``: the
        broker's end offsets. Partitions no longer owned are forgotten."""
        for tp in list(self._seen):
            if tp not in positions:
                del self._seen[tp]
        for tp, position in positions.items():
            lag = max(0, ends.get(tp, position) - position)
            seen = self._seen.get(tp)
            if seen is None or position != seen.position or (seen.lag == 0 and lag > 0):
                self._seen[tp] = _Seen(position, now_s, lag)
            else:
                seen.lag = lag

    def stalled(self, now_s: float) -> dict[str, int]:
        """Partitions with lag whose position has not moved for ``stall_after_s``: their lag."""
        return {tp: s.lag for tp, s in self._seen.items() if s.lag > 0 and now_s - s.since_s >= self.stall_after_s}


def done_position(committed: int | None, start: int) -> int:
    """How far a worker's finished work reaches on a partition: its committed offset (commits follow
    the acks, which follow the work), else the partition's start (nothing finished yet). What it has
    only read does not count: a stuck stage keeps fetching into its buffers."""
    return committed if committed is not None else start
