"""Per-model availability as the invoke stage sees it: circuit breakers, calls in flight against
``max_concurrency``, and rpm/tpm token buckets. Routing reads it as a ``HealthView``; breaker
state changes queue up as transitions for the invoke stage to publish as control events."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from core.breaker import BreakerSettings, CircuitBreaker, TokenBucket, Transition
from core.catalog import Catalog
from core.catalog_ref import CatalogRef, as_ref
from core.clock import Clock


class HealthBoard:
    def __init__(self, catalog: Catalog | CatalogRef, clock: Clock, breaker: BreakerSettings | None = None) -> None:
        self.ref = as_ref(catalog)
        self.clock = clock
        self.breaker_settings = breaker or BreakerSettings()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.breakers: dict[str, CircuitBreaker] = {}
        # keyed by the limit too: a reload that changes a model's limit gets a fresh slot pool or bucket
        self._slots: dict[tuple[str, int], asyncio.Semaphore] = {}
        self._held: dict[str, list[asyncio.Semaphore]] = defaultdict(list)  # released into the pool taken from
        self._rpm: dict[tuple[str, int], TokenBucket] = {}
        self._tpm: dict[tuple[str, int], TokenBucket] = {}
        self.transitions: list[Transition] = []

    @property
    def catalog(self) -> Catalog:
        return self.ref.current

    def breaker(self, model: str) -> CircuitBreaker:
        b = self.breakers.get(model)
        if b is None:
            b = self.breakers[model] = CircuitBreaker(model, self.breaker_settings)
        return b

    # --- what routing reads --------------------------------------------------------------

    def unavailable(self, model: str) -> str | None:
        b = self.breakers.get(model)
        if b is not None and b.blocks(self.clock.monotonic()):
            return "breaker_open"
        limit = self._limit(model)
        if limit and self.in_flight[model] >= limit:
            return "saturated"
        return None

    def load(self, model: str) -> float:
        limit = self._limit(model)
        return self.in_flight[model] / limit if limit else 0.0

    def _limit(self, model: str) -> int:
        spec = self.catalog.models.get(model)
        return spec.max_concurrency if spec else 0

    # --- what the invoker does around a call ------------------------------------------------

    def allow(self, model: str) -> bool:
        allowed, change = self.breaker(model).allow(self.clock.monotonic())
        if change:
            self.transitions.append(change)
        return allowed

    def record(self, model: str, failed: bool) -> None:
        change = self.breaker(model).record(self.clock.monotonic(), failed)
        if change:
            self.transitions.append(change)

    async def acquire(self, model: str, timeout_s: float) -> bool:
        """A concurrency slot for ``model`` (waiting up to ``timeout_s``); False if none came."""
        limit = self._limit(model)
        if limit:
            slot = self._slots.get((model, limit))
            if slot is None:
                slot = self._slots[model, limit] = asyncio.Semaphore(limit)
            try:
                await asyncio.wait_for(slot.acquire(), timeout_s)
            except TimeoutError:
                return False
            self._held[model].append(slot)
        self.in_flight[model] += 1
        return True

    def has_slot(self, model: str) -> bool:
        limit = self._limit(model)
        return not limit or self.in_flight[model] < limit

    def release(self, model: str) -> None:
        self.in_flight[model] -= 1
        held = self._held.get(model)
        if held:
            held.pop().release()

    def rate_wait(self, model: str, tokens: int) -> float:
        """Seconds to wait before a call of ``tokens`` fits the model's rpm and tpm (0: go now)."""
        spec = self.catalog.models.get(model)
        if spec is None:
            return 0.0
        now = self.clock.monotonic()
        wait = 0.0
        if spec.rpm:
            bucket = self._rpm.setdefault((model, spec.rpm), TokenBucket(spec.rpm, now))
            wait = max(wait, bucket.wait_time(1, now))
        if spec.tpm:
            bucket = self._tpm.setdefault((model, spec.tpm), TokenBucket(spec.tpm, now))
            wait = max(wait, bucket.wait_time(tokens, now))
        return wait

    def drain_transitions(self) -> list[Transition]:
        out, self.transitions = self.transitions, []
        return out
