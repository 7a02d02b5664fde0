"""The scale-out projection bench-peer prints from CPU seconds per 1,000 requests."""

from __future__ import annotations

import pytest

from tooling.peer_bench import projection


def test_the_process_that_runs_out_of_its_core_first_sets_the_figure() -> None:
    per_1000 = {"pipeline-0": 5.0, "sink": 1.0, "kafka": 2.5, "simulator": 0.5}
    assert projection(per_1000, 1) == (200.0, "pipeline workers")  # 1,000 / 5 s
    assert projection(per_1000, 3) == (400.0, "kafka")  # the workers could do 600, the broker 400
    assert projection(per_1000, 8) == (400.0, "kafka")
    with_two = {"pipeline-0": 2.5, "pipeline-1": 2.5, "sink": 1.0}  # two workers measured: CPU is the sum
    assert projection(with_two, 4) == pytest.approx((800.0, "pipeline workers"))
