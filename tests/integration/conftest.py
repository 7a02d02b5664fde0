"""Integration fixtures: one real broker per session (ours, unless KAFKA_BOOTSTRAP_SERVERS is set),
one full stack (simulator + sink + pipeline workers as subprocesses) per module."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.config import Settings
from devenv.kafka import start_broker
from streams.stack import Stack, run_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = start_broker(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def stack(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("stack")
    settings = run_settings(Settings(kafka_bootstrap=bootstrap, drift_window_s=1), "it", run_dir)
    with Stack(settings, run_dir, sim_config={"default": {"latency_ms": 0}}).start(lambda m: None) as s:
        yield s


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    """Poll a condition (no fixed sleeps); fail with ``what`` if it never holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.integration)
