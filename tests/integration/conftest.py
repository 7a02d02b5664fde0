"""Integration fixtures: one real broker per session (ours, unless KAFKA_BOOTSTRAP_SERVERS is set),
one full stack (simulator + sink + pipeline workers as subprocesses) per module."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from devenv.kafka import start_broker
from tooling.stack import Stack, run_settings


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


@contextlib.contextmanager
def running_stack(bootstrap: str, run_dir: Path, label: str, sim_config: dict[str, Any] | None = None,
                  **settings: Any) -> Iterator[Stack]:
    """A full stack on the session broker with its own topics, groups and ClickHouse path."""
    s = run_settings(Settings(kafka_bootstrap=bootstrap, **settings), label, run_dir)
    with Stack(s, run_dir, sim_config=sim_config or {"default": {"latency_ms": 0}}).start(lambda m: None) as st:
        yield st


@pytest.fixture(scope="module")
def stack(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(bootstrap, tmp_path_factory.mktemp("stack"), "it", drift_window_s=1, stall_after_s=6,
                       log_format="json") as s:
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
