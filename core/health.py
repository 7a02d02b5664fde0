"""Per-model availability as the invoke stage sees it, read by routing (a ``HealthView``)."""

from __future__ import annotations

from collections import defaultdict

from core.catalog import Catalog


class HealthBoard:
    """Calls in flight per model against its ``max_concurrency``: saturation and load."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.in_flight: dict[str, int] = defaultdict(int)

    def started(self, model: str) -> None:
        self.in_flight[model] += 1

    def finished(self, model: str) -> None:
        self.in_flight[model] -= 1

    def _limit(self, model: str) -> int:
        spec = self.catalog.models.get(model)
        return spec.max_concurrency if spec else 0

    def unavailable(self, model: str) -> str | None:
        limit = self._limit(model)
        if limit and self.in_flight[model] >= limit:
            return "saturated"
        return None

    def load(self, model: str) -> float:
        limit = self._limit(model)
        return self.in_flight[model] / limit if limit else 0.0
