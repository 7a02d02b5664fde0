"""Fault injection through the simulator: every request is answered in every scenario."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import running_stack
from tooling.faults import SCENARIOS, fault_catalog, run_scenario, table, wait_recovered
from tooling.stack import Stack


@pytest.fixture(scope="module")
def faulty(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("faults")
    # the tier rule alone, so "failed over" means away from the primary the catalog picks
    with running_stack(bootstrap, run_dir, "ft", {"default": {"latency_ms": 20}},
                       catalog_path=fault_catalog(run_dir), quality_memory=False) as s:
        yield s


def test_no_request_is_lost_under_any_fault(faulty: Stack) -> None:
    results = []
    for scenario in SCENARIOS:
        wait_recovered(faulty)
        results.append(run_scenario(faulty, scenario, n=40))
    print("\n" + table(results))
    assert [r.lost for r in results] == [0] * len(SCENARIOS)
    *recoverable, all_down = results
    assert all(r.answered_ok == r.sent for r in recoverable)
    assert all(r.failed_over > 0 for r in recoverable)
    assert all_down.answered_error == all_down.sent
    assert set(all_down.error_codes) <= {"provider_unavailable", "breaker_open", "all_providers_down"}
