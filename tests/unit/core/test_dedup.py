from __future__ import annotations

from core.dedup import SeenCache


def test_repeats_are_skipped_within_the_ttl() -> None:
    seen = SeenCache(max_entries=3, ttl_ms=1000)
    assert seen.first("a", 0) and not seen.first("a", 10)
    assert seen.first("a", 1000)  # expired: counts as new
    for k in "bcd":
        seen.first(k, 1001)
    assert seen.first("a", 1002)  # evicted by size
    assert seen.skipped == 1
