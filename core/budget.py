"""Tenant spend per UTC day and month, derived from outcome rows (pure)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

_DAY_MS = 86_400_000


def day_of(ts_ms: int) -> int:
    return ts_ms // _DAY_MS


def month_of(ts_ms: int) -> tuple[int, int]:
    d = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return d.year, d.month


class Ledger:
    """Adds up cost by tenant and day; answers 'spent today / this month' for a moment in time."""

    def __init__(self) -> None:
        self._days: dict[str, dict[int, float]] = defaultdict(dict)
        self._seen: set[str] = set()  # request ids, so a replayed outcome is not counted twice

    def add(self, tenant: str, ts_ms: int, cost_usd: float, request_id: str = "") -> None:
        if request_id:
            if request_id in self._seen:
                return
            self._seen.add(request_id)
        days = self._days[tenant]
        day = day_of(ts_ms)
        days[day] = days.get(day, 0.0) + cost_usd

    def spent(self, tenant: str, now_ms: int) -> tuple[float, float]:
        days = self._days.get(tenant)
        if not days:
            return 0.0, 0.0
        today, month = day_of(now_ms), month_of(now_ms)
        return days.get(today, 0.0), sum(v for d, v in days.items() if month_of(d * _DAY_MS) == month)

    def prune(self, now_ms: int) -> None:
        """Forget days before this month (their spend no longer counts)."""
        month = month_of(now_ms)
        for days in self._days.values():
            for d in [d for d in days if month_of(d * _DAY_MS) != month]:
                del days[d]
        if len(self._seen) > 2_000_000:
            self._seen.clear()  # bounded memory; only duplicates older than this could slip through
