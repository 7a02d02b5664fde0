from __future__ import annotations

import pytest

from core.breaker import CLOSED, HALF_OPEN, OPEN, BreakerSettings, CircuitBreaker, TokenBucket

S = BreakerSettings(window_s=10, min_calls=4, failure_rate=0.5, cooldown_s=5, trial_calls=2)


def test_trips_on_failure_rate_with_minimum_calls() -> None:
    b = CircuitBreaker("m", S)
    assert b.record(0, True) is None and b.record(1, True) is None  # 2 calls: too few to judge
    assert b.record(2, False) is None
    t = b.record(3, True)
    assert t is not None and (t.old, t.new) == (CLOSED, OPEN) and "3/4" in t.reason
    assert b.allow(4) == (False, None)


def test_old_calls_leave_the_window() -> None:
    b = CircuitBreaker("m", S)
    for at in (0, 1, 2):
        b.record(at, True)
    assert b.record(20, False) is None  # the failures are 18 s old
    assert b.state == CLOSED
    for at in (21, 22):  # had the old failures still counted, 5/6 would trip it
        assert b.record(at, True) is None
    t = b.record(23, True)  # 3 of the 4 calls in the window failed
    assert t is not None and "3/4" in t.reason


def test_half_open_trials_close_or_reopen() -> None:
    b = CircuitBreaker("m", S)
    for at in range(4):
        b.record(at, True)
    allowed, t = b.allow(9)  # cooldown over
    assert allowed and t is not None and t.new == HALF_OPEN
    assert b.allow(9)[0] and not b.allow(9)[0]  # two trial slots, then no more
    assert b.record(10, False) is None
    t = b.record(10, False)
    assert t is not None and t.new == CLOSED
    for at in range(20, 24):
        b.record(at, True)
    b.allow(30)
    t = b.record(30, True)
    assert t is not None and (t.old, t.new) == (HALF_OPEN, OPEN)


def test_token_bucket_waits_instead_of_overrunning() -> None:
    bucket = TokenBucket(60, now=0)  # one per second, burst of 60
    assert all(bucket.wait_time(1, 0) == 0 for _ in range(60))
    assert bucket.wait_time(1, 0) == pytest.approx(1.0)
    assert bucket.wait_time(1, 2.0) == 0.0
