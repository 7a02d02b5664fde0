"""Per-model circuit breakers and rate limiters (pure; time comes from the caller).

Breaker: closed -> open when, over the last ``window_s``, at least ``min_calls`` calls were made and
``failure_rate`` or more of them failed; open -> half-open after ``cooldown_s``; half-open lets
``trial_calls`` calls through: all succeed -> closed, any fails -> open again. Only failures that
say something about the model's health count (timeouts, 5xx, connection and protocol errors), not
rejections of the request itself (4xx) nor rate limits (those are handled by waiting).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
HEALTH_FAILURES = frozenset({"provider_timeout", "provider_unavailable", "provider_protocol_error"})


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    window_s: float = 30.0
    min_calls: int = 10
    failure_rate: float = 0.5
    cooldown_s: float = 10.0
    trial_calls: int = 3


@dataclass(frozen=True, slots=True)
class Transition:
    model: str
    old: str
    new: str
    reason: str
    at_s: float


class CircuitBreaker:
    def __init__(self, model: str, settings: BreakerSettings | None = None) -> None:
        self.model = model
        self.s = settings or BreakerSettings()
        self.state = CLOSED
        self._calls: deque[tuple[float, bool]] = deque()  # (time, failed)
        self._failures = 0  # failed calls in _calls, kept as calls come and go: O(1) per record
        self._opened_at = 0.0
        self._trials_out = 0
        self._trial_ok = 0

    def blocks(self, now: float) -> bool:
        """Open and still cooling down: no call may go (routing skips the model)."""
        return self.state == OPEN and now - self._opened_at < self.s.cooldown_s

    def allow(self, now: float) -> tuple[bool, Transition | None]:
        """May a call start now? (and the transition this caused, if any)."""
        change = None
        if self.state == OPEN and now - self._opened_at >= self.s.cooldown_s:
            change = self._move(HALF_OPEN, "cooldown over: trial calls", now)
        if self.state == CLOSED:
            return True, change
        if self.state == HALF_OPEN and self._trials_out + self._trial_ok < self.s.trial_calls:
            self._trials_out += 1
            return True, change
        return False, change

    def record(self, now: float, failed: bool) -> Transition | None:
        if self.state == HALF_OPEN:
            self._trials_out = max(0, self._trials_out - 1)
            if failed:
                return self._open("a trial call failed", now)
            self._trial_ok += 1
            if self._trial_ok >= self.s.trial_calls:
                self._calls.clear()
                self._failures = 0
                return self._move(CLOSED, f"{self._trial_ok} trial calls succeeded", now)
            return None
        if self.state == OPEN:
            return None
        self._calls.append((now, failed))
        self._failures += failed
        while self._calls and self._calls[0][0] < now - self.s.window_s:
            self._failures -= self._calls.popleft()[1]
        n, failures = len(self._calls), self._failures
        if n >= self.s.min_calls and failures / n >= self.s.failure_rate:
            return self._open(f"{failures}/{n} calls failed in {self.s.window_s:g}s", now)
        return None

    def _open(self, reason: str, now: float) -> Transition:
        self._opened_at = now
        return self._move(OPEN, reason, now)

    def _move(self, new: str, reason: str, now: float) -> Transition:
        t = Transition(self.model, self.state, new, reason, now)
        self.state = new
        self._trials_out = self._trial_ok = 0
        return t


class TokenBucket:
    """``rate_per_min`` tokens a minute, bursting up to one minute's worth."""

    def __init__(self, rate_per_min: float, now: float) -> None:
        self.rate = rate_per_min / 60.0
        self.capacity = float(rate_per_min)
        self.tokens = self.capacity
        self.at = now

    def wait_time(self, n: float, now: float) -> float:
        """Take ``n`` tokens if they are there (0.0), else how long until they would be."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        n = min(n, self.capacity)  # a request bigger than a minute's worth waits for a full bucket
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate
