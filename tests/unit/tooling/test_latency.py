from __future__ import annotations

from typing import Any

from tooling.latency import FRACTIONS, load_table, percentile


def test_load_table_paces_each_share_of_the_burst_and_flags_a_run_that_jumped() -> None:
    calls: list[tuple[str, int, float]] = []

    def phase(prefix: str, n: int, rate: float) -> dict[str, Any]:
        calls.append((prefix, n, rate))
        jumped = rate > 100
        tenths = [40, 45, 900, 2000, 2100, 2050, 1990, 2020, 2010, 2000] if jumped else [40, 45, 42, 41, 44] * 2
        return {"requests": n, "answered": n, "p50_ms": 2000 if jumped else 42, "p99_ms": 0,
                "p50_by_tenth_ms": tenths}

    rows = load_table(phase, burst_rps=200.0, seconds=2.0)
    assert [c[2] for c in calls] == [20.0, 50.0, 100.0, 150.0] and [r["fraction"] for r in rows] == list(FRACTIONS)
    assert calls[0] == ("load10-", 50, 20.0) and calls[3][1] == 300
    assert [r["steady"] for r in rows] == [True, True, True, False]


def test_percentile_is_the_nearest_rank_value() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, q) for q in (0.0, 0.5, 0.99, 1.0)] == [1.0, 3.0, 5.0, 5.0]
