"""A sink worker whose ClickHouse is down for good: a hand-written writer that always fails
retryably. Run as ``python -m tests.integration.stalled_sink`` by the stop-while-stalled test."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, ClassVar

import faust

from agents import SinkDeps, sink
from core.clock import SystemClock
from core.config import Settings
from core.errors import SinkError
from core.topics import TopicNames
from streams.app import base_app, raw_topic
from streams.health import add_health
from streams.outbox import FaustOutbox


class DownClickHouse:
    rows_written: ClassVar[dict[str, int]] = {}

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        print(f"insert of {len(rows)} rows refused: server down", flush=True)
        raise SinkError("connection refused (ClickHouse is down)")


def main() -> None:
    settings = Settings.from_env()
    names = TopicNames(settings.topic_prefix)
    app = base_app(f"{settings.app_id}-sink", settings, settings.web_port)
    deps = SinkDeps(writer=DownClickHouse(), clock=SystemClock(), outbox=FaustOutbox(app, names), names=names,
                    max_backoff_s=0.5)
    sink.register(app, raw_topic(app, names.outcomes), deps)
    add_health(app, "sink", settings)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    sys.exit(main())
