"""Liveness: lag that does not shrink for long enough is a stall; an idle partition never is."""

from __future__ import annotations

from core.liveness import StallWatch, done_position


def test_lag_without_progress_for_long_enough_is_a_stall() -> None:
    w = StallWatch(stall_after_s=60)
    w.observe(0, {"req-0": 100}, {"req-0": 100})  # idle, caught up
    w.observe(500, {"req-0": 100}, {"req-0": 100})
    assert w.stalled(500) == {}  # idle for minutes is fine
    w.observe(510, {"req-0": 100}, {"req-0": 130})  # traffic arrives; nothing read
    assert w.stalled(560) == {}  # not yet for long enough
    w.observe(571, {"req-0": 100}, {"req-0": 160})
    assert w.stalled(571) == {"req-0": 60}


def test_progress_resets_the_clock_and_lost_partitions_are_forgotten() -> None:
    w = StallWatch(stall_after_s=60)
    w.observe(0, {"a": 10, "b": 5}, {"a": 50, "b": 9})
    w.observe(50, {"a": 30, "b": 5}, {"a": 80, "b": 9})  # a moves, b does not
    assert w.stalled(70) == {"b": 4}
    w.observe(70, {"a": 30}, {"a": 80})  # b was revoked
    assert w.stalled(100) == {}
    assert w.stalled(111) == {"a": 50}


def test_finished_work_is_what_was_committed_else_the_start() -> None:
    assert done_position(None, 0) == 0
    assert done_position(None, 17) == 17  # retention removed the first 17
    assert done_position(42, 17) == 42
